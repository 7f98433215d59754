package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/mailcatcher"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/sheet/sheettest"
)

// mailHarness is the server with outgoing mail: an in-process SMTP catcher, and a worker the test
// runs when it wants the queue delivered. PUBLIC_URL is the test server's own address, so links
// in the messages work in a browser.
type mailHarness struct {
	*harness
	catcher *mailcatcher.Catcher
	worker  *mail.Worker
}

func newMailHarness(t testing.TB, mutate func(*config.Config)) *mailHarness {
	t.Helper()
	c, err := mailcatcher.Start(mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := pgtest.New(t)
	cfg := testConfig()
	cfg.SMTPURL = "smtp://" + c.Addr() + "?tls=none"
	cfg.MailFrom = "GeniAI Analytics <noreply@geniai.test>"
	cfg.PublicURL = "http://" + ln.Addr().String()
	if mutate != nil {
		mutate(&cfg)
	}
	clock := &testClock{t: time.Now()}
	srv, err := New(Options{DB: env.DB, Config: cfg, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	_ = ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	sender, err := mail.NewSMTP(cfg.SMTPURL)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, srv: srv, ts: ts, clock: clock, super: pgtest.Conn(t, env.SuperURL)}
	return &mailHarness{harness: h, catcher: c, worker: &mail.Worker{DB: env.DB, Sender: sender, From: cfg.MailFrom}}
}

// deliver runs the mail worker once and returns the messages that arrived with it.
func (m *mailHarness) deliver() []*mailcatcher.Parsed {
	m.t.Helper()
	before := len(m.catcher.Messages())
	if _, err := m.worker.RunOnce(context.Background()); err != nil {
		m.t.Fatal(err)
	}
	var out []*mailcatcher.Parsed
	for _, r := range m.catcher.Messages()[before:] {
		p, err := r.Parsed()
		if err != nil {
			m.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

var mailLinkRE = regexp.MustCompile(`https?://[^\s"<>]+/(invite|reset|unsubscribe)/[A-Za-z0-9_.-]+`)

// linkIn is the first link of the given kind in a message's text part.
func linkIn(t testing.TB, p *mailcatcher.Parsed, kind string) string {
	t.Helper()
	for _, l := range mailLinkRE.FindAllStringSubmatch(p.Text, -1) {
		if l[1] == kind {
			return l[0]
		}
	}
	t.Fatalf("no %s link in:\n%s", kind, p.Text)
	return ""
}

// "Esqueci minha senha" answers the same for an account and for an unknown address, sends the
// link only to the account, builds it from PUBLIC_URL whatever Host the request names, and the
// link works once.
func TestForgotPasswordOverHTTP(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	tid := m.tenant("academia-a", "active", nil)
	m.user(tid, "ana@a.test", "client", pw)
	b := m.browser()
	expectStatus(t, b.get("/login"), http.StatusOK, `href="/forgot"`)
	expectStatus(t, b.get("/forgot"), http.StatusOK, `action="/forgot"`)

	known := b.post("/forgot", url.Values{"email": {"ana@a.test"}}, "Host", "evil.example")
	unknown := b.post("/forgot", url.Values{"email": {"ninguem@a.test"}})
	if known.StatusCode != http.StatusOK || unknown.StatusCode != http.StatusOK {
		t.Fatalf("statuses %d / %d", known.StatusCode, unknown.StatusCode)
	}
	norm := func(s string) string { return strings.NewReplacer("ana@a.test", "X", "ninguem@a.test", "X").Replace(s) }
	if norm(known.body) != norm(unknown.body) {
		t.Errorf("the answer differs between an account and an unknown address")
	}
	msgs := m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1 (only the account)", len(msgs))
	}
	link := linkIn(t, msgs[0], "reset")
	if !strings.HasPrefix(link, m.ts.URL+"/reset/") {
		t.Fatalf("link %q is not built from PUBLIC_URL %s", link, m.ts.URL)
	}
	path := strings.TrimPrefix(link, m.ts.URL)
	expectStatus(t, b.get(path), http.StatusOK, `name="confirm"`)
	res := b.post(path, url.Values{"new": {"uma senha nova 123"}, "confirm": {"uma senha nova 123"}})
	expectRedirect(t, res, "/login")
	expectStatus(t, b.get("/login"), http.StatusOK, "ana@a.test")
	m.browser().mustLogin("ana@a.test", "uma senha nova 123", "/dashboard")
	// Used: refused, with a clear page.
	expectStatus(t, b.get(path), http.StatusGone, "não vale mais")
	expectStatus(t, b.post(path, url.Values{"new": {"outra senha nova 1"}, "confirm": {"outra senha nova 1"}}), http.StatusGone, "não vale mais")
	// Garbage tokens get the same page, never a 500.
	expectStatus(t, b.get("/reset/%3Cscript%3E"), http.StatusGone, "não vale mais")
	expectStatus(t, b.post("/forgot", url.Values{"email": {"not an e-mail"}}), http.StatusUnprocessableEntity, "e-mail válido")
}

func TestForgotPasswordThrottledPerIP(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	b := m.browser()
	for i := range 20 {
		expectStatus(t, b.post("/forgot", url.Values{"email": {"x" + string(rune('a'+i)) + "@a.test"}}), http.StatusOK, "Pronto")
	}
	res := b.post("/forgot", url.Values{"email": {"y@a.test"}})
	expectStatus(t, res, http.StatusTooManyRequests, "Muitos pedidos")
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// Without SMTP the page says who can help instead of offering a link that never comes.
func TestForgotPasswordWithoutSMTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser()
	res := b.get("/forgot")
	expectStatus(t, res, http.StatusOK, "não envia e-mails")
	if strings.Contains(res.body, `action="/forgot"`) {
		t.Error("the form is offered without SMTP")
	}
	// A POST anyway (an old tab, a script) gets the same explanation, never an error page.
	expectStatus(t, b.post("/forgot", url.Values{"email": {"ana@a.test"}}), http.StatusOK, "não envia e-mails")
}

// The unsubscribe link works without signing in: GET only asks (link scanners must not
// unsubscribe anyone); a one-click POST from a mail client (no cookie, no Origin) unsubscribes.
func TestUnsubscribeLinkOneClick(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	tid := m.tenant("academia-a", "active", nil)
	uid := m.user(tid, "ana@a.test", "client", pw)
	var sub int64
	var key string
	if err := m.super.QueryRow(context.Background(), `INSERT INTO app.digest_subscriptions (tenant_id, user_id, frequency, created_by)
		VALUES ($1, $2, 'weekly', $2) RETURNING id, unsubscribe_key`, tid, uid).Scan(&sub, &key); err != nil {
		t.Fatal(err)
	}
	token := "/unsubscribe/" + itoa(tid) + "." + itoa(sub) + "." + key
	b := m.browser()
	expectStatus(t, b.get(token), http.StatusOK, "semanal")
	count := func() int {
		var n int
		_ = m.super.QueryRow(context.Background(), `SELECT count(*) FROM app.digest_subscriptions`).Scan(&n)
		return n
	}
	if count() != 1 {
		t.Fatal("GET unsubscribed")
	}
	expectStatus(t, b.get("/unsubscribe/"+itoa(tid)+"."+itoa(sub)+"."+strings.Repeat("0", 64)), http.StatusNotFound, "não vale mais")
	req, _ := http.NewRequest("POST", m.ts.URL+token, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || count() != 0 {
		t.Fatalf("one-click POST: %d, %d subscriptions left", res.StatusCode, count())
	}
	// A second click finds it done.
	expectStatus(t, b.post(token, nil), http.StatusOK, "não recebe mais")

	// RFC 8058 also allows the one-click body as multipart/form-data: taken (never read, no
	// file), where every other route refuses multipart.
	if err := m.super.QueryRow(context.Background(), `INSERT INTO app.digest_subscriptions (tenant_id, user_id, frequency, created_by)
		VALUES ($1, $2, 'daily', $2) RETURNING id, unsubscribe_key`, tid, uid).Scan(&sub, &key); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("List-Unsubscribe", "One-Click")
	_ = mw.Close()
	req, _ = http.NewRequest("POST", m.ts.URL+"/unsubscribe/"+itoa(tid)+"."+itoa(sub)+"."+key, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || count() != 0 {
		t.Fatalf("one-click multipart POST: %d, %d subscriptions left", res.StatusCode, count())
	}
}

// "Resumos por e-mail": a client subscribes themselves and cannot subscribe anyone else; a
// tenant admin subscribes a user of the tenant, never one of another tenant.
func TestDigestSubscriptionsPage(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	a := m.tenant("academia-a", "active", nil)
	bt := m.tenant("academia-b", "active", nil)
	m.user(a, "admin@a.test", "admin", pw)
	client := m.user(a, "ana@a.test", "client", pw)
	other := m.user(bt, "bia@b.test", "client", pw)
	c := m.browser()
	c.mustLogin("ana@a.test", pw, "/dashboard")
	expectStatus(t, c.get("/account/digests"), http.StatusOK, `action="/account/digests"`)
	expectRedirect(t, c.post("/account/digests", url.Values{"frequency": {"weekly"}, "weekday": {"1"}, "hour": {"8"}}), "/account/digests?saved=1")
	res := c.get("/account/digests")
	expectStatus(t, res, http.StatusOK, "toda segunda 8:00")
	// A client naming another user subscribes only themselves (the field is ignored).
	c.post("/account/digests", url.Values{"user_id": {itoa(other)}, "frequency": {"daily"}, "weekday": {"1"}, "hour": {"7"}})
	var n int
	_ = m.super.QueryRow(context.Background(), `SELECT count(*) FROM app.digest_subscriptions WHERE user_id <> $1`, client).Scan(&n)
	if n != 0 {
		t.Fatalf("a client subscribed someone else (%d rows)", n)
	}
	expectStatus(t, c.post("/account/digests", url.Values{"frequency": {"hourly"}, "hour": {"8"}}), http.StatusUnprocessableEntity, "Frequência inválida")
	ad := m.browser()
	ad.mustLogin("admin@a.test", pw, "/dashboard")
	expectRedirect(t, ad.post("/account/digests", url.Values{"user_id": {itoa(client)}, "frequency": {"monthly"}, "weekday": {"1"}, "hour": {"9"}}), "/account/digests?saved=1")
	expectStatus(t, ad.post("/account/digests", url.Values{"user_id": {itoa(other)}, "frequency": {"monthly"}, "weekday": {"1"}, "hour": {"9"}}), http.StatusNotFound, "Usuário não encontrado")
	res = ad.get("/account/digests")
	expectStatus(t, res, http.StatusOK, "ana@a.test")
	if strings.Contains(res.body, "bia@b.test") {
		t.Error("tenant A's admin sees a user of tenant B")
	}
}

// The language is stored per user: chosen while signed in, it is kept for the next session and
// for e-mails; chosen before signing in, it is stored at sign-in.
func TestLanguageStoredPerUser(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	tid := m.tenant("academia-a", "active", nil)
	m.user(tid, "ana@a.test", "client", pw)
	m.user(tid, "bia@a.test", "client", pw)
	lang := func(email string) string {
		var l string
		if err := m.super.QueryRow(context.Background(), `SELECT language FROM app.users WHERE email = $1`, email).Scan(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	b := m.browser()
	b.mustLogin("ana@a.test", pw, "/dashboard")
	if l := lang("ana@a.test"); l != "pt-BR" {
		t.Fatalf("default language %q", l)
	}
	b.get("/dashboard?lang=en")
	if l := lang("ana@a.test"); l != "en" {
		t.Fatalf("after choosing English: %q", l)
	}
	b2 := m.browser()
	b2.mustLogin("ana@a.test", pw, "/dashboard")
	expectStatus(t, b2.get("/account/digests"), http.StatusOK, "Sign out")
	// Chosen on the sign-in page, before signing in.
	c := m.browser()
	c.get("/login?lang=en")
	c.mustLogin("bia@a.test", pw, "/dashboard")
	if l := lang("bia@a.test"); l != "en" {
		t.Fatalf("choice before sign-in not stored: %q", l)
	}
	// And the e-mails follow it.
	c.post("/forgot", url.Values{"email": {"ana@a.test"}})
	msgs := m.deliver()
	if len(msgs) != 1 || msgs[0].Subject != "Reset your password" {
		t.Fatalf("reset e-mail not in the stored language: %d messages", len(msgs))
	}
}

// A tenant admin creating a user learns nothing about other tenants: the address of another
// tenant's user gets the same answer as a fresh one (the invitation is just not sent), and
// inviting an address first does not stop another tenant from inviting it. Before invitations,
// the first case answered 409 "Já existe um usuário com esse e-mail" and the second failed.
func TestUserCreationRevealsNothingAboutOtherTenants(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	a := m.tenant("academia-a", "active", nil)
	bt := m.tenant("academia-b", "active", nil)
	m.user(a, "admin@a.test", "admin", pw)
	m.user(bt, "admin@b.test", "admin", pw)
	m.user(bt, "bia@b.test", "client", pw)
	ad := m.browser()
	ad.mustLogin("admin@a.test", pw, "/dashboard")
	fresh := ad.post("/settings/users", url.Values{"email": {"nova@mail.test"}, "full_name": {"Nova"}, "role": {"client"}})
	taken := ad.post("/settings/users", url.Values{"email": {"bia@b.test"}, "full_name": {"Bia"}, "role": {"client"}})
	for _, c := range []struct {
		res   response
		email string
	}{{fresh, "nova@mail.test"}, {taken, "bia@b.test"}} {
		if c.res.StatusCode != http.StatusOK || !strings.Contains(c.res.body, "Convite enviado para "+c.email) || strings.Contains(c.res.body, "Já existe") {
			t.Errorf("creating %s: %d %.300s", c.email, c.res.StatusCode, c.res.body)
		}
	}
	msgs := m.deliver()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Header.Get("To"), "nova@mail.test") {
		t.Fatalf("%d invitations sent, want only the fresh address's", len(msgs))
	}
	// Squatting: A invited squat@mail.test first; B's invitation still goes out, and its owner
	// accepting B's makes the account B's.
	expectStatus(t, ad.post("/settings/users", url.Values{"email": {"squat@mail.test"}, "role": {"admin"}}), http.StatusOK, "Convite enviado")
	bd := m.browser()
	bd.mustLogin("admin@b.test", pw, "/dashboard")
	expectStatus(t, bd.post("/settings/users", url.Values{"email": {"squat@mail.test"}, "role": {"client"}}), http.StatusOK, "Convite enviado")
	msgs = m.deliver()
	if len(msgs) != 2 {
		t.Fatalf("%d invitations for the contested address, want both", len(msgs))
	}
	var toB string
	for _, p := range msgs {
		if strings.Contains(p.Subject, "Escola academia-b") {
			toB = linkIn(t, p, "invite")
		}
	}
	path := strings.TrimPrefix(toB, m.ts.URL)
	visitor := m.browser()
	expectStatus(t, visitor.get(path), http.StatusOK, "Escola academia-b")
	expectRedirect(t, visitor.post(path, url.Values{"new": {"senha do dono 123"}, "confirm": {"senha do dono 123"}}), "/login")
	m.browser().mustLogin("squat@mail.test", "senha do dono 123", "/dashboard")
	// Used: the link is dead.
	expectStatus(t, visitor.get(path), http.StatusGone, "não vale mais")
	// The same tenant's own user is a plain conflict.
	expectStatus(t, ad.post("/settings/users", url.Values{"email": {"admin@a.test"}, "role": {"client"}}), http.StatusConflict, "Já existe")
	// Tenant A's pending invitations: withdraw one, resend the other.
	var ids []int64
	rows, err := m.super.Query(context.Background(), `SELECT id FROM app.invitations WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL ORDER BY id`, a)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < 2 {
		t.Fatalf("tenant A has %d pending invitations", len(ids))
	}
	expectRedirect(t, ad.post("/settings/invitations/"+itoa(ids[0])+"/revoke", nil), "/settings?saved=1")
	expectRedirect(t, ad.post("/settings/invitations/"+itoa(ids[1])+"/resend", nil), "/settings?saved=1")
	// Another tenant's invitation id is 404.
	var bInv int64
	_ = m.super.QueryRow(context.Background(), `SELECT id FROM app.invitations WHERE tenant_id = $1`, bt).Scan(&bInv)
	expectStatus(t, ad.post("/settings/invitations/"+itoa(bInv)+"/revoke", nil), http.StatusNotFound, "")
}

// Staff see held invitations and the account holding the address, free a squatted address and
// resend; a tenant's send log lists every message with its attempts. Support reads, never writes.
func TestAdminResolvesASquattedAddress(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	a := m.tenant("academia-a", "active", nil)
	bt := m.tenant("academia-b", "active", nil)
	m.user(m.platform(), "staff@geniai.test", "super_admin", pw)
	m.user(m.platform(), "suporte@geniai.test", "support", pw)
	m.user(a, "admin@a.test", "admin", pw)
	squatter := m.user(bt, "dono@mail.test", "client", pw) // created by B before the owner's real gym invited them
	ad := m.browser()
	ad.mustLogin("admin@a.test", pw, "/dashboard")
	expectStatus(t, ad.post("/settings/users", url.Values{"email": {"dono@mail.test"}, "role": {"admin"}}), http.StatusOK, "Convite enviado")
	if n := len(m.deliver()); n != 0 {
		t.Fatalf("held invitation delivered %d messages", n)
	}
	sup := m.browser()
	sup.mustLogin("suporte@geniai.test", pw, "/admin")
	res := sup.get("/admin/invitations?email=dono@mail.test")
	expectStatus(t, res, http.StatusOK, "retido")
	if strings.Contains(res.body, "Liberar endereço") {
		t.Error("support is offered the release button")
	}
	if r := sup.post("/admin/users/"+itoa(squatter)+"/release", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("support released an address: %d", r.StatusCode)
	}
	st := m.browser()
	st.mustLogin("staff@geniai.test", pw, "/admin")
	expectStatus(t, st.get("/admin/invitations"), http.StatusOK, "Escola academia-b")
	expectRedirect(t, st.post("/admin/users/"+itoa(squatter)+"/release", url.Values{"confirm": {"1"}}), "/admin/invitations?saved=1")
	var inv int64
	_ = m.super.QueryRow(context.Background(), `SELECT id FROM app.invitations WHERE tenant_id = $1`, a).Scan(&inv)
	expectRedirect(t, st.post("/admin/invitations/"+itoa(a)+"/"+itoa(inv)+"/resend", nil), "/admin/invitations?saved=1")
	msgs := m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("after freeing the address: %d messages", len(msgs))
	}
	path := strings.TrimPrefix(linkIn(t, msgs[0], "invite"), m.ts.URL)
	v := m.browser()
	expectRedirect(t, v.post(path, url.Values{"new": {"senha do dono 123"}, "confirm": {"senha do dono 123"}}), "/login")
	m.browser().mustLogin("dono@mail.test", "senha do dono 123", "/dashboard")
	// The send log of tenant A, and the audit of the release.
	res = st.get("/admin/tenants/" + itoa(a) + "/mail")
	expectStatus(t, res, http.StatusOK, "dono@mail.test")
	if !strings.Contains(res.body, "enviado") {
		t.Errorf("send log without the sent invitation: %.500s", res.body)
	}
	if !strings.Contains(res.body, "<td>Convite</td>") || strings.Contains(res.body, "<td>invitation</td>") {
		t.Error("the send log names the message's kind by its stored code")
	}
	if n := m.auditCount("user.release_email", squatter); n != 1 {
		t.Errorf("%d release audit events", n)
	}
}

// In /admin, creating a user with mail on sends an invitation; staff are told plainly when the
// address already has an account (they see every tenant anyway).
func TestAdminCreatesUserByInvitation(t *testing.T) {
	t.Parallel()
	m := newMailHarness(t, nil)
	m.tenant("academia-a", "active", nil)
	bt := m.tenant("academia-b", "active", nil)
	m.user(m.platform(), "staff@geniai.test", "super_admin", pw)
	m.user(bt, "bia@b.test", "client", pw)
	st := m.browser()
	st.mustLogin("staff@geniai.test", pw, "/admin")
	expectStatus(t, st.post("/admin/users", url.Values{"tenant": {"academia-a"}, "email": {"Nova@A.test"}, "role": {"admin"}}), http.StatusOK, "Convite enviado para nova@a.test")
	expectStatus(t, st.post("/admin/users", url.Values{"tenant": {"academia-a"}, "email": {"bia@b.test"}, "role": {"client"}}), http.StatusConflict, "já tem conta no cliente Escola academia-b")
	expectStatus(t, st.post("/admin/users", url.Values{"tenant": {"academia-a"}, "email": {"x@a.test"}, "role": {"super_admin"}}), http.StatusUnprocessableEntity, "não é permitido")
	msgs := m.deliver()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Header.Get("To"), "nova@a.test") {
		t.Fatalf("%d messages", len(msgs))
	}
}

// The digest `serve` sends attaches the period's conversations as the explorer's .xlsx, read as
// the subscriber: as many rows as the dashboard counts for the period.
func TestDigestAttachesTheConversationsXLSX(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	uid := h.user(a, "gerente@a.test", "client", pw)
	var sub int64
	if err := h.super.QueryRow(context.Background(), `INSERT INTO app.digest_subscriptions (tenant_id, user_id, frequency, created_by, created_at)
		VALUES ($1, $2, 'weekly', $2, '2026-10-01') RETURNING id`, a, uid).Scan(&sub); err != nil {
		t.Fatal(err)
	}
	c, err := mailcatcher.Start(mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := mail.Config{SMTPURL: "smtp://" + c.Addr() + "?tls=none", From: "GeniAI <noreply@geniai.test>", PublicURL: "https://analytics.geniai.test"}
	dash := &dashboard.Service{DB: h.env.DB}
	s := &digest.Scheduler{DB: h.env.DB, Dash: dash, Mail: cfg, Attach: digest.XLSXAttachment(h.srv.ConversationsXLSX),
		Now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }}
	if st, err := s.RunOnce(context.Background()); err != nil || st.Delivered != 1 {
		t.Fatalf("RunOnce = %+v, %v", st, err)
	}
	sender, _ := mail.NewSMTP(cfg.SMTPURL)
	if _, err := (&mail.Worker{DB: h.env.DB, Sender: sender, From: cfg.From}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := c.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	p, err := msgs[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	att, ok := p.Part("academia-a-conversas-20261123-20261129.xlsx")
	if !ok || att.ContentType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("no .xlsx attached: %+v", p.Parts)
	}
	f := dashboard.Filter{From: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}
	d, err := dash.Load(context.Background(), pg.User(a, uid, pg.AppClient, "", ""), a, f)
	if err != nil {
		t.Fatal(err)
	}
	book := sheettest.Open(t, att.Data)
	if float64(len(book.Rows)) != *d.KPIs.Conversations.Cur || len(book.Rows) == 0 {
		t.Errorf("attached .xlsx has %d rows, the dashboard counts %v", len(book.Rows), *d.KPIs.Conversations.Cur)
	}
}
