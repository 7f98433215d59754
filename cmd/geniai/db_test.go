package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDBBootstrapPrints checks the printed scripts: no password in clear, only verifiers, and
// bad input refused with exit status 2 and the variable or flag named. (TestInstallFromREADME
// runs the scripts on a real cluster.)
func TestDBBootstrapPrints(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"GENIAI_OWNER_PASSWORD":         "owner-secret-0123456789",
		"GENIAI_AUTHENTICATOR_PASSWORD": "auth-secret-0123456789",
		"GENIAI_BACKUP_PASSWORD":        "backup-secret-0123456789",
		"CHATWOOT_READER_PASSWORD":      "reader-secret-0123456789",
	}
	cli := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
		return exitCode(err, &errb), out.String(), errb.String()
	}
	for _, args := range [][]string{
		{"db", "bootstrap"},
		{"db", "bootstrap", "--backup"},
		{"db", "bootstrap", "--chatwoot"},
	} {
		code, out, errs := cli(vars, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		for _, pw := range vars {
			if strings.Contains(out, pw) {
				t.Fatalf("%v prints a password in clear", args)
			}
		}
		if !strings.Contains(out, "PASSWORD 'SCRAM-SHA-256$4096:") {
			t.Fatalf("%v: no SCRAM verifier:\n%s", args, out)
		}
	}
	_, out, _ := cli(vars, "db", "bootstrap", "--chatwoot")
	if !strings.Contains(out, `"public"."messages"`) || strings.Contains(out, `"users"`) {
		t.Fatalf("the Chatwoot reader must read the ETL's tables and not users:\n%s", out)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{}, []string{"db", "bootstrap"}, "GENIAI_OWNER_PASSWORD"},
		{map[string]string{"GENIAI_OWNER_PASSWORD": "short", "GENIAI_AUTHENTICATOR_PASSWORD": "auth-secret-0123456789"}, []string{"db", "bootstrap"}, "16 a 128"},
		{map[string]string{"GENIAI_OWNER_PASSWORD": "owner secret with spaces", "GENIAI_AUTHENTICATOR_PASSWORD": "auth-secret-0123456789"}, []string{"db", "bootstrap"}, "ASCII"},
		{vars, []string{"db", "bootstrap", "--database", "Bad-Name"}, "nome de banco"},
		{vars, []string{"db", "bootstrap", "--chatwoot", "--role", "geniai_reader"}, "geniai_"},
		{vars, []string{"db", "bootstrap", "--chatwoot", "--backup"}, "não os dois"},
		{vars, []string{"db"}, "uso: geniai db bootstrap"},
	} {
		code, out, errs := cli(tc.env, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 naming %q", tc.args, code, out, errs, tc.want)
		}
	}
}
