package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/locale"
)

func TestLoginSuccessRedirectsByRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	cid := h.user(tid, "ana@acme.com.br", "client", pw)
	h.user(h.platform(), "staff@geniai.com.br", "super_admin", pw)

	b := h.browser()
	b.mustLogin("  Ana@Acme.com.br ", pw, "/dashboard")
	expectRedirect(t, b.get("/"), "/dashboard")
	expectStatus(t, b.get("/dashboard"), 200, "Escola acme")
	if n := h.auditCount("login.success", cid); n != 1 {
		t.Fatalf("login.success events: %d", n)
	}
	var ip, ua string
	if err := h.super.QueryRow(context.Background(),
		`SELECT host(ip), user_agent FROM audit.events WHERE action = 'login.success'`).Scan(&ip, &ua); err != nil {
		t.Fatal(err)
	}
	if ip != "127.0.0.1" || ua != "Mozilla/5.0 test" {
		t.Fatalf("audit ip/ua: %q %q", ip, ua)
	}

	s := h.browser()
	s.mustLogin("staff@geniai.com.br", pw, "/admin")
	expectRedirect(t, s.get("/"), "/admin")
	expectStatus(t, s.get("/admin"), 200, "<title>Administração")

	// Each role only sees its own landing page; the other one does not exist for it.
	expectStatus(t, b.get("/admin"), 404, "Página não encontrada")
	expectStatus(t, s.get("/dashboard"), 404, "Página não encontrada")
	// A signed-in user going to /login is sent home.
	expectRedirect(t, b.get("/login"), "/")
}

func TestLoginFailuresShareOneMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)
	off := h.user(tid, "off@acme.com.br", "client", pw)
	h.exec(`UPDATE app.users SET is_active = false WHERE id = $1`, off)

	cases := []struct{ name, email, password string }{
		{"unknown email", "nobody@acme.com.br", pw},
		{"wrong password", "ana@acme.com.br", pw + "x"},
		{"deactivated user, wrong password", "off@acme.com.br", "wrong password!"},
		{"password too long", "ana@acme.com.br", strings.Repeat("a", 2000)},
		{"email too long", strings.Repeat("a", 300) + "@x.com", pw},
	}
	for _, c := range cases {
		res := h.browser().login(c.email, c.password)
		expectStatus(t, res, http.StatusUnauthorized, locale.Translate(locale.PT, auth.KeyBadCredentials))
		if sessionSetCookie(res) != nil {
			t.Errorf("%s: a session cookie was set", c.name)
		}
	}
	if n := h.auditCount("login.failure", 0); n < 4 {
		t.Fatalf("login.failure events: %d", n)
	}
	if n := h.auditCount("login.failure", uid); n != 1 {
		t.Fatalf("login.failure for the user: %d", n)
	}
	// Empty fields are a form problem, not a credential one.
	expectStatus(t, h.browser().login("", ""), http.StatusUnprocessableEntity, "Informe o e-mail e a senha")
}

func TestLoginRefusedAccountsGetPoliteMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(72 * time.Hour)
	cases := []struct {
		status string
		trial  *time.Time
		active bool
		want   string
	}{
		{"suspended", nil, true, "está suspenso"},
		{"cancelled", nil, true, "foi encerrada"},
		{"trial", &past, true, "período de teste"},
		{"active", nil, false, "foi desativado"},
	}
	for i, c := range cases {
		tid := h.tenant("t"+strconv.Itoa(i), c.status, c.trial)
		email := "u" + strconv.Itoa(i) + "@x.com.br"
		uid := h.user(tid, email, "admin", pw)
		if !c.active {
			h.exec(`UPDATE app.users SET is_active = false WHERE id = $1`, uid)
		}
		res := h.browser().login(email, pw)
		expectStatus(t, res, http.StatusForbidden, c.want)
		if sessionSetCookie(res) != nil {
			t.Errorf("%s: session cookie set", c.status)
		}
	}
	// An unexpired trial signs in.
	tid := h.tenant("trial-ok", "trial", &future)
	h.user(tid, "trial@x.com.br", "client", pw)
	h.browser().mustLogin("trial@x.com.br", pw, "/dashboard")
}

func TestLockoutAfterFiveFailuresAndRelease(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)
	b := h.browser()
	for i := 1; i <= 4; i++ {
		expectStatus(t, b.login("ana@acme.com.br", "wrong-"+strconv.Itoa(i)), 401, locale.Translate(locale.PT, auth.KeyBadCredentials))
	}
	res := b.login("ana@acme.com.br", "wrong-5")
	expectStatus(t, res, http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	if n := h.auditCount("login.lockout", uid); n != 1 {
		t.Fatalf("login.lockout events: %d", n)
	}
	// Locked: even the right password gets the generic message and a Retry-After.
	res = b.login("ana@acme.com.br", pw)
	expectStatus(t, res, http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if ra < 14*60 || ra > 15*60 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	// The server's clock does not reach SQL: moving it on releases nothing.
	h.clock.Advance(365 * 24 * time.Hour)
	expectStatus(t, b.login("ana@acme.com.br", pw), http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	h.clock.Advance(-365 * 24 * time.Hour)
	// Time passes for the database (the lock ages): one minute left, then none.
	h.exec(`UPDATE app.login_failures SET locked_until = now() + interval '60 seconds' WHERE email_hash = app.login_email_hash('ana@acme.com.br')`)
	res = b.login("ana@acme.com.br", pw)
	expectStatus(t, res, http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra <= 0 || ra > 60 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	h.exec(`UPDATE app.login_failures SET locked_until = now() - interval '1 second' WHERE email_hash = app.login_email_hash('ana@acme.com.br')`)
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")

	// A second lockout without a success in between lasts twice as long.
	h.exec(`INSERT INTO app.login_failures (email_hash, network, lockout_count, last_failure_at)
	        VALUES (app.login_email_hash('ana@acme.com.br'), '127.0.0.0/24', 1, now())`)
	c := h.browser()
	for i := 1; i <= 5; i++ {
		c.login("ana@acme.com.br", "again-"+strconv.Itoa(i))
	}
	res = c.login("ana@acme.com.br", pw)
	ra, _ = strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != 429 || ra < 29*60 || ra > 31*60 {
		t.Fatalf("second lockout: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// TestUnknownEmailLocksLikeARealOne: a lockout must not reveal that an e-mail exists. Five
// failures on an unknown e-mail and on a real one give byte-identical answers (status, headers,
// body, modulo the request id and the echoed e-mail), and both are released the same way.
func TestUnknownEmailLocksLikeARealOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	const real, ghost = "ana@acme.com.br", "zoe@acme.com.br" // same length: same Content-Length
	norm := func(res response, email string) string {
		t.Helper()
		hdr := res.Header.Clone()
		for _, k := range []string{"Date", "X-Request-Id"} {
			hdr.Del(k)
		}
		var b strings.Builder
		b.WriteString(strconv.Itoa(res.StatusCode) + "\n")
		_ = hdr.Write(&b)
		body := strings.ReplaceAll(res.body, res.Header.Get("X-Request-Id"), "<request-id>")
		b.WriteString(strings.ReplaceAll(body, email, "<email>"))
		return b.String()
	}
	same := func(step string, r, g response) {
		t.Helper()
		if nr, ng := norm(r, real), norm(g, ghost); nr != ng {
			t.Fatalf("%s: the answers differ\nreal:\n%.1500s\nunknown:\n%.1500s", step, nr, ng)
		}
	}
	rb, gb := h.browser(), h.browser()
	for i := 1; i <= 5; i++ {
		r := rb.login(real, "wrong-"+strconv.Itoa(i))
		g := gb.login(ghost, "wrong-"+strconv.Itoa(i))
		same("failure "+strconv.Itoa(i), r, g)
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
			if r.Header.Get("Retry-After") != "900" {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		}
		expectStatus(t, g, want, locale.Translate(locale.PT, auth.KeyBadCredentials))
	}
	// Locked, with the same time left: the same answer, even with the right password.
	// Real time passes between the two requests here, so Retry-After is compared within a few
	// seconds and the rest byte for byte.
	h.exec(`UPDATE app.login_failures SET locked_until = now() + interval '600 seconds' WHERE email_hash = app.login_email_hash($1)`, real)
	r := rb.login(real, pw)
	h.exec(`UPDATE app.login_failures SET locked_until = now() + interval '600 seconds' WHERE email_hash = app.login_email_hash($1)`, ghost)
	g := gb.login(ghost, pw)
	rra, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	gra, _ := strconv.Atoi(g.Header.Get("Retry-After"))
	if rra < 590 || rra > 600 || gra < 590 || gra > 600 {
		t.Fatalf("Retry-After while locked: real %d, unknown %d", rra, gra)
	}
	g.Header.Set("Retry-After", r.Header.Get("Retry-After"))
	same("while locked", r, g)
	if n := h.auditCount("login.lockout", 0); n != 2 {
		t.Fatalf("login.lockout events: %d", n)
	}
	// The failure row holds a hash and the client network, never the address.
	var stored int
	if err := h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.login_failures
		WHERE email_hash = sha256(convert_to($1, 'UTF8')) AND network = '127.0.0.0/24'
		  AND failed_attempts = 0 AND lockout_count = 1`, ghost).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("email throttle row: %d %v", stored, err)
	}
	// Released together when the lock ages out; the next lockout of either doubles.
	h.exec(`UPDATE app.login_failures SET locked_until = now() - interval '1 second'`)
	same("after the lock", rb.login(real, "wrong-6"), gb.login(ghost, "wrong-6"))
	for i := 7; i <= 9; i++ {
		same("again "+strconv.Itoa(i), rb.login(real, "wrong-"+strconv.Itoa(i)), gb.login(ghost, "wrong-"+strconv.Itoa(i)))
	}
	r, g = rb.login(real, "wrong-10"), gb.login(ghost, "wrong-10")
	same("second lockout", r, g)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1800" {
		t.Fatalf("second lockout: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	// 24 hours without a failure forget the history, for both.
	h.exec(`UPDATE app.login_failures SET locked_until = now() - interval '1 day',
	        last_failure_at = now() - interval '25 hours'`)
	h.exec(`UPDATE app.login_throttle SET window_start = window_start - interval '25 hours'`)
	for i := 11; i <= 15; i++ {
		r, g = rb.login(real, "wrong-"+strconv.Itoa(i)), gb.login(ghost, "wrong-"+strconv.Itoa(i))
		same("after a quiet day "+strconv.Itoa(i), r, g)
	}
	if r.Header.Get("Retry-After") != "900" {
		t.Fatalf("lockout after a quiet day: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

func TestIPThrottle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	b := h.browser()
	b.login("x1@acme.com.br", "whatever-password")
	b.login("x2@acme.com.br", "whatever-password")
	var failures int
	if err := h.super.QueryRow(context.Background(),
		`SELECT failures FROM app.login_throttle WHERE ip = '127.0.0.1'`).Scan(&failures); err != nil || failures != 2 {
		t.Fatalf("throttle failures %d, %v", failures, err)
	}
	// 30 failures within the window block the IP, for every account, with the generic message.
	h.exec(`UPDATE app.login_throttle SET failures = 30 WHERE ip = '127.0.0.1'`)
	res := b.login("ana@acme.com.br", pw)
	expectStatus(t, res, http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra <= 0 || ra > 600 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	h.clock.Advance(11 * time.Minute) // the server's clock changes nothing
	expectStatus(t, b.login("ana@acme.com.br", pw), http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	h.exec(`UPDATE app.login_throttle SET window_start = window_start - interval '10 minutes' WHERE ip = '127.0.0.1'`)
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
}

func TestSessionFixationAndCookieFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	b := h.browser()
	// A session planted before sign-in (anonymous visitors get none of their own; an attacker
	// could still hand one over).
	before := h.plantSession()
	b.setSessionCookie(before)
	res := b.login("ana@acme.com.br", pw)
	c := sessionSetCookie(res)
	if c == nil || c.Value == before {
		t.Fatalf("session token not renewed at login: %v", c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Fatalf("cookie flags: %+v", c)
	}
	// The pre-login token is gone server-side.
	old := h.browser()
	old.setSessionCookie(before)
	expectRedirect(t, old.get("/dashboard"), "/login")

	hs := newHarness(t, func(c *config.Config) { c.CookieSecure = true })
	tid = hs.tenant("acme", "active", nil)
	hs.user(tid, "ana@acme.com.br", "client", pw)
	res = hs.browser().login("ana@acme.com.br", pw)
	if c := sessionSetCookie(res); c == nil || !c.Secure || !c.HttpOnly {
		t.Fatalf("secure cookie: %+v", c)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	form := url.Values{"email": {"ana@acme.com.br"}, "password": {pw}}
	expectStatus(t, h.browser().post("/login", form, "Sec-Fetch-Site", "cross-site"), 403, "outro site")
	expectStatus(t, h.browser().post("/login", form, "Origin", "https://evil.example"), 403, "outro site")

	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	expectStatus(t, b.post("/logout", nil, "Sec-Fetch-Site", "cross-site"), 403, "outro site")
	expectStatus(t, b.get("/dashboard"), 200, "Escola acme") // still signed in
	// Same-origin browser requests pass.
	expectRedirect(t, b.post("/logout", nil, "Sec-Fetch-Site", "same-origin", "Origin", h.ts.URL), "/login")
}

func TestLogoutThenReplayRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	token := b.sessionCookie()
	expectRedirect(t, b.post("/logout", nil), "/login")
	if n := h.auditCount("logout", uid); n != 1 {
		t.Fatalf("logout events: %d", n)
	}
	var n int
	if err := h.super.QueryRow(context.Background(), `SELECT count(*) FROM public.sessions WHERE token = $1`, storeKey(token)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("session row still there: %d %v", n, err)
	}
	replay := h.browser()
	replay.setSessionCookie(token)
	expectRedirect(t, replay.get("/dashboard"), "/login")
	expectRedirect(t, replay.post("/logout", nil), "/login")
}

// TestIdleAndAbsoluteExpiry: both limits are the database's (app.session_check); the tests age
// the stored times instead of sleeping. The server's clock changes nothing.
func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	age := func(b *browser, set string) {
		t.Helper()
		h.exec(`UPDATE app.user_sessions SET `+set+` WHERE token_hash = $1`, storeKey(b.sessionCookie()))
	}

	idle := h.browser()
	idle.mustLogin("ana@acme.com.br", pw, "/dashboard")
	// The store keeps the absolute expiry; activity is app.user_sessions'.
	var expiry time.Time
	if err := h.super.QueryRow(context.Background(), `SELECT expiry FROM public.sessions WHERE token = $1`,
		storeKey(idle.sessionCookie())).Scan(&expiry); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expiry); d > 24*time.Hour+time.Minute || d < 24*time.Hour-time.Minute {
		t.Fatalf("store expiry in %v, want about 24h", d)
	}
	h.clock.Advance(365 * 24 * time.Hour)
	expectStatus(t, idle.get("/dashboard"), 200, "Escola acme")
	age(idle, `last_seen_at = now() - interval '119 minutes'`)
	expectStatus(t, idle.get("/dashboard"), 200, "Escola acme") // and the activity is recorded
	age(idle, `last_seen_at = last_seen_at - interval '119 minutes'`)
	expectStatus(t, idle.get("/dashboard"), 200, "Escola acme")
	age(idle, `last_seen_at = now() - interval '121 minutes'`)
	expectRedirect(t, idle.get("/dashboard"), "/login")

	abs := h.browser()
	abs.mustLogin("ana@acme.com.br", pw, "/dashboard")
	age(abs, `expires_at = now() + interval '1 minute'`)
	expectStatus(t, abs.get("/dashboard"), 200, "Escola acme")
	age(abs, `expires_at = now() - interval '1 second'`)
	expectRedirect(t, abs.get("/dashboard"), "/login")

	// The store itself drops an expired row (what happens in real time).
	st := h.browser()
	st.mustLogin("ana@acme.com.br", pw, "/dashboard")
	h.exec(`UPDATE public.sessions SET expiry = now() - interval '1 second' WHERE token = $1`, storeKey(st.sessionCookie()))
	expectRedirect(t, st.get("/dashboard"), "/login")
}

func TestSuspensionAndDeactivationTakeEffectNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	bob := h.user(tid, "bob@acme.com.br", "admin", pw)
	other := h.tenant("other", "active", nil)
	h.user(other, "eve@other.com.br", "client", pw)

	a, b, e := h.browser(), h.browser(), h.browser()
	a.mustLogin("ana@acme.com.br", pw, "/dashboard")
	b.mustLogin("bob@acme.com.br", pw, "/dashboard")
	e.mustLogin("eve@other.com.br", pw, "/dashboard")

	h.exec(`UPDATE app.users SET is_active = false WHERE id = $1`, bob)
	expectRedirect(t, b.get("/dashboard"), "/login")
	expectStatus(t, a.get("/dashboard"), 200, "Escola acme")

	h.exec(`UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, tid)
	expectRedirect(t, a.get("/dashboard"), "/login")
	expectStatus(t, e.get("/dashboard"), 200, "Escola other")

	// A trial that ends while signed in ends the session too.
	h.exec(`UPDATE app.tenants SET status = 'trial', trial_ends_at = now() + interval '1 hour' WHERE id = $1`, other)
	expectStatus(t, e.get("/dashboard"), 200, "Escola other")
	h.exec(`UPDATE app.tenants SET trial_ends_at = now() - interval '1 second' WHERE id = $1`, other)
	expectRedirect(t, e.get("/dashboard"), "/login")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)
	a, other := h.browser(), h.browser()
	a.mustLogin("ana@acme.com.br", pw, "/dashboard")
	other.mustLogin("ana@acme.com.br", pw, "/dashboard")
	expectStatus(t, a.get("/account/password"), 200, "Senha atual")

	const next = "a brand new passphrase"
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"current": {"wrong one"}, "new": {next}, "confirm": {next}}, "senha atual não confere"},
		{url.Values{"current": {pw}, "new": {"short"}, "confirm": {"short"}}, "pelo menos 12"},
		{url.Values{"current": {pw}, "new": {strings.Repeat("é", 40)}, "confirm": {strings.Repeat("é", 40)}}, "no máximo 72 bytes"},
		{url.Values{"current": {pw}, "new": {"ana@acme.com.br"}, "confirm": {"ana@acme.com.br"}}, "igual ao e-mail"},
		{url.Values{"current": {pw}, "new": {next}, "confirm": {next + "!"}}, "confirmação"},
	}
	for _, c := range bad {
		expectStatus(t, a.post("/account/password", c.form), http.StatusUnprocessableEntity, c.want)
	}
	before := a.sessionCookie()
	res := a.post("/account/password", url.Values{"current": {pw}, "new": {next}, "confirm": {next}})
	expectRedirect(t, res, "/account/password")
	if after := a.sessionCookie(); after == before || after == "" {
		t.Fatal("token not renewed on password change")
	}
	expectStatus(t, a.get("/account/password"), 200, "Senha trocada")
	expectStatus(t, a.get("/dashboard"), 200, "Escola acme")
	expectRedirect(t, other.get("/dashboard"), "/login")
	if n := h.auditCount("password.change", uid); n != 1 {
		t.Fatalf("password.change events: %d", n)
	}
	expectStatus(t, h.browser().login("ana@acme.com.br", pw), 401, locale.Translate(locale.PT, auth.KeyBadCredentials))
	h.browser().mustLogin("ana@acme.com.br", next, "/dashboard")
}

// TestPasswordChangeWrongCurrentCountsAsFailure: a wrong current password on /account/password is
// a failed attempt for the account (audited as password.change_failed) under the sign-in lockout
// rules; while locked the page refuses to try, and sign-in is locked too.
func TestPasswordChangeWrongCurrentCountsAsFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)
	a := h.browser()
	a.mustLogin("ana@acme.com.br", pw, "/dashboard")
	const next = "a brand new passphrase"
	wrong := url.Values{"current": {"not my password"}, "new": {next}, "confirm": {next}}
	for i := 1; i <= 4; i++ {
		expectStatus(t, a.post("/account/password", wrong), http.StatusUnprocessableEntity, "senha atual não confere")
	}
	if n := h.auditCount("password.change_failed", uid); n != 4 {
		t.Fatalf("password.change_failed events: %d", n)
	}
	var failed int
	if err := h.super.QueryRow(context.Background(), `SELECT failed_attempts FROM app.users WHERE id = $1`, uid).Scan(&failed); err != nil || failed != 4 {
		t.Fatalf("failed_attempts %d %v", failed, err)
	}
	res := a.post("/account/password", wrong)
	expectStatus(t, res, http.StatusTooManyRequests, "Muitas tentativas")
	if res.Header.Get("Retry-After") != "900" {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if n := h.auditCount("login.lockout", uid); n != 1 {
		t.Fatalf("login.lockout events: %d", n)
	}
	// Locked: the right current password is not even compared, and sign-in is locked too.
	right := url.Values{"current": {pw}, "new": {next}, "confirm": {next}}
	expectStatus(t, a.post("/account/password", right), http.StatusTooManyRequests, "Muitas tentativas")
	expectStatus(t, h.browser().login("ana@acme.com.br", pw), http.StatusTooManyRequests, locale.Translate(locale.PT, auth.KeyBadCredentials))
	// The open session itself goes on (a lockout must not let others end it).
	expectStatus(t, a.get("/dashboard"), 200, "Escola acme")
	if n := h.auditCount("password.change", uid); n != 0 {
		t.Fatalf("password changed while locked: %d", n)
	}
	// The lock ages out: the change goes through and clears the counters.
	h.exec(`UPDATE app.login_failures SET locked_until = now() - interval '1 second' WHERE email_hash = app.login_email_hash('ana@acme.com.br')`)
	expectRedirect(t, a.post("/account/password", right), "/account/password")
	if n := h.auditCount("password.change", uid); n != 1 {
		t.Fatalf("password.change events: %d", n)
	}
	h.browser().mustLogin("ana@acme.com.br", next, "/dashboard")
}

func TestAnonymousVisitorsGoToLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser()
	for _, p := range []string{"/", "/dashboard", "/admin", "/account/password", "/theme.css", "/nope", "/admin/tenants/1", "/dashboard/x?y=1"} {
		expectRedirect(t, b.get(p), "/login")
	}
	for _, p := range []string{"/logout", "/account/password", "/dashboard", "/whatever"} {
		expectRedirect(t, b.post(p, url.Values{"a": {"b"}}), "/login")
	}
	expectStatus(t, b.get("/login"), 200, "Entrar")
	expectStatus(t, b.get("/healthz"), 200, "ok")
	expectStatus(t, b.get("/readyz"), 200, "ok")
	res := b.get("/static/app.css")
	expectStatus(t, res, 200, "--brand-primary")
	if sessionSetCookie(res) != nil {
		t.Fatal("static assets set a session cookie")
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser()
	for _, p := range []string{"/login", "/healthz", "/readyz", "/static/app.css", "/dashboard", "/static/missing.css"} {
		res := b.get(p)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline", p)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", p, res.Header)
		}
	}
	// No inline script or style in the pages.
	body := b.get("/login").body
	if inlineScript(body) || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
		t.Fatal("inline script or style in /login")
	}
}

func TestHijackSignals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.TrustProxy = true })
	tid := h.tenant("acme", "active", nil)
	uid := h.user(tid, "ana@acme.com.br", "client", pw)

	b := h.browser()
	b.xff = "203.0.113.7"
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	b.xff = "198.51.100.9" // a mobile network changes IP: audited, session kept
	expectStatus(t, b.get("/dashboard"), 200, "Escola acme")
	expectStatus(t, b.get("/dashboard"), 200, "Escola acme")
	if n := h.auditCount("session.ip_changed", uid); n != 1 {
		t.Fatalf("session.ip_changed events: %d", n)
	}
	b.ua = "curl/8.0" // another browser with the same cookie: destroyed and audited
	expectRedirect(t, b.get("/dashboard"), "/login")
	if n := h.auditCount("session.hijack_user_agent", uid); n != 1 {
		t.Fatalf("session.hijack_user_agent events: %d", n)
	}
	b.ua = "Mozilla/5.0 test"
	expectRedirect(t, b.get("/dashboard"), "/login")
}

func TestThemeCSSUsesTenantColours(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	h.exec(`UPDATE app.tenant_settings SET primary_color = '#112233', secondary_color = '#445566', display_name = 'Colégio Acme' WHERE tenant_id = $1`, tid)
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	res := b.get("/theme.css")
	expectStatus(t, res, 200, "--brand-primary: #112233")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("content type %q", res.Header.Get("Content-Type"))
	}
	expectStatus(t, b.get("/dashboard"), 200, "Colégio Acme")
	expectStatus(t, b.get("/dashboard?lang=en"), 200, `<html lang="en"`)
}

// inlineScript reports a <script> element without a src (scripts from files are allowed).
func inlineScript(body string) bool {
	for rest := body; ; {
		i := strings.Index(rest, "<script")
		if i < 0 {
			return false
		}
		tag, _, _ := strings.Cut(rest[i:], ">")
		if !strings.Contains(tag, " src=") {
			return true
		}
		rest = rest[i+len(tag):]
	}
}
