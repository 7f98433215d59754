package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The bench's own SQL is setup and fixture work on a throwaway cluster (databases, a bench-only
// role, touching source rows), never product queries: every product query it times is the
// sqlc-generated one. Identifiers are quoted by the server (format %I/%L), never spliced in Go.

// retarget returns rawURL pointing at database db (and, when user != "", as user/password).
func retarget(rawURL, db, user, password string) (string, error) {
	if strings.Contains(rawURL, "://") {
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", err
		}
		u.Path = "/" + db
		u.RawPath = ""
		if user != "" {
			u.User = url.UserPassword(user, password)
		}
		return u.String(), nil
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return "", err
	}
	if user == "" {
		user, password = cfg.User, cfg.Password
	}
	q := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		q(cfg.Host), cfg.Port, q(user), q(password), q(db)), nil
}

// userOf returns the user and password of a connection string.
func userOf(rawURL string) (string, string, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return "", "", err
	}
	return cfg.User, cfg.Password, nil
}

// execFormat builds a utility statement server-side with format() (identifiers %I, literals %L)
// and runs it.
func execFormat(ctx context.Context, conn *pgx.Conn, tmpl string, args ...any) error {
	ph := make([]string, len(args))
	for i := range args {
		ph[i] = fmt.Sprintf(", $%d::text", i+2)
	}
	var stmt string
	if err := conn.QueryRow(ctx, "SELECT format($1::text"+strings.Join(ph, "")+")", append([]any{tmpl}, args...)...).Scan(&stmt); err != nil {
		return fmt.Errorf("format %q: %w", tmpl, err)
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// databases are the bench's throwaway databases and role.
type databases struct {
	analytics, chatwoot string
	bypassRole          string
	bypassPassword      string

	authURL, ownerURL, cwAdminURL, cwReaderURL, superAnalyticsURL, bypassURL string
}

// createDatabases creates a fresh analytics database and a fresh Chatwoot database on the
// cluster of cfg.SuperURL, owned like `db/pgcluster.sh bootstrap` does, and the BYPASSRLS role
// used only for the RLS-overhead comparison.
func createDatabases(ctx context.Context, cfg *Config, stamp string) (*databases, error) {
	d := &databases{
		analytics:      "geniai_bench_" + stamp,
		chatwoot:       "chatwoot_bench_" + stamp,
		bypassRole:     "geniai_bench_bypass_" + stamp,
		bypassPassword: randomHex(16),
	}
	owner, _, err := userOf(cfg.MigrationURL)
	if err != nil {
		return nil, fmt.Errorf("MIGRATION_DATABASE_URL: %w", err)
	}
	reader, _, err := userOf(cfg.ChatwootURL)
	if err != nil {
		return nil, fmt.Errorf("CHATWOOT_DATABASE_URL: %w", err)
	}
	super, err := pgx.Connect(ctx, cfg.SuperURL)
	if err != nil {
		return nil, fmt.Errorf("superuser connection (PGSUPER_URL): %w", err)
	}
	defer super.Close(context.WithoutCancel(ctx))
	for _, db := range []string{d.analytics, d.chatwoot} {
		if err := execFormat(ctx, super, "CREATE DATABASE %I OWNER %I", db, owner); err != nil {
			return nil, err
		}
	}
	if err := execFormat(ctx, super, "CREATE ROLE %I LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L", d.bypassRole, d.bypassPassword); err != nil {
		return nil, err
	}
	// The Chatwoot database: readable by the ETL's read-only role, as bootstrap sets it up.
	cwSuper, err := retarget(cfg.SuperURL, d.chatwoot, "", "")
	if err != nil {
		return nil, err
	}
	c, err := pgx.Connect(ctx, cwSuper)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, s := range []struct {
		tmpl string
		args []any
	}{
		{"GRANT CONNECT ON DATABASE %I TO %I", []any{d.chatwoot, reader}},
		{"GRANT USAGE ON SCHEMA public TO %I", []any{reader}},
		{"ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT ON TABLES TO %I", []any{owner, reader}},
	} {
		if err := execFormat(ctx, c, s.tmpl, s.args...); err != nil {
			return nil, err
		}
	}
	if d.authURL, err = retarget(cfg.DatabaseURL, d.analytics, "", ""); err != nil {
		return nil, err
	}
	if d.ownerURL, err = retarget(cfg.MigrationURL, d.analytics, "", ""); err != nil {
		return nil, err
	}
	if d.cwAdminURL, err = retarget(cfg.ChatwootAdminURL, d.chatwoot, "", ""); err != nil {
		return nil, err
	}
	if d.cwReaderURL, err = retarget(cfg.ChatwootURL, d.chatwoot, "", ""); err != nil {
		return nil, err
	}
	if d.superAnalyticsURL, err = retarget(cfg.SuperURL, d.analytics, "", ""); err != nil {
		return nil, err
	}
	// The bypass role connects like the server does (DATABASE_URL's host), with its own password.
	if d.bypassURL, err = retarget(cfg.DatabaseURL, d.analytics, d.bypassRole, d.bypassPassword); err != nil {
		return nil, err
	}
	return d, nil
}

// grantBypass lets the bench role read what geniai_tenant reads (after migrations made it).
func (d *databases) grantBypass(ctx context.Context) error {
	c, err := pgx.Connect(ctx, d.superAnalyticsURL)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return execFormat(ctx, c, "GRANT geniai_tenant TO %I", d.bypassRole)
}

// drop removes the databases and the role.
func (d *databases) drop(ctx context.Context, superURL string) error {
	super, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return err
	}
	defer super.Close(context.WithoutCancel(ctx))
	var first error
	for _, db := range []string{d.analytics, d.chatwoot} {
		if err := execFormat(ctx, super, "DROP DATABASE IF EXISTS %I WITH (FORCE)", db); err != nil && first == nil {
			first = err
		}
	}
	if err := execFormat(ctx, super, "DROP ROLE IF EXISTS %I", d.bypassRole); err != nil && first == nil {
		first = err
	}
	return first
}
