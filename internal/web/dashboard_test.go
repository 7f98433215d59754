package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

const period = "from=2026-10-01&to=2026-11-29"

// dashHarness seeds two tenants with analytics and a client, an admin and staff.
func dashHarness(t *testing.T) (h *harness, a, b int64) {
	h = newHarness(t, nil)
	a, b = pgtest.SeedAnalytics(t, h.env)
	h.user(a, "cliente@a.test", "client", pw)
	h.user(a, "admin@a.test", "admin", pw)
	h.user(b, "cliente@b.test", "client", pw)
	h.user(h.platform(), "staff@geniai.test", "super_admin", pw)
	h.user(h.platform(), "suporte@geniai.test", "support", pw)
	return h, a, b
}

func TestDashboardPageAndAPIAgree(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	page := c.get("/dashboard?" + period)
	expectStatus(t, page, http.StatusOK, "Conversas por dia")
	for _, want := range []string{"Leads sem resposta", "1ª resposta (mediana)", "Funil", "Satisfação (CSAT 4–5)", `<svg class="chart"`, `class="freshness"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	api := c.get("/api/v1/dashboard/summary?" + period)
	expectStatus(t, api, http.StatusOK, `"kpis"`)
	var sum struct {
		KPIs map[string]struct{ Value *float64 } `json:"kpis"`
	}
	if err := json.Unmarshal([]byte(api.body), &sum); err != nil {
		t.Fatal(err)
	}
	conv := sum.KPIs["conversations"].Value
	if conv == nil || *conv == 0 {
		t.Fatalf("API reports no conversations: %s", api.body)
	}
	// The series API always splits each day by inbox (the page only when stacked): the split adds
	// up to the day, over real inboxes, and the days add up to the KPI.
	series := c.get("/api/v1/dashboard/series?" + period)
	expectStatus(t, series, http.StatusOK, `"daily"`)
	var ser struct {
		Daily []struct {
			Conversations int64            `json:"conversations"`
			ByInbox       map[string]int64 `json:"by_inbox"`
		} `json:"daily"`
	}
	if err := json.Unmarshal([]byte(series.body), &ser); err != nil {
		t.Fatal(err)
	}
	var days int64
	for i, d := range ser.Daily {
		var split int64
		for id, n := range d.ByInbox {
			if id == "0" {
				t.Errorf("day %d: split by inbox has the every-inbox key 0", i)
			}
			split += n
		}
		if split != d.Conversations {
			t.Errorf("day %d: %d conversations, split by inbox %v", i, d.Conversations, d.ByInbox)
		}
		days += d.Conversations
	}
	if float64(days) != *conv {
		t.Errorf("series adds up to %d conversations, KPI %v", days, *conv)
	}
	// The explorer behind the KPI lists exactly that many; the export has that many rows.
	list := c.get("/api/v1/conversations?limit=1&" + period)
	var lst struct{ Total int64 }
	_ = json.Unmarshal([]byte(list.body), &lst)
	if float64(lst.Total) != *conv {
		t.Fatalf("explorer total %d, KPI %v", lst.Total, *conv)
	}
	exp := c.get("/conversations/export.csv?" + period)
	expectStatus(t, exp, http.StatusOK, "conversa_id")
	recs, err := csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if float64(len(recs)-1) != *conv {
		t.Fatalf("export has %d rows, KPI %v", len(recs)-1, *conv)
	}
	// The pt-BR dashboard shows the same number with pt-BR grouping.
	if !strings.Contains(page.body, formatInt(int64(*conv), langPT)) {
		t.Errorf("dashboard does not show %v conversations", *conv)
	}
	for _, chart := range []string{"kpis", "daily", "funnel", "first-reply", "heatmap", "inboxes", "labels", "csat"} {
		expectStatus(t, c.get("/dashboard/export/"+chart+".csv?"+period), http.StatusOK, "")
	}
}

func TestDashboardIsolation(t *testing.T) {
	t.Parallel()
	h, _, b := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	// Conversation 700 belongs to tenant B.
	for _, path := range []string{"/conversations/700", "/api/v1/conversations/700"} {
		if res := c.get(path); res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "Contato 700") {
			t.Errorf("%s: %d %.200s", path, res.StatusCode, res.body)
		}
	}
	// B's inbox (3) in a filter is refused; staff-only URLs naming B are 404 for a client.
	for _, path := range []string{"/dashboard?inbox=3", "/conversations?inbox=3", "/api/v1/conversations?inbox=3", "/conversations/export.csv?inbox=3"} {
		if res := c.get(path); res.StatusCode != http.StatusBadRequest || strings.Contains(res.body, "Contato 7") {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/admin/tenants/" + strconv.FormatInt(b, 10) + "/dashboard", "/api/v1/tenants/" + strconv.FormatInt(b, 10) + "/conversations"} {
		if res := c.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	// Nothing of B anywhere in A's pages and exports.
	for _, path := range []string{"/dashboard?" + period, "/conversations?limit=200&" + period, "/conversations/export.csv?" + period, "/api/v1/dashboard/series?" + period} {
		res := c.get(path)
		for n := 601; n <= 800; n += 37 {
			if strings.Contains(res.body, "Contato "+strconv.Itoa(n)+"<") || strings.Contains(res.body, "Contato "+strconv.Itoa(n)+",") {
				t.Fatalf("%s shows tenant B's contact %d", path, n)
			}
		}
	}
}

func TestDashboardBadInput(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	// A bad or half-filled period: the pages answer beside the date fields and keep showing the
	// preset's results; the API and the exports refuse it.
	for q, want := range map[string]string{
		"from=2026-02-30&to=2026-03-01": "Data inicial inválida",
		"from=2026-03-01&to=2026-01-01": "posterior",
		"from=2020-01-01&to=2026-01-01": "2 anos",
		"from=2026-03-01&period=7d":     "Informe as datas inicial e final",
		"to=2026-03-01":                 "Informe as datas inicial e final",
	} {
		for _, path := range []string{"/dashboard?", "/conversations?"} {
			res := c.get(path + q)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `id="date-error" role="alert">`) || !strings.Contains(res.body, html.EscapeString(want)) ||
				!strings.Contains(res.body, `aria-invalid="true"`) || !strings.Contains(res.body, "Mostrando o período anterior") {
				t.Errorf("%s%s: %d %.300s", path, q, res.StatusCode, res.body)
			}
		}
		for _, path := range []string{"/api/v1/conversations?", "/conversations/export.csv?"} {
			res := c.get(path + q)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, want) {
				t.Errorf("%s%s: %d %.200s", path, q, res.StatusCode, res.body)
			}
		}
	}
	// The dates stay in the fields as typed, to be corrected rather than typed again.
	if res := c.get("/dashboard?from=2026-03-01&to=2026-01-01"); !strings.Contains(res.body, `name="from" value="2026-03-01"`) || !strings.Contains(res.body, `name="to" value="2026-01-01"`) {
		t.Errorf("the typed dates are gone from the fields: %s", between(res.body, `<fieldset class="dates">`, "</fieldset>"))
	}
	// The half-filled period kept the 7-day preset's figures.
	if a, b := c.get("/dashboard?from=2026-03-01&period=7d"), c.get("/dashboard?period=7d"); kpiValue(a.body) != kpiValue(b.body) {
		t.Errorf("with a bad date the dashboard shows %q, the 7-day preset %q", kpiValue(a.body), kpiValue(b.body))
	}
	for q, want := range map[string]string{
		"inbox=999":     "Caixa de entrada desconhecida",
		"limit=1000000": "Tamanho de página",
		"q=" + url.QueryEscape(strings.Repeat("x", 300)): "no máximo 200",
	} {
		for _, path := range []string{"/dashboard?", "/conversations?", "/api/v1/conversations?", "/conversations/export.csv?"} {
			res := c.get(path + q)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, want) {
				t.Errorf("%s%s: %d %.200s", path, q, res.StatusCode, res.body)
			}
		}
	}
	// SQL and HTML in the search are data: no error, and escaped in the page.
	res := c.get("/conversations?q=" + url.QueryEscape(`<script>alert(1)</script>' OR 1=1--`) + "&" + period)
	expectStatus(t, res, http.StatusOK, "&lt;script&gt;")
	if strings.Contains(res.body, "<script>alert") {
		t.Fatal("search text is not escaped")
	}
	// The API answers JSON errors, and 401 without a session.
	api := c.get("/api/v1/conversations?from=x&to=y")
	expectStatus(t, api, http.StatusBadRequest, `"code": "invalid"`)
	anon := h.browser().get("/api/v1/dashboard/summary")
	expectStatus(t, anon, http.StatusUnauthorized, `"code": "unauthorized"`)
}

// TestErrorsInTheRequestsLanguage: an error is one message key, rendered in the request's
// language: pt-BR by default (whatever the browser prefers), English on ?lang=en or after
// choosing it; the JSON API also honours Accept-Language and gives the key itself.
func TestErrorsInTheRequestsLanguage(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	accept := func(path, lang string) response {
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Header.Set("Accept-Language", lang)
		return c.do(req)
	}
	// A page: pt-BR even for an English browser; English when chosen.
	expectStatus(t, accept("/dashboard?period=bogus", "en-US,en;q=0.9"), http.StatusBadRequest, "Período &#34;bogus&#34; desconhecido")
	expectStatus(t, c.get("/dashboard?period=bogus&lang=en"), http.StatusBadRequest, "Unknown period &#34;bogus&#34;")
	// The API: the key for programs, the message in the client's language.
	res := accept("/api/v1/dashboard/summary?period=bogus", "en-US,en;q=0.9")
	var body struct {
		Error struct{ Code, Key, Message string }
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("API error: %d %v %.200s", res.StatusCode, err, res.body)
	}
	if body.Error.Code != "invalid" || body.Error.Key != "err.filter.period" || body.Error.Message != `Unknown period "bogus": use today, 7d, 30d, 90d or 365d.` {
		t.Errorf("API error in English: %+v", body.Error)
	}
	res = accept("/api/v1/conversations/999999999", "pt-BR")
	expectStatus(t, res, http.StatusNotFound, `"message": "Página não encontrada."`)
	expectStatus(t, res, http.StatusNotFound, `"key": "err.page.not_found"`)
	// The choice sticks in the session: a later page without ?lang= is English.
	expectStatus(t, c.get("/dashboard?from=2026-03-01&to=2026-01-01"), http.StatusOK, "is after the end date") // a page answers a bad period beside the dates
}

func TestSettingsRolesAndAudit(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	client := h.browser()
	client.mustLogin("cliente@a.test", pw, "/dashboard")
	if res := client.get("/settings"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("client reached /settings: %d", res.StatusCode)
	}
	if res := client.post("/settings/branding", url.Values{"display_name": {"Hack"}, "primary_color": {"#000000"}, "secondary_color": {"#000000"}, "default_period_days": {"30"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("client posted branding: %d", res.StatusCode)
	}
	adm := h.browser()
	adm.mustLogin("admin@a.test", pw, "/dashboard")
	expectStatus(t, adm.get("/settings"), http.StatusOK, "Regras do funil")
	before := h.auditCount("tenant_settings.update", 0)
	// Bad input: a clear message, nothing written.
	res := adm.post("/settings/branding", url.Values{"display_name": {"Academia A"}, "primary_color": {"#12345"}, "secondary_color": {"#1D4ED8"}, "default_period_days": {"30"}})
	expectStatus(t, res, http.StatusUnprocessableEntity, "Cor principal inválida")
	res = adm.post("/settings/branding", url.Values{"display_name": {"Academia A"}, "primary_color": {"#0F766E"}, "secondary_color": {"#FFFF00"}, "default_period_days": {"30"}})
	expectStatus(t, res, http.StatusUnprocessableEntity, "ilegível")
	res = adm.post("/settings/funnel", url.Values{"lead_any_message": {"1"}, "visit_regex": {"(agend"}})
	expectStatus(t, res, http.StatusUnprocessableEntity, "Expressão regular de visita inválida")
	if n := h.auditCount("tenant_settings.update", 0); n != before {
		t.Fatalf("refused changes were written: %d audit events", n-before)
	}
	res = adm.post("/settings/branding", url.Values{"display_name": {"Academia Azul"}, "primary_color": {"#1D4ED8"}, "secondary_color": {"#B45309"}, "default_period_days": {"7"}})
	expectRedirect(t, res, "/settings?saved=1")
	if n := h.auditCount("tenant_settings.update", 0); n != before+1 {
		t.Fatalf("branding change not audited: %d", n-before)
	}
	css := adm.get("/theme.css")
	expectStatus(t, css, http.StatusOK, "#1D4ED8")
	// Creating a user shows a generated password once; the new user can sign in with it.
	// Post/redirect/get: the password is on the page the redirect leads to, once.
	res = adm.post("/settings/users", url.Values{"email": {"Recepcao@A.test"}, "full_name": {"Recepção"}, "role": {"client"}})
	expectRedirect(t, res, "/settings?saved=1#users")
	res = adm.get("/settings?saved=1")
	expectStatus(t, res, http.StatusOK, "recepcao@a.test")
	if again := adm.get("/settings?saved=1"); strings.Contains(again.body, `<code class="secret">`) {
		t.Error("the password is shown again on F5")
	}
	i := strings.Index(res.body, `<code class="secret">`)
	if i < 0 {
		t.Fatal("no password shown")
	}
	password := res.body[i+len(`<code class="secret">`):]
	password = password[:strings.Index(password, "<")]
	h.browser().mustLogin("recepcao@a.test", password, "/dashboard")
	// An admin cannot create staff, nor touch another tenant's user.
	res = adm.post("/settings/users", url.Values{"email": {"x@a.test"}, "role": {"super_admin"}})
	expectStatus(t, res, http.StatusUnprocessableEntity, "Papel inválido")
	var bUser int64
	_ = h.super.QueryRow(context.Background(), `SELECT id FROM app.users WHERE email = 'cliente@b.test'`).Scan(&bUser)
	if res := adm.post("/settings/users/"+strconv.FormatInt(bUser, 10)+"/reset-password", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("admin of A reset B's user: %d", res.StatusCode)
	}
	_ = a
}

func TestStaffViewAsIsAudited(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	s := h.browser()
	s.mustLogin("suporte@geniai.test", pw, "/admin")
	before := h.auditCount("tenant.view_as", 0)
	res := s.get("/admin/tenants/" + strconv.FormatInt(a, 10) + "/dashboard?" + period)
	expectStatus(t, res, http.StatusOK, "somente leitura")
	if h.auditCount("tenant.view_as", 0) != before+1 {
		t.Fatal("view as client not audited")
	}
	// Staff have no tenant dashboard of their own.
	if res := s.get("/dashboard"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("staff /dashboard: %d", res.StatusCode)
	}
}

// kpiValue is the first KPI card's figure on a dashboard page (conversations; the queue's
// headline before it counts what awaits now, whatever the period).
func kpiValue(body string) string {
	if _, after, ok := strings.Cut(body, `queue-headline`); ok {
		_, body, _ = strings.Cut(after, "</a>")
	}
	_, rest, _ := strings.Cut(body, `class="kpi-value">`)
	v, _, _ := strings.Cut(rest, "<")
	return v
}

// TestDashboardTodaySaysItsComparisonIsPartial: "Hoje" compares the day so far with the whole of
// yesterday, and its cards say so; other periods keep "vs. período anterior".
func TestDashboardTodaySaysItsComparisonIsPartial(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	h.clock.Advance(time.Date(2026, 11, 10, 18, 0, 0, 0, time.UTC).Sub(h.clock.Now())) // a day of the seeded data
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	today := c.get("/dashboard?period=today")
	expectStatus(t, today, http.StatusOK, "vs. ontem inteiro (hoje ainda não acabou)")
	if !strings.Contains(today.body, "Período: 10/11/2026 · comparado com 09/11/2026 ·") {
		t.Errorf("a one-day period is not named as one day: %s", between(today.body, "Período:", "<span"))
	}
	if strings.Contains(today.body, "vs. período anterior") {
		t.Error("today's cards still compare with \"período anterior\"")
	}
	week := c.get("/dashboard?period=7d")
	expectStatus(t, week, http.StatusOK, "vs. período anterior")
	if strings.Contains(week.body, "ontem inteiro") {
		t.Error("a 7-day period says it compares with yesterday")
	}
}
