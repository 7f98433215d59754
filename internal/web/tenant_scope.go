package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
)

// tenantScope is the tenant a dashboard request is about and how links to it are built: a tenant
// user sees their own tenant under /dashboard and /conversations; staff see any tenant,
// read-only, under /admin/tenants/{tenant}/... (each view audited).
type tenantScope struct {
	Tenant   *dashboard.Tenant
	Base     string // "" for tenant users, "/admin/tenants/{id}" for staff
	ViewedBy bool   // staff viewing: show the banner
	db       pg.Principal
}

// scope resolves the tenant of the request. A tenant user naming another tenant's id in the path
// gets 404, exactly like a missing one.
func (s *Server) scope(r *http.Request) (*tenantScope, error) {
	pr := principalFrom(r)
	sc := &tenantScope{db: *pr}
	tenantID := pr.TenantID
	if raw := r.PathValue("tenant"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 || !pr.IsStaff() {
			return nil, apperr.New(apperr.NotFound, "err.page.not_found")
		}
		tenantID = id
		sc.Base = "/admin/tenants/" + raw
		sc.ViewedBy = true
	} else if pr.IsStaff() {
		return nil, apperr.New(apperr.NotFound, "err.page.not_found")
	}
	t, err := s.dash.LoadTenant(r.Context(), sc.db, tenantID)
	if err != nil {
		return nil, err
	}
	sc.Tenant = t
	return sc, nil
}

// filter parses the request's filter for the scope's tenant.
func (s *Server) filter(r *http.Request, sc *tenantScope) (dashboard.Filter, error) {
	t := sc.Tenant
	return dashboard.Parse(r.URL.Query(), t.Today(s.now()), int(t.Settings.DefaultPeriodDays), t.InboxIDs())
}

// scopeFilter resolves the tenant and parses the filter: what every list, chart and export
// handler starts with.
func (s *Server) scopeFilter(r *http.Request) (*tenantScope, dashboard.Filter, error) {
	sc, err := s.scope(r)
	if err != nil {
		return nil, dashboard.Filter{}, err
	}
	f, err := s.filter(r, sc)
	return sc, f, err
}

// auditView records a staff member opening a tenant's data ("ver como cliente").
func (s *Server) auditView(r *http.Request, sc *tenantScope, what string) error {
	if !sc.ViewedBy {
		return nil
	}
	return s.staff.LogEvent(r.Context(), sc.db, sc.Tenant.ID, "tenant.view_as", "tenants", strconv.FormatInt(sc.Tenant.ID, 10)+":"+what)
}

// TenantPage is the part of every tenant page that knows the tenant.
type TenantPage struct {
	Page
	Scope   *tenantScope
	Filter  dashboard.Filter
	Presets []string
	Path    string    // the page's path under the scope's base, for the filter form
	Today   time.Time // the tenant's date, for the preset links
	// ChatwootURL is CHATWOOT_URL: conversations link into Chatwoot when it is set.
	ChatwootURL string
	// Reader is the reader's own zone (app.users.timezone): timestamps on the page are shown in
	// it, with the offset; the tenant's zone (Loc) decides its days.
	Reader *time.Location
	// Problems of the request answered on the page itself, the previous results kept: a date
	// that does not parse or a half-filled period, a label that names none or several of the
	// tenant's labels, parameters no page understands.
	DateError       string
	TypedFrom       string // with a DateError, the dates as typed, left in the fields to correct
	TypedTo         string
	LabelError      string
	LabelCandidates []string
	Ignored         []string
}

// Link builds a URL under the scope's base with the filter's parameters.
func (p TenantPage) Link(path string, f dashboard.Filter) string {
	q := f.Query()
	if len(q) == 0 {
		return p.Scope.Base + path
	}
	return p.Scope.Base + path + "?" + q.Encode()
}

// LinkWith is Link with extra parameters (format=excel, after=...).
func (p TenantPage) LinkWith(path string, f dashboard.Filter, kv ...string) string {
	q := f.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return p.Scope.Base + path + "?" + q.Encode()
}

// DrillKPI is the explorer link behind a KPI card.
func (p TenantPage) DrillKPI(kpi string) string {
	return p.Link("/conversations", p.Filter.DrillKPI(kpi))
}

// Selected reports whether an inbox is in the filter.
func (p TenantPage) Selected(id int32) bool {
	for _, x := range p.Filter.Inboxes {
		if x == id {
			return true
		}
	}
	return false
}

// Loc is the tenant's timezone, for dates on the page.
func (p TenantPage) Loc() *time.Location { return p.Scope.Tenant.Loc }
func (s *Server) tenantPage(r *http.Request, titleKey, path string, sc *tenantScope, f dashboard.Filter) TenantPage {
	tp := TenantPage{Page: s.newPage(r, titleKey), Scope: sc, Filter: f, Path: path, Today: sc.Tenant.Today(s.now()), ChatwootURL: s.cfg.ChatwootURL}
	tp.Reader = s.viewerZone(r)
	tp.Brand = tenantBrand(sc.Tenant)
	for _, p := range dashboard.Presets {
		tp.Presets = append(tp.Presets, p.Key)
	}
	return tp
}

// pageFilter is scopeFilter for the dashboard and the list, which answer a bad date or an unknown
// label on the page itself: the period falls back to the preset (or the tenant's default) and the
// label is dropped, with the reason shown beside the field. Other bad input is still a 400.
func (s *Server) pageFilter(r *http.Request) (*tenantScope, dashboard.Filter, problems, error) {
	var pr problems
	sc, f, err := s.scopeFilter(r)
	var de *dashboard.DateError
	if errors.As(err, &de) {
		f, err = de.Fallback, nil
		pr.date = apperr.Message(de.Err, s.langOf(r))
		pr.from, pr.to = r.URL.Query().Get("from"), r.URL.Query().Get("to")
	}
	if err != nil {
		return sc, f, pr, err
	}
	if f.Label != "" {
		if label, cands, ok := sc.Tenant.ResolveLabel(f.Label); ok {
			f.Label = label
		} else {
			pr.label, pr.candidates = f.Label, cands
			f.Label = ""
		}
	}
	pr.ignored = unknownParams(r.URL.Query())
	return sc, f, pr, nil
}

type problems struct {
	date, label string
	from, to    string
	candidates  []string
	ignored     []string
}

func (tp *TenantPage) report(pr problems) {
	tp.DateError, tp.LabelCandidates, tp.Ignored = pr.date, pr.candidates, pr.ignored
	tp.TypedFrom, tp.TypedTo = pr.from, pr.to
	if pr.label != "" {
		tp.LabelError = pr.label
	}
}
