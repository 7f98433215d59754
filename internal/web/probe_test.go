package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/staff"
)

// The hostile-input probe: every route of routes.go, parsed from the file so a
// new route is probed without editing this test, requested by each role with another tenant's
// ids in path values and query parameters, forged form fields on every POST, oversize bodies,
// URLs and headers, and garbage methods. No answer may be a 5xx; a tenant user may never see
// another tenant's data; no forged field may take effect (checked in the database).

type probeRoute struct{ method, pattern string }

var routeRE = regexp.MustCompile(`mux\.Handle(?:Func)?\("(?:([A-Z]+) )?(/[^"]*)"`)

// parseRoutes reads every pattern registered in routes.go.
func parseRoutes(t *testing.T) []probeRoute {
	t.Helper()
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []probeRoute
	for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
		out = append(out, probeRoute{method: m[1], pattern: m[2]})
	}
	if len(out) < 50 {
		t.Fatalf("parsed only %d routes from routes.go: the pattern of this test is out of date", len(out))
	}
	return out
}

// TestProbeRouteTable cross-checks the parse against the live mux: every parsed pattern is
// routed (not the catch-all), so the probe cannot silently miss routes.
func TestProbeRouteTable(t *testing.T) {
	t.Parallel()
	for _, r := range parseRoutes(t) {
		if r.pattern == "/" {
			continue
		}
		path := fillPattern(t, r.pattern, map[string]string{"tenant": "1", "id": "1", "inbox": "1", "chart": "daily.csv", "token": probeToken, "secret": "probe-secret"})
		if strings.Contains(path, "{") {
			t.Errorf("unfilled wildcard in %s", r.pattern)
		}
	}
	src, _ := os.ReadFile("routes.go")
	if n := strings.Count(string(src), "mux.Handle"); n != len(parseRoutes(t)) {
		t.Fatalf("routes.go registers %d handlers, the probe parsed %d", n, len(parseRoutes(t)))
	}
}

var wildcardRE = regexp.MustCompile(`\{([a-z$]+)(\.\.\.)?\}`)

func fillPattern(t *testing.T, pattern string, vals map[string]string) string {
	t.Helper()
	return wildcardRE.ReplaceAllStringFunc(pattern, func(w string) string {
		name := wildcardRE.FindStringSubmatch(w)[1]
		if name == "$" {
			return ""
		}
		v, ok := vals[name]
		if !ok {
			t.Fatalf("route %s has a wildcard {%s} the probe does not know: add it to the probe's values", pattern, name)
		}
		return v
	})
}

// probeClient is a signed-in client that reports instead of failing.
type probeClient struct {
	t    *testing.T
	base string
	c    *http.Client
	ua   string
}

func newProbeClient(t *testing.T, base string) *probeClient {
	jar, _ := cookiejar.New(nil)
	return &probeClient{t: t, base: base, ua: "Mozilla/5.0 probe", c: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *probeClient) do(method, path string, body io.Reader, ctype string, hdr map[string]string) (int, string, error) {
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("User-Agent", p.ua)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := p.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func (p *probeClient) login(email string) {
	p.t.Helper()
	st, body, err := p.do("POST", "/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()),
		"application/x-www-form-urlencoded", nil)
	if err != nil || st != http.StatusSeeOther {
		p.t.Fatalf("login %s: %d %v %.300s", email, st, err, body)
	}
}

// dbSnapshot is what no forged request may change: every user's tenant and role, the platform
// flag, and tenant B's rows (a tenant user of A must not touch them).
func dbSnapshot(t *testing.T, h *harness, b, victim int64) string {
	t.Helper()
	var s string
	err := h.super.QueryRow(context.Background(), `SELECT concat_ws(E'\n',
		(SELECT string_agg(format('%s %s %s %s %s', u.id, u.tenant_id, u.role, u.email, u.auth_version), ',' ORDER BY u.id) FROM app.users u
		  WHERE u.email NOT LIKE 'probe-new-%' AND u.id <> $2),
		(SELECT string_agg(format('%s %s', id, is_platform), ',' ORDER BY id) FROM app.tenants),
		(SELECT (to_jsonb(t) - 'updated_at')::text FROM app.tenants t WHERE id = $1),
		(SELECT coalesce(string_agg((to_jsonb(s) - 'updated_at')::text, ','), '') FROM app.tenant_settings s WHERE tenant_id = $1),
		(SELECT string_agg(format('%s %s %s', tenant_id, inbox_id, inbox_name), ',' ORDER BY inbox_id) FROM app.tenant_inboxes))`, b, victim).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHostileProbe(t *testing.T) {
	h := newHarness(t, nil)
	a, b := pgtest.SeedAnalytics(t, h.env)
	// Tenant B's data carries markers a user of A must never see.
	h.exec(`UPDATE analytics.conversations SET contact_name = 'MARK-B-' || conversation_id, labels = '{MARK-B-label}' WHERE tenant_id = $1`, b)
	h.exec(`UPDATE app.tenant_inboxes SET inbox_name = 'MARK-B-inbox' WHERE tenant_id = $1`, b)
	h.exec(`UPDATE app.tenants SET name = 'MARK-B-name' WHERE id = $1`, b)
	h.exec(`INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at, message_senders,
			message_types, message_contents, message_deleted)
		SELECT tenant_id, conversation_id, ARRAY[conversation_id * 10], ARRAY[created_at], '{contact}', '{0}', '{MARK-B-message}', '{f}'
		FROM analytics.conversations WHERE tenant_id = $1`, b)
	platform := h.platform()
	h.user(a, "cliente@a.test", "client", pw)
	h.user(a, "admin@a.test", "admin", pw)
	victim := h.user(a, "vitima@a.test", "client", pw)
	bClient := h.user(b, "mark-b-client@b.test", "client", pw)
	bAdmin := h.user(b, "mark-b-admin@b.test", "admin", pw)
	h.user(platform, "staff@geniai.test", "super_admin", pw)
	h.user(platform, "suporte@geniai.test", "support", pw)

	// The server with a fake source, so onboarding and "sync now" have something to call.
	srv, err := New(Options{DB: h.env.DB, Config: testConfig(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inboxes: func(context.Context) ([]staff.SourceInbox, error) {
			return []staff.SourceInbox{{ID: 9001, AccountID: 90, AccountName: "Nova", Name: "WhatsApp Nova", ChannelType: "Channel::Whatsapp"}}, nil
		},
		Sync: func(context.Context, int64, bool) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	// The real server settings (header limits, timeouts) through Serve on a local listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served; srv.Close() })
	base := "http://" + ln.Addr().String()

	routes := parseRoutes(t)
	bStr, aStr := strconv.FormatInt(b, 10), strconv.FormatInt(a, 10)
	otherIDs := map[string]string{"tenant": bStr, "id": "650", "inbox": "3", "chart": "daily.csv", "token": probeToken, "secret": "probe-secret"}
	forgedQuery := "tenant_id=" + bStr + "&tenant=" + bStr + "&user_id=" + strconv.FormatInt(bAdmin, 10) +
		"&role=super_admin&is_platform=true&inbox=3&user=" + strconv.FormatInt(bClient, 10)
	forged := url.Values{"tenant_id": {bStr}, "role": {"super_admin"}, "is_platform": {"true"}, "user_id": {strconv.FormatInt(bAdmin, 10)},
		"tenant": {bStr}, "inbox_id": {"3"}}
	leakRE := regexp.MustCompile(`(?i)MARK-B|academia-b`)
	garbage := []string{"PUT", "DELETE", "PROPFIND", "FOO"}
	otherUser := map[string]string{"tenant": bStr, "id": strconv.FormatInt(bAdmin, 10), "inbox": "3", "chart": "csat.csv", "token": probeToken, "secret": "probe-secret"}
	bigQuery := "q=" + strings.Repeat("x", 100<<10)

	requests, fails := 0, 0
	check := func(role, what, method, path string, status int, body string, err error, tenantUser bool) {
		t.Helper()
		requests++
		switch {
		case err != nil:
			fails++
			t.Errorf("%s %s %s %.120s: %v", role, what, method, path, err)
		case status >= 500:
			fails++
			t.Errorf("%s %s %s %.120s: status %d: %.300s", role, what, method, path, status, body)
		case tenantUser && leakRE.MatchString(body):
			fails++
			t.Errorf("LEAK %s %s %s %.120s: %q", role, what, method, path, leakRE.FindString(body))
		}
	}

	type roleRun struct {
		role, email string
		tenantUser  bool
		ownIDs      map[string]string // a second pass with the role's own ids (forged fields on own objects)
	}
	runs := []roleRun{
		{"client", "cliente@a.test", true, map[string]string{"tenant": aStr, "id": strconv.FormatInt(victim, 10), "inbox": "1", "chart": "kpis.csv", "token": probeToken, "secret": "probe-secret"}},
		{"support", "suporte@geniai.test", false, nil},
		{"admin", "admin@a.test", true, map[string]string{"tenant": aStr, "id": strconv.FormatInt(victim, 10), "inbox": "1", "chart": "kpis.csv", "token": probeToken, "secret": "probe-secret"}},
	}
	before := dbSnapshot(t, h, b, victim)
	probeRole := func(run roleRun) {
		c := newProbeClient(t, base)
		c.login(run.email)
		passes := []map[string]string{otherIDs, otherUser}
		if run.ownIDs != nil {
			passes = append(passes, run.ownIDs)
		}
		for pass, ids := range passes {
			for _, r := range routes {
				if r.pattern == "/logout" || r.pattern == "/login" {
					continue // signing out ends the probe's session; /login is FuzzLoginForm's
				}
				if pass > 0 && !strings.Contains(r.pattern, "{") {
					continue // later passes only change path values
				}
				path := fillPattern(t, r.pattern, ids)
				if r.pattern == "/" {
					path = "/nao-existe"
				}
				method := r.method
				if method == "" {
					method = "GET"
				}
				if method == "GET" {
					st, body, err := c.do("GET", path, nil, "", nil)
					check(run.role, "plain", method, path, st, body, err, run.tenantUser)
					sep := "?"
					if strings.Contains(path, "?") {
						sep = "&"
					}
					st, body, err = c.do("GET", path+sep+forgedQuery, nil, "", nil)
					check(run.role, "forged query", method, path+sep+forgedQuery, st, body, err, run.tenantUser)
					st, body, err = c.do("GET", path+sep+bigQuery, nil, "", nil)
					check(run.role, "100KB query", method, path+"?q=xxx…", st, body, err, run.tenantUser)
				} else {
					form := url.Values{}
					for k, v := range forged {
						form[k] = v
					}
					// Plausible fields too, so a handler gets past its first validation.
					form.Set("email", fmt.Sprintf("probe-new-%d@a.test", requests))
					form.Set("full_name", "Probe")
					form.Set("name", "Probe")
					form.Set("slug", fmt.Sprintf("probe-%d", requests))
					form.Set("admin_email", fmt.Sprintf("probe-new-admin-%d@x.test", requests))
					form.Set("status", "suspended")
					form.Set("active", "false")
					st, body, err := c.do(method, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil)
					check(run.role, "forged form", method, path, st, body, err, run.tenantUser)
					// JSON and multipart bodies are not forms: refused, never a 5xx.
					st, body, err = c.do(method, path, strings.NewReader(`{"tenant_id":`+bStr+`,"role":"super_admin"}`), "application/json", nil)
					check(run.role, "json body", method, path, st, body, err, run.tenantUser)
				}
				for _, m := range garbage[:min(len(garbage), 4*(1-min(pass, 1)))] {
					st, body, err := c.do(m, path, nil, "", nil)
					check(run.role, "garbage method", m, path, st, body, err, run.tenantUser)
				}
			}
		}
		// The session survived the probe (no forged request signed it out or switched it).
		st, body, err := c.do("GET", "/", nil, "", nil)
		check(run.role, "after", "GET", "/", st, body, err, run.tenantUser)
		if st != http.StatusSeeOther {
			t.Errorf("%s: session lost after the probe: %d", run.role, st)
		}
	}
	for _, run := range runs {
		probeRole(run)
	}
	after := dbSnapshot(t, h, b, victim)
	if after != before {
		t.Errorf("forged requests of client/support/admin changed protected rows:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Users a tenant admin created with forged fields belong to the admin's tenant, as client or admin.
	var bad int
	if err := h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.users WHERE (email LIKE 'probe-new-%' OR id = $2)
		AND (tenant_id <> $1 OR role NOT IN ('client', 'admin'))`, a, victim).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d user(s) created with a forged tenant or role", bad)
	}
	var staff, platforms int
	_ = h.super.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE role IN ('super_admin', 'support')) FROM app.users`).Scan(&staff)
	_ = h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.tenants WHERE is_platform`).Scan(&platforms)
	// super_admin last: staff may change any tenant, so only "no 5xx" applies to its writes.
	probeRole(roleRun{"super_admin", "staff@geniai.test", false, nil})
	var staffAfter, platformsAfter int
	_ = h.super.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE role IN ('super_admin', 'support')) FROM app.users`).Scan(&staffAfter)
	_ = h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.tenants WHERE is_platform`).Scan(&platformsAfter)
	if staff != 2 || staffAfter != staff || platforms != 1 || platformsAfter != 1 {
		t.Errorf("staff users %d → %d, platform tenants %d → %d: a forged role or is_platform took effect", staff, staffAfter, platforms, platformsAfter)
	}

	// Oversize: an 11 MB form body to every POST route, as a role that reaches it, and a 1 MB header.
	c := newProbeClient(t, base)
	c.login("staff@geniai.test")
	ac := newProbeClient(t, base)
	ac.login("admin@a.test")
	big := bytes.Repeat([]byte("a"), 11<<20)
	for _, r := range routes {
		if r.method != "POST" || r.pattern == "/logout" {
			continue
		}
		cl := c
		if strings.HasPrefix(r.pattern, "/settings") || r.pattern == "/account/password" {
			cl = ac
		}
		path := fillPattern(t, r.pattern, otherIDs)
		if strings.HasPrefix(r.pattern, "/settings") {
			path = fillPattern(t, r.pattern, map[string]string{"id": strconv.FormatInt(victim, 10)})
		}
		st, body, err := cl.do("POST", path, bytes.NewReader(append([]byte("full_name="), big...)), "application/x-www-form-urlencoded", nil)
		requests++
		if err == nil && st >= 500 {
			fails++
			t.Errorf("11 MB POST %s: status %d: %.200s", path, st, body)
		}
		t.Logf("11 MB POST %s → %d %v", path, st, err) // handlers that read no form may answer; none may store it
	}
	var huge int
	if err := h.super.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM app.users WHERE length(full_name) > 100000)
		+ (SELECT count(*) FROM app.tenants WHERE length(name) > 100000)`).Scan(&huge); err != nil || huge > 0 {
		t.Errorf("an oversize body was stored: %d rows (%v)", huge, err)
	}
	st, _, err := c.do("GET", "/dashboard", nil, "", map[string]string{"X-Big": strings.Repeat("h", 1<<20)})
	requests++
	if err == nil && st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MB header: status %d, want 431", st)
	}
	// The server still serves after all that.
	if st, _, err := c.do("GET", "/admin", nil, "", nil); err != nil || st != http.StatusOK {
		t.Errorf("after the probe: /admin %d %v", st, err)
	}
	t.Logf("%d routes, %d requests, %d failures", len(routes), requests, fails)
}

// probeToken fills the {token} of e-mail link routes: well-formed, matching nothing.
const probeToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
