package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pgtest"
)

// testClock is the server's injected clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     testing.TB
	env   *pgtest.Env
	srv   *Server
	ts    *httptest.Server
	clock *testClock
	super *pgx.Conn
}

func testConfig() config.Config {
	return config.Config{
		BcryptCost:         auth.MinBcryptCost,
		SessionLifetime:    24 * time.Hour,
		SessionIdleTimeout: 2 * time.Hour,
		HijackUserAgent:    "destroy",
		HijackIP:           "audit",
	}
}

func newHarness(t testing.TB, mutate func(*config.Config)) *harness {
	t.Helper()
	env := pgtest.New(t)
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	clock := &testClock{t: time.Now()}
	srv, err := New(Options{
		DB: env.DB, Config: cfg, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &harness{t: t, env: env, srv: srv, ts: ts, clock: clock, super: pgtest.Conn(t, env.SuperURL)}
}

// tenant creates a client tenant and returns its id.
func (h *harness) tenant(slug, status string, trialEnds *time.Time) int64 {
	h.t.Helper()
	var id int64
	err := h.super.QueryRow(context.Background(),
		`INSERT INTO app.tenants (slug, name, status, trial_ends_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		slug, "Escola "+slug, status, trialEnds).Scan(&id)
	if err != nil {
		h.t.Fatalf("tenant: %v", err)
	}
	return id
}

func (h *harness) platform() int64 {
	h.t.Helper()
	var id int64
	if err := h.super.QueryRow(context.Background(), `SELECT id FROM app.tenants WHERE is_platform`).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// hashes memoises the fixtures' bcrypt hashes by password: a cost-10 hash takes about a
// second under the race detector on a busy CI machine, and the package's tests create over a
// hundred users with a handful of passwords. Sign-ins still verify the hash in full.
var hashes sync.Map // password → hash

// user creates a user with a cost-10 hash and returns its id.
func (h *harness) user(tenantID int64, email, role, password string) int64 {
	h.t.Helper()
	hash, ok := hashes.Load(password)
	if !ok {
		fresh, err := auth.Hash(password, auth.MinBcryptCost)
		if err != nil {
			h.t.Fatal(err)
		}
		hash, _ = hashes.LoadOrStore(password, fresh)
	}
	var id int64
	err := h.super.QueryRow(context.Background(),
		`INSERT INTO app.users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		tenantID, email, hash, role).Scan(&id)
	if err != nil {
		h.t.Fatalf("user: %v", err)
	}
	return id
}

func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := h.super.Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// auditCount counts audit events with the action (and, when userID > 0, that entity id).
func (h *harness) auditCount(action string, entityID int64) int {
	h.t.Helper()
	var n int
	err := h.super.QueryRow(context.Background(),
		`SELECT count(*) FROM audit.events WHERE action = $1 AND ($2 = 0 OR entity_id = $2::text)`,
		action, entityID).Scan(&n)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	h   *harness
	c   *http.Client
	ua  string
	xff string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, ua: "Mozilla/5.0 test", c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) response {
	b.h.t.Helper()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", b.ua)
	}
	if b.xff != "" {
		req.Header.Set("X-Forwarded-For", b.xff)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(body)}
}

func (b *browser) get(path string) response {
	b.h.t.Helper()
	req, _ := http.NewRequest("GET", b.h.ts.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.h.t.Helper()
	req, _ := http.NewRequest("POST", b.h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func (b *browser) login(email, password string) response {
	b.h.t.Helper()
	return b.post("/login", url.Values{"email": {email}, "password": {password}})
}

// mustLogin signs in and checks the redirect.
func (b *browser) mustLogin(email, password, wantLocation string) {
	b.h.t.Helper()
	res := b.login(email, password)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != wantLocation {
		b.h.t.Fatalf("login %s: status %d location %q body %.300s", email, res.StatusCode, res.Header.Get("Location"), res.body)
	}
}

// plantSession stores an empty session and returns its token, as a visitor holding a session
// before signing in would have.
func (h *harness) plantSession() string {
	h.t.Helper()
	token := "planted-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	data, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.exec(`INSERT INTO public.sessions (token, data, expiry) VALUES ($1, $2, now() + interval '1 hour')`, storeKey(token), data)
	return token
}

func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.h.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "geniai_session" {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setSessionCookie(v string) {
	u, _ := url.Parse(b.h.ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "geniai_session", Value: v, Path: "/"}})
}

func sessionSetCookie(res response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == "geniai_session" || c.Name == "__Host-geniai_session" {
			return c
		}
	}
	return nil
}

func expectRedirect(t testing.TB, res response, loc string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != loc {
		t.Fatalf("want 303 → %s, got %d → %q (%.200s)", loc, res.StatusCode, res.Header.Get("Location"), res.body)
	}
}

func expectStatus(t testing.TB, res response, status int, contains string) {
	t.Helper()
	if res.StatusCode != status || !strings.Contains(res.body, contains) {
		t.Fatalf("want %d containing %q, got %d: %.400s", status, contains, res.StatusCode, res.body)
	}
}

const pw = "correct horse battery"

// storeKey is a token's key in the session store (its hash).
func storeKey(token string) string { return tokenKey(token) }
