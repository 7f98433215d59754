package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestLockoutCannotBeWeaponised: an anonymous attacker who knows an e-mail can lock it only for
// the network the attack comes from. The attacker sees the lock (429, the generic message, even
// for the right password); the account's owner on any other network signs in as usual. This is
// the reproduction of the review: before, five wrong passwords locked the account everywhere.
func TestLockoutCannotBeWeaponised(t *testing.T) {
	t.Parallel()
	env, _, a, _ := fixture(t)
	ctx := context.Background()
	au := &auth.Authenticator{DB: env.DB, Cost: auth.MinBcryptCost}
	login := func(email, password, ip string) error {
		_, err := au.Login(ctx, auth.Attempt{Email: email, Password: password, IP: ip, UserAgent: "test"})
		return err
	}
	for _, c := range []struct{ attacker, neighbour, victim string }{
		{"203.0.113.7", "203.0.113.200", "198.51.100.20"},              // IPv4: the attacker's /24
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"}, // IPv6: the attacker's /64
	} {
		for i := 0; i < 5; i++ {
			if err := login("a@acme.com.br", "wrong password", c.attacker); apperr.Is(err, apperr.TooMany) != (i == 4) {
				t.Fatalf("%s attempt %d: %v", c.attacker, i+1, err)
			}
		}
		// The attacker's view: locked, from any address of the network, right password or not.
		for _, ip := range []string{c.attacker, c.neighbour} {
			err := login("a@acme.com.br", pw, ip)
			var te *auth.ThrottledError
			if !apperr.Is(err, apperr.TooMany) || apperr.Message(err, locale.PT) != locale.Translate(locale.PT, auth.KeyBadCredentials) {
				t.Fatalf("%s: want the generic lockout, got %v", ip, err)
			} else if !asThrottled(err, &te) || te.RetryAfter < 14*time.Minute || te.RetryAfter > 15*time.Minute {
				t.Fatalf("%s: retry after %v", ip, te)
			}
		}
		// The victim's view: elsewhere, nothing happened.
		if err := login("a@acme.com.br", pw, c.victim); err != nil {
			t.Fatalf("the owner on %s is locked out too: %v", c.victim, err)
		}
		// The victim's success does not lift the attacker's lock.
		if err := login("a@acme.com.br", pw, c.attacker); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("the attacker's lock was lifted by the owner's sign-in: %v", err)
		}
	}
	// An unknown e-mail locks the same way (a lockout reveals nothing).
	for i := 0; i < 5; i++ {
		_ = login("ghost@acme.com.br", "wrong password", "203.0.113.7")
	}
	if err := login("ghost@acme.com.br", "wrong password", "203.0.113.7"); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("unknown e-mail: %v", err)
	}

	// Staff see the account (locked on two networks) but no attack yet; the super_admin's
	// unlock lifts both locks and is audited.
	staff := pg.System("cli")
	watch := func() []dbsqlc.LoginWatchRow {
		t.Helper()
		var rows []dbsqlc.LoginWatchRow
		if err := env.DB.InReadTx(ctx, staff, func(tx pg.Tx) error {
			var err error
			rows, err = tx.LoginWatch(ctx, 50)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if w := watch(); len(w) != 1 || w[0].UserID != a || w[0].LockedNetworks != 2 || w[0].Attacked {
		t.Fatalf("watch: %+v", w)
	}
	if err := env.DB.InTx(ctx, staff, func(tx pg.Tx) error { _, err := tx.UserUnlock(ctx, a); return err }); err != nil {
		t.Fatal(err)
	}
	if err := login("a@acme.com.br", pw, "203.0.113.7"); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	su := pgtest.Conn(t, env.SuperURL)
	var unlocks int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action = 'user.unlock' AND entity_id = $1::bigint::text`, a).Scan(&unlocks); err != nil || unlocks != 1 {
		t.Fatalf("user.unlock events: %d %v", unlocks, err)
	}
}

// TestDistributedGuessingRaisesAnAlert: a few guesses from each of many networks lock nobody,
// but after the third network the account is flagged for staff and one alert is audited (not
// one per failure).
func TestDistributedGuessingRaisesAnAlert(t *testing.T) {
	t.Parallel()
	env, _, a, _ := fixture(t)
	ctx := context.Background()
	au := &auth.Authenticator{DB: env.DB, Cost: auth.MinBcryptCost}
	for _, ip := range []string{"192.0.2.1", "198.51.100.1", "203.0.113.1", "100.64.0.1"} {
		for i := 0; i < 3; i++ {
			if _, err := au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: "guess", IP: ip}); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("%s: %v", ip, err)
			}
		}
	}
	if _, err := au.Login(ctx, auth.Attempt{Email: "a@acme.com.br", Password: pw, IP: "100.64.9.9"}); err != nil {
		t.Fatalf("the owner cannot sign in during a distributed attack: %v", err)
	}
	var rows []dbsqlc.LoginWatchRow
	if err := env.DB.InReadTx(ctx, pg.System("cli"), func(tx pg.Tx) error {
		var err error
		rows, err = tx.LoginWatch(ctx, 50)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].UserID != a || !rows[0].Attacked || rows[0].Networks != 4 || rows[0].Failures != 12 || rows[0].LockedNetworks != 0 {
		t.Fatalf("watch: %+v", rows)
	}
	su := pgtest.Conn(t, env.SuperURL)
	var alerts int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action = 'login.attack_suspected' AND entity_id = $1::bigint::text
		AND new_values->>'networks_24h' = '3'`, a).Scan(&alerts); err != nil || alerts != 1 {
		t.Fatalf("alerts: %d %v", alerts, err)
	}
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE action = 'login.attack_suspected'`).Scan(&alerts); err != nil || alerts != 1 {
		t.Fatalf("alerts in all: %d %v", alerts, err)
	}
	// A support member sees it too; a tenant user may not call the function at all.
	if err := env.DB.InReadTx(ctx, pg.Principal{DBRole: pg.RoleStaff, Role: pg.AppSupport, Actor: "test"}, func(tx pg.Tx) error {
		r, err := tx.LoginWatch(ctx, 50)
		if err == nil && len(r) != 1 {
			t.Errorf("support sees %d rows", len(r))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func asThrottled(err error, te **auth.ThrottledError) bool {
	for e := err; e != nil; {
		if x, ok := e.(*auth.ThrottledError); ok {
			*te = x
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// TestWeakPasswordsRefused is the review's reproduction (ASVS 2.1.7): long but guessable
// passwords were accepted. Each is refused with a message that says why and what to do instead;
// long random-looking or many-word passwords pass.
func TestWeakPasswordsRefused(t *testing.T) {
	t.Parallel()
	for pw, why := range map[string]string{
		"123456789012":            "senhas mais usadas",
		"aaaaaaaaaaaa":            "repete o mesmo trecho",
		"passwordpassword":        "repete o mesmo trecho",
		"abcdefghijkl":            "sequência",
		"qwertyuiopasdf":          "senhas mais usadas",
		"iloveyou1234":            "senhas mais usadas",
		"senha12345678":           "senhas mais usadas",
		"ana.souza@acme.com.br!!": "e-mail",
		"anasouzaanasouza":        "repete",
	} {
		err := auth.ValidatePassword(pw, "ana.souza@acme.com.br")
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.Message(err, locale.PT), why) || !strings.Contains(apperr.Message(err, locale.PT), "frase") {
			t.Errorf("%q: %v (want a refusal saying %q and what to do)", pw, err, why)
		}
		if err != nil && strings.Contains(apperr.Message(err, locale.PT), pw) {
			t.Errorf("%q: the message repeats the password", pw)
		}
	}
	for _, pw := range []string{"café sábado bicicleta azul", "correct horse battery", "Tr0ub4dor&3xyz!", auth.GeneratePassword()} {
		if err := auth.ValidatePassword(pw, "ana.souza@acme.com.br"); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}
