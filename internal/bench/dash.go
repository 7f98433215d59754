package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/sheet"
)

// sized is a tenant picked by size, with its dashboard context.
type sized struct {
	label string
	t     *tenant
	dt    *dashboard.Tenant
	f     dashboard.Filter // 90-day period
}

func (r *run) principal(t *tenant) pg.Principal {
	return pg.User(t.id, t.userID, pg.AppClient, "127.0.0.1", "geniai-bench")
}

// pick returns the smallest, median and largest tenants by conversation count.
func (r *run) pick(ctx context.Context, svc *dashboard.Service) ([]sized, error) {
	if r.tenants[0].convs == 0 {
		if _, _, err := r.countConversations(ctx); err != nil {
			return nil, err
		}
	}
	ts := r.bySize()
	picks := []sized{{label: "smallest", t: ts[0]}, {label: "median", t: ts[len(ts)/2]}, {label: "largest", t: ts[len(ts)-1]}}
	for i := range picks {
		p := &picks[i]
		dt, err := svc.LoadTenant(ctx, r.principal(p.t), p.t.id)
		if err != nil {
			return nil, err
		}
		p.dt = dt
		if p.f, err = dashboard.Parse(url.Values{"period": {"90d"}}, dt.Today(time.Now()), 30, dt.InboxIDs()); err != nil {
			return nil, err
		}
	}
	return picks, nil
}

// dashboardPhase: Service.Load and Service.List latency for the smallest, median and largest
// tenant over a 90-day period, and the CSV export rate through Service.Each.
func (r *run) dashboardPhase(ctx context.Context) error {
	sc := r.cfg.Scale
	if err := r.analyze(ctx); err != nil {
		return err
	}
	svc := &dashboard.Service{DB: r.db}
	picks, err := r.pick(ctx, svc)
	if err != nil {
		return err
	}
	ts := r.bySize()
	r.rep.Params["tenant_sizes"] = fmt.Sprintf("smallest %d, median %d, largest %d conversations (all history)",
		ts[0].convs, ts[len(ts)/2].convs, ts[len(ts)-1].convs)
	for _, p := range picks {
		var inPeriod float64
		s, err := measure(sc.Warmup, sc.Samples, func() error {
			d, err := svc.Load(ctx, r.principal(p.t), p.t.id, p.f)
			if err == nil && d.KPIs.Conversations.Cur != nil {
				inPeriod = *d.KPIs.Conversations.Cur
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", p.t.slug, err)
		}
		who := fmt.Sprintf("%s tenant (%s conversations, %s in 90 days)", p.label, format(float64(p.t.convs)), format(inPeriod))
		r.latencyRows("dashboard", "Service.Load, "+who, s, 50)
	}
	for _, p := range picks {
		s, err := measure(sc.Warmup, sc.Samples, func() error {
			_, err := svc.List(ctx, r.principal(p.t), p.t.id, p.f)
			return err
		})
		if err != nil {
			return fmt.Errorf("list %s: %w", p.t.slug, err)
		}
		r.latencyRows("conversation list", fmt.Sprintf("Service.List first page (%d rows + total), %s tenant", p.f.PageSize, p.label), s, 30)
	}
	if err := r.queueLatency(ctx, svc, picks); err != nil {
		return err
	}
	return r.exportRate(ctx, svc, picks[len(picks)-1])
}

// queueLatency: the queue page's query (Service.Queue: counts and the first page, oldest wait
// first) for the tenants picked (the smallest, median and largest; the whale phase its single
// tenant holding the whole source), and the last one's past-SLA filter.
func (r *run) queueLatency(ctx context.Context, svc *dashboard.Service, picks []sized) error {
	sc := r.cfg.Scale
	type qcase struct {
		p     sized
		state string
	}
	cases := []qcase{}
	for _, p := range picks {
		cases = append(cases, qcase{p: p})
	}
	cases = append(cases, qcase{p: picks[len(picks)-1], state: "past_sla"})
	for _, c := range cases {
		f := dashboard.QueueFilter{PageSize: dashboard.DefaultPageSize, State: c.state}
		var counts dashboard.QueueCounts
		s, err := measure(sc.Warmup, sc.Samples, func() error {
			q, err := svc.Queue(ctx, r.principal(c.p.t), c.p.t.id, f)
			if err == nil {
				counts = q.Counts
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("queue %s: %w", c.p.t.slug, err)
		}
		what := fmt.Sprintf("Service.Queue first page (%d rows + counts), %s tenant (%s conversations, %s awaiting a person, %s past the SLA)",
			f.PageSize, c.p.label, format(float64(c.p.t.convs)), format(float64(counts.Awaiting)), format(float64(counts.PastSLA)))
		if c.state != "" {
			what = fmt.Sprintf("Service.Queue, filter %s, %s tenant", c.state, c.p.label)
		}
		r.latencyRows("queue", what, s, 0) // no target stated for the queue
	}
	return nil
}

// latencyRows adds p50, p95 and p99; the target, when above 0, applies to p95.
func (r *run) latencyRows(section, what string, s samples, p95Target float64) {
	note := fmt.Sprintf("%d samples after warm-up, server-side", len(s))
	var t *target
	if p95Target > 0 {
		t = atMost(p95Target)
	}
	r.rep.add(section, what+" p50", s.pct(50), "ms", nil, note)
	r.rep.add(section, what+" p95", s.pct(95), "ms", t, note)
	r.rep.add(section, what+" p99", s.pct(99), "ms", nil, note)
}

var errEnough = errors.New("enough rows")

// exportRate streams up to ExportRows conversations of tenant p (365-day filter) through
// Service.Each and the conversation export, as CSV and as .xlsx, three times each, interleaved,
// and reports the median rates side by side, the .xlsx's time and its peak memory. Memory is
// measured twice, for a tenth of the rows and for all of them: a streaming writer keeps both
// peaks about equal.
func (r *run) exportRate(ctx context.Context, svc *dashboard.Service, p sized) error {
	limit := r.cfg.Scale.ExportRows
	f, err := dashboard.Parse(url.Values{"period": {"365d"}}, p.dt.Today(time.Now()), 30, p.dt.InboxIDs())
	if err != nil {
		return err
	}
	tr := func(k string) string { return k }
	once := func(format sheet.Format, max int) (int, time.Duration, error) {
		ex := dashboard.NewConversationExport(p.dt, tr)
		w, err := sheet.New(io.Discard, format, sheet.Table{Name: "Conversas", Columns: ex.Columns, Loc: p.dt.Loc,
			About: []sheet.Field{{Label: "Cliente", Value: sheet.Str(p.dt.Name)}}})
		if err != nil {
			return 0, 0, err
		}
		defer w.Abort()
		n := 0
		t0 := time.Now()
		err = svc.Each(ctx, r.principal(p.t), p.t.id, f, func(row dbsqlc.ConversationPageRow) error {
			if n >= max {
				return errEnough
			}
			n++
			return w.Row(ex.Values(row)...)
		})
		if errors.Is(err, errEnough) {
			err = nil
		}
		if err == nil {
			err = w.Close()
		}
		return n, time.Since(t0), err
	}
	for _, format := range []sheet.Format{sheet.CSV, sheet.XLSX} { // warm-up
		if _, _, err := once(format, 5000); err != nil {
			return fmt.Errorf("export %s: %w", format, err)
		}
	}
	var csvRates, xlsxRates, xlsxSecs []float64
	rows := 0
	for i := 0; i < 3; i++ {
		for _, format := range []sheet.Format{sheet.CSV, sheet.XLSX} {
			n, d, err := once(format, limit)
			if err != nil {
				return fmt.Errorf("export %s: %w", format, err)
			}
			rows = n
			if format == sheet.CSV {
				csvRates = append(csvRates, float64(n)/d.Seconds())
			} else {
				xlsxRates = append(xlsxRates, float64(n)/d.Seconds())
				xlsxSecs = append(xlsxSecs, d.Seconds())
			}
		}
	}
	sort.Float64s(csvRates)
	sort.Float64s(xlsxRates)
	sort.Float64s(xlsxSecs)
	how := fmt.Sprintf("%s rows of the %s tenant (365-day filter) via Service.Each + the conversation export", format(float64(rows)), p.label)
	if rows < limit {
		how += fmt.Sprintf("; only %s rows exist at this scale (target is for %s)", format(float64(rows)), format(float64(limit)))
	}
	r.rep.add("export", fmt.Sprintf("CSV export rate, %s tenant", p.label), csvRates[1], "rows/s", atLeast(50000), how+", CSV, median of 3")
	r.rep.add("export", fmt.Sprintf(".xlsx export rate, %s tenant", p.label), xlsxRates[1], "rows/s", nil,
		how+", .xlsx (streamed sheet, zip written to the output), median of 3, interleaved with the CSV runs")
	r.rep.add("export", fmt.Sprintf(".xlsx export time, %s tenant", p.label), xlsxSecs[1], "s", atMost(10), how+", median of 3")
	r.rep.add("export", fmt.Sprintf(".xlsx ÷ CSV export time, %s tenant", p.label), csvRates[1]/xlsxRates[1], "×", nil, "ratio of the medians above")

	// Peak memory of one .xlsx export: the Go heap (sampled every 2 ms) above what it held before,
	// and the process's peak RSS (VmHWM, reset before the export), for a tenth and all of the rows.
	for _, n := range []int{max(rows/10, 1), rows} {
		var heap int64
		hwm, err := peakRSS(func() error {
			var err error
			heap, err = peakHeap(func() error { _, _, err := once(sheet.XLSX, n); return err })
			return err
		})
		if err != nil {
			return fmt.Errorf("export memory: %w", err)
		}
		note := fmt.Sprintf("one .xlsx export of %s rows; Go heap sampled every 2 ms, above its level before the export", format(float64(n)))
		r.rep.add("export", fmt.Sprintf(".xlsx export peak heap, %s rows, %s tenant", format(float64(n)), p.label), float64(heap)/(1<<20), "MiB", nil, note)
		if hwm > 0 {
			r.rep.add("export", fmt.Sprintf(".xlsx export peak RSS, %s rows, %s tenant", format(float64(n)), p.label), hwm, "MiB", nil,
				"VmHWM of the bench process, reset (clear_refs 5) before the export")
		}
	}
	return nil
}

// rlsPhase compares the dashboard's queries (Service.LoadIn: whichever path Load takes) through
// the tenant role (RLS applies) with the same sqlc methods, SQL text and parameters run by a
// bench-only BYPASSRLS role (the explicit `tenant_id = $1` of every query is then the only
// filter), interleaved pairwise in one run, as a ratio of medians.
func (r *run) rlsPhase(ctx context.Context) error {
	// The tables as autovacuum leaves them shortly after a load, as the dashboard phase measures
	// them, whether or not that phase ran.
	if err := r.analyze(ctx); err != nil {
		return err
	}
	svc := &dashboard.Service{DB: r.db}
	picks, err := r.pick(ctx, svc)
	if err != nil {
		return err
	}
	// Every size: a plan that differs under the policies shows up at one size and not another.
	for _, p := range picks {
		if err := r.rlsCompare(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// rlsCompare measures one tenant's dashboard queries through the tenant role and through the
// BYPASSRLS role, interleaved, and reports the ratio of medians.
func (r *run) rlsCompare(ctx context.Context, p sized) error {
	sc := r.cfg.Scale
	// Two pools configured alike (pg.Open's settings, two connections, fresh), one per role, each
	// timing its statements: only the role differs.
	viaT, viaB := newStmtTimes(), newStmtTimes()
	tenantDB, err := pg.Open(ctx, r.dbs.authURL, pg.Options{MaxConns: 2, Tracer: viaT})
	if err != nil {
		return err
	}
	defer tenantDB.Close()
	bypassDB, err := pg.Open(ctx, r.dbs.bypassURL, pg.Options{MaxConns: 2, Tracer: viaB})
	if err != nil {
		return err
	}
	defer bypassDB.Close()
	bypass := bypassDB.Pool
	var bypasses bool
	if err := bypass.QueryRow(ctx, "SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user").Scan(&bypasses); err != nil || !bypasses {
		return fmt.Errorf("bench role does not bypass RLS (%v)", err)
	}
	svc := &dashboard.Service{DB: tenantDB}
	count := func(d *dashboard.Dashboard) int64 {
		if d == nil || d.KPIs.Conversations.Cur == nil {
			return 0
		}
		return int64(*d.KPIs.Conversations.Cur)
	}
	var nTenant, nOwner int64
	viaTenant := func() error {
		return tenantDB.InReadTx(ctx, r.principal(p.t), func(tx pg.Tx) error {
			d, err := svc.LoadIn(ctx, tx, p.t.id, p.f)
			nTenant = count(d)
			return err
		})
	}
	viaOwner := func() error {
		// The transaction pg.DB.InReadTx opens: read-only, on one snapshot.
		return pgx.BeginTxFunc(ctx, bypass, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			q := dbsqlc.New(tx)
			// The same first statement as every request; only the role differs (a NULL role keeps
			// the connection's own, the BYPASSRLS bench role).
			tenantID, userID := p.t.id, p.t.userID
			if err := q.ContextSet(ctx, dbsqlc.ContextSetParams{TenantID: &tenantID, UserID: &userID,
				AppRole: pg.AppClient, IP: "127.0.0.1", UserAgent: "geniai-bench"}); err != nil {
				return err
			}
			d, err := svc.LoadIn(ctx, pg.Tx{Queries: q, Raw: tx}, p.t.id, p.f)
			nOwner = count(d)
			return err
		})
	}
	for i := 0; i < sc.Warmup; i++ {
		if err := viaTenant(); err != nil {
			return fmt.Errorf("tenant role: %w", err)
		}
		if err := viaOwner(); err != nil {
			return fmt.Errorf("bypass role: %w", err)
		}
	}
	if nTenant != nOwner {
		return fmt.Errorf("tenant role sees %d conversations, bypass role %d: not the same query", nTenant, nOwner)
	}
	var st, so samples
	viaT.on, viaB.on = true, true
	for i := 0; i < sc.Samples; i++ {
		a, b := viaTenant, viaOwner
		first, second := &st, &so
		if i%2 == 1 { // alternate the order so neither side always runs on a warmer cache
			a, b, first, second = viaOwner, viaTenant, &so, &st
		}
		t0 := time.Now()
		if err := a(); err != nil {
			return err
		}
		*first = append(*first, time.Since(t0))
		t0 = time.Now()
		if err := b(); err != nil {
			return err
		}
		*second = append(*second, time.Since(t0))
	}
	// The figure is the median of the pairs' ratios: each pair ran back to back, so a burst of load
	// from other work on the machine slows both sides of a pair and cancels out, where a ratio of
	// the two sides' medians takes it in whole.
	ratios := make([]float64, len(st))
	for i := range st {
		ratios[i] = float64(st[i]) / float64(so[i])
	}
	sort.Float64s(ratios)
	ratio := ratios[len(ratios)/2]
	r.rep.add("RLS overhead", fmt.Sprintf("tenant role ÷ BYPASSRLS owner-side, dashboard queries, %s tenant", p.label), ratio, "×", atMost(1.1),
		fmt.Sprintf("median of %d interleaved pairs' ratios (ratio of medians %.3f: %.2f ms vs %.2f ms; p95 %.2f vs %.2f), identical sqlc SQL and parameters (Service.LoadIn), %s conversations in period; largest differences per statement (median, tenant role − BYPASSRLS): %s",
			len(st), st.pct(50)/so.pct(50), st.pct(50), so.pct(50), st.pct(95), so.pct(95), format(float64(nTenant)), viaT.gaps(viaB, 3)))
	return nil
}

// analyze vacuums and analyses the tables a load filled, as autovacuum does by itself shortly
// after a load this size: the planner's statistics (measured right after a bulk load, the planner
// still believed the tenant's rows few and sorted a whole period for a page) and the visibility
// map. Left to autovacuum, its pass over a million fresh rows ran during the dashboard and RLS
// measurements, sharing their two cores.
func (r *run) analyze(ctx context.Context) error {
	su, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return err
	}
	defer su.Close(context.WithoutCancel(ctx))
	t0 := time.Now()
	if _, err := su.Exec(ctx, "VACUUM (ANALYZE) analytics.conversations, analytics.transcripts"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	r.cfg.logf("VACUUM (ANALYZE) analytics.conversations, analytics.transcripts: %.1f s", time.Since(t0).Seconds())
	r.rep.Params["statistics"] = "VACUUM (ANALYZE) analytics.conversations and analytics.transcripts before the dashboard " +
		"and whole-source measurements (what autovacuum does by itself shortly after a load this size)"
	return nil
}
