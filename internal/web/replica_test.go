package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// replicaMu serialises the tests that pause, stop or start the shared test replica.
var replicaMu sync.Mutex

// TestReadReplica runs against the real streaming replica `make test` starts (pg_basebackup -R):
// dashboard reads go to it while it is healthy, to the primary when it lags beyond the bound or
// is down, and the session's principal check always reads the primary.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	replicaMu.Lock()
	defer replicaMu.Unlock()
	h, a, _ := dashHarness(t)
	ctx := context.Background()
	r, err := pg.OpenReplica(ctx, pgtest.ReplicaURLFor(t, "geniai_authenticator", os.Getenv("TEST_ROLE_PASSWORD"), h.env.Name), pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.MaxLag, r.Interval = time.Hour, 50*time.Millisecond
	rctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	h.env.DB.UseReplica(rctx, r)
	replica := pgtest.Conn(t, pgtest.ReplicaURLFor(t, "", "", "postgres"))
	t.Cleanup(func() { _, _ = replica.Exec(context.Background(), "SELECT pg_wal_replay_resume()") })

	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	caughtUp := func() {
		t.Helper()
		waitUntil(t, "the replica replays the primary's latest writes", func() bool {
			r.Probe(ctx, h.env.DB.Pool)
			st := r.Status()
			return st.Healthy && st.Lag == 0
		})
	}
	const leads = "/api/v1/dashboard/summary?period=90d&label=lead"
	count := func() float64 {
		t.Helper()
		res := c.get(leads)
		expectStatus(t, res, http.StatusOK, `"kpis"`)
		var sum struct {
			KPIs map[string]struct{ Value *float64 } `json:"kpis"`
		}
		if err := json.Unmarshal([]byte(res.body), &sum); err != nil || sum.KPIs["conversations"].Value == nil {
			t.Fatalf("summary: %v %s", err, res.body)
		}
		return *sum.KPIs["conversations"].Value
	}
	onReplica := func() bool {
		t.Helper()
		var inRecovery bool
		if err := h.env.DB.InReadTx(pg.WithReplica(ctx), pg.User(a, 0, pg.AppClient, "", ""), func(tx pg.Tx) error {
			row, err := tx.ReplicaReplayPosition(ctx)
			inRecovery = row.InRecovery
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return inRecovery
	}
	caughtUp()
	before := count()
	if !onReplica() {
		t.Fatal("a healthy replica is not used")
	}
	if err := h.env.DB.InReadTx(ctx, pg.System("test"), func(tx pg.Tx) error {
		row, err := tx.ReplicaReplayPosition(ctx)
		if err == nil && row.InRecovery {
			t.Error("a read not marked WithReplica ran on the replica")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Replay paused, five leads deleted on the primary: the page still shows the replica's data.
	if _, err := replica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	h.exec(`DELETE FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id IN (
		SELECT conversation_id FROM analytics.conversations WHERE tenant_id = $1 AND 'lead' = ANY (labels) ORDER BY 1 LIMIT 5)`, a)
	if got := count(); got != before {
		t.Fatalf("with replay paused the page shows %v leads, want the replica's %v", got, before)
	}
	// Beyond the lag bound the primary answers.
	r.SetMaxLag(100 * time.Millisecond)
	waitUntil(t, "the paused replica is judged too far behind", func() bool {
		h.exec("SELECT pg_logical_emit_message(false, 'geniai-test', 'tick')") // the primary moves on
		r.Probe(ctx, h.env.DB.Pool)
		return !r.Status().Healthy
	})
	if got := count(); got != before-5 || onReplica() {
		t.Fatalf("a lagging replica: the page shows %v leads, want the primary's %v", got, before-5)
	}
	r.SetMaxLag(time.Hour)
	r.Probe(ctx, h.env.DB.Pool)
	if got := count(); got != before {
		t.Fatalf("back within the bound, the page shows %v, want the replica's %v", got, before)
	}

	// The principal check reads the primary: a tenant suspended there is out at once, whatever the
	// (paused) replica still says.
	h.exec("UPDATE app.tenants SET status = 'suspended' WHERE id = $1", a)
	// (403 with the sign-in refusal's reason: the session ended because the client is suspended.)
	if res := c.get(leads); res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "err.login.refused.suspended") {
		t.Fatalf("a suspended tenant's API call: %d %s, want 403 suspended (the principal check must read the primary)", res.StatusCode, res.body)
	}
	h.exec("UPDATE app.tenants SET status = 'active' WHERE id = $1", a)
	if _, err := replica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	caughtUp()

	// Down: the read falls back to the primary at once (the failed transaction is run again there).
	replica.Close(ctx)
	pgtest.StopReplica(t)
	stopped := true
	defer func() {
		if stopped {
			pgtest.StartReplica(t)
		}
	}()
	if onReplica() {
		t.Fatal("a stopped replica answered")
	}
	if st := r.Status(); st.Healthy {
		t.Fatal("a replica that failed a transaction is still marked healthy")
	}
	pgtest.StartReplica(t)
	stopped = false
	caughtUp()
	if !onReplica() {
		t.Fatal("the replica is not used again once back")
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
