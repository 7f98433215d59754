// Package tenantadmin holds what a tenant's admin manages for the tenant: its branding,
// timezone and funnel rules (the /settings page) and its users. GeniAI staff run the same
// operations on any tenant from the admin panel; Row-Level Security decides what each principal
// reaches, so both run the same validation, SQL and audit trail.
package tenantadmin

import (
	"context"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Service runs a tenant's own operations as the given principal.
type Service struct {
	DB         *pg.DB
	BcryptCost int
}

// Tenant reads the tenant the settings belong to.
func (s *Service) Tenant(ctx context.Context, p pg.Principal, id int64) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		if t, err = tx.TenantGetByID(ctx, id); pg.IsNoRows(err) || err == nil && t.IsPlatform {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
	return t, err
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
