package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
)

func (s *Server) adminTenantSync(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	if _, _, err := s.staff.Tenant(r.Context(), *principalFrom(r), id); err != nil {
		return err
	}
	if err := s.startSync(r, id, r.PostFormValue("full") != ""); err != nil {
		return s.adminResult(w, r, id, err)
	}
	http.Redirect(w, r, "/admin/tenants/"+strconv.FormatInt(id, 10)+"/sync", http.StatusSeeOther)
	return nil
}

// startSync runs one tenant's sync in the background (it outlives the request) and audits who
// asked for it.
func (s *Server) startSync(r *http.Request, tenantID int64, full bool) error {
	if s.sync == nil {
		return apperr.New(apperr.Unavailable, "err.sync.not_configured")
	}
	pr := principalFrom(r)
	if err := s.staff.LogEvent(r.Context(), *pr, tenantID, "etl.sync_requested", "tenants", strconv.FormatInt(tenantID, 10)); err != nil {
		return err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Minute)
		defer cancel()
		if err := s.sync(ctx, tenantID, full); err != nil {
			s.log.Warn("sync failed", "tenant_id", tenantID, "error", err)
		}
	}()
	return nil
}

// SyncView follows a tenant's sync: the page refreshes itself until the run ends.
type SyncView struct {
	StaffPage
	Tenant  dbsqlc.AppTenant
	Run     *dbsqlc.EtlRunsRecentRow
	Running bool
}

func (s *Server) adminTenantSyncPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	v := SyncView{StaffPage: s.staffPage(r, "admin.sync")}
	if v.Tenant, _, err = s.staff.Tenant(r.Context(), *pr, id); err != nil {
		return err
	}
	runs, err := s.staff.Runs(r.Context(), *pr, id, 1)
	if err != nil {
		return err
	}
	v.Running = true
	if len(runs) > 0 {
		v.Run = &runs[0]
		v.Running = runs[0].Status == "running"
	}
	return s.render(w, r, http.StatusOK, "admin_sync", v)
}

// adminSyncAll starts a sync of every tenant, one after another, in the background.
func (s *Server) adminSyncAll(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	rows, err := s.staff.Overview(r.Context(), *pr, s.now(), s.staleAfter())
	if err != nil {
		return err
	}
	if s.sync == nil {
		return apperr.New(apperr.Unavailable, "err.sync.not_configured")
	}
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		ids = append(ids, row.ID)
	}
	if err := s.staff.LogEvent(r.Context(), *pr, pr.TenantID, "etl.sync_all_requested", "tenants", ""); err != nil {
		return err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Hour)
		defer cancel()
		for _, id := range ids {
			if err := s.sync(ctx, id, false); err != nil {
				s.log.Warn("sync failed", "tenant_id", id, "error", err)
			}
		}
	}()
	http.Redirect(w, r, "/admin?synced=1", http.StatusSeeOther)
	return nil
}
