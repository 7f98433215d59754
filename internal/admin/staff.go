package admin

import (
	"context"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Overview lists every client tenant with its activity (30 days up to each tenant's own today
// at now) and sync health (stale after staleAfter without a success).
func (s *Service) Overview(ctx context.Context, p pg.Principal, now time.Time, staleAfter time.Duration) ([]dbsqlc.AdminTenantOverviewRow, error) {
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
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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

var statuses = map[string]bool{"active": true, "trial": true, "suspended": true, "cancelled": true}
var plans = map[string]bool{"basic": true, "pro": true, "enterprise": true}

// UpdateTenant saves a tenant's name, status, plan, trial end and timezone. Suspending or
// cancelling takes effect at each of its users' next request (the principal is re-checked).
func (s *Service) UpdateTenant(ctx context.Context, p pg.Principal, id int64, e TenantEdit) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	e.Name = strings.TrimSpace(e.Name)
	switch {
	case e.Name == "":
		return t, apperr.New(apperr.Invalid, "Informe o nome do cliente.")
	case len([]rune(e.Name)) > 120:
		return t, apperr.New(apperr.Invalid, "Nome muito longo (máximo de 120 caracteres).")
	case !statuses[e.Status]:
		return t, apperr.New(apperr.Invalid, "Situação %q inválida: use active, trial, suspended ou cancelled.", e.Status)
	case !plans[e.Plan]:
		return t, apperr.New(apperr.Invalid, "Plano %q inválido: use basic, pro ou enterprise.", e.Plan)
	case e.Status == "trial" && e.TrialEndsAt == nil:
		return t, apperr.New(apperr.Invalid, "Um cliente em teste precisa de data de fim do teste.")
	}
	if err := validTimezone(e.Timezone); err != nil {
		return t, err
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		t, err = tx.AdminTenantUpdate(ctx, dbsqlc.AdminTenantUpdateParams{
			ID: id, Name: e.Name, Status: e.Status, Plan: e.Plan, TrialEndsAt: e.TrialEndsAt, Timezone: e.Timezone,
		})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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
		return apperr.New(apperr.Invalid, "Caixa de entrada %d inválida.", ib.ID)
	}
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		if _, err := tx.TenantGetByID(ctx, tenantID); pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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
			return apperr.New(apperr.NotFound, "Essa caixa de entrada não está vinculada a esse cliente.")
		}
		return err
	})
}

// SearchUsers lists users across tenants (staff) or of the context tenant (tenant admin).
func (s *Service) SearchUsers(ctx context.Context, p pg.Principal, tenantID *int64, q string) ([]dbsqlc.UserSearchRow, error) {
	var rows []dbsqlc.UserSearchRow
	q = strings.TrimSpace(q)
	if len([]rune(q)) > 100 {
		return nil, apperr.New(apperr.Invalid, "A busca pode ter no máximo 100 caracteres.")
	}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.UserSearch(ctx, dbsqlc.UserSearchParams{TenantID: tenantID, Q: optString(q), MaxRows: 500})
		return err
	})
	return rows, err
}

// UserEdit is what can change on a user.
type UserEdit struct {
	FullName string
	Role     string
	Active   bool
}

// UpdateUser changes a user's name, role or active flag; deactivating ends their sessions.
// allowedRoles limits the roles the caller may give (a tenant admin: admin and client).
func (s *Service) UpdateUser(ctx context.Context, p pg.Principal, id int64, e UserEdit) (dbsqlc.UserUpdateRow, error) {
	var u dbsqlc.UserUpdateRow
	e.FullName = strings.TrimSpace(e.FullName)
	if !validRoles[e.Role] {
		return u, apperr.New(apperr.Invalid, "Papel %q desconhecido.", e.Role)
	}
	if len([]rune(e.FullName)) > 120 {
		return u, apperr.New(apperr.Invalid, "Nome muito longo (máximo de 120 caracteres).")
	}
	if p.UserID == id && (!e.Active || e.Role != p.AppRole) {
		return u, apperr.New(apperr.Invalid, "Você não pode desativar a própria conta nem mudar o próprio papel.")
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		u, err = tx.UserUpdate(ctx, dbsqlc.UserUpdateParams{ID: id, FullName: e.FullName, Role: e.Role, IsActive: e.Active})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Usuário não encontrado.")
		}
		return err
	})
	return u, err
}

// GetUser reads one user visible to the principal.
func (s *Service) GetUser(ctx context.Context, p pg.Principal, id int64) (dbsqlc.UserGetRow, error) {
	var u dbsqlc.UserGetRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		u, err = tx.UserGet(ctx, id)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Usuário não encontrado.")
		}
		return err
	})
	return u, err
}

// LoginWatch lists accounts locked on some client network or under attack, most alarming
// first (staff).
func (s *Service) LoginWatch(ctx context.Context, p pg.Principal, limit int32) ([]dbsqlc.LoginWatchRow, error) {
	var rows []dbsqlc.LoginWatchRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.LoginWatch(ctx, limit)
		return err
	})
	return rows, err
}

// UnlockUser lifts every network lock of a user (audited).
func (s *Service) UnlockUser(ctx context.Context, p pg.Principal, id int64) error {
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.UserUnlock(ctx, id)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Usuário não encontrado.")
		}
		return err
	})
}

// ResetPassword gives a user a new generated password (returned, to be shown once) and ends
// their sessions.
func (s *Service) ResetPassword(ctx context.Context, p pg.Principal, id int64) (string, error) {
	password := auth.GeneratePassword()
	hash, err := auth.Hash(password, s.BcryptCost)
	if err != nil {
		return "", err
	}
	err = s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.UserSetPassword(ctx, dbsqlc.UserSetPasswordParams{ID: id, PasswordHash: hash})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Usuário não encontrado.")
		}
		return err
	})
	return password, err
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	TenantID     *int64
	UserID       *int64
	Person       string // name or e-mail of who acted, in part
	Action       string
	Kind         string // audit.event_kind prefix: "tenant." or "tenant.suspended"
	Since, Until *time.Time
	BeforeAt     *time.Time
	BeforeID     *int64
	Limit        int32
}

// Audit pages through the audit log, newest first.
func (s *Service) Audit(ctx context.Context, p pg.Principal, q AuditQuery) ([]dbsqlc.AuditSearchRow, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var rows []dbsqlc.AuditSearchRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.AuditSearch(ctx, dbsqlc.AuditSearchParams{
			TenantID: q.TenantID, UserID: q.UserID, Person: optString(q.Person), Action: optString(q.Action), Kind: optString(q.Kind),
			Since: q.Since, Until: q.Until,
			BeforeAt: q.BeforeAt, BeforeID: q.BeforeID, MaxRows: q.Limit,
		})
		return err
	})
	return rows, err
}

// Runs lists a tenant's recent ETL runs.
func (s *Service) Runs(ctx context.Context, p pg.Principal, tenantID int64, limit int32) ([]dbsqlc.EtlRunsRecentRow, error) {
	var rows []dbsqlc.EtlRunsRecentRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.EtlRunsRecent(ctx, dbsqlc.EtlRunsRecentParams{TenantID: tenantID, MaxRows: limit})
		return err
	})
	return rows, err
}

// RunHistory is a tenant's runs since since, oldest first, with each run's duration and lag
// (for the sync chart).
func (s *Service) RunHistory(ctx context.Context, p pg.Principal, tenantID int64, since time.Time) ([]dbsqlc.EtlRunHistoryRow, error) {
	var rows []dbsqlc.EtlRunHistoryRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.EtlRunHistory(ctx, dbsqlc.EtlRunHistoryParams{TenantID: tenantID, Since: since})
		return err
	})
	return rows, err
}

// LogEvent writes an audit event as the principal, about tenantID (for actions that change no
// row, such as staff opening a tenant's dashboard).
func (s *Service) LogEvent(ctx context.Context, p pg.Principal, tenantID int64, action, entity, entityID string) error {
	p.TenantID = tenantID
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.AuditEvent(ctx, dbsqlc.AuditEventParams{Action: action, Entity: entity, EntityID: entityID})
		return err
	})
}
