package web

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/sheet"
)

// The cross-client comparison (/admin/clients, its .csv/.xlsx and /api/v1/admin/clients): every
// client's KPIs for the last 7, 30 or 90 days of its own calendar against the period before,
// from the tenant-level rollups (dashboard.Compare: the dashboard's own definitions; medians
// from the histograms, marked ≈).

// compareMetric is one column of the comparison.
type compareMetric struct {
	Key, Label    string // Label: catalogue key
	Kind          string // count, pct, dur
	LowerIsBetter bool
	value         func(k *dashboard.KPIs) dashboard.Value
}

var compareMetrics = []compareMetric{
	{"conversations", "kpi.conversations", "count", false, func(k *dashboard.KPIs) dashboard.Value { return k.Conversations }},
	{"leads", "kpi.leads", "count", false, func(k *dashboard.KPIs) dashboard.Value { return k.Leads }},
	{"conversion", "clients.conversion", "pct", false, func(k *dashboard.KPIs) dashboard.Value { return k.LeadToConversion }},
	{"human_p50", "clients.human_p50", "dur", true, func(k *dashboard.KPIs) dashboard.Value { return k.FirstHumanReplyP50 }},
	{"human_p90", "clients.human_p90", "dur", true, func(k *dashboard.KPIs) dashboard.Value { return k.FirstHumanReplyP90 }},
	{"unanswered", "clients.unanswered", "count", true, func(k *dashboard.KPIs) dashboard.Value { return k.UnansweredLeads }},
	{"bot_resolved", "clients.bot_resolved", "pct", false, func(k *dashboard.KPIs) dashboard.Value { return k.BotResolvedShare }},
	{"handoff", "clients.handoff", "pct", true, func(k *dashboard.KPIs) dashboard.Value { return k.HandoffRate }},
	{"csat", "clients.csat", "pct", false, func(k *dashboard.KPIs) dashboard.Value { return k.CSATSatisfaction }},
}

// CompareCell is one figure of the comparison with its change against the period before.
type CompareCell struct {
	Metric compareMetric
	Value  dashboard.Value
}

// CompareLine is one client of the comparison.
type CompareLine struct {
	dashboard.ClientRow
	Cells []CompareCell
}

// ClientsView is /admin/clients.
type ClientsView struct {
	StaffPage
	Days     int
	From, To string // the same dates for every client, when given
	Sort     string
	Desc     bool
	Metrics  []compareMetric
	Lines    []CompareLine
}

// clientsQuery reads period (7, 30, 90 days) and sort (a metric key or "name", "-" first for
// descending); anything else is a 400 in words.
func clientsQuery(r *http.Request) (days int, sortKey string, desc bool, err error) {
	q := r.URL.Query()
	days = 30
	if p := q.Get("period"); p != "" {
		n, perr := strconv.Atoi(strings.TrimSuffix(p, "d"))
		if perr != nil || (n != 7 && n != 30 && n != 90) {
			return 0, "", false, apperr.New(apperr.Invalid, "err.clients.period")
		}
		days = n
	}
	sortKey, desc = "conversations", true
	if s := q.Get("sort"); s != "" {
		desc = strings.HasPrefix(s, "-")
		sortKey = strings.TrimPrefix(s, "-")
		ok := sortKey == "name"
		for _, m := range compareMetrics {
			ok = ok || m.Key == sortKey
		}
		if !ok {
			return 0, "", false, apperr.New(apperr.Invalid, "err.clients.sort", s)
		}
	}
	return days, sortKey, desc, nil
}

func (s *Server) clientLines(r *http.Request) (ClientsView, error) {
	days, sortKey, desc, err := clientsQuery(r)
	if err != nil {
		return ClientsView{}, err
	}
	v := ClientsView{StaffPage: s.staffPage(r, "clients.title"), Days: days, Sort: sortKey, Desc: desc, Metrics: compareMetrics}
	per := dashboard.ComparePeriod{Now: s.now(), Days: days}
	if f, t := r.URL.Query().Get("from"), r.URL.Query().Get("to"); f != "" || t != "" {
		from, ferr := time.Parse("2006-01-02", f)
		to, terr := time.Parse("2006-01-02", t)
		if ferr != nil || terr != nil || to.Before(from) || to.Sub(from) > 366*24*time.Hour {
			return v, apperr.New(apperr.Invalid, "err.clients.range")
		}
		per.From, per.To = &from, &to
		v.From, v.To = f, t
	}
	rows, err := s.dash.Compare(r.Context(), *principalFrom(r), per)
	if err != nil {
		return v, err
	}
	for _, row := range rows {
		line := CompareLine{ClientRow: row}
		for _, m := range compareMetrics {
			line.Cells = append(line.Cells, CompareCell{Metric: m, Value: m.value(&line.KPIs)})
		}
		v.Lines = append(v.Lines, line)
	}
	idx := 0
	for i, m := range compareMetrics {
		if m.Key == sortKey {
			idx = i
		}
	}
	sort.SliceStable(v.Lines, func(i, j int) bool {
		a, b := v.Lines[i], v.Lines[j]
		if sortKey == "name" {
			if desc {
				return strings.ToLower(a.Name) > strings.ToLower(b.Name)
			}
			return strings.ToLower(a.Name) < strings.ToLower(b.Name)
		}
		x, y := a.Cells[idx].Value.Cur, b.Cells[idx].Value.Cur
		switch { // no value sorts last either way
		case x == nil || math.IsNaN(*x):
			return false
		case y == nil || math.IsNaN(*y):
			return true
		case desc:
			return *x > *y
		}
		return *x < *y
	})
	return v, nil
}

func (s *Server) adminClients(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clientLines(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_clients", v)
}

// SortLink is the link that sorts by key (descending first; again to flip).
func (v ClientsView) SortLink(key string) string {
	q := url.Values{"period": {strconv.Itoa(v.Days) + "d"}}
	s := "-" + key
	if v.Sort == key && v.Desc {
		s = key
	}
	q.Set("sort", s)
	if v.From != "" {
		q.Set("from", v.From)
		q.Set("to", v.To)
	}
	return "/admin/clients?" + q.Encode()
}

// ExportQuery is the page's query for its downloads.
func (v ClientsView) ExportQuery() string {
	s := v.Sort
	if v.Desc {
		s = "-" + s
	}
	q := url.Values{"period": {strconv.Itoa(v.Days) + "d"}, "sort": {s}}
	if v.From != "" {
		q.Set("from", v.From)
		q.Set("to", v.To)
	}
	return q.Encode()
}

// Cell formats one figure: a count, a percentage or a duration (≈ for the rollups' medians).
func (v ClientsView) Cell(c CompareCell) string {
	switch c.Metric.Kind {
	case "pct":
		return formatPct(v.Lang, c.Value.Cur)
	case "dur":
		if c.Value.Cur == nil || math.IsNaN(*c.Value.Cur) {
			return "—"
		}
		return "≈ " + formatDuration(v.Lang, c.Value.Cur)
	}
	return formatNumPtr(v.Lang, c.Value.Cur)
}

// ChangeOf is a cell's change against the period before ("+12%"), empty without one.
func (v ClientsView) ChangeOf(c CompareCell) string { return formatChange(v.Lang, c.Value.Change()) }

// TrendOf is the change's colour class (a drop in reply time is good).
func (v ClientsView) TrendOf(c CompareCell) string {
	return trendClass(c.Value.Change(), c.Metric.LowerIsBetter)
}

// adminClientsExport is the comparison as CSV or .xlsx, in the page's order.
func (s *Server) adminClientsExport(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clientLines(r)
	if err != nil {
		return err
	}
	format, redirected, err := exportFormat(w, r, r.URL.Path)
	if err != nil || redirected {
		return err
	}
	cols := []sheet.Column{{Key: "cliente", Title: v.T("admin.client"), Kind: sheet.Text}, {Key: "slug", Title: "slug", Kind: sheet.Code},
		{Key: "de", Title: v.T("filter.from"), Kind: sheet.Date}, {Key: "ate", Title: v.T("filter.to"), Kind: sheet.Date}}
	kind := map[string]sheet.Kind{"count": sheet.Count, "pct": sheet.Percent, "dur": sheet.Duration}
	for _, m := range compareMetrics {
		cols = append(cols, sheet.Column{Key: m.Key, Title: v.T(m.Label), Kind: kind[m.Kind]},
			sheet.Column{Key: m.Key + "_anterior", Title: v.T(m.Label) + " (" + v.T("kpi.vs_previous") + ")", Kind: kind[m.Kind]})
	}
	t := sheet.Table{Name: v.T("clients.title"), Loc: v.Loc, Locale: sheet.PtBR, Columns: cols}
	if v.Lang == langEN {
		t.Locale = sheet.English
	}
	out := &download{w: w, name: "comparativo-clientes", format: format}
	sw, err := sheet.New(out, format, t)
	if err != nil {
		return err
	}
	defer sw.Abort()
	for _, l := range v.Lines {
		vals := []sheet.Value{sheet.Str(l.Name), sheet.Str(l.Slug), sheet.Time(l.From), sheet.Time(l.To)}
		for _, c := range l.Cells {
			vals = append(vals, nanNil(c.Value.Cur), nanNil(c.Value.Prev))
		}
		if err = sw.Row(vals...); err != nil {
			break
		}
	}
	return s.finishExport(r, out, sw, err, len(v.Lines))
}

func nanNil(x *float64) sheet.Value {
	if x != nil && math.IsNaN(*x) {
		return sheet.NumPtr(nil)
	}
	return sheet.NumPtr(x)
}

// apiClients is the comparison as JSON: one object per client, each metric with its value in the
// period and in the one before (null when there is none).
func (s *Server) apiClients(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clientLines(r)
	if err != nil {
		return err
	}
	type pair struct {
		Current  *float64 `json:"current"`
		Previous *float64 `json:"previous"`
	}
	type client struct {
		ID       int64           `json:"tenant_id"`
		Slug     string          `json:"slug"`
		Name     string          `json:"name"`
		From     string          `json:"from"`
		To       string          `json:"to"`
		Timezone string          `json:"timezone"`
		Metrics  map[string]pair `json:"metrics"`
	}
	clean := func(x *float64) *float64 {
		if x == nil || math.IsNaN(*x) {
			return nil
		}
		return x
	}
	out := make([]client, 0, len(v.Lines))
	for _, l := range v.Lines {
		c := client{ID: l.TenantID, Slug: l.Slug, Name: l.Name, From: l.From.Format("2006-01-02"), To: l.To.Format("2006-01-02"),
			Timezone: l.Zone, Metrics: map[string]pair{}}
		for _, cell := range l.Cells {
			c.Metrics[cell.Metric.Key] = pair{clean(cell.Value.Cur), clean(cell.Value.Prev)}
		}
		out = append(out, c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"period_days": v.Days, "approximate": []string{"human_p50", "human_p90"}, "clients": out})
}
