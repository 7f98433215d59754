package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// TestTenantAdminChangesTimezone is the review's reproduction: POST /settings/timezone answered
// 403 for every valid zone. The admin changes their own tenant's zone, audited as them; nobody
// else gets through the function.
func TestTenantAdminChangesTimezone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.tenant("acme", "active", nil)
	other := h.tenant("beta", "active", nil)
	admin := h.user(a, "dona@acme.com.br", "admin", pw)
	client := h.user(a, "ana@acme.com.br", "client", pw)
	b := h.browser()
	b.mustLogin("dona@acme.com.br", pw, "/dashboard")
	expectRedirect(t, b.post("/settings/timezone", url.Values{"timezone": {"America/Manaus"}}), "/settings?saved=1")
	var tz string
	var actor int64
	if err := h.super.QueryRow(context.Background(), `SELECT timezone FROM app.tenants WHERE id = $1`, a).Scan(&tz); err != nil || tz != "America/Manaus" {
		t.Fatalf("timezone %q %v", tz, err)
	}
	if err := h.super.QueryRow(context.Background(), `SELECT actor_user_id FROM audit.events
		WHERE action = 'tenants.update' AND entity_id = $1::bigint::text AND new_values->>'timezone' = 'America/Manaus'`, a).Scan(&actor); err != nil || actor != admin {
		t.Fatalf("audit actor %d %v", actor, err)
	}
	expectStatus(t, b.post("/settings/timezone", url.Values{"timezone": {"Mars/Olympus"}}), http.StatusUnprocessableEntity, "Fuso horário")

	// The function itself: another tenant's admin, a client and support are refused; a
	// super_admin may.
	ctx := context.Background()
	set := func(p pg.Principal, tenant int64) error {
		return h.env.DB.InTx(ctx, p, func(tx pg.Tx) error {
			_, err := tx.TenantTimezoneSet(ctx, dbsqlc.TenantTimezoneSetParams{ID: tenant, Timezone: "UTC"})
			return err
		})
	}
	for name, c := range map[string]struct {
		p      pg.Principal
		tenant int64
	}{
		"admin of another tenant": {pg.User(a, admin, pg.AppAdmin, "", ""), other},
		"client":                  {pg.User(a, client, pg.AppClient, "", ""), a},
		"support":                 {pg.Principal{DBRole: pg.RoleStaff, Role: pg.AppSupport, Actor: "test"}, a},
	} {
		if err := set(c.p, c.tenant); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := set(pg.System("test"), other); err != nil {
		t.Errorf("super_admin: %v", err)
	}
	if err := set(pg.System("test"), h.platform()); !pg.IsNoRows(err) {
		t.Errorf("the platform tenant: %v", err)
	}
}

// TestFunnelRefusesBacktracking is the review's reproduction: a lead rule with back-references
// was accepted and froze the tenant's sync. It is refused with a message naming the construct,
// and nothing is saved.
func TestFunnelRefusesBacktracking(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.tenant("acme", "active", nil)
	h.user(a, "dona@acme.com.br", "admin", pw)
	b := h.browser()
	b.mustLogin("dona@acme.com.br", pw, "/dashboard")
	for re, want := range map[string]string{
		`(a*)(a*)(a*)(a*)(a*)\5\4\3\2\1c`: `referência anterior \5`,
		`quero (?=agendar)`:               `lookahead ((?=…)`,
		`(?<!não )quero`:                  `lookbehind ((?&lt;!…)`,
	} {
		res := b.post("/settings/funnel", url.Values{"lead_any_message": {"on"}, "visit_regex": {re}})
		expectStatus(t, res, http.StatusUnprocessableEntity, want)
		if !strings.Contains(res.body, "travar a sincronização") {
			t.Errorf("%s: the message does not say why", re)
		}
	}
	var n int
	if err := h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.tenant_settings WHERE tenant_id = $1 AND visit_regex IS NOT NULL`, a).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused rule was saved: %d %v", n, err)
	}
	expectRedirect(t, b.post("/settings/funnel", url.Values{"lead_any_message": {"on"}, "visit_regex": {`agend(ar|amento)|visita`}}), "/settings?saved=1")
}

// TestWeakPasswordRefusedOnAccountPage is the review's reproduction: `123456789012`,
// `aaaaaaaaaaaa` and `passwordpassword` were accepted as new passwords.
func TestWeakPasswordRefusedOnAccountPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.tenant("acme", "active", nil)
	uid := h.user(a, "ana@acme.com.br", "client", pw)
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	for _, weak := range []string{"123456789012", "aaaaaaaaaaaa", "passwordpassword"} {
		res := b.post("/account/password", url.Values{"current": {pw}, "new": {weak}, "confirm": {weak}})
		expectStatus(t, res, http.StatusUnprocessableEntity, "Senha fácil de adivinhar")
	}
	if n := h.auditCount("password.change", uid); n != 0 {
		t.Fatalf("a weak password was saved (%d changes)", n)
	}
}

// TestLanguageChoiceCreatesNoSession is the review's reproduction: every GET /login?lang=en
// stored a session row (300 requests, 300 rows). The choice now lives in a plain cookie.
func TestLanguageChoiceCreatesNoSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for i := 0; i < 30; i++ {
		res := h.browser().get("/login?lang=en")
		expectStatus(t, res, 200, "Sign in")
		if sessionSetCookie(res) != nil {
			t.Fatal("a session cookie for an anonymous language choice")
		}
	}
	var n int
	if err := h.super.QueryRow(context.Background(), `SELECT count(*) FROM public.sessions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d session rows after anonymous language choices (%v)", n, err)
	}
	// The choice sticks, for anonymous and signed-in pages alike, until changed.
	b := h.browser()
	b.get("/login?lang=en")
	expectStatus(t, b.get("/login"), 200, "Sign in")
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	expectStatus(t, b.get("/dashboard"), 200, `<html lang="en"`)
	b.get("/dashboard?lang=pt")
	expectStatus(t, b.get("/dashboard"), 200, `<html lang="pt-BR"`)
}

// TestTLSHeadersAndCookies is the review's reproduction: no HSTS even with COOKIE_SECURE=true.
// Behind TLS every response carries HSTS for at least a year and cookies take the __Host- prefix
// (Secure, whole host, no Domain); without it neither.
func TestTLSHeadersAndCookies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.CookieSecure = true })
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	for _, path := range []string{"/login", "/static/app.css", "/healthz", "/nope"} {
		res := h.browser().get(path)
		age, _ := strconv.Atoi(strings.TrimPrefix(res.Header.Get("Strict-Transport-Security"), "max-age="))
		if age < 365*24*3600 {
			t.Errorf("%s: Strict-Transport-Security %q", path, res.Header.Get("Strict-Transport-Security"))
		}
	}
	res := h.browser().login("ana@acme.com.br", pw)
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-geniai_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" {
		t.Fatalf("session cookie %+v (all: %v)", session, res.Header["Set-Cookie"])
	}
	lang := h.browser().get("/login?lang=en").Cookies()
	if len(lang) != 1 || lang[0].Name != "__Host-geniai_lang" || !lang[0].Secure || lang[0].Path != "/" {
		t.Fatalf("language cookie %v", lang)
	}

	plain := newHarness(t, nil)
	if v := plain.browser().get("/login").Header.Get("Strict-Transport-Security"); v != "" {
		t.Fatalf("HSTS over plain HTTP: %q", v)
	}
}

// TestStaticHasNoListing is the review's reproduction: /static/ listed its directory.
func TestStaticHasNoListing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser()
	for _, path := range []string{"/static/", "/static", "/static/./", "/static/nope.css"} {
		// 404, or the mux's redirect to the clean path /static/, which is 404.
		if res := b.get(path); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusTemporaryRedirect || strings.Contains(res.body, "app.css") {
			t.Errorf("%s: %d %.200s", path, res.StatusCode, res.body)
		}
	}
	expectStatus(t, b.get("/static/app.css"), 200, "{")
}

// TestStaffSeeLockedAndAttackedAccounts: the attacker's failures show in /admin (locked on one
// network, then an attack from several), with the unlock a super_admin needs; support sees the
// list without the button; the victim signs in from elsewhere all along.
func TestStaffSeeLockedAndAttackedAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.TrustProxy = true })
	tid := h.tenant("acme", "active", nil)
	victim := h.user(tid, "dona@acme.com.br", "admin", pw)
	h.user(h.platform(), "root@geniai.com.br", "super_admin", pw)
	h.user(h.platform(), "help@geniai.com.br", "support", pw)
	attacker := h.browser()
	attacker.xff = "203.0.113.7"
	for i := 0; i < 5; i++ {
		attacker.login("dona@acme.com.br", "guess-"+strconv.Itoa(i))
	}
	expectStatus(t, attacker.login("dona@acme.com.br", pw), http.StatusTooManyRequests, "E-mail ou senha inválidos")
	owner := h.browser()
	owner.xff = "198.51.100.20"
	owner.mustLogin("dona@acme.com.br", pw, "/dashboard")

	root := h.browser()
	root.xff = "192.0.2.10"
	root.mustLogin("root@geniai.com.br", pw, "/admin")
	page := root.get("/admin")
	expectStatus(t, page, 200, "Contas bloqueadas ou sob ataque")
	for _, want := range []string{"dona@acme.com.br", "em 1 rede(s) até", `action="/admin/users/` + strconv.FormatInt(victim, 10) + `/unlock"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("/admin without %q", want)
		}
	}
	if strings.Contains(page.body, "ataque suspeito") {
		t.Error("one network flagged as an attack")
	}
	for _, ip := range []string{"198.18.0.1", "100.64.0.1"} {
		other := h.browser()
		other.xff = ip
		other.login("dona@acme.com.br", "guess")
	}
	expectStatus(t, root.get("/admin"), 200, "ataque suspeito")
	if n := h.auditCount("login.attack_suspected", victim); n != 1 {
		t.Fatalf("login.attack_suspected events: %d", n)
	}
	support := h.browser()
	support.xff = "192.0.2.11"
	support.mustLogin("help@geniai.com.br", pw, "/admin")
	sp := support.get("/admin")
	expectStatus(t, sp, 200, "ataque suspeito")
	if strings.Contains(sp.body, "/unlock") {
		t.Error("support sees the unlock button")
	}
	root.post("/admin/users/"+strconv.FormatInt(victim, 10)+"/unlock", nil)
	attacker.mustLogin("dona@acme.com.br", pw, "/dashboard")
}
