package tenantadmin

import (
	"context"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// UserInput is what creating a user takes.
type UserInput struct {
	TenantSlug string
	Email      string
	FullName   string
	Role       string
	Password   string // "" means generate one
}

// CreateUser creates a user in the tenant with the given slug. It returns the user and the
// password, generated when none was given, to be shown exactly once. The e-mail's format, the
// role and the name's length are the table's constraints (users_email_format, users_role_known,
// users_full_name_length), checked once, by the database.
func (s *Service) CreateUser(ctx context.Context, p pg.Principal, in UserInput) (dbsqlc.UserCreateRow, string, error) {
	var u dbsqlc.UserCreateRow
	in.Email = auth.NormalizeEmail(in.Email)
	in.FullName = strings.TrimSpace(in.FullName)
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
			return apperr.New(apperr.NotFound, "err.tenant.not_found_slug", in.TenantSlug)
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

// Users lists the users of one tenant, for its settings page.
func (s *Service) Users(ctx context.Context, p pg.Principal, tenantID int64) ([]dbsqlc.UserSearchRow, error) {
	var rows []dbsqlc.UserSearchRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.UserSearch(ctx, dbsqlc.UserSearchParams{TenantID: &tenantID, MaxRows: 500})
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

// UpdateUser changes a user's name, role or active flag; deactivating ends their sessions. The
// role and the name's length are checked by the table's constraints.
func (s *Service) UpdateUser(ctx context.Context, p pg.Principal, id int64, e UserEdit) (dbsqlc.UserUpdateRow, error) {
	var u dbsqlc.UserUpdateRow
	e.FullName = strings.TrimSpace(e.FullName)
	if p.UserID == id && (!e.Active || e.Role != p.Role) {
		return u, apperr.New(apperr.Invalid, "err.user.self_change")
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		u, err = tx.UserUpdate(ctx, dbsqlc.UserUpdateParams{ID: id, FullName: e.FullName, Role: e.Role, IsActive: e.Active})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.user.not_found")
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
			return apperr.New(apperr.NotFound, "err.user.not_found")
		}
		return err
	})
	return u, err
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
			return apperr.New(apperr.NotFound, "err.user.not_found")
		}
		return err
	})
	return password, err
}
