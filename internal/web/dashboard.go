package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chart"
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
	sc := &tenantScope{db: pr.DB()}
	tenantID := pr.TenantID
	if raw := r.PathValue("tenant"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 || !pr.IsStaff() {
			return nil, apperr.New(apperr.NotFound, "Página não encontrada.")
		}
		tenantID = id
		sc.Base = "/admin/tenants/" + raw
		sc.ViewedBy = true
	} else if pr.IsStaff() {
		return nil, apperr.New(apperr.NotFound, "Página não encontrada.")
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
	// Problems of the request answered on the page itself, the previous results kept: a date
	// that does not parse or a half-filled period, a label that names none or several of the
	// tenant's labels, parameters no page understands.
	DateError       string
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
		pr.date = apperr.MessageOf(de.Err)
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
	candidates  []string
	ignored     []string
}

func (tp *TenantPage) report(pr problems) {
	tp.DateError, tp.LabelCandidates, tp.Ignored = pr.date, pr.candidates, pr.ignored
	if pr.label != "" {
		tp.LabelError = pr.label
	}
}

// DashboardView is the data of /dashboard.
type DashboardView struct {
	TenantPage
	D       *dashboard.Dashboard
	Daily   Figure
	Volume  []VolumeRow // the volume chart's bars, for its table
	FRT     Figure
	Heat    [7][24]int64
	HeatMax int64
	CSAT    Figure
	Funnel  []FunnelStage
	Synced  string // "Atualizado há 2 min"
}

// Figure is a chart drawn twice, for wide screens and for phones (CSS shows one), with the
// accessible name both carry.
type Figure struct {
	Name         string
	Wide, Narrow chart.Bars
}

// VolumeRow is one bar of the volume chart (a day, a week or a month).
type VolumeRow struct {
	Label, Short         string // "semana de 03/11 a 09/11", "03/11"
	Conversations, Leads int64
	Href                 string
}

// FunnelStage is one bar of the funnel.
type FunnelStage struct {
	Key, Label    string
	Count         *float64
	Width         float64  // percent of the first stage
	OfPrevious    *float64 // this step as a fraction of the one before
	PreviousLabel string
	Href          string
}

// Grains are the volume chart's bar widths, for the switch.
func (v DashboardView) Grains() []string { return dashboard.Grains }

// GrainLink is the dashboard with the volume chart in bars of grain.
func (v DashboardView) GrainLink(grain string) string {
	return v.Link("/dashboard", v.Filter.With(func(g *dashboard.Filter) { g.Grain = grain }))
}

// QueueLink is the queue of the dashboard's inboxes (any period: the queue is a state as of the
// last sync).
func (v DashboardView) QueueLink() string {
	qf := dashboard.QueueFilter{Inboxes: v.Filter.Inboxes, PageSize: dashboard.DefaultPageSize}
	if q := qf.Values(); len(q) > 0 {
		return v.Scope.Base + "/queue?" + q.Encode()
	}
	return v.Scope.Base + "/queue"
}

// Shade is the heatmap class of a cell.
func (v DashboardView) Shade(n int64) string { return chart.Shade(n, v.HeatMax) }

// CellLink is the explorer link of a heatmap cell.
func (v DashboardView) CellLink(dow, hour int) string {
	return v.Link("/conversations", v.Filter.DrillCell(dow, hour))
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	sc, f, pr, err := s.pageFilter(r)
	if err != nil {
		return err
	}
	d, err := s.dash.Load(r.Context(), sc.db, sc.Tenant.ID, f)
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "dashboard"); err != nil {
		return err
	}
	v := DashboardView{TenantPage: s.tenantPage(r, "dashboard.title", "/dashboard", sc, f), D: d}
	v.report(pr)
	lang := v.Lang
	n := func(x int64) string { return formatInt(x, lang) }

	// The volume chart: a bar per day, week or month; each bar lists its conversations.
	grain := f.ChartGrain()
	var items []chart.Item
	var busiest *VolumeRow
	for _, b := range d.Series(grain) {
		row := VolumeRow{Label: bucketLabel(lang, grain, b.From, b.To), Short: bucketShort(lang, grain, b.From),
			Conversations: b.Conversations, Leads: b.Leads, Href: v.Link("/conversations", f.DrillRange(b.From, b.To))}
		v.Volume = append(v.Volume, row)
		if busiest == nil || b.Conversations > busiest.Conversations {
			busiest = &v.Volume[len(v.Volume)-1]
		}
		it := chart.Item{Label: row.Short, Href: row.Href,
			Title: row.Label + ": " + n(b.Conversations) + " " + v.T("kpi.conversations") + ", " + n(b.Leads) + " leads"}
		if f.Stacked {
			for _, ib := range sc.Tenant.Inboxes {
				it.Values = append(it.Values, b.ByInbox[ib.InboxID])
			}
		} else {
			it.Values = []int64{b.Leads, b.Conversations - b.Leads}
		}
		items = append(items, it)
	}
	v.Daily = Figure{Wide: chart.Layout(items, 900, 240, n), Narrow: chart.Layout(items, 360, 220, n)}
	v.Daily.Name = v.T("chart.volume." + grain)
	if busiest != nil {
		v.Daily.Name += " — " + v.T("chart.busiest") + " " + busiest.Label + ": " + n(busiest.Conversations)
	}

	items = nil
	for i, c := range d.FRTCounts() {
		items = append(items, chart.Item{Label: dashboard.FRTBuckets[i], Values: []int64{c},
			Title: dashboard.FRTBuckets[i] + ": " + n(c), Href: v.Link("/conversations", f.DrillFRT(i))})
	}
	v.FRT = Figure{Name: v.T("chart.first_reply"), Wide: chart.Layout(items, 440, 220, n), Narrow: chart.Layout(items, 360, 220, n)}

	items = nil
	for i, c := range d.CSATCounts() {
		label := strconv.Itoa(i + 1)
		items = append(items, chart.Item{Label: label + " ★", Values: []int64{c}, Title: label + " ★: " + n(c),
			Href: v.Link("/conversations", f.DrillCSAT(i+1))})
	}
	v.CSAT = Figure{Name: v.T("chart.csat"), Wide: chart.Layout(items, 900, 200, n), Narrow: chart.Layout(items, 360, 200, n)}
	v.Heat, v.HeatMax = d.HeatmapGrid()

	k := d.KPIs
	first, prev := 0.0, 0.0
	if k.Conversations.Cur != nil {
		first = *k.Conversations.Cur
	}
	for _, st := range []struct {
		key, label string
		x          *float64
	}{
		{"conversations", v.T("kpi.conversations"), k.Conversations.Cur},
		{"leads", v.T("kpi.leads"), k.Leads.Cur},
		{"visits", v.T("kpi.visits"), k.Visits.Cur},
		{"conversions", v.T("kpi.conversions"), k.Conversions.Cur},
	} {
		fs := FunnelStage{Key: st.key, Label: st.label, Count: st.x, Href: v.DrillKPI(st.key)}
		if first > 0 && st.x != nil {
			fs.Width = *st.x / first * 100
		}
		// Each step as a share of the step before it ("92% das conversas").
		if len(v.Funnel) > 0 && prev > 0 && st.x != nil {
			r := *st.x / prev
			fs.OfPrevious = &r
			fs.PreviousLabel = v.Funnel[len(v.Funnel)-1].Label
		}
		if st.x != nil {
			prev = *st.x
		} else {
			prev = 0
		}
		v.Funnel = append(v.Funnel, fs)
	}
	v.Synced = s.freshness(lang, d.LastSyncAt)
	return s.render(w, r, http.StatusOK, "dashboard", v)
}

// freshness says how old the data is: "Atualizado há 2 min".
func (s *Server) freshness(lang string, at *time.Time) string {
	if at == nil {
		return translate(lang, "dashboard.never_synced")
	}
	d := s.now().Sub(*at)
	var ago string
	switch {
	case d < time.Minute:
		ago = translate(lang, "time.moments")
	case d < time.Hour:
		ago = strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		ago = strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		ago = strconv.Itoa(int(d/(24*time.Hour))) + " " + translate(lang, "time.days")
	}
	return translate(lang, "dashboard.synced") + " " + ago
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// KPICard is one card of the dashboard.
type KPICard struct {
	Href, Label, Text, Change, Trend, Vs, NoBase string
}

// kpiCard formats a KPI for its card: kind is n (count), pct (rate) or dur (seconds).
func kpiCard(v DashboardView, drill, labelKey, kind string, x dashboard.Value, lowerIsBetter bool) KPICard {
	c := KPICard{Href: v.DrillKPI(drill), Label: v.T(labelKey), Vs: v.T("kpi.vs_previous"), NoBase: v.T("kpi.no_base")}
	switch kind {
	case "pct":
		c.Text = formatPct(v.Lang, x.Cur)
	case "dur":
		c.Text = formatDuration(v.Lang, x.Cur)
		if v.D.Approx && x.Cur != nil {
			c.Text = "≈ " + c.Text // from the rollups' histograms (see the help line)
		}
	default:
		c.Text = formatNumPtr(v.Lang, x.Cur)
	}
	ch := x.Change()
	c.Change, c.Trend = formatChange(v.Lang, ch), trendClass(ch, lowerIsBetter)
	return c
}

// FRTLabels and Weekdays are the chart labels, for the templates.
func (v DashboardView) FRTLabels() []string { return dashboard.FRTBuckets }

// WeekdaysLong are the localised full weekday names, Sunday first (the heatmap cells' names).
func (v DashboardView) WeekdaysLong() []string {
	out := make([]string, 7)
	for i := range out {
		out[i] = v.T("weekday.long." + strconv.Itoa(i))
	}
	return out
}

// Weekdays are the localised weekday names, Sunday first.
func (v DashboardView) Weekdays() []string {
	out := make([]string, 7)
	for i := range out {
		out[i] = v.T("weekday." + strconv.Itoa(i))
	}
	return out
}
