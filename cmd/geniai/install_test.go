package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestMain lets the test binary stand in for the geniai binary: the install test puts a `geniai`
// on PATH that runs this binary with GENIAI_TEST_AS_CLI=1, so the README's shell steps call the
// code under test without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("GENIAI_TEST_AS_CLI") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// readmeSteps returns the shell blocks of README.md marked `<!-- step: NAME -->`.
func readmeSteps(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pgtest.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- step: ([a-z-]+) -->\\s*```sh\\n(.*?)```")
	steps := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		steps[m[1]] = m[2]
	}
	for _, want := range []string{"roles", "chatwoot", "backup-role", "migrate", "backup", "restore"} {
		if steps[want] == "" {
			t.Fatalf("README.md has no step %q (a `<!-- step: %s -->` comment before a ```sh block)", want, want)
		}
	}
	return steps
}

// installer runs README steps in one working directory, as an operator's shell would, with only
// the environment the README tells the operator to set.
type installer struct {
	t     *testing.T
	dir   string
	path  string // PATH with the stand-in geniai first
	steps map[string]string
}

func newInstaller(t *testing.T) *installer {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	wrapper := fmt.Sprintf("#!/bin/sh\nGENIAI_TEST_AS_CLI=1 exec %q \"$@\"\n", exe)
	if err := os.WriteFile(filepath.Join(bin, "geniai"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return &installer{t: t, dir: t.TempDir(), path: bin + ":" + os.Getenv("PATH"), steps: readmeSteps(t)}
}

func (in *installer) run(step string, env map[string]string) string {
	in.t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", in.steps[step])
	cmd.Dir = in.dir
	cmd.Env = []string{"PATH=" + in.path, "HOME=" + in.dir, "LANG=C.UTF-8", "BCRYPT_COST=10"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		in.t.Fatalf("README step %q failed: %v\n%s", step, err, out)
	}
	return string(out)
}

// envFile fills docs/deploy/geniai.env for a server: its placeholders (hosts, passwords, TLS
// mode) replaced by the test clusters' values. It returns the file's variables too.
func (in *installer) envFile(analytics, source *pgtest.Cluster, pw map[string]string) map[string]string {
	in.t.Helper()
	b, err := os.ReadFile(filepath.Join(pgtest.RepoRoot(), "docs", "deploy", "geniai.env"))
	if err != nil {
		in.t.Fatal(err)
	}
	s := strings.NewReplacer(
		"db.internal:5432", fmt.Sprintf("127.0.0.1:%d", analytics.Port),
		"chatwoot-db.internal:5432/chatwoot_production", fmt.Sprintf("127.0.0.1:%d/chatwoot", source.Port),
		"sslmode=verify-full", "sslmode=disable",
		"AUTHENTICATOR_PASSWORD", pw["GENIAI_AUTHENTICATOR_PASSWORD"],
		"OWNER_PASSWORD", pw["GENIAI_OWNER_PASSWORD"],
		"READER_PASSWORD", pw["CHATWOOT_READER_PASSWORD"],
		"127.0.0.1:9464", "127.0.0.1:0",
	).Replace(string(b))
	if err := os.WriteFile(filepath.Join(in.dir, "geniai.env"), []byte(s), 0o600); err != nil {
		in.t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = strings.Trim(v, "'")
		}
	}
	return vars
}

// TestInstallFromREADME installs GeniAI Analytics on a fresh cluster by running README's steps
// literally, as a managed PostgreSQL's administrator (CREATEROLE and CREATEDB, no superuser),
// syncs two tenants from a Chatwoot database through the read-only role the README creates, checks
// the result against the catalog rules (pgTAP), then backs it up as the backup role and restores
// the dump into a second fresh cluster, where every tenant's dashboard and every table's row count
// must equal the original's.
func TestInstallFromREADME(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := newInstaller(t)
	pw := map[string]string{
		"GENIAI_OWNER_PASSWORD":         "owner-" + rand.Text(),
		"GENIAI_AUTHENTICATOR_PASSWORD": "auth-" + rand.Text(),
		"GENIAI_BACKUP_PASSWORD":        "backup-" + rand.Text(),
		"CHATWOOT_READER_PASSWORD":      "reader-" + rand.Text(),
	}
	const dbaPassword, chatwootPassword = "dba-password-0123456789", "chatwoot-password-0123456789"

	// The existing server: an administrator like a managed service's, and Chatwoot's database
	// owned by Chatwoot's own role, holding demo data.
	a := pgtest.NewCluster(t)
	a.Exec(t, "postgres",
		"CREATE ROLE dba LOGIN CREATEROLE CREATEDB PASSWORD '"+dbaPassword+"'",
		"CREATE ROLE chatwoot_app LOGIN CREATEROLE PASSWORD '"+chatwootPassword+"'",
		"CREATE DATABASE chatwoot OWNER chatwoot_app")
	cw, err := pgx.Connect(ctx, a.URL("chatwoot_app", chatwootPassword, "chatwoot"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := chatwoot.CreateDemo(ctx, cw, chatwoot.Options{Accounts: 2, Conversations: 600, Days: 30, Now: now}); err != nil {
		t.Fatal(err)
	}
	cw.Close(ctx)

	asAdmin := func(c *pgtest.Cluster, user, password, db string) map[string]string {
		env := map[string]string{"PGHOST": "127.0.0.1", "PGPORT": fmt.Sprint(c.Port), "PGUSER": user, "PGPASSWORD": password, "PGDATABASE": db}
		if user == "postgres" { // the superuser has no password: over the socket
			env["PGHOST"] = c.Socket
		}
		for k, v := range pw {
			env[k] = v
		}
		return env
	}
	in.run("roles", asAdmin(a, "dba", dbaPassword, "postgres"))
	in.run("roles", asAdmin(a, "dba", dbaPassword, "postgres")) // idempotent
	in.run("chatwoot", asAdmin(a, "chatwoot_app", chatwootPassword, "chatwoot"))
	in.run("backup-role", asAdmin(a, "postgres", "", "postgres"))
	vars := in.envFile(a, a, pw)
	out := in.run("migrate", nil)
	if !strings.Contains(out, "senha: ") {
		t.Fatalf("the staff user's password is not printed:\n%s", out)
	}

	// Two clients onboarded with a first sync, through the reader role (its grants suffice).
	cli := func(args ...string) string {
		t.Helper()
		vars["BCRYPT_COST"] = "10"
		var stdout, stderr strings.Builder
		err := run(ctx, args, func(k string) string { return vars[k] }, strings.NewReader(""), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 0 {
			t.Fatalf("geniai %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	cli("tenant", "onboard", "--slug", "academia-a", "--name", "Academia A", "--inbox", "1", "--inbox", "2", "--admin-email", "dono@a.test")
	cli("tenant", "onboard", "--slug", "academia-b", "--name", "Academia B", "--inbox", "3", "--admin-email", "dono@b.test")

	// The installed database obeys every catalog and isolation rule, with the roles the README
	// made (not the ones of db/pgcluster.sh).
	if out, err := exec.Command(filepath.Join(pgtest.RepoRoot(), "db", "tests", "run.sh"), a.SuperURLFor("geniai")).CombinedOutput(); err != nil {
		t.Fatalf("pgTAP on the installed database: %v\n%s", err, out)
	}
	dbA, err := pg.Open(ctx, vars["DATABASE_URL"], pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	if err := dbA.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dbA, a.SuperURLFor("geniai"), now)
	if !strings.Contains(before, `"academia-a"`) || !strings.Contains(before, `"academia-b"`) {
		t.Fatalf("the snapshot misses a tenant:\n%.2000s", before)
	}

	// Backup as the backup role, restore into a fresh cluster (README: steps 1 and 3, then restore).
	in.run("backup", map[string]string{"PGHOST": "127.0.0.1", "PGPORT": fmt.Sprint(a.Port), "GENIAI_BACKUP_PASSWORD": pw["GENIAI_BACKUP_PASSWORD"]})
	b := pgtest.NewCluster(t)
	in.run("roles", asAdmin(b, "postgres", "", "postgres"))
	in.run("backup-role", asAdmin(b, "postgres", "", "postgres"))
	restored := in.envFile(b, a, pw)
	in.run("restore", restored)
	dbB, err := pg.Open(ctx, restored["DATABASE_URL"], pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	if after := snapshot(t, dbB, b.SuperURLFor("geniai"), now); after != before {
		t.Fatalf("the restored database differs from the original: %s", firstDifference(before, after))
	}
}

// firstDifference names the first line where two JSON snapshots differ, with its path's context.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			from := max(0, i-6)
			return fmt.Sprintf("line %d\n%s\n- %s\n+ %s", i+1, strings.Join(la[from:i], "\n"), la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(la), len(lb))
}

// snapshot is what must survive a backup: every tenant's dashboard (30 and 90 days, as staff)
// and the row count of every table of ours, as JSON.
func snapshot(t *testing.T, db *pg.DB, superURL string, now time.Time) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	counts := map[string]int64{}
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('app', 'analytics', 'etl', 'audit', 'public') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	type tenantView struct {
		Slug       string
		Dashboards []*dashboard.Dashboard
	}
	var tenants []tenantView
	rows, err = conn.Query(ctx, "SELECT id, slug FROM app.tenants WHERE NOT is_platform ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	type idSlug struct {
		ID   int64
		Slug string
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idSlug])
	if err != nil {
		t.Fatal(err)
	}
	svc := &dashboard.Service{DB: db}
	for _, tn := range list {
		v := tenantView{Slug: tn.Slug}
		for _, period := range []string{"30d", "90d"} {
			f, err := dashboard.Parse(url.Values{"period": {period}}, now, 30, nil)
			if err != nil {
				t.Fatal(err)
			}
			d, err := svc.Load(ctx, pg.System("test"), tn.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			if d.Empty() {
				t.Fatalf("tenant %s has no conversation in %s: the comparison would prove little", tn.Slug, period)
			}
			v.Dashboards = append(v.Dashboards, d)
		}
		tenants = append(tenants, v)
	}
	out, err := json.MarshalIndent(map[string]any{"rows": counts, "tenants": tenants}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
