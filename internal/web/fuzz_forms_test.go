package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/staff"
)

// Fuzz targets for the parsers of the settings and admin forms, the audit filters and the CSV
// options. Each posts or requests arbitrary input as a signed-in user through
// the whole handler chain: no input may produce a 5xx (or a panic, which the recover middleware
// would turn into a 500).

// fuzzSession signs email in and returns a request maker carrying its session.
func fuzzSession(f *testing.F, h *harness, email, home string) func(method, target, body string) *http.Request {
	b := h.browser()
	b.mustLogin(email, pw, home)
	cookie := b.sessionCookie()
	return func(method, target, body string) *http.Request {
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		req.URL = u
		req.RequestURI = u.RequestURI()
		req.Header.Set("User-Agent", b.ua)
		req.RemoteAddr = "127.0.0.1:4000"
		req.AddCookie(&http.Cookie{Name: "geniai_session", Value: cookie})
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req
	}
}

func serveNo5xx(t *testing.T, h *harness, req *http.Request, input string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: status %d for %q: %.300s", req.Method, req.URL, rec.Code, input, rec.Body.String())
	}
}

// FuzzSettingsForms posts arbitrary bodies to a tenant admin's settings forms (branding, timezone,
// funnel rules, user create and update).
func FuzzSettingsForms(f *testing.F) {
	h := newHarness(f, nil)
	a, _ := pgtest.SeedAnalytics(f, h.env)
	h.user(a, "admin@a.test", "admin", pw)
	victim := h.user(a, "vitima@a.test", "client", pw)
	req := fuzzSession(f, h, "admin@a.test", "/dashboard")
	paths := []string{"/settings/branding", "/settings/timezone", "/settings/funnel", "/settings/users",
		"/settings/users/" + strconv.FormatInt(victim, 10), "/settings/users/" + strconv.FormatInt(victim, 10) + "/reset-password"}
	f.Add(uint8(0), "display_name=Academia&primary_color=%23112233&secondary_color=%23445566&logo_url=https%3A%2F%2Fx.test%2Fl.png&default_period_days=30")
	f.Add(uint8(0), "primary_color=red&logo_url=javascript:alert(1)&default_period_days=-1")
	f.Add(uint8(1), "timezone=America%2FSao_Paulo")
	f.Add(uint8(1), "timezone=Mars%2FOlympus&timezone=UTC")
	f.Add(uint8(2), "lead_labels=lead&visit_labels=visita-agendada&converted_labels=matriculado&lead_any_message=on")
	f.Add(uint8(2), "lead_regex=(((&visit_regex=a{99999}&converted_regex=%5B")
	f.Add(uint8(2), "visit_regex="+strings.Repeat("(a*)*", 200)+"&visit_labels="+strings.Repeat("x,", 5000))
	f.Add(uint8(3), "email=novo%40a.test&full_name=Novo&role=admin")
	f.Add(uint8(3), "email=x&role=super_admin&tenant_id=1")
	f.Add(uint8(4), "full_name=%00%ff&role=client&active=maybe")
	f.Add(uint8(5), "confirm=1")
	f.Add(uint8(3), "%%%&&&==;")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		serveNo5xx(t, h, req("POST", paths[int(which)%len(paths)], body), body)
	})
}

// FuzzAdminForms posts arbitrary bodies to the super_admin forms: onboarding, tenant edit,
// status, inboxes, branding, funnel, users.
func FuzzAdminForms(f *testing.F) {
	h := newHarness(f, nil)
	// A fake source, so onboarding and "sync now" reach their form parsing.
	srv, err := New(Options{DB: h.env.DB, Config: testConfig(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inboxes: func(context.Context) ([]staff.SourceInbox, error) {
			return []staff.SourceInbox{{ID: 9001, AccountID: 90, AccountName: "Nova", Name: "WhatsApp Nova", ChannelType: "Channel::Whatsapp"}}, nil
		},
		Sync: func(context.Context, int64, bool) error { return nil },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	h.srv = srv
	a, _ := pgtest.SeedAnalytics(f, h.env)
	victim := h.user(a, "vitima@a.test", "client", pw)
	h.user(h.platform(), "staff@geniai.test", "super_admin", pw)
	req := fuzzSession(f, h, "staff@geniai.test", "/admin")
	ta, v := "/admin/tenants/"+strconv.FormatInt(a, 10), "/admin/users/"+strconv.FormatInt(victim, 10)
	paths := []string{"/admin/tenants", ta, ta + "/status", ta + "/inboxes", ta + "/inboxes/1/delete", ta + "/branding",
		ta + "/funnel", "/admin/users", v, v + "/unlock", v + "/reset-password"}
	f.Add(uint8(0), "name=Nova&slug=nova&admin_email=dono%40nova.test&admin_name=Dono&timezone=America%2FSao_Paulo&inbox=9001")
	f.Add(uint8(0), "name=&slug=-x-&admin_email=@&inbox=abc&inbox=99999999999")
	f.Add(uint8(1), "name=Academia&plan=enterprise&timezone=UTC&trial_ends_at=2026-13-45")
	f.Add(uint8(2), "status=trial&trial_ends_at=31%2F12%2F2026")
	f.Add(uint8(2), "status=deleted")
	f.Add(uint8(3), "inbox_id=2147483648")
	f.Add(uint8(3), "inbox_id=3")
	f.Add(uint8(5), "primary_color=%23zzzzzz&default_period_days=1e9")
	f.Add(uint8(6), "lead_regex=%5B&converted_labels="+strings.Repeat("a", 70000))
	f.Add(uint8(7), "tenant=1&email=novo%40geniai.test&role=support&full_name=x")
	f.Add(uint8(8), "role=super_admin&tenant_id=1&is_platform=true&active=off")
	f.Add(uint8(10), "")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		serveNo5xx(t, h, req("POST", paths[int(which)%len(paths)], body), body)
	})
}

// FuzzAuditFilter requests the audit log and its CSV with arbitrary filters.
func FuzzAuditFilter(f *testing.F) {
	h := newHarness(f, nil)
	h.user(h.platform(), "suporte@geniai.test", "support", pw)
	req := fuzzSession(f, h, "suporte@geniai.test", "/admin")
	f.Add(false, "tenant=1&user=2&action=login&from=2026-01-01&to=2026-12-31")
	f.Add(true, "from=31%2F12%2F2026&to=01%2F01%2F2026&format=excel")
	f.Add(false, "tenant=-1&user=99999999999999999999&before=garbage")
	f.Add(false, "action="+strings.Repeat("x", 61)+"&before=MjAyNi0wMS0wMVQwMDowMDowMFp8MQ")
	f.Add(true, "from=0000-01-01&to=9999-12-31&tenant=1&tenant=2")
	f.Add(false, "%zz&&==")
	f.Fuzz(func(t *testing.T, csv bool, query string) {
		path := "/admin/audit?"
		if csv {
			path = "/admin/audit.csv?"
		}
		serveNo5xx(t, h, req("GET", path+query, ""), query)
	})
}

// FuzzCSVOptions requests the exports (CSV and .xlsx) with arbitrary format options, charts and
// filters.
func FuzzCSVOptions(f *testing.F) {
	h := newHarness(f, nil)
	a, _ := pgtest.SeedAnalytics(f, h.env)
	h.user(a, "cliente@a.test", "client", pw)
	req := fuzzSession(f, h, "cliente@a.test", "/dashboard")
	f.Add("", "format=excel&"+period)
	f.Add("daily.csv", "format=csv&stack=inbox")
	f.Add("kpis.csv", "format=EXCEL")
	f.Add("heatmap.csv", "format=excel&format=csv")
	f.Add("../../etc/passwd", "format=%00")
	f.Add("funnel", "format=xlsx&inbox=3")
	f.Add("first-reply.csv", "period=365d&limit=0&after=zzz")
	f.Add("csat.xlsx", "format=csv&dow=9")
	f.Add("export.xlsx", "q=%3DHYPERLINK(1)&"+period)
	f.Fuzz(func(t *testing.T, chart, query string) {
		path := "/conversations/export.csv?" + query
		if chart == "export.xlsx" {
			path = "/conversations/export.xlsx?" + query
		}
		if chart != "" && chart != "export.xlsx" {
			path = "/dashboard/export/" + url.PathEscape(chart) + "?" + query
		}
		serveNo5xx(t, h, req("GET", path, ""), chart+" "+query)
	})
}
