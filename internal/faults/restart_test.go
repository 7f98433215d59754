package faults

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/web"
)

// outageTimeout is the client timeout: an answer slower than this is a hang.
const outageTimeout = 10 * time.Second

type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (c *client) do(method, path string, form url.Values) (int, string, http.Header, time.Duration, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("User-Agent", "faults-test")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	t0 := time.Now()
	res, err := c.c.Do(req)
	if err != nil {
		return 0, "", nil, time.Since(t0), err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header, time.Since(t0), err
}

// TestPostgresRestartWhileServing stops PostgreSQL under a running server: every request during
// the outage gets a 503 page (not a 500, not a hang), /healthz stays up, /readyz says 503; after
// PostgreSQL comes back the server serves again by itself, with the same session.
func TestPostgresRestartWhileServing(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, "geniai")
	if err := pg.Migrate(ctx, c.env["MIGRATION_DATABASE_URL"], -1, nil); err != nil {
		t.Fatal(err)
	}
	su := connect(t, c.superURL("geniai"))
	a, _ := pgtest.SeedAnalytics(t, &pgtest.Env{SuperURL: c.superURL("geniai")})
	addUser(t, su, a, "cliente@a.test", "client")
	su.Close(ctx) // the superuser connection would die with the server anyway

	db, err := pg.Open(ctx, c.env["DATABASE_URL"], pg.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	srv, err := web.New(web.Options{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: config.Config{BcryptCost: auth.MinBcryptCost, HijackUserAgent: "destroy", HijackIP: "audit"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	jar, _ := cookiejar.New(nil)
	cl := &client{t: t, base: ts.URL, c: &http.Client{Jar: jar, Timeout: outageTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	status, body, hdr, _, err := cl.do("POST", "/login", url.Values{"email": {"cliente@a.test"}, "password": {pw}})
	if err != nil || status != http.StatusSeeOther || hdr.Get("Location") != "/dashboard" {
		t.Fatalf("login: %d %v %.300s", status, err, body)
	}
	paths := []string{"/dashboard", "/conversations?period=90d", "/api/v1/dashboard/summary", "/conversations/export.csv", "/readyz"}
	for _, p := range paths {
		if status, body, _, _, err := cl.do("GET", p, nil); err != nil || status != http.StatusOK {
			t.Fatalf("before the outage %s: %d %v %.300s", p, status, err, body)
		}
	}

	t0 := time.Now()
	c.stop()
	t.Logf("PostgreSQL stopped in %s", time.Since(t0).Round(time.Millisecond))
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			c.start()
		}
	})

	// During the outage: pages, API, export, the login page and a login attempt answer 503 fast.
	type probe struct {
		method, path string
		form         url.Values
		html         bool
	}
	probes := []probe{
		{"GET", "/dashboard", nil, true},
		{"GET", "/conversations?period=90d", nil, true},
		{"GET", "/conversations/5", nil, true},
		{"GET", "/api/v1/dashboard/summary", nil, false},
		{"GET", "/conversations/export.csv", nil, true},
		{"GET", "/readyz", nil, false},
	}
	var worst time.Duration
	for round := 0; round < 3; round++ { // the first round meets the pool's dead connections, later ones fresh dials
		for _, p := range probes {
			status, body, hdr, d, err := cl.do(p.method, p.path, p.form)
			worst = max(worst, d)
			if err != nil {
				t.Fatalf("outage round %d %s %s: no answer within %s (%s): %v", round, p.method, p.path, outageTimeout, d, err)
			}
			if status != http.StatusServiceUnavailable {
				t.Errorf("outage round %d %s %s: status %d in %s, want 503: %.300s", round, p.method, p.path, status, d, body)
				continue
			}
			if p.html && !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
				t.Errorf("outage %s: 503 without the error page (%q)", p.path, hdr.Get("Content-Type"))
			}
			t.Logf("outage round %d: %s %s → %d in %s", round, p.method, p.path, status, d.Round(time.Microsecond))
		}
	}
	// A fresh visitor (no session) and a login attempt during the outage.
	anon := &client{t: t, base: ts.URL, c: &http.Client{Timeout: outageTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, p := range []probe{{"GET", "/login", nil, true}, {"POST", "/login", url.Values{"email": {"cliente@a.test"}, "password": {pw}}, true}} {
		status, body, _, d, err := anon.do(p.method, p.path, p.form)
		worst = max(worst, d)
		if err != nil {
			t.Fatalf("outage %s %s: no answer within %s: %v", p.method, p.path, outageTimeout, err)
		}
		// The sign-in form needs no database (200); signing in does (503).
		if want := map[string]int{"GET": 200, "POST": 503}[p.method]; status != want {
			t.Errorf("outage %s %s: status %d in %s, want %d: %.300s", p.method, p.path, status, d, want, body)
		}
		t.Logf("outage anonymous: %s %s → %d in %s", p.method, p.path, status, d.Round(time.Microsecond))
	}
	if status, _, _, _, err := cl.do("GET", "/healthz", nil); err != nil || status != http.StatusOK {
		t.Errorf("/healthz during the outage: %d %v (the process is up)", status, err)
	}
	t.Logf("slowest answer during the outage: %s", worst.Round(time.Microsecond))

	// PostgreSQL comes back: the server recovers without help, and the session survived.
	t1 := time.Now()
	c.start()
	restarted = true
	up := time.Since(t1)
	var recovered time.Duration
	var lastStatus int
	for i := 0; ; i++ {
		status, _, _, _, err := cl.do("GET", "/dashboard", nil)
		lastStatus = status
		if err == nil && status == http.StatusOK {
			recovered = time.Since(t1)
			break
		}
		if i == 300 {
			t.Fatalf("no recovery 30 s after PostgreSQL restarted: last status %d, %v", lastStatus, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range paths {
		if status, body, _, _, err := cl.do("GET", p, nil); err != nil || status != http.StatusOK {
			t.Errorf("after recovery %s: %d %v %.300s", p, status, err, body)
		}
	}
	t.Logf("PostgreSQL started in %s; dashboard 200 again %s after the restart began", up.Round(time.Millisecond), recovered.Round(time.Millisecond))
}
