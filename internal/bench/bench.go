// Package bench is the benchmark behind `make bench` (command geniai-bench, apart from the
// product binary): one run that builds a Chatwoot source at a given scale, loads it, and
// measures the product end to end on the machine it runs on — source generation, ETL
// full/incremental/no-change runs, dashboard and list latency by tenant size, CSV export, the
// RLS overhead, HTTP throughput with signed-in clients, login throughput, peak RSS of `serve`
// and `etl run`, fuzzing for a fixed time and the isolation-under-load test — and writes one
// report (markdown + JSON) with every figure beside its target. It reports; it never fails a
// run because a number missed its target.
package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// Scale sizes a run.
type Scale struct {
	Name          string
	Tenants       int // client tenants; tenant 1 maps two Chatwoot accounts (the biggest), the others one each
	Conversations int // over the whole source
	Days          int // history length
	Samples       int // measured iterations per latency figure (≥ 200)
	Warmup        int
	HTTPDuration  time.Duration
	LoginDuration time.Duration
	FuzzTime      time.Duration
	LoadRequests  int // LOAD_REQUESTS of TestIsolationUnderLoad
	ExportRows    int
	PollInterval  time.Duration // ETL_INTERVAL of the polling-only freshness run; default 1m
}

// sourceOptions is the Chatwoot source a scale generates. One account more than tenants: tenant
// 1 maps accounts 1 and 2, so the largest tenant is well above the others (the generator already
// skews traffic towards the first accounts: weight 1/(1 + 0.3·(account−1))).
func sourceOptions(sc Scale) chatwoot.Options {
	return chatwoot.Options{Accounts: sc.Tenants + 1, InboxesPerAccount: 2, Conversations: sc.Conversations,
		Days: sc.Days, Seed: 1, Now: time.Now()}
}

// Scales are the named sizes.
var Scales = map[string]Scale{
	"full": {Name: "full", Tenants: 100, Conversations: 1_000_000, Days: 90, Samples: 200, Warmup: 20,
		HTTPDuration: 30 * time.Second, LoginDuration: 15 * time.Second, FuzzTime: 30 * time.Second,
		LoadRequests: 100_000, ExportRows: 100_000},
	// medium: the whole-source tenant holds 120,000 conversations, so its export figures are
	// measured at their stated size (100,000 rows) in minutes rather than the full run's half hour.
	"medium": {Name: "medium", Tenants: 20, Conversations: 120_000, Days: 90, Samples: 200, Warmup: 10,
		HTTPDuration: 8 * time.Second, LoginDuration: 6 * time.Second, FuzzTime: 5 * time.Second,
		LoadRequests: 2_000, ExportRows: 100_000},
	// clients: a thousand tenants over 1M conversations. The generator's traffic weight
	// 1/(1 + 0.3·(account−1)) makes most tenants small (a few hundred conversations) and a few
	// large (the first ones tens of thousands): where one node stops.
	"clients": {Name: "clients", Tenants: 1000, Conversations: 1_000_000, Days: 90, Samples: 200, Warmup: 20,
		HTTPDuration: 30 * time.Second, LoginDuration: 10 * time.Second, FuzzTime: 5 * time.Second,
		LoadRequests: 10_000, ExportRows: 100_000},
	"small": {Name: "small", Tenants: 20, Conversations: 20_000, Days: 90, Samples: 200, Warmup: 10,
		HTTPDuration: 8 * time.Second, LoginDuration: 6 * time.Second, FuzzTime: 5 * time.Second,
		LoadRequests: 2_000, ExportRows: 100_000},
}

// Config is what a run needs.
type Config struct {
	Scale Scale

	DatabaseURL      string // the authenticator (DATABASE_URL); its database is not touched
	MigrationURL     string // the owner (MIGRATION_DATABASE_URL)
	ChatwootAdminURL string // owner of the demo Chatwoot database (CHATWOOT_ADMIN_URL)
	ChatwootURL      string // the ETL's read-only source role (CHATWOOT_DATABASE_URL)
	SuperURL         string // a superuser (PGSUPER_URL): creates the throwaway databases and the bypass role

	BcryptCost int    // BCRYPT_COST of the configuration under test
	RepoDir    string // module root, for `go build` and `go test`; "" is the working directory
	Keep       bool   // keep the bench databases afterwards
	CrashDir   string // where failing fuzz inputs are moved (out of the source tree); "" is bench/results/fuzz-crashers
	Skip       map[string]bool
	// Baselines are earlier builds the etlcost phase compares the ETL of this build with.
	Baselines []Baseline
	// Citus is a cluster to compare with (the citus phase); nil: not measured.
	Citus *CitusConfig
	Log   io.Writer // progress lines
	// AfterPhase, when set, gets the report so far after every phase (the command writes it, so
	// a run stopped late still leaves the figures it measured).
	AfterPhase func(*Report)
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "bench %s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}

// tenant is one bench tenant.
type tenant struct {
	id       int64
	slug     string
	accounts []int32
	inboxes  []int32
	mapped   []staff.Inbox // the inboxes as the tenant was created with them
	convs    int64         // analytics conversations after the full load
	email    string
	password string
	userID   int64
}

// run is the state shared by the phases.
type run struct {
	cfg     *Config
	rep     *Report
	dbs     *databases
	db      *pg.DB // authenticator pool on the bench database
	tenants []*tenant
	binary  string // the geniai binary for child processes
	gen     chatwoot.Summary
}

// Run executes the whole bench and returns its report. Errors of single phases are recorded in
// the report; the error return is for failures that leave nothing to measure.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	rep := &Report{Started: start, Scale: cfg.Scale.Name, Machine: machine(), Params: map[string]any{}}
	rep.Machine.LoadStart = loadAvg()
	if cfg.CrashDir == "" {
		cfg.CrashDir = "bench/results/fuzz-crashers"
	}
	r := &run{cfg: &cfg, rep: rep}
	stamp := start.UTC().Format("20060102_150405")

	cfg.logf("creating bench databases (suffix %s)", stamp)
	dbs, err := createDatabases(ctx, &cfg, stamp)
	if err != nil {
		return nil, err
	}
	r.dbs = dbs
	defer func() {
		if cfg.Keep {
			cfg.logf("kept databases %s and %s (role %s)", dbs.analytics, dbs.chatwoot, dbs.bypassRole)
			return
		}
		if err := dbs.drop(context.WithoutCancel(ctx), cfg.SuperURL); err != nil {
			cfg.logf("dropping bench databases: %v", err)
		}
	}()
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	defer r.db.Close()

	phases := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"etl", r.etlPhase},
		{"dashboard", r.dashboardPhase},
		{"digest", r.digestPhase},
		{"rls", r.rlsPhase},
		{"citus", r.citusPhase},
		{"http", r.httpPhase},
		{"freshness", r.freshnessPhase},
		{"clients", r.clientsPhase},
		{"fuzz", r.fuzzPhase},
		{"isolation", r.isolationPhase},
		{"whale", r.whalePhase},
		{"etlcost", r.etlCostPhase},
		{"compare", r.comparePhase}, // last: it adds tenants
	}
	for _, p := range phases {
		if cfg.Skip[p.name] {
			cfg.logf("skipping %s", p.name)
			continue
		}
		if ctx.Err() != nil {
			break
		}
		cfg.logf("phase %s", p.name)
		if err := p.fn(ctx); err != nil {
			rep.Errors = append(rep.Errors, p.name+": "+err.Error())
			cfg.logf("phase %s failed: %v", p.name, err)
		}
		if cfg.AfterPhase != nil {
			rep.Duration = time.Since(start).Seconds()
			cfg.AfterPhase(rep)
		}
	}
	rep.Duration = time.Since(start).Seconds()
	rep.Machine.LoadEnd = loadAvg()
	return rep, ctx.Err()
}

// prepare migrates, generates the source, creates tenants and their users.
func (r *run) prepare(ctx context.Context) error {
	cfg, sc := r.cfg, r.cfg.Scale
	cfg.logf("migrating %s", r.dbs.analytics)
	if err := pg.Migrate(ctx, r.dbs.ownerURL, -1, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := r.dbs.grantBypass(ctx); err != nil {
		return fmt.Errorf("bypass role: %w", err)
	}
	db, err := pg.Open(ctx, r.dbs.authURL, pg.Options{MaxConns: 8})
	if err != nil {
		return err
	}
	r.db = db
	var version string
	if err := db.Pool.QueryRow(ctx, "SHOW server_version").Scan(&version); err == nil {
		r.rep.Machine.PostgreSQL = "PostgreSQL " + strings.Fields(version)[0]
	}

	// 1. The Chatwoot source (sourceOptions).
	o := sourceOptions(sc)
	cfg.logf("generating the Chatwoot source: %d accounts, %d conversations, %d days", o.Accounts, o.Conversations, o.Days)
	conn, err := pgx.Connect(ctx, r.dbs.cwAdminURL)
	if err != nil {
		return fmt.Errorf("chatwoot admin connection: %w", err)
	}
	t0 := time.Now()
	r.gen, err = chatwoot.CreateDemo(ctx, conn, o)
	genTime := time.Since(t0)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	r.rep.Params["generation"] = o
	r.rep.Params["source"] = r.gen
	r.rep.Params["summary"] = fmt.Sprintf("Source: %d accounts → %d tenants, %d inboxes, %s conversations, %s messages, generated over %d days.",
		r.gen.Accounts, sc.Tenants, r.gen.Inboxes, format(float64(r.gen.Conversations)), format(float64(r.gen.Messages)), sc.Days)
	r.rep.add("source", "generate Chatwoot source (CreateDemo)", genTime.Seconds(), "s", nil,
		fmt.Sprintf("%s conversations, %s messages, %s reporting events, %s taggings; %s messages/s",
			format(float64(r.gen.Conversations)), format(float64(r.gen.Messages)), format(float64(r.gen.ReportingEvents)),
			format(float64(r.gen.Taggings)), format(float64(r.gen.Messages)/genTime.Seconds())))

	// 2. Tenants mapped to the accounts' inboxes, and one client user each.
	inboxes, err := chatwoot.Inboxes(ctx, r.dbs.cwReaderURL)
	if err != nil {
		return err
	}
	byAccount := map[int32][]staff.SourceInbox{}
	for _, ib := range inboxes {
		byAccount[ib.AccountID] = append(byAccount[ib.AccountID], ib)
	}
	svc := &staff.Service{DB: db, BcryptCost: cfg.BcryptCost}
	sys := pg.System("bench")
	cfg.logf("creating %d tenants and their users (bcrypt cost %d)", sc.Tenants, cfg.BcryptCost)
	for k := 1; k <= sc.Tenants; k++ {
		t := &tenant{slug: fmt.Sprintf("bench-%03d", k)}
		if k == 1 {
			t.accounts = []int32{1, 2}
		} else {
			t.accounts = []int32{int32(k + 1)}
		}
		in := staff.TenantInput{Slug: t.slug, Name: fmt.Sprintf("Academia Bench %03d", k)}
		for _, a := range t.accounts {
			for _, ib := range byAccount[a] {
				acc := ib.AccountID
				in.Inboxes = append(in.Inboxes, staff.Inbox{ID: ib.ID, AccountID: &acc, Name: ib.Name, ChannelType: ib.ChannelType})
				t.mapped = append(t.mapped, staff.Inbox{ID: ib.ID, AccountID: &acc, Name: ib.Name, ChannelType: ib.ChannelType})
				t.inboxes = append(t.inboxes, ib.ID)
			}
		}
		row, err := svc.CreateTenant(ctx, sys, in)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.slug, err)
		}
		t.id = row.ID
		r.tenants = append(r.tenants, t)
	}
	return nil
}

// users creates one client user in each of the given tenants (bcrypt at the configured cost).
func (r *run) users(ctx context.Context, ts []*tenant) error {
	svc := &tenantadmin.Service{DB: r.db, BcryptCost: r.cfg.BcryptCost}
	for _, t := range ts {
		if t.email != "" {
			continue
		}
		email := "recepcao@" + t.slug + ".bench.com.br"
		u, pw, err := svc.CreateUser(ctx, pg.System("bench"), tenantadmin.UserInput{TenantSlug: t.slug, Email: email, FullName: "Recepção " + t.slug, Role: pg.AppClient})
		if err != nil {
			return fmt.Errorf("user for %s: %w", t.slug, err)
		}
		t.email, t.password, t.userID = email, pw, u.ID
	}
	return nil
}

// bySize returns the tenants ordered by conversation count, smallest first.
func (r *run) bySize() []*tenant {
	ts := append([]*tenant(nil), r.tenants...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].convs < ts[j].convs })
	return ts
}

// countConversations fills tenant.convs from the loaded analytics (superuser: all tenants).
func (r *run) countConversations(ctx context.Context) (conversations, messages int64, err error) {
	c, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	rows, err := c.Query(ctx, "SELECT tenant_id, count(*) FROM analytics.conversations GROUP BY tenant_id")
	if err != nil {
		return 0, 0, err
	}
	counts := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return 0, 0, err
		}
		counts[id] = n
		conversations += n
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, t := range r.tenants {
		t.convs = counts[t.id]
	}
	err = c.QueryRow(ctx, "SELECT coalesce(sum(cardinality(message_ids)), 0) FROM analytics.transcripts").Scan(&messages)
	return conversations, messages, err
}
