package auth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

const pw = "correct horse battery"

func fixture(t *testing.T) (*pgtest.Env, int64, int64, int64) {
	t.Helper()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	ctx := context.Background()
	hash, err := auth.Hash(pw, auth.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	var tid, a, b int64
	if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ('acme', 'Acme') RETURNING id`).Scan(&tid); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		email string
		id    *int64
	}{{"a@acme.com.br", &a}, {"b@acme.com.br", &b}} {
		if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, 'client') RETURNING id`,
			tid, u.email, hash).Scan(u.id); err != nil {
			t.Fatal(err)
		}
	}
	return env, tid, a, b
}

// TestLoginFunctionGrants checks who may call what: the login functions are for geniai_anon
// only, the principal functions for signed-in roles only, and each answers only for its caller.
func TestLoginFunctionGrants(t *testing.T) {
	t.Parallel()
	env, tid, a, b := fixture(t)
	ctx := context.Background()
	anon := pg.Anon("192.0.2.1", "test")
	userA := pg.User(tid, a, pg.AppClient, "192.0.2.1", "test")

	// anon: lookup works, principal functions are refused.
	if err := env.DB.InReadTx(ctx, anon, func(tx pg.Tx) error {
		_, err := tx.LoginLookup(ctx, dbsqlc.LoginLookupParams{Email: "a@acme.com.br"})
		return err
	}); err != nil {
		t.Fatalf("anon lookup: %v", err)
	}
	for name, fn := range map[string]func(tx pg.Tx) error{
		"principal_check": func(tx pg.Tx) error {
			_, err := tx.PrincipalCheck(ctx, dbsqlc.PrincipalCheckParams{UserID: a, AuthVersion: 1})
			return err
		},
		"user_own_password_check": func(tx pg.Tx) error { _, err := tx.UserOwnPasswordCheck(ctx); return err },
		"user_own_password_fail":  func(tx pg.Tx) error { _, err := tx.UserOwnPasswordFail(ctx); return err },
		"audit.log": func(tx pg.Tx) error {
			_, err := tx.AuditEvent(ctx, dbsqlc.AuditEventParams{Action: "x", Entity: "y"})
			return err
		},
	} {
		if err := env.DB.InTx(ctx, anon, fn); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("anon %s: want permission error, got %v", name, err)
		}
	}
	// signed-in roles: login functions are refused.
	for name, fn := range map[string]func(tx pg.Tx) error{
		"login_lookup": func(tx pg.Tx) error {
			_, err := tx.LoginLookup(ctx, dbsqlc.LoginLookupParams{Email: "a@acme.com.br"})
			return err
		},
		"login_fail": func(tx pg.Tx) error {
			_, err := tx.LoginFail(ctx, dbsqlc.LoginFailParams{Email: "b@acme.com.br", IP: "192.0.2.1"})
			return err
		},
		"login_succeed": func(tx pg.Tx) error {
			_, err := tx.LoginSucceed(ctx, dbsqlc.LoginSucceedParams{UserID: b, IP: "192.0.2.1"})
			return err
		},
		"password_hash column": func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, "SELECT password_hash FROM app.users")
			return err
		},
		"login_throttle": func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, "SELECT * FROM app.login_throttle")
			return err
		},
		"login_failures": func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, "SELECT * FROM app.login_failures")
			return err
		},
		"login_count_failure": func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, "SELECT * FROM app.login_count_failure('b@acme.com.br', 'login.failure', '192.0.2.1')")
			return err
		},
		"login_watch": func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, "SELECT * FROM app.login_watch(10)")
			return err
		},
		"login_unlock": func(tx pg.Tx) error {
			_, err := tx.UserUnlock(ctx, b)
			return err
		},
	} {
		if err := env.DB.InTx(ctx, userA, fn); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("tenant %s: want permission error, got %v", name, err)
		}
	}
	// principal_check answers only for the context user.
	err := env.DB.InReadTx(ctx, userA, func(tx pg.Tx) error {
		row, err := tx.PrincipalCheck(ctx, dbsqlc.PrincipalCheckParams{UserID: a, AuthVersion: 1})
		if err != nil || !row.Allowed {
			t.Errorf("own check: %+v %v", row, err)
		}
		if row, err := tx.PrincipalCheck(ctx, dbsqlc.PrincipalCheckParams{UserID: a, AuthVersion: 2}); err != nil || row.Allowed {
			t.Errorf("stale auth_version allowed: %+v %v", row, err)
		}
		if _, err := tx.PrincipalCheck(ctx, dbsqlc.PrincipalCheckParams{UserID: b, AuthVersion: 1}); !pg.IsNoRows(err) {
			t.Errorf("check of another user: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// user_set_own_password changes only the caller, bumps auth_version and never the role.
	var version int32
	if err := env.DB.InTx(ctx, userA, func(tx pg.Tx) error {
		var err error
		version, err = tx.UserSetOwnPassword(ctx, "$2a$10$abcdefghijklmnopqrstuuGQ3J5hVxvwEtIoX8s3F2eC0lAqvJ2mC")
		return err
	}); err != nil || version != 2 {
		t.Fatalf("set own password: %d %v", version, err)
	}
	su := pgtest.Conn(t, env.SuperURL)
	var av int
	var role string
	if err := su.QueryRow(ctx, `SELECT auth_version, role FROM app.users WHERE id = $1`, b).Scan(&av, &role); err != nil || av != 1 || role != "client" {
		t.Fatalf("other user touched: %d %s %v", av, role, err)
	}
	// anon may not touch the throttle tables nor call the internal helper directly either.
	for name, q := range map[string]string{
		"login_throttle":      "SELECT * FROM app.login_throttle",
		"login_failures":      "DELETE FROM app.login_failures",
		"login_count_failure": "SELECT * FROM app.login_count_failure('b@acme.com.br', 'login.failure', '192.0.2.1')",
		"login_summarise":     "SELECT app.login_summarise(1)",
		"login_unlock":        "SELECT * FROM app.login_unlock(1)",
	} {
		if err := env.DB.InTx(ctx, anon, func(tx pg.Tx) error { _, err := tx.Raw.Exec(ctx, q); return err }); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("anon %s: want permission error, got %v", name, err)
		}
	}
	// The functions are SECURITY DEFINER with search_path = pg_catalog, pg_temp, and not
	// executable by PUBLIC; the internal helpers are not SECURITY DEFINER and executable by no
	// application role.
	var bad []string
	rows, err := su.Query(ctx, `
		SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'app' AND p.proname IN ('login_lookup', 'login_fail', 'login_succeed', 'login_ip_blocked',
		      'principal_check', 'user_own_password_check', 'user_own_password_fail', 'user_set_own_password',
		      'login_unlock', 'login_watch', 'login_count_failure', 'login_retry_seconds', 'login_network',
		      'login_client', 'login_email_hash', 'login_locked_until', 'login_summarise')
		  AND (p.prosecdef = (p.proname IN ('login_count_failure', 'login_retry_seconds', 'login_network', 'login_client', 'login_email_hash', 'login_locked_until', 'login_summarise'))
		       OR NOT coalesce(p.proconfig, '{}') @> '{"search_path=pg_catalog, pg_temp"}'
		       OR has_function_privilege('public', p.oid, 'EXECUTE')
		       OR (p.proname IN ('login_count_failure', 'login_retry_seconds', 'login_network', 'login_client', 'login_email_hash', 'login_locked_until', 'login_summarise')
		           AND (has_function_privilege('geniai_anon', p.oid, 'EXECUTE')
		                OR has_function_privilege('geniai_tenant', p.oid, 'EXECUTE')
		                OR has_function_privilege('geniai_staff', p.oid, 'EXECUTE'))))
		UNION ALL
		SELECT 'missing' FROM (SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		      WHERE n.nspname = 'app' AND p.proname IN ('login_lookup', 'login_fail', 'login_succeed', 'login_ip_blocked',
		      'principal_check', 'user_own_password_check', 'user_own_password_fail', 'user_set_own_password',
		      'login_unlock', 'login_watch', 'login_count_failure', 'login_retry_seconds', 'login_network',
		      'login_client', 'login_email_hash', 'login_locked_until', 'login_summarise')) c WHERE c.n <> 17`)
	if err != nil {
		t.Fatal(err)
	}
	bad, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(bad) != 0 {
		t.Fatalf("login functions with a wrong SECURITY DEFINER/search_path/grant: %v (%v)", bad, err)
	}
}

// TestLoginTimeIsTheDatabases: every lockout and throttle decision uses the database clock. No
// login function takes a time, so nothing a caller passes (not even SQL run as geniai_anon) can
// shorten a lockout, unblock an IP or purge throttle rows; only time passing (simulated by ageing
// the stored times as a superuser) releases them.
func TestLoginTimeIsTheDatabases(t *testing.T) {
	t.Parallel()
	env, _, a, _ := fixture(t)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	au := &auth.Authenticator{DB: env.DB, Cost: auth.MinBcryptCost}
	for i := 0; i < 5; i++ {
		_, _ = au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: "wrong", IP: "192.0.2.9"})
	}
	if _, err := su.Exec(ctx, `INSERT INTO app.login_throttle (ip, window_start, failures) VALUES ('192.0.2.50', now(), 30)`); err != nil {
		t.Fatal(err)
	}
	locked := func() (until time.Time) {
		t.Helper()
		if err := su.QueryRow(ctx, `SELECT locked_until FROM app.users WHERE id = $1`, a).Scan(&until); err != nil {
			t.Fatal(err)
		}
		return until
	}
	lockedUntil := locked()
	if time.Until(lockedUntil) < 14*time.Minute {
		t.Fatalf("not locked: %v", lockedUntil)
	}

	// No login function accepts a time (nor a date or interval) argument.
	var timeArgs []string
	rows, err := su.Query(ctx, `
		SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'app' AND (p.proname LIKE 'login%' OR p.proname LIKE 'user_own_password%'
		                             OR p.proname IN ('principal_check', 'user_set_own_password'))
		  AND p.proname <> 'login_retry_seconds'
		  AND EXISTS (SELECT FROM unnest(p.proargtypes::oid[]) a(t)
		              WHERE a.t IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype, 'interval'::regtype))`)
	if err != nil {
		t.Fatal(err)
	}
	if timeArgs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(timeArgs) != 0 {
		t.Fatalf("functions taking a time: %v (%v)", timeArgs, err)
	}

	// As geniai_anon (what injected SQL would run as, through the authenticator): the old
	// clock-taking forms no longer exist, and what remains releases nothing.
	raw := pgtest.Conn(t, env.AuthURL)
	if _, err := raw.Exec(ctx, `SET ROLE geniai_anon`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT app.login_ip_blocked('192.0.2.50', now() + interval '1 day')`,
		`SELECT app.login_succeed(` + itoa(a) + `, NULL, 'x', now() + interval '2 days')`,
		`SELECT * FROM app.login_fail('zz@x.example', '192.0.2.51', 'x', now() + interval '1 year')`,
		`SELECT * FROM app.principal_check(` + itoa(a) + `, 1, now() + interval '1 year')`,
	} {
		_, err := raw.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42883" { // undefined_function
			t.Errorf("%s: want undefined_function, got %v", q, err)
		}
	}
	var retry, blocked int32
	if err := raw.QueryRow(ctx, `SELECT app.login_succeed($1, '192.0.2.9', 'x')`, a).Scan(&retry); err != nil || retry < 14*60 {
		t.Errorf("login_succeed on a locked account: %d %v", retry, err)
	}
	for i := 0; i < 3; i++ { // failures from elsewhere purge nothing still in force
		if _, err := raw.Exec(ctx, `SELECT * FROM app.login_fail('zz@x.example', '192.0.2.51', 'x')`); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.QueryRow(ctx, `SELECT app.login_ip_blocked('192.0.2.50')`).Scan(&blocked); err != nil || blocked < 9*60 {
		t.Errorf("IP unblocked: %d %v", blocked, err)
	}
	if got := locked(); !got.Equal(lockedUntil) {
		t.Fatalf("lockout moved: %v → %v", lockedUntil, got)
	}
	if _, err := au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: pw, IP: "192.0.2.9"}); !apperr.Is(err, apperr.TooMany) || apperr.Message(err, locale.PT) != locale.Translate(locale.PT, auth.KeyBadCredentials) {
		t.Fatalf("want a lockout with the generic message, got %v", err)
	}
	if _, err := au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: pw, IP: "192.0.2.50"}); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("blocked IP: %v", err)
	}

	// Time passes (the stored times age): the account and the IP are released.
	if _, err := su.Exec(ctx, `UPDATE app.login_failures SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `UPDATE app.login_throttle SET window_start = window_start - interval '10 minutes' WHERE ip = '192.0.2.50'`); err != nil {
		t.Fatal(err)
	}
	if _, err := au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: pw, IP: "192.0.2.50"}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestSignInRefusal: app.sign_in_refusal is the one rule of who may sign in (and stay signed in),
// by the database clock; sign-in (app.login_lookup) and the per-request app.principal_check both
// call it and neither spells the rule again; auth.Refusal only turns its reason into a message.
func TestSignInRefusal(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	ctx := context.Background()
	for _, c := range []struct {
		active bool
		status string
		trial  string // interval from now; "" for no trial end
		want   string
	}{
		{true, "active", "", ""},
		{true, "trial", "1 hour", ""},
		{true, "trial", "-1 hour", "trial_ended"},
		{true, "trial", "", "trial_ended"},
		{true, "suspended", "", "suspended"},
		{true, "cancelled", "", "cancelled"},
		{false, "active", "", "inactive"},
		{false, "suspended", "", "inactive"},
		{true, "weird", "", "not_active"},
	} {
		var reason string
		if err := su.QueryRow(ctx, `SELECT coalesce(app.sign_in_refusal($1, $2, now() + nullif($3, '')::interval), '')`,
			c.active, c.status, c.trial).Scan(&reason); err != nil {
			t.Fatal(err)
		}
		if reason != c.want {
			t.Errorf("%+v: refusal %q", c, reason)
		}
		err := auth.Refusal(reason)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: refused: %v", c, err)
		case c.want != "" && (!apperr.Is(err, apperr.Forbidden) || apperr.KeyOf(err) != "err.login.refused."+c.want):
			t.Errorf("%+v: want Forbidden err.login.refused.%s, got %v", c, c.want, err)
		}
	}
	rows, err := su.Query(ctx, `
		SELECT p.proname, p.prosrc ~ 'sign_in_refusal', p.prosrc ~ '''trial''' OR p.prosrc ~ 'is_active\s+AND'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'app' AND p.proname IN ('login_lookup', 'principal_check')`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var name string
		var calls, spells bool
		if err := rows.Scan(&name, &calls, &spells); err != nil {
			t.Fatal(err)
		}
		seen++
		if !calls || spells {
			t.Errorf("app.%s: calls app.sign_in_refusal %t, spells the rule itself %t", name, calls, spells)
		}
	}
	if rows.Err() != nil || seen != 2 {
		t.Fatalf("read %d functions: %v", seen, rows.Err())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
