package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chart"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// The GeniAI admin panel: staff only. super_admin changes things; support sees everything and
// every POST route refuses them (404) — the buttons are hidden too.

// StaffPage is what every admin page gets.
type StaffPage struct {
	Page
	CanWrite bool
	Error    string
	Notice   string
	Loc      *time.Location // the reader's zone: every timestamp is shown in it, with its offset
}

func (s *Server) staffPage(r *http.Request, titleKey string) StaffPage {
	p := StaffPage{Page: s.newPage(r, titleKey)}
	p.CanWrite = principalFrom(r).Role == pg.AppSuperAdmin
	p.Loc = s.viewerZone(r)
	if r.URL.Query().Get("saved") != "" {
		p.Notice = p.T("settings.saved")
	}
	return p
}

// TenantRow is one line of the overview.
type TenantRow struct {
	dbsqlc.AdminTenantOverviewRow
	ConvChange, LeadChange *float64
	Lag                    *time.Duration
	Flag                   string // "", "failing", "stale", "never"
}

// OverviewView is /admin.
type OverviewView struct {
	StaffPage
	Rows                  []TenantRow
	Sort, Q, Status       string
	TotalConv, TotalLeads int64
	TotalPrev, TotalUsers int64
	Chart                 chart.Bars
	Watch                 []dbsqlc.LoginWatchRow // accounts locked on some network or under attack
}

// staleAfter is how old a last success may be before the overview flags a tenant: three sync
// intervals (a day when the server runs no scheduler).
func (s *Server) staleAfter() time.Duration {
	if s.cfg.ETLInterval > 0 {
		return 3 * s.cfg.ETLInterval
	}
	return 24 * time.Hour
}

func pctChange(cur, prev int64) *float64 {
	if prev == 0 {
		return nil
	}
	c := float64(cur-prev) / float64(prev) * 100
	return &c
}

func (s *Server) adminOverview(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	now := s.now()
	rows, err := s.staff.Overview(r.Context(), pr.DB(), now, s.staleAfter())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := OverviewView{StaffPage: s.staffPage(r, "admin.title"), Sort: q.Get("sort"), Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status")}
	if v.Watch, err = s.staff.LoginWatch(r.Context(), pr.DB(), 20); err != nil {
		return err
	}
	for _, row := range rows {
		if v.Status != "" && row.Status != v.Status {
			continue
		}
		if v.Q != "" && !strings.Contains(strings.ToLower(row.Name+" "+row.Slug), strings.ToLower(v.Q)) {
			continue
		}
		tr := TenantRow{AdminTenantOverviewRow: row, ConvChange: pctChange(row.Conversations30d, row.ConversationsPrev30d),
			LeadChange: pctChange(row.Leads30d, row.LeadsPrev30d)}
		switch row.Health { // decided in SQL (AdminTenantOverview), with the same threshold
		case "failed":
			tr.Flag = "failing"
		case "never", "stale":
			tr.Flag = row.Health
		}
		if row.LastSuccessAt != nil {
			lag := now.Sub(*row.LastSuccessAt).Round(time.Second)
			tr.Lag = &lag
		}
		v.Rows = append(v.Rows, tr)
		v.TotalConv += row.Conversations30d
		v.TotalLeads += row.Leads30d
		v.TotalPrev += row.ConversationsPrev30d
		v.TotalUsers += int64(row.Users)
	}
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		switch v.Sort {
		case "conversations":
			return a.Conversations30d > b.Conversations30d
		case "leads":
			return a.Leads30d > b.Leads30d
		case "status":
			return a.Status < b.Status
		case "sync":
			return a.Flag > b.Flag
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	var items []chart.Item
	for _, row := range v.Rows {
		items = append(items, chart.Item{Label: row.Slug, Values: []int64{row.Leads30d, row.Conversations30d - row.Leads30d},
			Title: row.Name + ": " + formatInt(row.Conversations30d, v.Lang), Href: "/admin/tenants/" + strconv.FormatInt(row.ID, 10) + "/dashboard"})
	}
	v.Chart = chart.Layout(items, 900, 220, func(n int64) string { return formatInt(n, v.Lang) })
	return s.render(w, r, http.StatusOK, "admin", v)
}

// SortLink keeps the overview's filters when changing the sort.
func (v OverviewView) SortLink(key string) string {
	q := url.Values{}
	q.Set("sort", key)
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	return "/admin?" + q.Encode()
}

// Change formats a percentage change for a row.
func (v OverviewView) Change(x *float64) string { return formatChange(v.Lang, x) }

// LagText formats a sync lag.
func (v OverviewView) LagText(d *time.Duration) string {
	if d == nil {
		return "—"
	}
	secs := d.Seconds()
	return formatDuration(v.Lang, &secs)
}

// TenantView is /admin/tenants/{tenant}.
type TenantView struct {
	StaffPage
	Tenant    dbsqlc.AppTenant
	Inboxes   []dbsqlc.AppTenantInbox
	Available []admin.SourceInbox
	SourceErr string
	Settings  admin.Settings
	Users     []dbsqlc.UserSearchRow
	Runs      []dbsqlc.EtlRunsRecentRow
	Password  string
	PwFor     string
	Zones     []Zone
	LagChart  chart.Bars // the last day's runs: time since the previous successful check, seconds
	DurChart  chart.Bars // and each run's duration, milliseconds
	HasRuns   bool
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

// RunDuration is how long a run took.
func (v TenantView) RunDuration(r dbsqlc.EtlRunsRecentRow) string {
	if r.FinishedAt == nil {
		return "…"
	}
	secs := r.FinishedAt.Sub(r.StartedAt).Seconds()
	return strconv.FormatFloat(secs, 'f', 1, 64) + " s"
}

func pathTenant(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("tenant"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Cliente não encontrado.")
	}
	return id, nil
}

func (s *Server) tenantView(r *http.Request, id int64) (TenantView, error) {
	pr := principalFrom(r)
	ctx := r.Context()
	v := TenantView{StaffPage: s.staffPage(r, "admin.tenant")}
	v.Zones, _ = s.Zones(ctx)
	var err error
	if v.Tenant, v.Inboxes, err = s.staff.Tenant(ctx, pr.DB(), id); err != nil {
		return v, err
	}
	if v.Settings, err = s.staff.GetSettings(ctx, pr.DB(), id); err != nil {
		return v, err
	}
	if v.Users, err = s.staff.SearchUsers(ctx, pr.DB(), &id, ""); err != nil {
		return v, err
	}
	if err = s.syncCharts(r, &v, id); err != nil {
		return v, err
	}
	if v.Runs, err = s.staff.Runs(ctx, pr.DB(), id, 10); err != nil {
		return v, err
	}
	if v.CanWrite {
		if all, err := s.sourceInboxes(ctx, pr.DB()); err != nil {
			v.SourceErr = apperr.MessageOf(err)
		} else {
			for _, ib := range all {
				if ib.MappedTo == "" {
					v.Available = append(v.Available, ib)
				}
			}
		}
	}
	return v, nil
}

// sourceInboxes lists Chatwoot's inboxes live, marking those already mapped.
func (s *Server) sourceInboxes(ctx context.Context, p pg.Principal) ([]admin.SourceInbox, error) {
	if s.inboxes == nil {
		return nil, apperr.New(apperr.Unavailable, "CHATWOOT_DATABASE_URL não configurada: não é possível listar as caixas de entrada.")
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
	v.Error = apperr.MessageOf(err)
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
			return s.adminResult(w, r, id, apperr.New(apperr.Invalid, "Data de fim do teste inválida."))
		}
		trial = &t
	}
	_, err = s.staff.UpdateTenant(r.Context(), principalFrom(r).DB(), id, admin.TenantEdit{
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
	if status != "active" && r.PostFormValue("confirm") == "" {
		return s.adminResult(w, r, id, apperr.New(apperr.Invalid, "Confirme a mudança de situação marcando a caixa de confirmação."))
	}
	_, err = s.staff.SetStatus(r.Context(), principalFrom(r).DB(), id, status)
	return s.adminResult(w, r, id, err)
}

func (s *Server) adminTenantInboxAdd(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	ib, err := strconv.ParseInt(r.PostFormValue("inbox_id"), 10, 32)
	if err != nil || ib <= 0 {
		return s.adminResult(w, r, id, apperr.New(apperr.Invalid, "Escolha uma caixa de entrada."))
	}
	in := admin.Inbox{ID: int32(ib)}
	if list, err := s.sourceInboxes(r.Context(), principalFrom(r).DB()); err == nil {
		for _, x := range list {
			if x.ID == in.ID {
				acc := x.AccountID
				in = admin.Inbox{ID: x.ID, AccountID: &acc, Name: x.Name, ChannelType: x.ChannelType}
			}
		}
	}
	return s.adminResult(w, r, id, s.staff.MapInbox(r.Context(), principalFrom(r).DB(), id, in))
}

func (s *Server) adminTenantInboxRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	ib, err := strconv.ParseInt(r.PathValue("inbox"), 10, 32)
	if err != nil {
		return apperr.New(apperr.NotFound, "Caixa de entrada não encontrada.")
	}
	return s.adminResult(w, r, id, s.staff.UnmapInbox(r.Context(), principalFrom(r).DB(), id, int32(ib)))
}

func (s *Server) adminTenantBranding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.PostFormValue("default_period_days"))
	err = s.staff.SetBranding(r.Context(), principalFrom(r).DB(), id, admin.Branding{
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
	return s.adminResult(w, r, id, s.staff.SetFunnel(r.Context(), principalFrom(r).DB(), id, funnelFromForm(r)))
}

func (s *Server) adminTenantSync(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	if _, _, err := s.staff.Tenant(r.Context(), principalFrom(r).DB(), id); err != nil {
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
		return apperr.New(apperr.Unavailable, "A sincronização não está configurada (CHATWOOT_DATABASE_URL).")
	}
	pr := principalFrom(r)
	if err := s.staff.LogEvent(r.Context(), pr.DB(), tenantID, "etl.sync_requested", "tenants", strconv.FormatInt(tenantID, 10)); err != nil {
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
	if v.Tenant, _, err = s.staff.Tenant(r.Context(), pr.DB(), id); err != nil {
		return err
	}
	runs, err := s.staff.Runs(r.Context(), pr.DB(), id, 1)
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
	rows, err := s.staff.Overview(r.Context(), pr.DB(), s.now(), s.staleAfter())
	if err != nil {
		return err
	}
	if s.sync == nil {
		return apperr.New(apperr.Unavailable, "A sincronização não está configurada (CHATWOOT_DATABASE_URL).")
	}
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		ids = append(ids, row.ID)
	}
	if err := s.staff.LogEvent(r.Context(), pr.DB(), pr.TenantID, "etl.sync_all_requested", "tenants", ""); err != nil {
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
