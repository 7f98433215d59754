package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/chart"
	"github.com/geniai/analytics/internal/dashboard"
)

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
	// The page is the result's, shown in a language, at a URL, to an app role, at a moment: kept
	// under all of that (pagecache.go), it is rendered once per minute at most.
	lang := s.langOf(r)
	synced := s.freshness(lang, d.LastSyncAt)
	var key string
	if who := principalFrom(r); d.Key != "" && who != nil && r.Method == http.MethodGet {
		key = pageKey("dashboard", d.Key, lang, r.URL.Path, r.URL.RawQuery, string(who.DBRole), who.Role,
			strconv.FormatInt(who.TenantID, 10), sc.Base, strconv.FormatBool(sc.ViewedBy),
			sc.Tenant.Today(s.now()).Format(time.DateOnly), synced)
		if p := s.cachedPage(key); p != nil {
			servePage(w, r, p)
			return nil
		}
	}
	v := DashboardView{TenantPage: s.tenantPage(r, "dashboard.title", "/dashboard", sc, f), D: d}
	v.report(pr)
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
	v.Synced = synced
	return s.renderCached(w, r, key, sc.Tenant.ID, d.Version, "dashboard", v)
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
	if v.Filter.From.Equal(v.Today) && v.Filter.To.Equal(v.Today) {
		// Today so far against the whole of yesterday: say so, or a morning reads as a collapse.
		c.Vs = v.T("kpi.vs_yesterday_whole")
	}
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
