package pg_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestConstraintMessages: every constraint of schema app (the user-editable data), and every
// constraint name its trigger functions raise, has exactly one message, err.constraint.<name>,
// in both languages; every such message names a constraint that exists; and a violation of it
// reaches the person as that message.
func TestConstraintMessages(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	rows, err := su.Query(ctx, `
		SELECT c.conname::text, c.contype::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE n.nspname = 'app' AND c.contype IN ('c', 'f', 'p', 'u', 'x')
		UNION ALL
		SELECT m[1], 'raised'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
		     regexp_matches(p.prosrc, 'CONSTRAINT\s*=\s*''([a-z0-9_]+)''', 'g') AS m
		WHERE n.nspname = 'app'`)
	if err != nil {
		t.Fatal(err)
	}
	type constraint struct{ Name, Kind string }
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[constraint])
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 30 {
		t.Fatalf("read %d constraints of schema app", len(list))
	}
	generated := regexp.MustCompile(`_(check\d*|key)$`)
	names := map[string]bool{}
	for _, c := range list {
		names[c.Name] = true
		key := pg.ConstraintKeyPrefix + c.Name
		if !locale.Has(locale.PT, key) || !locale.Has(locale.EN, key) {
			t.Errorf("constraint %s has no message %s in both catalogues", c.Name, key)
		}
		if generated.MatchString(c.Name) {
			t.Errorf("constraint %s has a generated name: name it after its rule", c.Name)
		}
		code := "23514"
		switch c.Kind {
		case "u", "p":
			code = "23505"
		case "f":
			code = "23503"
		}
		got := pg.MapError(&pgconn.PgError{Code: code, ConstraintName: c.Name})
		if apperr.KeyOf(got) != key {
			t.Errorf("violating %s reads %q, want %s", c.Name, apperr.KeyOf(got), key)
		}
	}
	for _, k := range locale.Keys(locale.PT) {
		if name, ok := strings.CutPrefix(k, pg.ConstraintKeyPrefix); ok && !names[name] {
			t.Errorf("message %s names no constraint of schema app", k)
		}
	}
}

// TestStaffDefinedOnce: "staff" is app.is_staff in SQL and pg.StaffRoles in Go, and they agree;
// no policy or function spells the role list again (a policy calls app.is_staff).
func TestStaffDefinedOnce(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	for _, role := range []string{pg.AppClient, pg.AppAdmin, pg.AppSuperAdmin, pg.AppSupport, "", "boss"} {
		var staff bool
		if err := su.QueryRow(ctx, `SELECT coalesce(app.is_staff(nullif($1, '')), false)`, role).Scan(&staff); err != nil {
			t.Fatal(err)
		}
		if staff != pg.IsStaffRole(role) {
			t.Errorf("role %q: app.is_staff %t, pg.IsStaffRole %t", role, staff, !staff)
		}
	}
	var spelled []string
	rows, err := su.Query(ctx, `
		SELECT format('policy %s on %s.%s', policyname, schemaname, tablename)
		FROM pg_policies
		WHERE coalesce(qual, '') ~ '''support''' OR coalesce(with_check, '') ~ '''support'''
		UNION ALL
		SELECT format('function %s', p.oid::regprocedure)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname IN ('app', 'audit', 'etl', 'analytics') AND p.prosrc ~ '''support'''
		  AND p.oid <> 'app.is_staff(text)'::regprocedure`)
	if err != nil {
		t.Fatal(err)
	}
	if spelled, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	slices.Sort(spelled)
	for _, s := range spelled {
		t.Errorf("%s spells the staff roles instead of calling app.is_staff", s)
	}
	var staffReads int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM pg_policies WHERE qual ~ 'app\.is_staff\('`).Scan(&staffReads); err != nil || staffReads < 16 {
		t.Errorf("%d policies call app.is_staff (%v)", staffReads, err)
	}
}
