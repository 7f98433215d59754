package staff

import (
	"context"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// SearchUsers lists users across tenants, or of one tenant.
func (s *Service) SearchUsers(ctx context.Context, p pg.Principal, tenantID *int64, q string) ([]dbsqlc.UserSearchRow, error) {
	var rows []dbsqlc.UserSearchRow
	q = strings.TrimSpace(q)
	if len([]rune(q)) > 100 {
		return nil, apperr.New(apperr.Invalid, "err.user.search_too_long")
	}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		rows, err = tx.UserSearch(ctx, dbsqlc.UserSearchParams{TenantID: tenantID, Q: optString(q), MaxRows: 500})
		return err
	})
	return rows, err
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
			return apperr.New(apperr.NotFound, "err.user.not_found")
		}
		return err
	})
}

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
			return apperr.New(apperr.NotFound, "err.user.not_found_email", email)
		} else if err != nil {
			return err
		}
		_, err = tx.UserSetPassword(ctx, dbsqlc.UserSetPasswordParams{ID: u.ID, PasswordHash: hash})
		return err
	})
	return password, err
}
