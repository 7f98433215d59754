package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

// cli runs the geniai command in-process against env, like a shell would.
func runCLI(t *testing.T, env *pgtest.Env, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": env.AuthURL, "MIGRATION_DATABASE_URL": env.OwnerURL, "BCRYPT_COST": "10"}
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return vars[k] }, strings.NewReader(stdin), &out, &errb)
	return exitCode(err, &errb), out.String(), errb.String()
}

func rowCount(t *testing.T, env *pgtest.Env) (n int) {
	t.Helper()
	err := pgtest.Conn(t, env.SuperURL).QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM app.tenants) + (SELECT count(*) FROM app.users) +
		(SELECT count(*) FROM app.tenant_inboxes) + (SELECT count(*) FROM audit.events)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCLIAdminCommands(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	if code, out, errs := runCLI(t, env, "", "tenant", "create", "--slug", "academia-a", "--name", "Academia A", "--inbox", "1", "--inbox", "2"); code != 0 {
		t.Fatalf("tenant create: %d %s %s", code, out, errs)
	}
	code, out, _ := runCLI(t, env, "", "user", "create", "--tenant", "academia-a", "--email", "Dono@A.test", "--role", "admin")
	if code != 0 || !strings.Contains(out, "senha: ") {
		t.Fatalf("user create with a generated password: %d %q", code, out)
	}
	if code, out, errs := runCLI(t, env, "uma senha bem comprida\n", "user", "create", "--tenant", "academia-a", "--email", "recepcao@a.test", "--role", "client", "--password-stdin"); code != 0 || strings.Contains(out, "senha:") {
		t.Fatalf("user create from stdin: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, env, "outra senha bem comprida\n", "user", "set-password", "--email", "recepcao@a.test", "--password-stdin"); code != 0 {
		t.Fatalf("set-password: %d %s", code, errs)
	}
	code, out, _ = runCLI(t, env, "", "tenant", "list")
	if code != 0 || !strings.Contains(out, "academia-a") || !strings.Contains(out, "geniai") {
		t.Fatalf("tenant list: %d %q", code, out)
	}
	// Every command wrote audit events as the CLI actor.
	var n int
	_ = pgtest.Conn(t, env.SuperURL).QueryRow(context.Background(), `SELECT count(*) FROM audit.events WHERE actor_role = 'super_admin' AND action IN ('tenants.insert', 'tenant_inboxes.insert', 'users.insert', 'users.update')`).Scan(&n)
	if n < 6 {
		t.Fatalf("%d audit events, want tenant + 2 inboxes + 2 users + password change", n)
	}
}

func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	if code, _, errs := runCLI(t, env, "", "tenant", "create", "--slug", "taken", "--name", "Taken", "--inbox", "7"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, env, "", "user", "create", "--tenant", "taken", "--email", "dup@a.test", "--role", "client"); code != 0 {
		t.Fatal(errs)
	}
	before := rowCount(t, env)
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"tenant", "create", "--slug", "Bad Slug", "--name", "X"}, "slug"},
		{"", []string{"tenant", "create", "--slug", "taken", "--name", "X"}, "Já existe um cliente"},
		{"", []string{"tenant", "create", "--slug", "tz", "--name", "X", "--timezone", "Mars/Base"}, "Fuso horário"},
		{"", []string{"tenant", "create", "--slug", "inbox", "--name", "X", "--inbox", "7"}, "já está vinculada"},
		{"", []string{"tenant", "create", "--slug", "inbox2", "--name", "X", "--inbox", "8", "--inbox", "7"}, "já está vinculada"},
		{"", []string{"tenant", "create", "--slug", "noname", "--name", " "}, "Informe um nome"},
		{"", []string{"tenant", "create", "--slug", "x", "--name", "X", "--inbox", "abc"}, "inválida"},
		{"", []string{"user", "create", "--tenant", "nope", "--email", "a@b.test", "--role", "client"}, "não encontrado"},
		{"", []string{"user", "create", "--tenant", "taken", "--email", "a@b.test", "--role", "boss"}, "Papel"},
		{"", []string{"user", "create", "--tenant", "taken", "--email", "DUP@a.test", "--role", "client"}, "Já existe um usuário"},
		{"", []string{"user", "create", "--tenant", "taken", "--email", "a@b.test", "--role", "super_admin"}, "não é permitido"},
		{"curta\n", []string{"user", "create", "--tenant", "taken", "--email", "a@b.test", "--role", "client", "--password-stdin"}, "pelo menos 12"},
		{strings.Repeat("ç", 40) + "\n", []string{"user", "create", "--tenant", "taken", "--email", "a@b.test", "--role", "client", "--password-stdin"}, "72 bytes"},
		{"", []string{"user", "set-password", "--email", "ghost@a.test"}, "não encontrado"},
		{"", []string{"frobnicate"}, "comando desconhecido"},
		{"", []string{"bench"}, "comando desconhecido"}, // the benchmark is cmd/geniai-bench, not the product
	} {
		code, _, errs := runCLI(t, env, tc.stdin, tc.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || !strings.Contains(errs, tc.want) || len(lines) != 1 && tc.args[0] != "frobnicate" && tc.args[0] != "bench" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, errs, tc.want)
		}
	}
	if after := rowCount(t, env); after != before {
		t.Fatalf("bad input wrote %d rows", after-before)
	}
}

// TestCLIStaffActions: every admin-panel action as a command, same validation and audit.
func TestCLIStaffActions(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ok := func(args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, env, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	bad := func(want string, args ...string) {
		t.Helper()
		if code, _, errs := runCLI(t, env, "", args...); code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%v: exit %d %q, want 2 with %q", args, code, errs, want)
		}
	}
	ok("tenant", "create", "--slug", "academia-a", "--name", "Academia A")
	ok("user", "create", "--tenant", "academia-a", "--email", "r@a.test", "--role", "client")
	ok("tenant", "update", "--slug", "academia-a", "--plan", "pro", "--name", "Academia Azul")
	ok("tenant", "suspend", "--slug", "academia-a")
	ok("tenant", "reactivate", "--slug", "academia-a")
	ok("tenant", "inbox-add", "--slug", "academia-a", "--inbox", "5")
	ok("tenant", "inbox-remove", "--slug", "academia-a", "--inbox", "5")
	ok("tenant", "branding", "--slug", "academia-a", "--primary", "#1D4ED8")
	ok("tenant", "funnel", "--slug", "academia-a", "--visit-regex", "agend(ei|ar)", "--converted-labels", "matriculado, plano-anual")
	ok("user", "update", "--email", "r@a.test", "--role", "admin")
	ok("user", "update", "--email", "r@a.test", "--active=false")
	ok("user", "unlock", "--email", "r@a.test")
	if out := ok("user", "list", "--tenant", "academia-a"); !strings.Contains(out, "r@a.test") || !strings.Contains(out, "false") {
		t.Errorf("user list: %q", out)
	}
	bad("Cor principal inválida", "tenant", "branding", "--slug", "academia-a", "--primary", "azul")
	bad("Expressão regular de visita inválida", "tenant", "funnel", "--slug", "academia-a", "--visit-regex", "(agend")
	bad("Situação", "tenant", "update", "--slug", "academia-a", "--status", "paused")
	bad("não encontrado", "tenant", "suspend", "--slug", "nope")
	bad("não está vinculada", "tenant", "inbox-remove", "--slug", "academia-a", "--inbox", "99")
	out := ok("audit", "--tenant", "academia-a", "--csv")
	for _, action := range []string{"tenants.update", "tenant_inboxes.insert", "tenant_inboxes.delete", "tenant_settings.update", "users.update"} {
		if !strings.Contains(out, action) {
			t.Errorf("audit CSV lacks %s", action)
		}
	}
	if !strings.Contains(out, `"plan": "pro"`) && !strings.Contains(out, `""plan"": ""pro""`) {
		t.Errorf("audit CSV lacks new values: %.300s", out)
	}
	ok("etl", "runs", "--tenant", "academia-a")
}

// The console speaks Portuguese: durations take the decimal comma.
func TestSecondsDecimalComma(t *testing.T) {
	t.Parallel()
	if got := seconds(1600 * time.Millisecond); got != "1,6 s" {
		t.Errorf("seconds = %q, want \"1,6 s\"", got)
	}
}
