package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	Flag  string // admin.flag.*: the overview's sync health flag, "" for none
	Cells []CompareCell
}

// clientsPageSize is how many clients one page of /admin/clients shows; the downloads and the
// API carry every client that passes the filters.
const clientsPageSize = 100

// ClientsView is /admin/clients.
type ClientsView struct {
	StaffPage
	Days     int
	From, To string // the same dates for every client, when given
	Sort     string
	Desc     bool
	Q        string // name or slug contains (any case)
	Status   string // a tenant status, "" for all
	Flagged  bool   // only clients with a sync health flag (⚑, as on the overview)
	Page     int    // 1-based
	Pages    int
	Total    int // clients that pass the filters
	All      int // client tenants
	Range    string
	Metrics  []compareMetric
	Lines    []CompareLine // the page's, or every one that passes the filters for downloads
}

// clientsQuery reads period (7, 30, 90 days), sort (a metric key or "name", "-" first for
// descending), status and page; anything else is a 400 in words.
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

// clientStatuses are the statuses the filter offers (app.tenants.status).
var clientStatuses = []string{"active", "trial", "suspended", "cancelled"}

// clientLines is the comparison as the request asks for it: filtered and sorted, every line (the
// caller pages).
func (s *Server) clientLines(r *http.Request) (ClientsView, error) {
	days, sortKey, desc, err := clientsQuery(r)
	if err != nil {
		return ClientsView{}, err
	}
	q := r.URL.Query()
	v := ClientsView{StaffPage: s.staffPage(r, "clients.title"), Days: days, Sort: sortKey, Desc: desc, Metrics: compareMetrics,
		Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Flagged: q.Get("flagged") == "1", Page: 1}
	if v.Status != "" && !slices.Contains(clientStatuses, v.Status) {
		return v, apperr.New(apperr.Invalid, "err.clients.status")
	}
	if utf8.RuneCountInString(v.Q) > 100 {
		return v, apperr.New(apperr.Invalid, "err.clients.q")
	}
	if p := q.Get("page"); p != "" {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 {
			return v, apperr.New(apperr.Invalid, "err.clients.page")
		}
		v.Page = n
	}
	per := dashboard.ComparePeriod{Now: s.now(), Days: days, StaleAfter: s.staleAfter()}
	if f, t := q.Get("from"), q.Get("to"); f != "" || t != "" {
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
	if per.From == nil {
		s.compareWarm.note(*principalFrom(r), days, s.now())
	}
	v.All = len(rows)
	needle := strings.ToLower(v.Q)
	for _, row := range rows {
		if v.Status != "" && row.Status != v.Status || v.Flagged && row.Health == "" ||
			needle != "" && !strings.Contains(strings.ToLower(row.Name+" "+row.Slug), needle) {
			continue
		}
		line := CompareLine{ClientRow: row, Flag: healthFlag(row.Health)}
		line.Cells = make([]CompareCell, len(compareMetrics))
		for i, m := range compareMetrics {
			line.Cells[i] = CompareCell{Metric: m, Value: m.value(&line.KPIs)}
		}
		v.Lines = append(v.Lines, line)
	}
	v.Total = len(v.Lines)
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

// healthFlag is the overview's flag for a sync health (admin.flag.*), "" for none.
func healthFlag(h string) string {
	if h == "failed" {
		return "failing"
	}
	return h
}

func (s *Server) adminClients(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clientLines(r)
	if err != nil {
		return err
	}
	v.Pages = max(1, (v.Total+clientsPageSize-1)/clientsPageSize)
	if v.Page > v.Pages {
		v.Page = v.Pages
	}
	lo, hi := (v.Page-1)*clientsPageSize, min(v.Page*clientsPageSize, v.Total)
	v.Lines = v.Lines[lo:hi]
	if hi > lo {
		v.Range = fmt.Sprintf(v.T("pager.range"), formatInt(int64(lo+1), v.Lang), formatInt(int64(hi), v.Lang), formatInt(int64(v.Total), v.Lang))
	}
	return s.render(w, r, http.StatusOK, "admin_clients", v)
}

// query is the page's query with the given changes: the period, sort and filters a link keeps.
func (v ClientsView) query(sortParam string, page int) url.Values {
	q := url.Values{"period": {strconv.Itoa(v.Days) + "d"}, "sort": {sortParam}}
	if v.From != "" {
		q.Set("from", v.From)
		q.Set("to", v.To)
	}
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	if v.Flagged {
		q.Set("flagged", "1")
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	return q
}

func (v ClientsView) sortParam() string {
	if v.Desc {
		return "-" + v.Sort
	}
	return v.Sort
}

// SortLink is the link that sorts by key (descending first; again to flip), from the first page.
func (v ClientsView) SortLink(key string) string {
	s := "-" + key
	if v.Sort == key && v.Desc {
		s = key
	}
	return "/admin/clients?" + v.query(s, 1).Encode()
}

// PageLink is the link to page n with the same period, sort and filters.
func (v ClientsView) PageLink(n int) string {
	return "/admin/clients?" + v.query(v.sortParam(), n).Encode()
}

// PageLinks are the pages the pager names: the first, the last and two either side of this one
// (0 stands for a gap).
func (v ClientsView) PageLinks() []int {
	var out []int
	for n := 1; n <= v.Pages; n++ {
		if n == 1 || n == v.Pages || n >= v.Page-2 && n <= v.Page+2 {
			out = append(out, n)
		} else if len(out) > 0 && out[len(out)-1] != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// Shown is "120 de 1.000 clientes": those that pass the filters of all.
func (v ClientsView) Shown() string {
	return fmt.Sprintf(v.T("clients.shown"), formatInt(int64(v.Total), v.Lang), formatInt(int64(v.All), v.Lang))
}

// ExportQuery is the page's query for its downloads: every client that passes the filters.
func (v ClientsView) ExportQuery() string { return v.query(v.sortParam(), 1).Encode() }

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
