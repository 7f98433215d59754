package etl

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchConversations is the size of TestLoadBenchmark: tiny by default so `make test` keeps it
// working, ETL_BENCH_CONVERSATIONS=100000 (`make bench`) for the real measurement.
func benchConversations() int {
	if n, err := strconv.Atoi(os.Getenv("ETL_BENCH_CONVERSATIONS")); err == nil && n > 0 {
		return n
	}
	return 300
}

// benchTenants is the number of tenants of TestLoadBenchmark's no-change pass: 100 by default,
// ETL_BENCH_TENANTS=1000 for the pass at a thousand clients without the large bench scale.
func benchTenants() int {
	if n, err := strconv.Atoi(os.Getenv("ETL_BENCH_TENANTS")); err == nil && n > 2 {
		return n
	}
	return 100
}

// benchWorkers is the runner's ETL_WORKERS in TestLoadBenchmark (ETL_BENCH_WORKERS; default 1).
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("ETL_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// heapPeak samples the Go heap while a phase runs; the peak shows whether memory stays flat in
// the number of conversations (streaming) or grows with it.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			h.peak = max(h.peak, ms.HeapInuse)
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) end() float64 {
	close(h.stop)
	h.done.Wait()
	return float64(h.peak) / (1 << 20)
}

type benchRow struct {
	phase         string
	conversations int
	messages      int
	d             time.Duration
	heapMB        float64
	note          string
}

// TestLoadBenchmark measures (docs/etl.md): source generation, a full load of one tenant,
// an incremental run after 1% of its conversations changed and a no-change pass over 100
// tenants (ETL_BENCH_TENANTS), and prints a markdown table on stdout. It reports; it asserts correctness of the
// counts only, never a speed.
func TestLoadBenchmark(t *testing.T) {
	n := benchConversations()
	tenants := benchTenants()
	ctx := context.Background()
	url, src := newSource(t)
	f := newFixture(t, url, src)
	f.seedCatalog()
	f.runner.Workers = benchWorkers()
	var rows []benchRow

	// Source: n conversations of 10 messages (one private note) in inboxes 1-2 (tenant A), and
	// 5 conversations in each of the inboxes 5.. of the other tenants.
	start := time.Now()
	f.exec(src, `INSERT INTO inboxes (id, account_id, channel_id, name, channel_type, created_at, updated_at)
		SELECT i, 1, i, 'inbox ' || i, 'Channel::Whatsapp', now(), now() FROM generate_series(5, $1::int + 2) i`, tenants)
	f.exec(src, `INSERT INTO conversations (id, account_id, inbox_id, status, created_at, updated_at, contact_id, display_id, last_activity_at)
		SELECT g, 1, CASE WHEN g <= $1::int THEN 1 + g % 2 ELSE 5 + (g - $1::int - 1) / 5 END, g % 4,
		       timestamp '2025-01-01' + g * interval '37 seconds',
		       timestamp '2025-01-01' + g * interval '37 seconds' + interval '2 hours', g, g,
		       timestamp '2025-01-01' + g * interval '37 seconds' + interval '2 hours'
		FROM generate_series(1, $1::int + 5 * ($2::int - 2)) g`, n, tenants)
	f.exec(src, `INSERT INTO contacts (id, account_id, name, phone_number, created_at, updated_at)
		SELECT g, 1, 'Contato ' || g, '+55119' || lpad(g::text, 8, '0'), now(), now()
		FROM generate_series(1, $1::int + 5 * ($2::int - 2)) g`, n, tenants)
	f.exec(src, `INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type)
		SELECT 'mensagem ' || k, 1, c.inbox_id, c.id, CASE WHEN k % 3 = 0 THEN 0 ELSE 1 END,
		       c.created_at + k * interval '61 seconds', now(), k = 9,
		       CASE WHEN k % 3 = 0 THEN 'Contact' WHEN k < 5 THEN 'AgentBot' ELSE 'User' END
		FROM conversations c, generate_series(0, 9) k`)
	f.exec(src, `INSERT INTO taggings (tag_id, taggable_type, taggable_id, context)
		SELECT 1 + g % 4, 'Conversation', g, 'labels' FROM generate_series(1, $1::int) g WHERE g % 3 = 0`, n)
	f.exec(src, "ANALYZE")
	rows = append(rows, benchRow{phase: "generate source", conversations: n, messages: 10 * n, d: time.Since(start)})
	for i := 5; i < tenants+3; i++ {
		f.mkTenant(fmt.Sprintf("academia-%03d", i), i)
	}

	// Full load of tenant A.
	f.runner.ChunkSize = 0
	hp := startHeapPeak()
	start = time.Now()
	res, err := f.runner.RunTenant(ctx, f.tenantA, true)
	d := time.Since(start)
	heap := hp.end()
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != n || res.Messages != 9*n {
		t.Fatalf("full load: %+v, want %d conversations and %d messages", res, n, 9*n)
	}
	rows = append(rows, benchRow{"full load (1 tenant)", res.Inserted, res.Messages, d, heap, phasesNote(res.Phases)})

	// 1% of tenant A's conversations get a new contact message.
	changed := (n-7)/100 + 1
	f.exec(src, `WITH c AS (
			UPDATE conversations SET updated_at = updated_at + interval '30 days', last_activity_at = last_activity_at + interval '30 days'
			WHERE id <= $1::int AND id % 100 = 7 RETURNING id, inbox_id, updated_at)
		INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type)
		SELECT 'quero agendar uma visita', 1, c.inbox_id, c.id, 0, c.updated_at, c.updated_at, false, 'Contact' FROM c`, n)
	hp = startHeapPeak()
	start = time.Now()
	res, err = f.runner.RunTenant(ctx, f.tenantA, false)
	d = time.Since(start)
	heap = hp.end()
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != changed || res.Inserted != 0 || res.Messages != changed {
		t.Fatalf("incremental: %+v, want %d updated conversations and messages", res, changed)
	}
	rows = append(rows, benchRow{"incremental, 1% changed", res.Updated, res.Messages, d, heap, phasesNote(res.Phases)})

	// Load the other tenants, then time a pass over all of them with nothing new.
	if _, err := f.runner.RunAll(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Three passes back to back: the table shows the median, the note every one.
	var results []Result
	var passes []time.Duration
	hp = startHeapPeak()
	for range 3 {
		start = time.Now()
		results, err = f.runner.RunAll(ctx, false)
		passes = append(passes, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
	}
	heap = hp.end()
	d = slices.Sorted(slices.Values(passes))[1]
	var slowest Result
	var sum Phases
	var sumDur time.Duration
	for _, r := range results {
		sum.IDs += r.Phases.IDs
		sum.Extract += r.Phases.Extract
		sum.Copy += r.Phases.Copy
		sum.Merge += r.Phases.Merge
		sumDur += r.Duration
		if r.Err != nil || r.Inserted+r.Updated+r.Deleted+r.Messages != 0 {
			t.Fatalf("no-change pass, tenant %s: %+v", r.Slug, r)
		}
		if r.Duration > slowest.Duration {
			slowest = r
		}
	}
	if len(results) != tenants {
		t.Fatalf("no-change pass ran %d tenants, want %d", len(results), tenants)
	}
	rows = append(rows, benchRow{fmt.Sprintf("no-change pass (%d tenants)", tenants), 0, 0, d, heap,
		fmt.Sprintf("median of 3 passes (%.3f, %.3f, %.3f s), %d workers; last pass, all tenants: %s, run bookkeeping %.2f s; slowest %s %.3f s (%s)",
			passes[0].Seconds(), passes[1].Seconds(), passes[2].Seconds(), f.runner.Workers, phasesNote(sum),
			(sumDur - sum.IDs - sum.Extract - sum.Merge).Seconds(), slowest.Slug, slowest.Duration.Seconds(), phasesNote(slowest.Phases))})

	// A trickle: one conversation of every 50th small tenant changed; the pass loads those and
	// settles the rest.
	f.exec(src, `UPDATE conversations SET status = 1, updated_at = updated_at + interval '1 day'
		WHERE id > $1::int AND (id - $1::int - 1) % 250 = 0`, n)
	start = time.Now()
	results, err = f.runner.RunAll(ctx, false)
	d = time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	var loaded, updated int
	var own Phases
	var ownDur time.Duration
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("trickle pass, tenant %s: %v", r.Slug, r.Err)
		}
		if !r.Unchanged {
			loaded++
			own.IDs += r.Phases.IDs
			own.Extract += r.Phases.Extract
			own.Copy += r.Phases.Copy
			own.Merge += r.Phases.Merge
			ownDur += r.Duration
		}
		updated += r.Updated
	}
	want := (5*(tenants-2) + 249) / 250
	if updated != want {
		t.Fatalf("trickle pass updated %d conversations, want %d", updated, want)
	}
	rows = append(rows, benchRow{fmt.Sprintf("pass, a trickle changed (%d tenants)", tenants), updated, 0, d, 0,
		fmt.Sprintf("%d conversations changed in %d tenants; %d tenants ran on their own (%.3f s in all: %s), %d settled, %d workers",
			want, want, loaded, ownDur.Seconds(), phasesNote(own), len(results)-loaded, f.runner.Workers)})

	fmt.Printf("\n### ETL benchmark: %d conversations, %d messages (%d public), %d tenants, GOMAXPROCS %d\n\n",
		n, 10*n, 9*n, tenants, runtime.GOMAXPROCS(0))
	fmt.Println("| phase | conversations | messages | seconds | conversations/s | messages/s | peak Go heap MB | where the time went |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		rate := func(k int) string {
			if k == 0 {
				return ""
			}
			return fmt.Sprintf("%.0f", float64(k)/r.d.Seconds())
		}
		hs := ""
		if r.heapMB > 0 {
			hs = fmt.Sprintf("%.1f", r.heapMB)
		}
		fmt.Printf("| %s | %d | %d | %.3f | %s | %s | %s | %s |\n", r.phase, r.conversations, r.messages,
			r.d.Seconds(), rate(r.conversations), rate(r.messages), hs, r.note)
	}
	fmt.Println()
}

func phasesNote(p Phases) string {
	return fmt.Sprintf("ids %.2f, source %.2f, copy %.2f, merge %.2f s", p.IDs.Seconds(), p.Extract.Seconds(), p.Copy.Seconds(), p.Merge.Seconds())
}
