//go:build citus

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

// TestCitusBenchTiny runs the bench's Citus phase at a tiny scale (`make test/citus`): the
// single-node side in plain databases of the coordinator's server, the cluster side in a
// distributed test database; every figure of the phase must be there, and a tenant's dashboard
// must reach one worker.
func TestCitusBenchTiny(t *testing.T) {
	env := pgtest.New(t) // the cluster side: migrated and distributed on every node
	wd, _ := os.Getwd()
	cfg := Config{
		Scale: Scale{Name: "tiny", Tenants: 3, Conversations: 400, Days: 30, Samples: 5, Warmup: 1,
			HTTPDuration: time.Second, LoginDuration: time.Second, ExportRows: 1000, PollInterval: 3 * time.Second},
		DatabaseURL:      env.AuthURL,
		MigrationURL:     env.OwnerURL,
		ChatwootAdminURL: env.OwnerURL,
		ChatwootURL:      env.OwnerURL,
		SuperURL:         pgtest.AdminURL(t),
		BcryptCost:       10,
		RepoDir:          filepath.Join(wd, "..", ".."),
		Citus:            &CitusConfig{DatabaseURL: env.AuthURL, MigrationURL: env.OwnerURL, Workers: 2},
		Skip: map[string]bool{"fuzz": true, "isolation": true, "http": true, "whale": true, "digest": true, "rls": true,
			"freshness": true, "clients": true, "etlcost": true, "compare": true},
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("errors: %s", strings.Join(rep.Errors, "\n"))
	}
	md := rep.Markdown()
	for _, w := range []string{"ETL full load, cluster ÷ single node", "Service.Load p50, median tenant, cluster vs single node",
		"Service.Load p95, largest tenant, cluster", "dashboard and list reach one worker",
		"no-change pass over all 3 tenants, cluster ÷ single node", "pass after a trickle of changes, 3 tenants, cluster ÷ single node",
		"settling a no-change pass's unchanged tenants together, cluster ÷ single node"} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	// Only the router check is asserted: the bench never fails on a speed. The figures are logged
	// (go test -v) for the record of a run.
	for _, row := range rep.Rows {
		if row.Section == "Citus" && row.Value != nil {
			t.Logf("%s: %.2f %s — %s", row.Metric, *row.Value, row.Unit, row.Note)
		}
		if strings.Contains(row.Metric, "reach one worker") && (row.Pass == nil || !*row.Pass) {
			t.Errorf("%s: %s", row.Metric, row.Note)
		}
	}
}
