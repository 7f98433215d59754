package account_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/mailcatcher"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

const publicURL = "https://analytics.geniai.test"

type fixture struct {
	env     *pgtest.Env
	svc     *account.Service
	a, b    int64 // tenants
	aAdmin  int64
	bUser   int64
	catcher *mailcatcher.Catcher
	worker  *mail.Worker
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := pgtest.New(t)
	f := &fixture{env: env}
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	hash, err := auth.Hash("senha-antiga-123", auth.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"academia-a", "academia-b"} {
		var id int64
		if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if f.a == 0 {
			f.a = id
		} else {
			f.b = id
		}
	}
	if _, err := su.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia A', primary_color = '#1D4ED8' WHERE tenant_id = $1`, f.a); err != nil {
		t.Fatal(err)
	}
	if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, full_name, role) VALUES ($1, 'ana@a.test', $2, 'Ana', 'admin') RETURNING id`, f.a, hash).Scan(&f.aAdmin); err != nil {
		t.Fatal(err)
	}
	if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, full_name, role, language) VALUES ($1, 'bia@b.test', $2, 'Bia', 'client', 'en') RETURNING id`, f.b, hash).Scan(&f.bUser); err != nil {
		t.Fatal(err)
	}
	f.catcher, err = mailcatcher.Start(mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.catcher.Close() })
	sender, err := mail.NewSMTP("smtp://" + f.catcher.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mail.Config{SMTPURL: "smtp://" + f.catcher.Addr() + "?tls=none", From: "GeniAI <noreply@geniai.test>", PublicURL: publicURL + "/"}
	f.svc = &account.Service{DB: env.DB, Mail: cfg, BcryptCost: auth.MinBcryptCost}
	f.worker = &mail.Worker{DB: env.DB, Sender: sender, From: cfg.From}
	return f
}

func (f *fixture) adminA() pg.Principal {
	return pg.User(f.a, f.aAdmin, pg.AppAdmin, "10.0.0.1", "test")
}

func anon(ip string) pg.Principal { return pg.Anon(ip, "test") }

// deliver runs the mail worker and returns what arrived since the last call.
func (f *fixture) deliver(t *testing.T) []*mailcatcher.Parsed {
	t.Helper()
	before := len(f.catcher.Messages())
	if _, err := f.worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []*mailcatcher.Parsed
	for _, m := range f.catcher.Messages()[before:] {
		p, err := m.Parsed()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

var linkRE = regexp.MustCompile(`https://analytics\.geniai\.test/(invite|reset)/([A-Za-z0-9_-]{43})`)

func tokenIn(t *testing.T, p *mailcatcher.Parsed, kind string) string {
	t.Helper()
	m := linkRE.FindStringSubmatch(p.Text)
	if m == nil || m[1] != kind {
		t.Fatalf("no %s link from PUBLIC_URL in the text part:\n%s", kind, p.Text)
	}
	if !strings.Contains(p.HTML, m[0]) {
		t.Errorf("the HTML part lacks the link %s", m[0])
	}
	return m[2]
}

func (f *fixture) canSignIn(t *testing.T, email, password string) bool {
	t.Helper()
	a := &auth.Authenticator{DB: f.env.DB, Cost: auth.MinBcryptCost}
	_, err := a.Login(context.Background(), auth.Attempt{Email: email, Password: password, IP: "10.9.9.9"})
	return err == nil
}

// Creating a user answers the same whether or not the address has an account in another tenant;
// the invitation to such an address is held (no e-mail), and only staff can see that. Before
// invitations, the second call answered 409 "Já existe um usuário com esse e-mail".
func TestInviteRevealsNothingAboutOtherTenants(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	fresh, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "Nova@A.test", FullName: "Nova", Role: "client"})
	if err != nil || fresh == 0 {
		t.Fatalf("invite a fresh address: %d, %v", fresh, err)
	}
	taken, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "bia@b.test", FullName: "Bia", Role: "client"})
	if err != nil || taken == 0 {
		t.Fatalf("invite an address of tenant B: %d, %v — want the same answer as a fresh address", taken, err)
	}
	// The tenant admin's view of both invitations is the same.
	err = f.env.DB.InTx(ctx, f.adminA(), func(tx pg.Tx) error {
		rows, err := tx.InvitationsPending(ctx, f.a)
		if err != nil {
			return err
		}
		if len(rows) != 2 {
			t.Errorf("tenant A sees %d pending invitations, want 2", len(rows))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tenant roles cannot read whether an invitation was held.
	su := pgtest.Conn(t, f.env.SuperURL)
	var canRead bool
	if err := su.QueryRow(ctx, `SELECT has_column_privilege('geniai_tenant', 'app.invitations', 'held', 'SELECT')`).Scan(&canRead); err != nil || canRead {
		t.Errorf("geniai_tenant may read app.invitations.held (%v)", err)
	}
	msgs := f.deliver(t)
	if len(msgs) != 1 || msgs[0].Header.Get("To") != `"Nova" <nova@a.test>` && !strings.Contains(msgs[0].Header.Get("To"), "nova@a.test") {
		t.Fatalf("delivered %d messages (%v), want only the fresh address's", len(msgs), msgs)
	}
	// Staff see the held invitation and why.
	staff := pg.System("test")
	err = f.env.DB.InTx(ctx, staff, func(tx pg.Tx) error {
		email := "bia@b.test"
		rows, err := tx.InvitationsStaffSearch(ctx, &email)
		if err != nil {
			return err
		}
		if len(rows) != 1 || !rows[0].Held || rows[0].TenantID != f.a {
			t.Errorf("staff view of bia@b.test: %+v", rows)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An address of the admin's own tenant is a plain conflict: they may know their own users.
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "ana@a.test", Role: "client"}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("invite an address of the same tenant: %v, want conflict", err)
	}
	// A tenant admin cannot invite into another tenant, nor invite staff.
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.b, Email: "x@b.test", Role: "client"}); err == nil {
		t.Error("tenant A's admin invited into tenant B")
	}
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "x@a.test", Role: "super_admin"}); err == nil {
		t.Error("a tenant admin invited a super_admin")
	}
}

// Inviting an address first no longer squats it: the account exists only once its owner uses a
// link, and another tenant's invitation still goes out. Staff free an address squatted before.
func TestInvitationsCannotSquatAnAddress(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "joao@mail.test", Role: "client"}); err != nil {
		t.Fatal(err)
	}
	staff := pg.System("test")
	if _, err := f.svc.Invite(ctx, staff, account.Invitation{TenantID: f.b, Email: "joao@mail.test", Role: "client"}); err != nil {
		t.Fatal(err)
	}
	msgs := f.deliver(t)
	if len(msgs) != 2 {
		t.Fatalf("%d invitations delivered, want both", len(msgs))
	}
	var toB string
	for _, m := range msgs {
		if strings.Contains(m.Subject, "academia-b") {
			toB = tokenIn(t, m, "invite")
		}
	}
	if toB == "" {
		t.Fatal("no invitation of tenant B")
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), toB, "uma-senha-boa-123", "uma-senha-boa-123"); err != nil {
		t.Fatalf("accept B's invitation: %v", err)
	}
	if !f.canSignIn(t, "joao@mail.test", "uma-senha-boa-123") {
		t.Fatal("the new account cannot sign in")
	}
	// Squatted before invitations existed: an account in A that its owner never used. Staff free it.
	su := pgtest.Conn(t, f.env.SuperURL)
	var squat int64
	if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, role) VALUES ($1, 'dono@mail.test', '$2a$10$abcdefghijklmnopqrstuv', 'client') RETURNING id`, f.a).Scan(&squat); err != nil {
		t.Fatal(err)
	}
	id, err := f.svc.Invite(ctx, staff, account.Invitation{TenantID: f.b, Email: "dono@mail.test", Role: "client"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.deliver(t)); n != 0 {
		t.Fatalf("invitation to a squatted address delivered %d messages", n)
	}
	err = f.env.DB.InTx(ctx, staff, func(tx pg.Tx) error {
		_, err := tx.UserReleaseEmail(ctx, squat)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Resend(ctx, staff, f.b, id, ""); err != nil {
		t.Fatal(err)
	}
	msgs = f.deliver(t)
	if len(msgs) != 1 {
		t.Fatalf("after freeing the address, %d messages, want the invitation", len(msgs))
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), tokenIn(t, msgs[0], "invite"), "outra-senha-boa-1", "outra-senha-boa-1"); err != nil {
		t.Fatalf("accept after freeing: %v", err)
	}
}

func TestInvitationLinkSingleUseAndExpiring(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "carla@a.test", FullName: "Carla", Role: "admin", Language: "en", InvitedBy: "Ana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: "davi@a.test", Role: "client"}); err != nil {
		t.Fatal(err)
	}
	msgs := f.deliver(t)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	carla, davi := msgs[0], msgs[1]
	if !strings.Contains(carla.Header.Get("To"), "carla@a.test") {
		carla, davi = davi, carla
	}
	// Language, branding and text of the invitation.
	if carla.Subject != "Your access to Academia A analytics" || !strings.Contains(carla.Text, "Ana gave you access as administrator") {
		t.Errorf("English invitation: %q\n%s", carla.Subject, carla.Text)
	}
	if davi.Subject != "Seu acesso às análises de Academia A" || !strings.Contains(davi.HTML, "#1D4ED8") || !strings.Contains(davi.HTML, `lang="pt-BR"`) {
		t.Errorf("Portuguese invitation: %q", davi.Subject)
	}
	tok := tokenIn(t, carla, "invite")
	st, err := f.svc.InvitationState(ctx, anon("10.1.1.1"), tok)
	if err != nil || !st.Valid || st.Email != "carla@a.test" || st.Tenant != "Academia A" {
		t.Fatalf("state = %+v, %v", st, err)
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), tok, "curta", "curta"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a short password: %v", err)
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), tok, "uma-senha-boa-123", "outra-senha-boa-1"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a confirmation that differs: %v", err)
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), tok, "uma-senha-boa-123", "uma-senha-boa-123"); err != nil {
		t.Fatal(err)
	}
	if !f.canSignIn(t, "carla@a.test", "uma-senha-boa-123") {
		t.Fatal("the invited user cannot sign in")
	}
	su := pgtest.Conn(t, f.env.SuperURL)
	var role, lang string
	if err := su.QueryRow(ctx, `SELECT role, language FROM app.users WHERE email = 'carla@a.test'`).Scan(&role, &lang); err != nil || role != "admin" || lang != "en" {
		t.Errorf("account: role %q language %q (%v)", role, lang, err)
	}
	// Reused: refused.
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), tok, "terceira-senha-12", "terceira-senha-12"); err != account.ErrLinkInvalid {
		t.Errorf("reused invitation link: %v", err)
	}
	// Expired: refused.
	if _, err := su.Exec(ctx, `UPDATE app.invitations SET expires_at = now() - interval '1 second' WHERE email = 'davi@a.test'`); err != nil {
		t.Fatal(err)
	}
	dtok := tokenIn(t, davi, "invite")
	if st, _ := f.svc.InvitationState(ctx, anon("10.1.1.1"), dtok); st.Valid || !st.Expired {
		t.Errorf("expired invitation state %+v", st)
	}
	if _, err := f.svc.AcceptInvitation(ctx, anon("10.1.1.1"), dtok, "uma-senha-boa-123", "uma-senha-boa-123"); err != account.ErrLinkInvalid {
		t.Errorf("expired invitation link: %v", err)
	}
	// Audited.
	var n int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action IN ('invitation.create', 'invitation.accept') AND tenant_id = $1`, f.a).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d invitation audit events, want 3 (%v)", n, err)
	}
	// The body holding the link is erased once sent.
	var body string
	if err := su.QueryRow(ctx, `SELECT text_body FROM app.mail_outbox WHERE to_address = 'carla@a.test'`).Scan(&body); err != nil || strings.Contains(body, tok) {
		t.Errorf("the sent invitation still holds its link: %q (%v)", body, err)
	}
}

func TestPasswordResetFlow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	// Same answer for an account and for no account; only the account gets mail.
	if err := f.svc.RequestReset(ctx, anon("10.2.2.2"), " Bia@B.test ", "10.2.2.2"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RequestReset(ctx, anon("10.2.2.2"), "ninguem@b.test", "10.2.2.2"); err != nil {
		t.Fatalf("unknown address: %v, want the same nil answer", err)
	}
	msgs := f.deliver(t)
	if len(msgs) != 1 || msgs[0].Subject != "Reset your password" {
		t.Fatalf("%d messages (want 1, in the user's stored language)", len(msgs))
	}
	tok := tokenIn(t, msgs[0], "reset")
	if st, _ := f.svc.ResetState(ctx, anon("10.2.2.2"), tok); !st.Valid || st.Email != "bia@b.test" {
		t.Fatalf("state %+v", st)
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.2.2.2"), tok, "senha-nova-bia-1", "senha-nova-bia-1"); err != nil {
		t.Fatal(err)
	}
	if !f.canSignIn(t, "bia@b.test", "senha-nova-bia-1") || f.canSignIn(t, "bia@b.test", "senha-antiga-123") {
		t.Fatal("the new password does not replace the old one")
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.2.2.2"), tok, "mais-uma-senha-1", "mais-uma-senha-1"); err != account.ErrLinkInvalid {
		t.Errorf("reused reset link: %v", err)
	}

	// A later password change ends an open link.
	if err := f.svc.RequestReset(ctx, anon("10.2.2.3"), "bia@b.test", "10.2.2.3"); err != nil {
		t.Fatal(err)
	}
	open := tokenIn(t, f.deliver(t)[0], "reset")
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(ctx, `UPDATE app.users SET auth_version = auth_version + 1 WHERE id = $1`, f.bUser); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.2.2.3"), open, "mais-uma-senha-1", "mais-uma-senha-1"); err != account.ErrLinkInvalid {
		t.Errorf("link after a password change: %v", err)
	}
	// Expired: refused.
	if err := f.svc.RequestReset(ctx, anon("10.2.2.4"), "ana@a.test", "10.2.2.4"); err != nil {
		t.Fatal(err)
	}
	old := tokenIn(t, f.deliver(t)[0], "reset")
	if _, err := su.Exec(ctx, `UPDATE app.password_resets SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.2.2.4"), old, "mais-uma-senha-1", "mais-uma-senha-1"); err != account.ErrLinkInvalid {
		t.Errorf("expired reset link: %v", err)
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.2.2.4"), "not-a-token", "mais-uma-senha-1", "mais-uma-senha-1"); err != account.ErrLinkInvalid {
		t.Errorf("malformed link: %v", err)
	}
	var n int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action = 'password_reset.complete'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d password_reset.complete events, want 1 (%v)", n, err)
	}
}

// Throttling: per address, answered like an unknown address (no mail, same answer); per client
// IP, a clear 429.
func TestPasswordResetThrottle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for i := range 5 {
		if err := f.svc.RequestReset(ctx, anon("10.3.3.3"), "ana@a.test", "10.3.3.3"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n := len(f.deliver(t)); n != 3 {
		t.Errorf("%d reset e-mails for 5 requests in an hour, want 3", n)
	}
	for i := range 15 {
		if err := f.svc.RequestReset(ctx, anon("10.3.3.3"), "x"+string(rune('a'+i))+"@a.test", "10.3.3.3"); err != nil {
			t.Fatalf("request %d: %v", i+6, err)
		}
	}
	err := f.svc.RequestReset(ctx, anon("10.3.3.3"), "y@a.test", "10.3.3.3")
	if !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("21st request from one IP: %v, want too many", err)
	}
	// Another network is not affected; an hour later the address may ask again.
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(ctx, `UPDATE app.password_reset_throttle SET window_start = now() - interval '61 minutes'`); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RequestReset(ctx, anon("10.4.4.4"), "ana@a.test", "10.4.4.4"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.deliver(t)); n != 1 {
		t.Errorf("after the hour: %d e-mails, want 1", n)
	}
	_ = time.Second
}
