package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Baseline is an earlier build of geniai to compare the ETL with (`--baseline label=path`): the
// binary migrates its own database, so each build loads with the schema it shipped with.
type Baseline struct {
	Label  string
	Binary string
}

// etlCostRounds is how many times each build loads the source; the order alternates each round.
const etlCostRounds = 3

// etlCostPasses is how many no-change passes follow each full load.
const etlCostPasses = 5

// etlCostPhase measures what a change to the ETL costs: each baseline build and the build under
// test load the same Chatwoot source into a fresh database of their own (`geniai migrate`, the
// same tenants and inbox mappings, `geniai etl run --full`), then make no-change passes
// (`geniai etl run`), alternating builds round by round so machine noise falls on all of them.
// It reports the medians side by side and the ratio to the first baseline.
func (r *run) etlCostPhase(ctx context.Context) error {
	if len(r.cfg.Baselines) == 0 {
		r.cfg.logf("etlcost: no --baseline build given, nothing to compare")
		return nil
	}
	cur, err := r.buildBinary(ctx)
	if err != nil {
		return err
	}
	builds := append(append([]Baseline(nil), r.cfg.Baselines...), Baseline{Label: "this build", Binary: cur})
	type result struct{ full, pass []float64 }
	res := make([]result, len(builds))
	convs := make([]int64, len(builds))
	for round := 0; round < etlCostRounds; round++ {
		order := make([]int, len(builds))
		for i := range order {
			order[i] = i
		}
		if round%2 == 1 {
			sort.Sort(sort.Reverse(sort.IntSlice(order)))
		}
		for _, i := range order {
			b := builds[i]
			r.cfg.logf("etlcost round %d: %s (%s)", round+1, b.Label, b.Binary)
			full, passes, n, err := r.etlCostRun(ctx, b, round, i)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Label, err)
			}
			res[i].full = append(res[i].full, full)
			res[i].pass = append(res[i].pass, passes...)
			convs[i] = n
		}
	}
	sec := "ETL cost of speed to lead"
	for i, b := range builds {
		full, pass := median(res[i].full), median(res[i].pass)
		r.rep.add(sec, "full load, "+b.Label, full, "s", nil,
			fmt.Sprintf("median of %d (%s s); %s conversations, %s conversations/s; `geniai etl run --full` of %s, fresh database migrated by that build",
				len(res[i].full), joinF(res[i].full, 2), format(float64(convs[i])), format(float64(convs[i])/full), b.Binary))
		r.rep.add(sec, "no-change pass over every tenant, "+b.Label, pass*1000, "ms", nil,
			fmt.Sprintf("median of %d passes (`geniai etl run` right after its full load, process start included)", len(res[i].pass)))
	}
	base, last := 0, len(builds)-1
	r.rep.add(sec, fmt.Sprintf("full load, %s ÷ %s", builds[last].Label, builds[base].Label),
		median(res[last].full)/median(res[base].full), "×", nil, "medians above; the same source, tenants and machine, builds alternated")
	r.rep.add(sec, fmt.Sprintf("no-change pass, %s ÷ %s", builds[last].Label, builds[base].Label),
		median(res[last].pass)/median(res[base].pass), "×", nil, "medians above")
	return nil
}

// etlCostRun loads the bench source with build b into a database of its own, then makes the
// no-change passes; it returns the full load's and each pass's seconds, and the conversations
// loaded. The database is dropped afterwards.
func (r *run) etlCostRun(ctx context.Context, b Baseline, round, build int) (full float64, passes []float64, convs int64, err error) {
	name := fmt.Sprintf("%s_c%d_%d", r.dbs.analytics, round, build)
	owner, _, err := userOf(r.cfg.MigrationURL)
	if err != nil {
		return 0, nil, 0, err
	}
	super, err := pgx.Connect(ctx, r.cfg.SuperURL)
	if err != nil {
		return 0, nil, 0, err
	}
	defer super.Close(context.WithoutCancel(ctx))
	if err := execFormat(ctx, super, "CREATE DATABASE %I OWNER %I", name, owner); err != nil {
		return 0, nil, 0, err
	}
	defer func() {
		if derr := execFormat(context.WithoutCancel(ctx), super, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name); derr != nil && err == nil {
			err = derr
		}
	}()
	ownerURL, err := retarget(r.cfg.MigrationURL, name, "", "")
	if err != nil {
		return 0, nil, 0, err
	}
	authURL, err := retarget(r.cfg.DatabaseURL, name, "", "")
	if err != nil {
		return 0, nil, 0, err
	}
	superURL, err := retarget(r.cfg.SuperURL, name, "", "")
	if err != nil {
		return 0, nil, 0, err
	}
	run := func(env map[string]string, args ...string) (time.Duration, error) {
		t0 := time.Now()
		c, err := startBinary(b.Binary, env, args...)
		if err != nil {
			return 0, err
		}
		_, err = c.wait()
		return time.Since(t0), err
	}
	if _, err := run(map[string]string{"MIGRATION_DATABASE_URL": ownerURL}, "migrate"); err != nil {
		return 0, nil, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := r.copyTenants(ctx, superURL); err != nil {
		return 0, nil, 0, fmt.Errorf("tenants: %w", err)
	}
	env := map[string]string{"DATABASE_URL": authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL}
	d, err := run(env, "etl", "run", "--full")
	if err != nil {
		return 0, nil, 0, fmt.Errorf("full load: %w", err)
	}
	full = d.Seconds()
	for range etlCostPasses {
		d, err := run(env, "etl", "run")
		if err != nil {
			return 0, nil, 0, fmt.Errorf("no-change pass: %w", err)
		}
		passes = append(passes, d.Seconds())
	}
	c, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return 0, nil, 0, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	err = c.QueryRow(ctx, "SELECT count(*) FROM analytics.conversations").Scan(&convs)
	return full, passes, convs, err
}

// copyTenants creates the bench tenants and their inbox mappings in another analytics database
// (superURL), with the columns that database's schema has.
func (r *run) copyTenants(ctx context.Context, superURL string) error {
	from, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return err
	}
	defer from.Close(context.WithoutCancel(ctx))
	to, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return err
	}
	defer to.Close(context.WithoutCancel(ctx))
	var have []string
	rows, err := to.Query(ctx, `SELECT column_name::text FROM information_schema.columns
		WHERE table_schema = 'app' AND table_name = 'tenant_inboxes'
		  AND column_name IN ('inbox_name', 'account_id', 'channel_type') ORDER BY 1`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		have = append(have, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	type mapping struct {
		slug, name string
		inbox      int32
		values     []any
	}
	var ms []mapping
	rows, err = from.Query(ctx, `SELECT t.slug, t.name, i.inbox_id, i.inbox_name, i.account_id, i.channel_type
		FROM app.tenants t JOIN app.tenant_inboxes i ON i.tenant_id = t.id WHERE NOT t.is_platform ORDER BY t.id, i.inbox_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var m mapping
		var inboxName, channel *string
		var account *int32
		if err := rows.Scan(&m.slug, &m.name, &m.inbox, &inboxName, &account, &channel); err != nil {
			return err
		}
		for _, c := range have {
			switch c {
			case "inbox_name":
				m.values = append(m.values, inboxName)
			case "account_id":
				m.values = append(m.values, account)
			case "channel_type":
				m.values = append(m.values, channel)
			}
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ids := map[string]int64{}
	cols := strings.Join(append([]string{"tenant_id", "inbox_id"}, have...), ", ")
	ph := []string{"$1", "$2"}
	for i := range have {
		ph = append(ph, fmt.Sprintf("$%d", i+3))
	}
	for _, m := range ms {
		id, ok := ids[m.slug]
		if !ok {
			if err := to.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ($1, $2) RETURNING id", m.slug, m.name).Scan(&id); err != nil {
				return err
			}
			ids[m.slug] = id
		}
		args := append([]any{id, m.inbox}, m.values...)
		if _, err := to.Exec(ctx, "INSERT INTO app.tenant_inboxes ("+cols+") VALUES ("+strings.Join(ph, ", ")+")", args...); err != nil {
			return err
		}
	}
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func joinF(xs []float64, prec int) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.*f", prec, x)
	}
	return strings.Join(out, ", ")
}
