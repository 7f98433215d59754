package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestBenchTiny runs the whole harness at a tiny scale (`make test`), so `make bench` cannot rot:
// every phase but fuzzing and the isolation test (both run by `make test` on their own) must
// produce its figures and write a report. It never checks a speed.
// TestScalesGenerate: every named scale's source is within the generator's limits (the clients
// scale's 1,001 accounts once failed only when the hour-long run reached its first step).
func TestScalesGenerate(t *testing.T) {
	for name, sc := range Scales {
		if err := sourceOptions(sc).Validate(); err != nil {
			t.Errorf("scale %s: %v", name, err)
		}
	}
}

func TestBenchTiny(t *testing.T) {
	env := pgtest.New(t) // makes sure the roles exist with TEST_ROLE_PASSWORD
	wd, _ := os.Getwd()
	cfg := Config{
		Scale: Scale{Name: "tiny", Tenants: 3, Conversations: 400, Days: 30, Samples: 5, Warmup: 1,
			HTTPDuration: time.Second, LoginDuration: time.Second, ExportRows: 1000, PollInterval: 3 * time.Second},
		DatabaseURL:      env.AuthURL,
		MigrationURL:     env.OwnerURL,
		ChatwootAdminURL: env.OwnerURL,
		ChatwootURL:      env.OwnerURL, // the owner reads the source too: no separate reader role here
		SuperURL:         pgtest.AdminURL(t),
		BcryptCost:       10,
		RepoDir:          filepath.Join(wd, "..", ".."),
		Skip:             map[string]bool{"fuzz": true, "isolation": true, "citus": true}, // citus: TestCitusBenchTiny, on a cluster
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("errors: %s", strings.Join(rep.Errors, "\n"))
	}
	want := []string{"generate Chatwoot source", "full load throughput", "no-change pass", "Service.Load", "Service.List",
		"CSV export rate", "tenant role ÷ BYPASSRLS", "throughput, 32 signed-in clients", "sign-ins per second",
		"peak RSS of `geniai serve`", "peak RSS of `geniai etl run --full`", "whole-source tenant", "full load throughput, one tenant",
		"CSV export rate, whole-source tenant", "BYPASSRLS owner-side, dashboard queries, whole-source tenant",
		"full load ÷ source extraction alone", "bare copy ÷ source extraction alone", "full load ÷ bare copy", "transactions per page view", "rows written per page view",
		"freshness p95, Chatwoot write → API, webhooks", "freshness p95, Chatwoot write → API, polling only",
		"a trickle changed", "admin overview of 3 clients", "GET /admin/clients, 30 days p95",
		"cached, no client changed since the last view", "GET /admin/clients.csv, 90 days (every client) p95"}
	md := rep.Markdown()
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, row := range rep.Rows {
		if row.Value == nil && row.Pass == nil {
			t.Errorf("row without a value: %+v", row)
		}
	}
	dir := t.TempDir()
	if _, err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	os.WriteFile(readme, []byte("# x\n## Numbers\n"+MarkerStart+"\nold\n"+MarkerEnd+"\nafter\n"), 0o644)
	if err := UpdateReadme(readme, dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(readme)
	if s := string(b); strings.Contains(s, "old") || !strings.Contains(s, "full load throughput") || !strings.HasSuffix(s, MarkerEnd+"\nafter\n") {
		t.Fatalf("README not rewritten between the markers:\n%s", s)
	}
	t.Log("\n" + md)
}
