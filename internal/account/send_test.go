package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// superAdmin is a staff principal of the platform tenant.
func (f *fixture) superAdmin(t *testing.T) pg.Principal {
	t.Helper()
	su := pgtest.Conn(t, f.env.SuperURL)
	hash, _ := auth.Hash("senha-do-staff-123", auth.MinBcryptCost)
	var tid, uid int64
	if err := su.QueryRow(context.Background(), `INSERT INTO app.users (tenant_id, email, password_hash, full_name, role)
		SELECT id, 'staff@geniai.test', $1, 'Sara Staff', 'super_admin' FROM app.tenants WHERE is_platform RETURNING tenant_id, id`, hash).Scan(&tid, &uid); err != nil {
		t.Fatal(err)
	}
	return pg.User(tid, uid, pg.AppSuperAdmin, "10.0.0.9", "test")
}

// A reset link sent for someone (staff's "Enviar link de redefinição", a tenant admin's for their
// own users): the e-mail goes through the queue in the user's stored language and names who sent
// it, the link sets a password once, the send is audited; another tenant's user is not found,
// and an account that could not sign in gets no link. Before, staff could only generate a
// password to copy by hand.
func TestSendResetForSomeone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	staff := f.superAdmin(t)
	before := time.Now()
	sent, err := f.svc.SendReset(ctx, staff, f.bUser, "Sara Staff")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Email != "bia@b.test" || sent.ExpiresAt.Before(before.Add(59*time.Minute)) || sent.ExpiresAt.After(before.Add(61*time.Minute)) {
		t.Fatalf("sent %+v, want bia@b.test for one hour", sent)
	}
	msgs := f.deliver(t)
	if len(msgs) != 1 || msgs[0].Subject != "Reset your password" || !strings.Contains(msgs[0].Text, "Sara Staff") {
		t.Fatalf("%d messages; want one English reset naming the sender: %+v", len(msgs), msgs)
	}
	tok := tokenIn(t, msgs[0], "reset")
	if _, err := f.svc.CompleteReset(ctx, anon("10.3.3.3"), tok, "senha-nova-bia-2", "senha-nova-bia-2"); err != nil {
		t.Fatal(err)
	}
	if !f.canSignIn(t, "bia@b.test", "senha-nova-bia-2") {
		t.Fatal("the link did not set the password")
	}
	if _, err := f.svc.CompleteReset(ctx, anon("10.3.3.3"), tok, "outra-senha-bia-3", "outra-senha-bia-3"); err != account.ErrLinkInvalid {
		t.Errorf("reused link: %v", err)
	}
	su := pgtest.Conn(t, f.env.SuperURL)
	var n int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action = 'password_reset.send' AND entity_id = $1::bigint::text
		AND tenant_id = $2 AND actor_user_id = $3`, f.bUser, f.b, staff.UserID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d password_reset.send events by the staff member, want 1 (%v)", n, err)
	}

	// A tenant admin: their own tenant's users only; another tenant's is not found.
	if _, err := f.svc.SendReset(ctx, f.adminA(), f.bUser, "Ana"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("tenant admin resetting another tenant's user: %v, want NotFound", err)
	}
	// An inactive account gets no link, and nothing is stored.
	if _, err := su.Exec(ctx, `UPDATE app.users SET is_active = false WHERE id = $1`, f.bUser); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SendReset(ctx, staff, f.bUser, "Sara Staff"); apperr.KeyOf(err) != "err.reset.cannot_sign_in" {
		t.Errorf("inactive account: %v, want err.reset.cannot_sign_in", err)
	}
	if err := su.QueryRow(ctx, `SELECT count(*) FROM app.password_resets WHERE user_id = $1`, f.bUser).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d resets stored for the user, want only the first (%v)", n, err)
	}
	if got := f.deliver(t); len(got) != 0 {
		t.Errorf("%d more messages, want none", len(got))
	}
}

// The invitation form's address and name are checked once, by the table's named constraints;
// the answer is the constraint's message, carrying the database's own error. Before, Go
// repeated both checks and answered before the database was asked.
func TestInvitationRulesAnsweredByTheirConstraints(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, c := range []struct{ email, name, constraint string }{
		{"sem-arroba.test", "Nome", "invitations_email_format"},
		{"nome@longo.test", strings.Repeat("x", 121), "invitations_full_name_length"},
	} {
		_, err := f.svc.Invite(ctx, f.adminA(), account.Invitation{TenantID: f.a, Email: c.email, FullName: c.name, Role: "client", InvitedBy: "Ana"})
		var pe *pgconn.PgError
		if apperr.KeyOf(err) != pg.ConstraintKeyPrefix+c.constraint || !errors.As(err, &pe) || pe.ConstraintName != c.constraint {
			t.Errorf("%q/%d chars: %v, want the database's %s", c.email, len(c.name), err, c.constraint)
		}
	}
	if got := f.deliver(t); len(got) != 0 {
		t.Errorf("%d messages after refused invitations", len(got))
	}
}
