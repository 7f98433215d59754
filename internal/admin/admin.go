// Package admin holds the staff actions (tenants, users, inbox mapping) shared by the geniai CLI
// and the admin web panel, so both run the same validation and the same SQL under the same
// principal and audit trail.
package admin

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
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

// validTimezone accepts IANA zone names (America/Sao_Paulo, UTC), not abbreviations or offsets.
func validTimezone(tz string) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" || !strings.Contains(tz, "/") && tz != "UTC" {
		return apperr.New(apperr.Invalid, "Fuso horário %q desconhecido: use um nome IANA como America/Sao_Paulo.", tz)
	}
	return nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// Validate checks the input before any SQL runs, with messages a person understands; the
// database constraints check the same rules again.
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
	switch {
	case in.Name == "":
		return apperr.New(apperr.Invalid, "Informe o nome do cliente.")
	case len([]rune(in.Name)) > 120:
		return apperr.New(apperr.Invalid, "Nome muito longo (máximo de 120 caracteres).")
	case !slugRE.MatchString(in.Slug):
		return apperr.New(apperr.Invalid, "Identificador (slug) %q inválido: use de 1 a 40 letras minúsculas, números e hífens, sem hífen no início ou no fim.", in.Slug)
	}
	if err := validTimezone(in.Timezone); err != nil {
		return err
	}
	seen := map[int32]bool{}
	for _, ib := range in.Inboxes {
		if ib.ID <= 0 {
			return apperr.New(apperr.Invalid, "Caixa de entrada %d inválida.", ib.ID)
		}
		if seen[ib.ID] {
			return apperr.New(apperr.Invalid, "Caixa de entrada %d informada duas vezes.", ib.ID)
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
		return apperr.New(apperr.Conflict, "A caixa de entrada %d já está vinculada ao cliente %q.", ib.ID, owner)
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

// UserInput is what creating a user takes.
type UserInput struct {
	TenantSlug string
	Email      string
	FullName   string
	Role       string
	Password   string // "" means generate one
}

var validRoles = map[string]bool{"client": true, "admin": true, "super_admin": true, "support": true}

// CreateUser creates a user in the tenant with the given slug. It returns the user and the
// password, generated when none was given, to be shown exactly once.
func (s *Service) CreateUser(ctx context.Context, p pg.Principal, in UserInput) (dbsqlc.UserCreateRow, string, error) {
	var u dbsqlc.UserCreateRow
	in.Email = auth.NormalizeEmail(in.Email)
	in.FullName = strings.TrimSpace(in.FullName)
	if !validRoles[in.Role] {
		return u, "", apperr.New(apperr.Invalid, "Papel %q desconhecido: use client, admin, super_admin ou support.", in.Role)
	}
	if !emailRE.MatchString(in.Email) {
		return u, "", apperr.New(apperr.Invalid, "E-mail %q inválido.", in.Email)
	}
	password := in.Password
	if password == "" {
		password = auth.GeneratePassword()
	}
	if err := auth.ValidatePassword(password, in.Email); err != nil {
		return u, "", err
	}
	hash, err := auth.Hash(password, s.BcryptCost)
	if err != nil {
		return u, "", err
	}
	err = s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		t, err := tx.TenantGetBySlug(ctx, in.TenantSlug)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cliente %q não encontrado.", in.TenantSlug)
		} else if err != nil {
			return err
		}
		u, err = tx.UserCreate(ctx, dbsqlc.UserCreateParams{
			TenantID: t.ID, Email: in.Email, PasswordHash: hash, FullName: in.FullName, Role: in.Role,
		})
		return err
	})
	return u, password, err
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// SetPassword replaces a user's password (ending their sessions); "" generates one, returned.
func (s *Service) SetPassword(ctx context.Context, p pg.Principal, email, password string) (string, error) {
	email = auth.NormalizeEmail(email)
	if password == "" {
		password = auth.GeneratePassword()
	}
	if err := auth.ValidatePassword(password, email); err != nil {
		return "", err
	}
	hash, err := auth.Hash(password, s.BcryptCost)
	if err != nil {
		return "", err
	}
	err = s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		u, err := tx.UserGetByEmail(ctx, email)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Usuário %q não encontrado.", email)
		} else if err != nil {
			return err
		}
		_, err = tx.UserSetPassword(ctx, dbsqlc.UserSetPasswordParams{ID: u.ID, PasswordHash: hash})
		return err
	})
	return password, err
}
