package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pgtest"
)

func watermark(t testing.TB, su *pgx.Conn, tenantID int64) string {
	t.Helper()
	var w string
	err := su.QueryRow(context.Background(),
		`SELECT coalesce((SELECT (to_jsonb(w) - 'updated_at')::text FROM etl.watermarks w WHERE tenant_id = $1), 'none')`, tenantID).Scan(&w)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSourceStoppedMidRun stops the Chatwoot source cluster while a run is streaming from it
// (a proxy in front of the source stops the cluster once half the bytes of a complete run have
// passed): the run is recorded as failed with the reason, analytics and the watermark are
// exactly as before it, and once the source is back the next (incremental) run converges to
// the state of an uninterrupted run.
func TestSourceStoppedMidRun(t *testing.T) {
	ctx := context.Background()
	src := startCluster(t, "geniai", "chatwoot")
	owner := connect(t, src.env["CHATWOOT_ADMIN_URL"])
	if _, err := chatwoot.CreateDemo(ctx, owner, chatwoot.Options{Accounts: 2, InboxesPerAccount: 2, Conversations: 1500, Days: 60, Seed: 5, Now: demoNow}); err != nil {
		t.Fatal(err)
	}
	direct := src.env["CHATWOOT_DATABASE_URL"] // the read-only reader role, over TCP
	px := newProxy(t, "127.0.0.1:"+strconv.Itoa(src.port))
	viaProxy := strings.Replace(direct, ":"+strconv.Itoa(src.port)+"/", ":"+strconv.Itoa(px.port())+"/", 1)
	if viaProxy == direct {
		t.Fatalf("cannot route %q through the proxy", direct)
	}
	var mine []sourceInbox
	for _, ib := range listInboxes(t, direct) {
		if ib.AccountID == 1 {
			mine = append(mine, ib)
		}
	}
	env := pgtest.New(t)
	su := connect(t, env.SuperURL)
	tid := addTenants(t, su, mine)["gym-1"]
	runner := &etl.Runner{DB: env.DB, SourceURL: viaProxy, ChunkSize: 100}
	if res, err := runner.RunTenant(ctx, tid, true); err != nil || res.Extracted == 0 {
		t.Fatalf("first load: %v %+v", err, res)
	}
	before, wmBefore := analyticsChecksum(t, su), watermark(t, su, tid)
	t.Logf("first load: %s", analyticsCounts(t, su))

	// The source changes: a third of the conversations flip status, later than the watermark.
	exec1(t, owner, `UPDATE conversations SET status = CASE status WHEN 1 THEN 0 ELSE 1 END,
		updated_at = (now() AT TIME ZONE 'UTC') WHERE id % 3 = 0`)
	owner.Close(ctx)

	// The reference: an uninterrupted full load of the changed source into a fresh database,
	// through the proxy to count the bytes a complete run reads.
	ref := pgtest.New(t)
	refSU := connect(t, ref.SuperURL)
	refTID := addTenants(t, refSU, mine)["gym-1"]
	px.arm(1<<62, nil)
	if res, err := (&etl.Runner{DB: ref.DB, SourceURL: viaProxy, ChunkSize: 100}).RunTenant(ctx, refTID, true); err != nil || res.Extracted == 0 {
		t.Fatalf("reference load: %v %+v", err, res)
	}
	full := px.bytes.Load()
	want := analyticsChecksum(t, refSU)
	if want == before {
		t.Fatal("the source change does not change analytics: the test would prove nothing")
	}

	// The interrupted run: a full reload that loses its source halfway.
	var stopErr error
	px.arm(full/2, func() { stopErr = src.stopErr() })
	t0 := time.Now()
	res, err := runner.RunTenant(ctx, tid, true)
	failedIn := time.Since(t0)
	if !px.tripped() { // also orders stopErr's write (under the proxy's lock) before the read below
		t.Fatalf("the run read fewer than %d bytes: the source was never stopped (%+v)", full/2, res)
	}
	if stopErr != nil {
		t.Fatal(stopErr)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			src.start()
		}
	})
	if err == nil {
		t.Fatalf("the run succeeded although its source stopped: %+v", res)
	}
	var status, reason string
	if err := su.QueryRow(ctx, `SELECT status, coalesce(error, '') FROM etl.runs WHERE id = $1`, res.RunID).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || reason == "" {
		t.Fatalf("run %d: status %q error %q, want failed with a reason", res.RunID, status, reason)
	}
	t.Logf("source stopped after %d of %d bytes; run %d failed in %s: %s", full/2, full, res.RunID, failedIn.Round(time.Millisecond), reason)
	if got := analyticsChecksum(t, su); got != before {
		t.Fatalf("analytics changed by the failed run (%s)", analyticsCounts(t, su))
	}
	if got := watermark(t, su, tid); got != wmBefore {
		t.Fatalf("watermark moved by the failed run: %s → %s", wmBefore, got)
	}

	// The source returns: the next scheduled (incremental) run completes and converges.
	src.start()
	restarted = true
	px.arm(1<<62, nil)
	res, err = runner.RunTenant(ctx, tid, false)
	if err != nil {
		t.Fatalf("run after the source returned: %v", err)
	}
	if got := analyticsChecksum(t, su); got != want {
		t.Fatalf("after recovery analytics differ from an uninterrupted run (%s):\n%s", analyticsCounts(t, su), analyticsDiff(t, su, refSU))
	}
	t.Logf("recovery run %d: extracted %d, updated %d in %s", res.RunID, res.Extracted, res.Updated, res.Duration.Round(time.Millisecond))
}

// TestETLKilledConverges kills `geniai etl run --full` with SIGKILL at 20 random moments
// (seeded; FAULT_SEED repeats a sequence). After each kill a normal `geniai etl run` must leave
// analytics exactly as an uninterrupted run does (checksums), with no run left `running`. Even
// kills interrupt a first load into a fresh database, odd kills a reload of a loaded one.
func TestETLKilledConverges(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "geniai")
	build := exec.Command("go", "build", "-o", bin, "./cmd/geniai")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := sharedDemoSource(t, "cw_faults_kill_"+strconv.Itoa(os.Getpid()),
		chatwoot.Options{Accounts: 3, InboxesPerAccount: 2, Conversations: 1500, Days: 90, Seed: 3, Now: demoNow})
	inboxes := listInboxes(t, src)

	etlCmd := func(env *pgtest.Env, args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, append([]string{"etl", "run"}, args...)...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+env.AuthURL, "CHATWOOT_DATABASE_URL="+src)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	// runToEnd runs a normal run; one skipped because a killed process's backend still holds
	// a tenant's lock (it lets go once it notices its client is gone) is run again.
	runToEnd := func(env *pgtest.Env, args ...string) (time.Duration, int) {
		t.Helper()
		first := time.Now()
		for attempt := 1; ; attempt++ {
			cmd, out := etlCmd(env, args...)
			t0 := time.Now()
			err := cmd.Run()
			d := time.Since(t0)
			if err != nil {
				t.Fatalf("etl run %v: %v\n%s", args, err, out)
			}
			if !strings.Contains(out.String(), "ignorado") {
				return d, attempt
			}
			if time.Since(first) > 90*time.Second {
				t.Fatalf("a tenant stayed locked for 90 s (%d attempts):\n%s\nbackends: %s", attempt, out, backends(t, env))
			}
			if attempt == 1 {
				t.Logf("  lock still held by the killed run's backend: %s", backends(t, env))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	fresh := func() (*pgtest.Env, *pgx.Conn) {
		env := pgtest.New(t)
		su := connect(t, env.SuperURL)
		addTenants(t, su, inboxes)
		return env, su
	}

	refEnv, refSU := fresh()
	clean, _ := runToEnd(refEnv, "--full")
	want := analyticsChecksum(t, refSU)
	t.Logf("uninterrupted run: %s, %s", clean.Round(time.Millisecond), analyticsCounts(t, refSU))

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("FAULT_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	var env *pgtest.Env
	var su *pgx.Conn
	killed := 0
	start := time.Now()
	for i := 0; i < 20; i++ {
		if i%2 == 0 {
			env, su = fresh()
		}
		delay := time.Duration(r.Int64N(int64(clean)))
		cmd, out := etlCmd(env, "--full")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		outcome := "killed"
		select {
		case err := <-done:
			outcome = fmt.Sprintf("finished before the kill (%v)", err)
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := <-done
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
				killed++
			} else {
				outcome = fmt.Sprintf("exited before the kill (%v)", err)
			}
		}
		took, attempts := runToEnd(env)
		got := analyticsChecksum(t, su)
		t.Logf("kill %2d after %-8s %s; recovery run %s (%d attempt(s)); %s", i+1, delay.Round(time.Millisecond), outcome,
			took.Round(time.Millisecond), attempts, analyticsCounts(t, su))
		if got != want {
			t.Fatalf("kill %d (FAULT_SEED=%d, delay %s): analytics differ from an uninterrupted run:\n%s\nkilled run output:\n%s",
				i+1, seed, delay, analyticsDiff(t, su, refSU), out)
		}
		var running int
		if err := su.QueryRow(context.Background(), `SELECT count(*) FROM etl.runs WHERE status = 'running'`).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running > 0 {
			t.Fatalf("kill %d: %d run(s) still marked running after a complete run", i+1, running)
		}
	}
	t.Logf("%d of 20 processes killed mid-run, all converged; loop took %s", killed, time.Since(start).Round(time.Millisecond))
}

// backends describes the ETL's backends on env's database, for the log.
func backends(t testing.TB, env *pgtest.Env) string {
	t.Helper()
	c := connect(t, pgtest.URLFor(t, "", "", "postgres"))
	defer c.Close(context.Background())
	var s string
	err := c.QueryRow(context.Background(), `SELECT coalesce(string_agg(format('pid %s %s %s for %s: %s', pid, state,
			coalesce(wait_event_type || '/' || wait_event, '-'), round(extract(epoch FROM clock_timestamp() - query_start)::numeric, 1),
			left(regexp_replace(query, '\s+', ' ', 'g'), 60)), '; '), 'none')
		FROM pg_stat_activity WHERE datname = $1 AND application_name = 'geniai' AND pid <> pg_backend_pid()`, env.Name).Scan(&s)
	if err != nil {
		return err.Error()
	}
	return s
}
