package staff

import (
	"context"
	"strings"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// SourceInbox is a Chatwoot inbox as the onboarding wizard lists it, with the tenant it is
// already mapped to, if any.
type SourceInbox struct {
	ID          int32
	AccountID   int32
	AccountName string
	Name        string
	ChannelType string
	MappedTo    string // tenant slug, "" when free
}

// Onboarding is a new client in one step: the tenant, its inboxes and its first admin.
type Onboarding struct {
	Tenant        TenantInput
	AdminEmail    string
	AdminName     string
	AdminLanguage string // of the invitation e-mail (and so of the account it creates)
	// Invite, when set (outgoing mail configured), invites the first admin inside the
	// onboarding's transaction instead of creating the account with a generated password.
	Invite func(ctx context.Context, tx pg.Tx, in account.Invitation) (account.Invited, error)
}

// Onboarded is the result: the tenant and either the invitation sent to the first admin or the
// admin's generated password, shown once.
type Onboarded struct {
	Tenant        dbsqlc.AppTenant
	AdminEmail    string
	AdminPassword string
	Invitation    *account.Invited
}

// Onboard creates the tenant, maps its inboxes and creates its first admin user in ONE
// transaction: a duplicate slug, an inbox taken by another tenant or a duplicate email leaves
// nothing behind. inboxes is the live list from Chatwoot, used to name and validate the choice.
func (s *Service) Onboard(ctx context.Context, p pg.Principal, o Onboarding, inboxes []SourceInbox) (Onboarded, error) {
	var out Onboarded
	if err := o.Tenant.Validate(); err != nil {
		return out, err
	}
	if o.Tenant.Slug == "" && o.Tenant.Name != "" { // left blank: the name's suggestion
		c, err := s.CheckSlug(ctx, p, "", o.Tenant.Name)
		if err != nil {
			return out, err
		}
		o.Tenant.Slug = c.Slug
	}
	if len(o.Tenant.Inboxes) == 0 {
		return out, apperr.New(apperr.Invalid, "err.onboard.no_inbox")
	}
	byID := map[int32]SourceInbox{}
	for _, ib := range inboxes {
		byID[ib.ID] = ib
	}
	for i, ib := range o.Tenant.Inboxes {
		src, ok := byID[ib.ID]
		if !ok {
			return out, apperr.New(apperr.Invalid, "err.onboard.inbox_unknown", ib.ID)
		}
		acc := src.AccountID
		o.Tenant.Inboxes[i] = Inbox{ID: src.ID, AccountID: &acc, Name: src.Name, ChannelType: src.ChannelType}
	}
	email := auth.NormalizeEmail(o.AdminEmail) // its format is the constraint users_email_format (invitations_email_format)
	var password, hash string
	if o.Invite == nil {
		password = auth.GeneratePassword()
		var err error
		if hash, err = auth.Hash(password, s.BcryptCost); err != nil {
			return out, err
		}
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		t, err := tx.TenantCreate(ctx, dbsqlc.TenantCreateParams{
			Slug: o.Tenant.Slug, Name: o.Tenant.Name, Status: o.Tenant.Status, TrialEndsAt: o.Tenant.TrialEndsAt,
			Plan: o.Tenant.Plan, Timezone: o.Tenant.Timezone,
		})
		if err != nil {
			return err
		}
		for _, ib := range o.Tenant.Inboxes {
			if err := mapInbox(ctx, tx, t.ID, ib); err != nil {
				return err
			}
		}
		if o.Invite != nil {
			inv, err := o.Invite(ctx, tx, account.Invitation{TenantID: t.ID, Email: email, FullName: o.AdminName,
				Role: "admin", Language: o.AdminLanguage, InvitedBy: "GeniAI"})
			if err != nil {
				return err
			}
			out.Invitation = &inv
		} else if _, err := tx.UserCreate(ctx, dbsqlc.UserCreateParams{
			TenantID: t.ID, Email: email, PasswordHash: hash, FullName: strings.TrimSpace(o.AdminName), Role: "admin",
		}); err != nil {
			return err
		}
		out.Tenant = t
		return nil
	})
	if err != nil {
		return Onboarded{}, err
	}
	out.AdminEmail, out.AdminPassword = email, password
	return out, nil
}

// MarkMapped fills MappedTo from our inbox mapping (staff see every tenant's mapping).
func (s *Service) MarkMapped(ctx context.Context, p pg.Principal, list []SourceInbox) ([]SourceInbox, error) {
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		owners, err := tx.TenantInboxOwners(ctx)
		if err != nil {
			return err
		}
		slug := make(map[int32]string, len(owners))
		for _, o := range owners {
			slug[o.InboxID] = o.Slug
		}
		for i := range list {
			list[i].MappedTo = slug[list[i].ID]
		}
		return nil
	})
	return list, err
}
