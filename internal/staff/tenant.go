// Package staff holds what only GeniAI staff do, shared by the geniai CLI and the admin web
// panel: tenants (create, onboard, edit, suspend, inbox mapping), users across tenants, the
// audit log and sync history. A tenant's own settings and users are in package tenantadmin,
// which the panel uses for any tenant.
package staff

import (
	"context"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Service runs staff actions as the given principal.
type Service struct {
	DB         *pg.DB
	BcryptCost int
}

// TenantInput is what creating a tenant takes.
type TenantInput struct {
	Slug        string
	Name        string
	Timezone    string // "" means America/Sao_Paulo
	Plan        string // "" means basic
	Status      string // "" means active
	TrialEndsAt *time.Time
	Inboxes     []Inbox
}

// Inbox is a Chatwoot inbox to map.
type Inbox struct {
	ID          int32
	AccountID   *int32
	Name        string
	ChannelType string
}

// Validate fills the defaults and checks the inbox list, which no constraint sees as a whole.
// The slug, name, status, plan, timezone and trial rules are app.tenants' constraints
// (tenants_slug_format, tenants_name_length, ...): checked once, by the database, in the
// transaction that writes.
func (in *TenantInput) Validate() error {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	in.Timezone = strings.TrimSpace(in.Timezone)
	if in.Timezone == "" {
		in.Timezone = "America/Sao_Paulo"
	}
	if in.Plan == "" {
		in.Plan = "basic"
	}
	if in.Status == "" {
		in.Status = "active"
	}
	seen := map[int32]bool{}
	for _, ib := range in.Inboxes {
		if ib.ID <= 0 {
			return apperr.New(apperr.Invalid, "err.inbox.invalid", ib.ID)
		}
		if seen[ib.ID] {
			return apperr.New(apperr.Invalid, "err.inbox.duplicate", ib.ID)
		}
		seen[ib.ID] = true
	}
	return nil
}

// CreateTenant creates a tenant and maps its inboxes in one transaction: all or nothing.
func (s *Service) CreateTenant(ctx context.Context, p pg.Principal, in TenantInput) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	if err := in.Validate(); err != nil {
		return t, err
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		t, err = tx.TenantCreate(ctx, dbsqlc.TenantCreateParams{
			Slug: in.Slug, Name: in.Name, Status: in.Status, TrialEndsAt: in.TrialEndsAt,
			Plan: in.Plan, Timezone: in.Timezone,
		})
		if err != nil {
			return err
		}
		for _, ib := range in.Inboxes {
			if err := mapInbox(ctx, tx, t.ID, ib); err != nil {
				return err
			}
		}
		return nil
	})
	return t, err
}

func mapInbox(ctx context.Context, tx pg.Tx, tenantID int64, ib Inbox) error {
	owner, err := tx.TenantInboxOwner(ctx, ib.ID)
	if err == nil {
		return apperr.New(apperr.Conflict, "err.inbox.taken", ib.ID, owner)
	}
	if !pg.IsNoRows(err) {
		return err
	}
	_, err = tx.TenantInboxAdd(ctx, dbsqlc.TenantInboxAddParams{
		TenantID: tenantID, InboxID: ib.ID, AccountID: ib.AccountID, InboxName: ib.Name, ChannelType: ib.ChannelType,
	})
	return err
}

// ListTenants lists every tenant the principal can see.
func (s *Service) ListTenants(ctx context.Context, p pg.Principal) ([]dbsqlc.TenantListRow, error) {
	var rows []dbsqlc.TenantListRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.TenantList(ctx)
		return err
	})
	return rows, err
}

// Overview lists every client tenant with its activity (30 days up to each tenant's own today
// at now) and sync health (stale after staleAfter without a success).
func (s *Service) Overview(ctx context.Context, p pg.Principal, now time.Time, staleAfter time.Duration) ([]dbsqlc.AdminTenantOverviewRow, error) {
	if p.DBRole != pg.RoleStaff {
		// Staff only; and under a tenant's row-level security the statement's outer join of
		// app.tenants with the distributed etl.watermarks crashes a Citus 13.2 coordinator.
		return nil, apperr.New(apperr.NotFound, "err.page.not_found")
	}
	var rows []dbsqlc.AdminTenantOverviewRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.AdminTenantOverview(ctx, dbsqlc.AdminTenantOverviewParams{Now: now, StaleSeconds: staleAfter.Seconds()})
		return err
	})
	return rows, err
}

// Tenant reads one tenant with its inboxes.
func (s *Service) Tenant(ctx context.Context, p pg.Principal, id int64) (dbsqlc.AppTenant, []dbsqlc.AppTenantInbox, error) {
	var t dbsqlc.AppTenant
	var inboxes []dbsqlc.AppTenantInbox
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		if t, err = tx.TenantGetByID(ctx, id); pg.IsNoRows(err) || err == nil && t.IsPlatform {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		} else if err != nil {
			return err
		}
		inboxes, err = tx.TenantInboxList(ctx, id)
		return err
	})
	return t, inboxes, err
}

// TenantEdit is what the staff panel edits on a tenant.
type TenantEdit struct {
	Name        string
	Status      string
	Plan        string
	TrialEndsAt *time.Time
	Timezone    string
}

// UpdateTenant saves a tenant's name, status, plan, trial end and timezone (each checked by a
// constraint of app.tenants). Suspending or cancelling takes effect at each of its users' next
// request (the principal is re-checked).
func (s *Service) UpdateTenant(ctx context.Context, p pg.Principal, id int64, e TenantEdit) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	e.Name = strings.TrimSpace(e.Name)
	e.Timezone = strings.TrimSpace(e.Timezone)
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		t, err = tx.AdminTenantUpdate(ctx, dbsqlc.AdminTenantUpdateParams{
			ID: id, Name: e.Name, Status: e.Status, Plan: e.Plan, TrialEndsAt: e.TrialEndsAt, Timezone: e.Timezone,
		})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
	return t, err
}

// SetStatus suspends, reactivates or cancels a tenant.
func (s *Service) SetStatus(ctx context.Context, p pg.Principal, id int64, status string) (dbsqlc.AppTenant, error) {
	t, _, err := s.Tenant(ctx, p, id)
	if err != nil {
		return t, err
	}
	return s.UpdateTenant(ctx, p, id, TenantEdit{Name: t.Name, Status: status, Plan: t.Plan, TrialEndsAt: t.TrialEndsAt, Timezone: t.Timezone})
}

// MapInbox maps one more Chatwoot inbox to a tenant; its data arrives at the next sync.
func (s *Service) MapInbox(ctx context.Context, p pg.Principal, tenantID int64, ib Inbox) error {
	if ib.ID <= 0 {
		return apperr.New(apperr.Invalid, "err.inbox.invalid", ib.ID)
	}
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		if _, err := tx.TenantGetByID(ctx, tenantID); pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		} else if err != nil {
			return err
		}
		return mapInbox(ctx, tx, tenantID, ib)
	})
}

// UnmapInbox removes an inbox from a tenant; its conversations leave at the next sync.
func (s *Service) UnmapInbox(ctx context.Context, p pg.Principal, tenantID int64, inboxID int32) error {
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		n, err := tx.AdminTenantInboxRemove(ctx, dbsqlc.AdminTenantInboxRemoveParams{TenantID: tenantID, InboxID: inboxID})
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "err.inbox.not_mapped")
		}
		return err
	})
}
