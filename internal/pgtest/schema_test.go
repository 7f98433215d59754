package pgtest

import (
	"strings"
	"testing"
)

// A pg_dump of PostgreSQL 15.14 or later: \restrict with a random key, version banners and SET
// lines must not reach db/schema/, or the drift check would fail on every run and machine.
const sampleDump = `--
-- PostgreSQL database dump
--

\restrict AbC123randomKEY

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: geniai_owner
--

CREATE SCHEMA app;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

SET default_tablespace = '';

--
-- Name: tenants; Type: TABLE; Schema: app; Owner: geniai_owner
--

CREATE TABLE app.tenants (
    id bigint NOT NULL
);

--
-- Name: SCHEMA app; Type: ACL; Schema: -; Owner: geniai_owner
--

GRANT USAGE ON SCHEMA app TO geniai_tenant;


--
-- PostgreSQL database dump complete
--

\unrestrict AbC123randomKEY
`

func TestSplitDumpKeepsOnlyStableText(t *testing.T) {
	files := SplitDump(sampleDump)
	if len(files) != 2 {
		t.Fatalf("files %v, want app.sql and database.sql", keysOf(files))
	}
	app, db := files["app.sql"], files["database.sql"]
	for _, unstable := range []string{`\restrict`, `\unrestrict`, "Dumped from", "Dumped by", "SET ", "set_config", "dump complete"} {
		if strings.Contains(app+db, unstable) {
			t.Errorf("%q left in the dump:\n%s\n%s", unstable, app, db)
		}
	}
	// the schema's own statements open its file, in pg_dump's order; the ACL follows the table
	for _, want := range []string{"CREATE SCHEMA app;", "CREATE TABLE app.tenants (", "GRANT USAGE ON SCHEMA app TO geniai_tenant;"} {
		if !strings.Contains(app, want) {
			t.Errorf("app.sql lacks %q:\n%s", want, app)
		}
	}
	if !(strings.Index(app, "CREATE SCHEMA") < strings.Index(app, "CREATE TABLE") &&
		strings.Index(app, "CREATE TABLE") < strings.Index(app, "GRANT USAGE")) {
		t.Errorf("app.sql is not in pg_dump's order:\n%s", app)
	}
	if !strings.Contains(db, "CREATE EXTENSION IF NOT EXISTS pg_trgm") || strings.Contains(db, "app.tenants") {
		t.Errorf("database.sql should hold the extension only:\n%s", db)
	}
	if strings.HasSuffix(app, "--\n") || strings.HasSuffix(app, "\n\n") {
		t.Errorf("app.sql ends with the closing banner's leftovers:\n%q", app[len(app)-40:])
	}
	// the same input gives the same output
	if again := SplitDump(sampleDump); again["app.sql"] != app || again["database.sql"] != db {
		t.Error("SplitDump is not deterministic")
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
