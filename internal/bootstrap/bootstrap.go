// Package bootstrap writes (and applies) the SQL a DBA runs once to install GeniAI Analytics on
// an existing PostgreSQL: the cluster's roles and the database, the Chatwoot read-only role on
// Chatwoot's database, and the one backup role. Migrations cannot do this part: roles belong to
// the cluster, and `geniai migrate` runs as the schema owner, which must exist first and may
// create no role.
//
// Every script is idempotent (running it again resets attributes and passwords and changes
// nothing else), runs as a superuser or as a managed PostgreSQL's administrator (CREATEROLE and
// CREATEDB, no superuser) — except the backup role's, which PostgreSQL 15 reserves to a superuser
// — and carries passwords only as SCRAM-SHA-256 verifiers, never in clear.
package bootstrap

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/etl"
)

// Role names are fixed: the migrations, policies and the catalog tests name them.
const (
	Owner         = "geniai_owner"
	Authenticator = "geniai_authenticator"
	Backup        = "geniai_backup"
)

// requestRoles are the roles the authenticator switches to; nobody logs in as them.
var requestRoles = []string{"geniai_anon", "geniai_tenant", "geniai_staff", "geniai_etl"}

// Script is one bootstrap script: a transaction, then (optionally) a database created when
// missing, then statements that need that database to exist.
type Script struct {
	Title    string // the header comment
	Tx       string // statements run in one transaction
	Database string // created (OWNER geniai_owner) when missing; "" for none
	After    string // statements run after the database exists, in one transaction
}

// SQL is the script as psql runs it: `psql -v ON_ERROR_STOP=1 -d postgres -f FILE`.
func (s Script) SQL() string {
	var b strings.Builder
	b.WriteString(s.Title)
	b.WriteString("\\set ON_ERROR_STOP on\nBEGIN;\n")
	b.WriteString(s.Tx)
	b.WriteString("COMMIT;\n")
	if s.Database != "" {
		fmt.Fprintf(&b, "\n-- The database, created only when it does not exist yet.\n"+
			"SELECT %s WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %s) \\gexec\n",
			literal(createDatabase(s.Database)), literal(s.Database))
	}
	if s.After != "" {
		b.WriteString("BEGIN;\n")
		b.WriteString(s.After)
		b.WriteString("COMMIT;\n")
	}
	return b.String()
}

// Apply runs the script on conn, reporting each step to progress (nil: silent).
func (s Script) Apply(ctx context.Context, conn *pgx.Conn, progress func(string)) error {
	say := func(msg string) {
		if progress != nil {
			progress(msg)
		}
	}
	// No arguments: pgx sends the statements in one simple-protocol request.
	if _, err := conn.Exec(ctx, "BEGIN;\n"+s.Tx+"COMMIT;"); err != nil {
		return explain(err)
	}
	say("papéis: ok")
	if s.Database != "" {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", s.Database).Scan(&exists); err != nil {
			return explain(err)
		}
		if exists {
			say("banco " + s.Database + ": já existe")
		} else {
			if _, err := conn.Exec(ctx, createDatabase(s.Database)); err != nil {
				return explain(err)
			}
			say("banco " + s.Database + ": criado")
		}
	}
	if s.After != "" {
		if _, err := conn.Exec(ctx, "BEGIN;\n"+s.After+"COMMIT;"); err != nil {
			return explain(err)
		}
	}
	return nil
}

// explain turns the server's refusal into one line an operator can act on.
func explain(err error) error {
	return apperr.Wrap(err, apperr.Invalid, "err.bootstrap.refused", err)
}

func createDatabase(name string) string {
	// UTF8 whatever the cluster's default: the product stores Portuguese text.
	return fmt.Sprintf("CREATE DATABASE %s OWNER %s ENCODING 'UTF8' TEMPLATE template0", ident(name), Owner)
}

// Passwords are what the operator supplies for the login roles.
type Passwords struct {
	Owner, Authenticator string
}

// Roles is the script for the cluster that holds GeniAI's database: the schema owner, the
// authenticator, the request roles and their memberships, and the database itself.
func Roles(database string, pw Passwords) (Script, error) {
	if err := checkDatabase(database); err != nil {
		return Script{}, err
	}
	if err := checkPassword("GENIAI_OWNER_PASSWORD", pw.Owner); err != nil {
		return Script{}, err
	}
	if err := checkPassword("GENIAI_AUTHENTICATOR_PASSWORD", pw.Authenticator); err != nil {
		return Script{}, err
	}
	ownerV, err := scramVerifier(pw.Owner)
	if err != nil {
		return Script{}, err
	}
	authV, err := scramVerifier(pw.Authenticator)
	if err != nil {
		return Script{}, err
	}
	all := append([]string{Owner, Authenticator}, requestRoles...)
	var tx strings.Builder
	fmt.Fprintf(&tx, `
-- Only a superuser can take SUPERUSER, REPLICATION or BYPASSRLS away: refuse to go on instead.
DO $$
DECLARE
    r text;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles
              WHERE rolname = ANY (%s) AND (rolsuper OR rolreplication OR rolbypassrls) LOOP
        RAISE EXCEPTION 'role %% is SUPERUSER, REPLICATION or BYPASSRLS; a superuser must first run: ALTER ROLE %% NOSUPERUSER NOREPLICATION NOBYPASSRLS', r, r;
    END LOOP;
END
$$;

%s
-- geniai_owner owns every object and runs `+"`geniai migrate`"+`. It creates no role (NOCREATEROLE:
-- on PostgreSQL 15 that would let it grant itself nearly anything) but may grant the request
-- roles (ADMIN OPTION). INHERIT: as the database's owner it uses the public schema through
-- pg_database_owner.
ALTER ROLE %s LOGIN INHERIT NOCREATEDB NOCREATEROLE PASSWORD %s;
-- geniai_authenticator is what `+"`geniai serve`"+` connects as: no privileges of its own, it may
-- only switch to the request roles (NOINHERIT).
ALTER ROLE %s LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD %s;
-- The request roles: nobody logs in as them.
`, array(all), createMissing(all), Owner, literal(ownerV), Authenticator, literal(authV))
	for _, r := range requestRoles {
		fmt.Fprintf(&tx, "ALTER ROLE %s NOLOGIN NOINHERIT NOCREATEDB NOCREATEROLE;\n", r)
	}
	fmt.Fprintf(&tx, `GRANT %[1]s TO %[2]s;
GRANT %[1]s TO %[3]s WITH ADMIN OPTION;

-- An administrator that is not a superuser (a managed PostgreSQL's) creates the database and
-- grants on it through membership in its owner.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, '%[3]s', 'MEMBER') THEN
        EXECUTE format('GRANT %[3]s TO %%I', current_user);
    END IF;
END
$$;
`, strings.Join(requestRoles, ", "), Authenticator, Owner)
	after := fmt.Sprintf(`-- Only GeniAI's roles connect to its database.
REVOKE CONNECT ON DATABASE %[1]s FROM PUBLIC;
GRANT CONNECT ON DATABASE %[1]s TO %[2]s;
`, ident(database), Authenticator)
	return Script{
		Title: fmt.Sprintf(`-- GeniAI Analytics: the cluster's roles and the database %s.
-- Run once per cluster as a superuser, or as an administrator with CREATEROLE and CREATEDB (the
-- admin user of a managed PostgreSQL):   psql -v ON_ERROR_STOP=1 -d postgres -f THIS_FILE
-- Running it again resets the roles' attributes and passwords and changes nothing else.
-- Passwords appear only as SCRAM-SHA-256 verifiers.
`, database),
		Tx:       tx.String(),
		Database: database,
		After:    after,
	}, nil
}

// BackupRole is the script of the one role that reads every row: pg_dump needs to see past the
// forced row-level security of every tenant table (BYPASSRLS) and to read every table
// (pg_read_all_data); it writes nothing. PostgreSQL 15 lets only a superuser grant BYPASSRLS
// (16 and later: an administrator that holds it).
func BackupRole(database, password string) (Script, error) {
	if err := checkDatabase(database); err != nil {
		return Script{}, err
	}
	if err := checkPassword("GENIAI_BACKUP_PASSWORD", password); err != nil {
		return Script{}, err
	}
	v, err := scramVerifier(password)
	if err != nil {
		return Script{}, err
	}
	tx := fmt.Sprintf(`
-- PostgreSQL 15 lets only a superuser grant BYPASSRLS (16 and later: a role that holds it).
DO $$
BEGIN
    IF NOT (SELECT rolsuper OR (rolbypassrls AND current_setting('server_version_num')::int >= 160000)
              FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'the backup role needs BYPASSRLS, which only a superuser can grant here (connected as %%)', current_user;
    END IF;
END
$$;

%s
-- Reads every row of every table (pg_read_all_data, BYPASSRLS) and can change nothing.
ALTER ROLE %[2]s LOGIN INHERIT BYPASSRLS NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE PASSWORD %[3]s;
GRANT pg_read_all_data TO %[2]s;
GRANT CONNECT ON DATABASE %[4]s TO %[2]s;
`, createMissing([]string{Backup}), Backup, literal(v), ident(database))
	return Script{
		Title: fmt.Sprintf(`-- GeniAI Analytics: the backup role %s, for pg_dump of the database %s.
-- Run as a superuser (PostgreSQL 15 reserves BYPASSRLS to superusers), after the roles script:
--   psql -v ON_ERROR_STOP=1 -d postgres -f THIS_FILE
`, Backup, database),
		Tx: tx,
	}, nil
}

// ChatwootReader is the script for Chatwoot's database: a login role that may SELECT the tables
// the ETL reads (and the accounts the onboarding wizard names) and nothing else. Run it connected
// to Chatwoot's database, as a superuser or as the owner of Chatwoot's tables with CREATEROLE.
func ChatwootReader(role, schema, password string) (Script, error) {
	if !identRe.MatchString(role) {
		return Script{}, apperr.New(apperr.Invalid, "err.bootstrap.role_name", role)
	}
	if !identRe.MatchString(schema) {
		return Script{}, apperr.New(apperr.Invalid, "err.bootstrap.schema_name", schema)
	}
	if strings.HasPrefix(role, "geniai_") {
		return Script{}, apperr.New(apperr.Invalid, "err.bootstrap.chatwoot_role")
	}
	if err := checkPassword("CHATWOOT_READER_PASSWORD", password); err != nil {
		return Script{}, err
	}
	v, err := scramVerifier(password)
	if err != nil {
		return Script{}, err
	}
	tables := append([]string{"accounts"}, etl.SourceTables()...)
	qualified := make([]string, len(tables))
	for i, t := range tables {
		qualified[i] = ident(schema) + "." + ident(t)
	}
	tx := fmt.Sprintf(`
%[1]s
-- Reads the tables the ETL reads, nothing else: no users' passwords, no access tokens.
ALTER ROLE %[2]s LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD %[3]s;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %%I TO %[2]s', current_database());
END
$$;
GRANT USAGE ON SCHEMA %[4]s TO %[2]s;
GRANT SELECT ON TABLE %[5]s TO %[2]s;
`, createMissing([]string{role}), ident(role), literal(v), ident(schema), strings.Join(qualified, ", "))
	return Script{
		Title: fmt.Sprintf(`-- GeniAI Analytics: the read-only role %s on Chatwoot's database.
-- Run connected to Chatwoot's database, as a superuser or as the owner of its tables with
-- CREATEROLE:   psql -v ON_ERROR_STOP=1 -d chatwoot_production -f THIS_FILE
-- Passwords appear only as SCRAM-SHA-256 verifiers.
`, role),
		Tx: tx,
	}, nil
}

// createMissing creates the roles that do not exist yet; ALTER ROLE then sets every attribute.
func createMissing(roles []string) string {
	return fmt.Sprintf(`-- Create the roles that do not exist yet; the statements below set their attributes.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY %s LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %%I', r);
        END IF;
    END LOOP;
END
$$;
`, array(roles))
}

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func checkDatabase(name string) error {
	if !identRe.MatchString(name) {
		return apperr.New(apperr.Invalid, "err.bootstrap.database_name", name)
	}
	return nil
}

// checkPassword accepts 16 to 128 printable ASCII characters without spaces: strong enough,
// unchanged by SASLprep (so every client derives the verifier's keys), and safe in a shell.
func checkPassword(env, pw string) error {
	if pw == "" {
		return apperr.New(apperr.Invalid, "err.bootstrap.password_missing", env)
	}
	if len(pw) < 16 || len(pw) > 128 {
		return apperr.New(apperr.Invalid, "err.bootstrap.password_length", env, len(pw))
	}
	for _, c := range []byte(pw) {
		if c < 0x21 || c > 0x7e {
			return apperr.New(apperr.Invalid, "err.bootstrap.password_chars", env)
		}
	}
	return nil
}

// ident is a role, schema or database name already checked against identRe (or a constant).
func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

// literal quotes s as an SQL string literal (standard_conforming_strings, always on since 9.1).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func array(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = literal(s)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]"
}
