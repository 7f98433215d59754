package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chart"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// TenantView is /admin/tenants/{tenant}.
type TenantView struct {
	StaffPage
	Tenant    dbsqlc.AppTenant
	Inboxes   []dbsqlc.AppTenantInbox
	SourceErr string
	Settings  tenantadmin.Settings
	Users     []dbsqlc.UserSearchRow
	Runs      []dbsqlc.EtlRunsRecentRow
	Password  string
	PwFor     string
	Zones     []Zone
	LagChart  chart.Bars // the last day's runs: time since the previous successful check, seconds
	DurChart  chart.Bars // and each run's duration, milliseconds
	HasRuns   bool

	Available  []InboxGroup // Chatwoot's inboxes by account (others' marked as taken), filtered by InboxQuery
	FreeCount  int          // how many of them can be mapped
	InboxQuery string
}

// SLAMinutes is the tenant's SLA target in minutes, for its input.
func (v TenantView) SLAMinutes() int32 { return v.Settings.SlaSeconds / 60 }

// Labels joins a label list.
func (TenantView) Labels(ls []string) string { return strings.Join(ls, ", ") }

// Opt dereferences an optional string.
func (TenantView) Opt(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TrialDate formats the trial end for a date input.
func (v TenantView) TrialDate() string {
	if v.Tenant.TrialEndsAt == nil {
		return ""
	}
	return v.Tenant.TrialEndsAt.Format("2006-01-02")
}

// RunDuration is how long a run took, with the page language's decimal separator ("0,5 s").
func (v TenantView) RunDuration(r dbsqlc.EtlRunsRecentRow) string {
	if r.FinishedAt == nil {
		return "…"
	}
	secs := r.FinishedAt.Sub(r.StartedAt).Seconds()
	return strings.Replace(strconv.FormatFloat(secs, 'f', 1, 64), ".", decimalSep(v.Lang), 1) + " s"
}
func pathTenant(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("tenant"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "err.tenant.not_found")
	}
	return id, nil
}
func (s *Server) tenantView(r *http.Request, id int64) (TenantView, error) {
	pr := principalFrom(r)
	ctx := r.Context()
	v := TenantView{StaffPage: s.staffPage(r, "admin.tenant")}
	v.Zones, _ = s.Zones(ctx)
	var err error
	if v.Tenant, v.Inboxes, err = s.staff.Tenant(ctx, *pr, id); err != nil {
		return v, err
	}
	if v.Settings, err = s.tenantAdmin.GetSettings(ctx, *pr, id); err != nil {
		return v, err
	}
	if v.Users, err = s.staff.SearchUsers(ctx, *pr, &id, ""); err != nil {
		return v, err
	}
	if err = s.syncCharts(r, &v, id); err != nil {
		return v, err
	}
	if v.Runs, err = s.staff.Runs(ctx, *pr, id, 10); err != nil {
		return v, err
	}
	if v.CanWrite {
		if all, err := s.sourceInboxes(ctx, *pr); err != nil {
			v.SourceErr = v.Err(err)
		} else {
			others := all[:0]
			for _, ib := range all {
				if ib.MappedTo != v.Tenant.Slug { // this client's own are listed above
					others = append(others, ib)
				}
			}
			v.InboxQuery = strings.TrimSpace(r.URL.Query().Get("q"))
			v.Available, _ = groupInboxes(others, v.InboxQuery, nil)
			for _, g := range v.Available {
				v.FreeCount += int(g.Free)
			}
		}
	}
	return v, nil
}

// sourceInboxes lists Chatwoot's inboxes live, marking those already mapped.
func (s *Server) sourceInboxes(ctx context.Context, p pg.Principal) ([]staff.SourceInbox, error) {
	if s.inboxes == nil {
		return nil, apperr.New(apperr.Unavailable, "err.chatwoot.not_configured")
	}
	list, err := s.inboxes(ctx)
	if err != nil {
		return nil, err
	}
	return s.staff.MarkMapped(ctx, p, list)
}
func (s *Server) adminTenant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	v, err := s.tenantView(r, id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_tenant", v)
}

// adminResult finishes a staff POST: success redirects back to the page; bad input re-renders
// the page with the message (nothing was written).
func (s *Server) adminResult(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	if err == nil {
		http.Redirect(w, r, "/admin/tenants/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
		return nil
	}
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Conflict {
		return err
	}
	v, verr := s.tenantView(r, id)
	if verr != nil {
		return verr
	}
	v.Error = v.Err(err)
	return s.render(w, r, statusOf(err), "admin_tenant", v)
}
func (s *Server) adminTenantEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	var trial *time.Time
	if d := strings.TrimSpace(r.PostFormValue("trial_ends_at")); d != "" {
		t, perr := time.Parse("2006-01-02", d)
		if perr != nil {
			return s.adminResult(w, r, id, apperr.New(apperr.Invalid, "err.tenant.trial_end_date"))
		}
		trial = &t
	}
	_, err = s.staff.UpdateTenant(r.Context(), *principalFrom(r), id, staff.TenantEdit{
		Name: r.PostFormValue("name"), Status: r.PostFormValue("status"), Plan: r.PostFormValue("plan"),
		TrialEndsAt: trial, Timezone: s.readZone(r.Context(), r.PostFormValue("timezone")),
	})
	return s.adminResult(w, r, id, err)
}
func (s *Server) adminTenantStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	status := r.PostFormValue("status")
	if status == "suspended" || status == "cancelled" {
		t, _, err := s.staff.Tenant(r.Context(), *principalFrom(r), id)
		if err != nil {
			return err
		}
		lang := s.langOf(r)
		if ok, err := s.confirmed(w, r, "/admin/tenants/"+strconv.FormatInt(id, 10), "admin.tenant",
			locale.Translate(lang, "confirm."+status+".question", t.Name), locale.Translate(lang, "confirm."+status+".consequence"),
			locale.Translate(lang, "confirm."+status+".button")); !ok {
			return err
		}
	}
	_, err = s.staff.SetStatus(r.Context(), *principalFrom(r), id, status)
	return s.adminResult(w, r, id, err)
}
func (s *Server) adminTenantInboxAdd(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	ib, err := strconv.ParseInt(r.PostFormValue("inbox_id"), 10, 32)
	if err != nil || ib <= 0 {
		return s.adminResult(w, r, id, apperr.New(apperr.Invalid, "err.inbox.choose"))
	}
	in := staff.Inbox{ID: int32(ib)}
	if list, err := s.sourceInboxes(r.Context(), *principalFrom(r)); err == nil {
		for _, x := range list {
			if x.ID == in.ID {
				acc := x.AccountID
				in = staff.Inbox{ID: x.ID, AccountID: &acc, Name: x.Name, ChannelType: x.ChannelType}
			}
		}
	}
	return s.adminResult(w, r, id, s.staff.MapInbox(r.Context(), *principalFrom(r), id, in))
}
func (s *Server) adminTenantInboxRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	ib, err := strconv.ParseInt(r.PathValue("inbox"), 10, 32)
	if err != nil {
		return apperr.New(apperr.NotFound, "err.inbox.not_found")
	}
	t, inboxes, err := s.staff.Tenant(r.Context(), *principalFrom(r), id)
	if err != nil {
		return err
	}
	name := ""
	for _, x := range inboxes {
		if x.InboxID == int32(ib) {
			name = x.InboxName
		}
	}
	if name == "" {
		return apperr.New(apperr.NotFound, "err.inbox.not_found")
	}
	lang := s.langOf(r)
	if ok, err := s.confirmed(w, r, "/admin/tenants/"+strconv.FormatInt(id, 10), "admin.tenant",
		locale.Translate(lang, "confirm.unmap.question", name, t.Name), locale.Translate(lang, "confirm.unmap.consequence"),
		locale.Translate(lang, "confirm.unmap.button")); !ok {
		return err
	}
	return s.adminResult(w, r, id, s.staff.UnmapInbox(r.Context(), *principalFrom(r), id, int32(ib)))
}
func (s *Server) adminTenantBranding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.PostFormValue("default_period_days"))
	err = s.tenantAdmin.SetBranding(r.Context(), *principalFrom(r), id, tenantadmin.Branding{
		DisplayName: r.PostFormValue("display_name"), LogoURL: r.PostFormValue("logo_url"),
		PrimaryColor: r.PostFormValue("primary_color"), SecondaryColor: r.PostFormValue("secondary_color"),
		DefaultPeriodDays: int32(days),
	})
	return s.adminResult(w, r, id, err)
}
func (s *Server) adminTenantFunnel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	return s.adminResult(w, r, id, s.tenantAdmin.SetFunnel(r.Context(), *principalFrom(r), id, funnelFromForm(r)))
}
