package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/sheet"
)

// The exports of the dashboard and the conversation list, as .xlsx (for people: typed cells,
// names, a header block with the tenant, period and filters) or CSV (for machines). The format
// is the path's extension: /dashboard/export/daily.xlsx, /conversations/export.csv.

// exportFormat reads the format of an export from its path. The "Excel (pt-BR)" CSV dialect
// (?format=excel) is gone: its links get the .xlsx instead.
func exportFormat(w http.ResponseWriter, r *http.Request, name string) (sheet.Format, bool, error) {
	f := sheet.CSV
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		var ok bool
		if f, ok = sheet.ParseFormat(name[i:]); !ok {
			return "", false, apperr.New(apperr.NotFound, "err.export.file_format")
		}
	}
	q := r.URL.Query()
	switch q.Get("format") {
	case "":
	case "excel":
		q.Del("format")
		path := r.URL.Path
		if i := strings.LastIndexByte(path, '.'); i > strings.LastIndexByte(path, '/') {
			path = path[:i]
		}
		http.Redirect(w, r, path+".xlsx?"+q.Encode(), http.StatusSeeOther)
		return "", true, nil
	case "csv":
		if f == sheet.CSV {
			break
		}
		fallthrough
	default:
		return "", false, apperr.New(apperr.Invalid, "err.export.format")
	}
	return f, false, nil
}

// download is the response of an export: its headers go out with its first byte, so an export
// that fails before writing anything (every .xlsx failure) still answers with an error page.
type download struct {
	w       http.ResponseWriter
	name    string
	format  sheet.Format
	started bool
}

func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", d.format.ContentType())
		h.Set("Content-Disposition", `attachment; filename="`+url.PathEscape(d.name)+d.format.Ext()+`"`)
		h.Set("Cache-Control", "no-store")
	}
	return d.w.Write(p)
}

// exportName is a file name: tenant, what, period ("academia-fit-conversas-20260301-20260330").
func exportName(t *dashboard.Tenant, what string, f dashboard.Filter) string {
	return t.Slug + "-" + what + "-" + f.From.Format("20060102") + "-" + f.To.Format("20060102")
}

// exportTable is a table with the header block every export carries: tenant, period, active
// filters, when it was made (in the reader's zone, with its offset), in the reader's language.
// The KPIs also say which period they are compared with.
func (s *Server) exportTable(lang string, reader *time.Location, tenant *dashboard.Tenant, f dashboard.Filter, name string, cols []sheet.Column) sheet.Table {
	tr := func(k string) string { return translate(lang, k) }
	period := func(f dashboard.Filter) sheet.Value {
		return sheet.Str(formatDay(lang, f.From) + " " + tr("export.about.to") + " " + formatDay(lang, f.To))
	}
	t := sheet.Table{Name: tr("export.sheet." + name), Columns: cols, Loc: tenant.Loc, Locale: sheet.PtBR}
	t.About = append(t.About, sheet.Field{Label: tr("export.about.tenant"), Value: sheet.Str(tenant.Name)},
		sheet.Field{Label: tr("export.about.period"), Value: period(f)})
	if name == "kpis" {
		t.About = append(t.About, sheet.Field{Label: tr("export.about.compared"), Value: period(f.Previous())})
	}
	t.About = append(t.About, sheet.Field{Label: tr("export.about.filters"), Value: sheet.Str(describeFilter(lang, tenant, f))},
		sheet.Field{Label: tr("export.about.generated"), Value: sheet.Str(formatAt(lang, s.now(), reader))})
	if lang == langEN {
		t.Locale = sheet.English
	}
	return t
}

// describeFilter says in words what the filter keeps, beyond the period ("Canal: WhatsApp;
// Busca: “preço”"), or that it keeps everything.
func describeFilter(lang string, tenant *dashboard.Tenant, f dashboard.Filter) string {
	tr := func(k string) string { return translate(lang, k) }
	var parts []string
	add := func(key, v string) { parts = append(parts, tr(key)+": "+v) }
	if len(f.Inboxes) > 0 {
		names := make([]string, len(f.Inboxes))
		for i, id := range f.Inboxes {
			names[i] = "Caixa " + strconv.Itoa(int(id))
			for _, ib := range tenant.Inboxes {
				if ib.InboxID == id && ib.InboxName != "" {
					names[i] = ib.InboxName
				}
			}
		}
		add("filter.inbox", strings.Join(names, ", "))
	}
	if f.Channel != "" {
		add("filter.channel", dashboard.ChannelName(f.Channel))
	}
	if f.Label != "" {
		add("filter.label", f.Label)
	}
	if f.Status != "" {
		add("filter.status", tr("status."+f.Status))
	}
	if f.Stage != "" {
		add("filter.stage", tr("stage."+f.Stage))
	}
	if f.Flag != "" {
		add("filter.flag", tr("flag."+f.Flag))
	}
	if f.FRT != nil && int(*f.FRT) < len(dashboard.FRTBuckets) {
		add("chart.first_reply", dashboard.FRTBuckets[*f.FRT])
	}
	if f.DOW != nil {
		add("export.about.weekday", tr("export.weekday."+strconv.Itoa(int(*f.DOW))))
	}
	if f.Hour != nil {
		add("export.about.hour", strconv.Itoa(int(*f.Hour))+"h")
	}
	if f.CSAT != nil {
		add("export.csat", strconv.Itoa(int(*f.CSAT)))
	}
	if f.Search != "" {
		add("filter.search", "“"+f.Search+"”")
	}
	if len(parts) == 0 {
		return tr("export.about.no_filters")
	}
	return strings.Join(parts, "; ")
}

// finishExport closes an export; a failure after the first byte can only be logged (the client
// sees a truncated file), one before it becomes an error page.
func (s *Server) finishExport(r *http.Request, out *download, sw sheet.Writer, err error, rows int) error {
	if err == nil {
		err = sw.Close()
	}
	if err == nil {
		return nil
	}
	if !out.started {
		return exportError(err)
	}
	s.log.Error("export failed", "request_id", infoFrom(r.Context()).id, "rows", rows, "error", err)
	return nil
}

// chartExport exports the data behind one chart (or the KPIs) for the current filter.
func (s *Server) chartExport(w http.ResponseWriter, r *http.Request) error {
	sc, f, err := s.scopeFilter(r)
	if err != nil {
		return err
	}
	name := r.PathValue("chart")
	format, redirected, err := exportFormat(w, r, name)
	if err != nil || redirected {
		return err
	}
	name = strings.TrimSuffix(name, format.Ext())
	if !contains(dashboard.Charts, name) {
		return apperr.New(apperr.NotFound, "err.chart.unknown", name)
	}
	d, err := s.dash.Load(r.Context(), sc.db, sc.Tenant.ID, f)
	if err != nil {
		return err
	}
	lang := s.langOf(r)
	cols, rows, err := d.ChartTable(name, func(k string) string { return translate(lang, k) })
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "export:"+name); err != nil {
		return err
	}
	t := s.exportTable(lang, s.viewerZone(r), sc.Tenant, f, name, cols)
	if d.Approx && (name == "kpis" || name == "inboxes") {
		t.About = append(t.About, sheet.Field{Label: translate(lang, "export.about.note"), Value: sheet.Str(translate(lang, "dashboard.approx"))})
	}
	out := &download{w: w, name: exportName(sc.Tenant, name, f), format: format}
	sw, err := sheet.New(out, format, t)
	if err != nil {
		return err
	}
	defer sw.Abort()
	for _, row := range rows {
		if err = sw.Row(row...); err != nil {
			break
		}
	}
	return s.finishExport(r, out, sw, err, len(rows))
}

// conversationsExport streams every conversation of the filter, one row each, read in pages
// inside one snapshot, so memory stays flat however many rows the filter holds.
func (s *Server) conversationsExport(w http.ResponseWriter, r *http.Request) error {
	sc, f, err := s.scopeFilter(r)
	if err != nil {
		return err
	}
	format, redirected, err := exportFormat(w, r, r.URL.Path)
	if err != nil || redirected {
		return err
	}
	if err := s.auditView(r, sc, "export:conversations"); err != nil {
		return err
	}
	out := &download{w: w, name: exportName(sc.Tenant, "conversas", f), format: format}
	n, err := s.writeConversations(r.Context(), sc.db, sc.Tenant, f, s.langOf(r), format, out)
	if err == nil || !out.started {
		return exportError(err)
	}
	s.log.Error("export failed", "request_id", infoFrom(r.Context()).id, "rows", n, "error", err)
	return nil
}

// writeConversations writes tenant t's conversations of filter f, as p reads them, in format
// and lang, to out; it returns the rows written.
func (s *Server) writeConversations(ctx context.Context, p pg.Principal, t *dashboard.Tenant, f dashboard.Filter, lang string,
	format sheet.Format, out io.Writer) (int, error) {
	ex := dashboard.NewConversationExport(t, func(k string) string { return translate(lang, k) })
	sw, err := sheet.New(out, format, s.exportTable(lang, s.zoneOf(ctx, p), t, f, "conversations", ex.Columns))
	if err != nil {
		return 0, err
	}
	defer sw.Abort()
	n := 0
	err = s.dash.Each(ctx, p, t.ID, f, func(row dbsqlc.ConversationPageRow) error {
		n++
		return sw.Row(ex.Values(row)...)
	})
	if err != nil {
		return n, err
	}
	return n, sw.Close()
}

// ConversationsXLSX is the .xlsx of a tenant's conversations for filter f, as p reads them, in
// lang (langPT or langEN), and its file name: what a digest attaches for its period.
func (s *Server) ConversationsXLSX(ctx context.Context, p pg.Principal, tenantID int64, f dashboard.Filter, lang string) (string, []byte, error) {
	t, err := s.dash.LoadTenant(ctx, p, tenantID)
	if err != nil {
		return "", nil, err
	}
	var b bytes.Buffer
	if _, err := s.writeConversations(ctx, p, t, f, locale.Normalize(lang), sheet.XLSX, &b); err != nil {
		return "", nil, exportError(err)
	}
	return exportName(t, "conversas", f) + sheet.XLSX.Ext(), b.Bytes(), nil
}

// exportError turns a sheet too long for Excel into a message for the reader.
func exportError(err error) error {
	if errors.Is(err, sheet.ErrTooManyRows) {
		return apperr.New(apperr.Invalid, "err.export.too_many_rows")
	}
	return err
}

// ExportLinks are the two download links of a chart.
type ExportLinks struct{ XLSX, CSV string }

func exportLinks(v DashboardView, chart string) ExportLinks {
	path := "/dashboard/export/" + chart
	return ExportLinks{XLSX: v.LinkWith(path+".xlsx", v.Filter), CSV: v.LinkWith(path+".csv", v.Filter)}
}
