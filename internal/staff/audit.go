package staff

import (
	"context"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

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

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
