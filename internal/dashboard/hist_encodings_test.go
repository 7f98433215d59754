package dashboard

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestHistEncodingsAgree: the dashboard's histograms (arrays decoded by pgx, per-inbox
// histograms packed) are those of the other encodings BenchmarkHistEncodings measures, bucket by
// bucket, and so is every dashboard built from them.
func TestHistEncodingsAgree(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := pgtest.SeedAnalytics(t, env)
	addInboxArrays(t, pgtest.Conn(t, env.SuperURL))
	ctx := context.Background()
	p := pg.User(a, 0, pg.AppClient, "", "")
	inboxes := []int32{1, 2}
	for _, q := range []string{"period=90d", "period=30d", "period=90d&inbox=1", "period=365d&channel=Channel::Instagram", "from=2026-11-01&to=2026-11-15&inbox=1&inbox=2"} {
		v, _ := url.ParseQuery(q)
		f, err := Parse(v, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 30, inboxes)
		if err != nil {
			t.Fatal(err)
		}
		set := f.rollupInboxes(nil)
		if f.Channel != "" {
			set = []int32{2}
		}
		err = env.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
			for _, perInbox := range []bool{false, true} {
				want, err := readHists(ctx, tx, a, f, set, metricsFor(false).all(), perInbox)
				if err != nil {
					return err
				}
				var n int64
				for _, h := range want.all {
					for _, c := range h {
						n += c
					}
				}
				if n == 0 || (perInbox && len(want.firstReply) == 0) {
					t.Errorf("%s (per inbox %v): nothing read, the comparison proves nothing", q, perInbox)
				}
				for _, e := range otherEncodings {
					got, err := e.read(ctx, tx, a, f, set, metricsFor(false).all(), perInbox)
					if err != nil {
						return err
					}
					if got.all != want.all || got.heat != want.heat || !reflect.DeepEqual(got.firstReply, want.firstReply) {
						t.Errorf("%s (per inbox %v): %s differs from the dashboard's histograms", q, perInbox, e.name)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := (&Service{DB: env.DB, RollupAbove: -1}).Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		if !want.Approx {
			t.Fatalf("%s: the period is ranked, the histograms are not read", q)
		}
		for _, e := range otherEncodings {
			got, err := (&Service{DB: env.DB, RollupAbove: -1, histReader: e.read}).Load(ctx, p, a, f)
			if err != nil {
				t.Fatal(err)
			}
			if dump(got) != dump(want) {
				t.Errorf("%s: the dashboard differs with %s\n%s\n%s", q, e.name, dump(got), dump(want))
			}
		}
	}
}

// otherEncodings are the ways histograms could travel that BenchmarkHistEncodings measures
// against the dashboard's.
var otherEncodings = []struct {
	name string
	read func(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error)
}{
	{"arrays", readHistsArrays},
}

// addInboxArrays gives tenant_daily_hist's first-reply rows every inbox's histogram as three
// parallel arrays (inbox_ids, inbox_buckets, inbox_counts, sorted by inbox and bucket, stored
// like by_inbox): the driver-decoded alternative to by_inbox, built here for the measurement only.
func addInboxArrays(tb testing.TB, su *pgx.Conn) {
	tb.Helper()
	for _, sql := range []string{
		`ALTER TABLE analytics.tenant_daily_hist ADD COLUMN inbox_ids integer[], ADD COLUMN inbox_buckets smallint[], ADD COLUMN inbox_counts integer[]`,
		`ALTER TABLE analytics.tenant_daily_hist ALTER COLUMN inbox_ids SET STORAGE EXTERNAL,
			ALTER COLUMN inbox_buckets SET STORAGE EXTERNAL, ALTER COLUMN inbox_counts SET STORAGE EXTERNAL`,
		`UPDATE analytics.tenant_daily_hist t
		SET inbox_ids = e.inbox_ids, inbox_buckets = e.inbox_buckets, inbox_counts = e.inbox_counts
		FROM (SELECT h.tenant_id, h.day,
		             array_agg(h.inbox_id ORDER BY h.inbox_id, u.bucket) AS inbox_ids,
		             array_agg(u.bucket ORDER BY h.inbox_id, u.bucket) AS inbox_buckets,
		             array_agg(u.n ORDER BY h.inbox_id, u.bucket) AS inbox_counts
		      FROM analytics.daily_hist h, unnest(h.buckets, h.counts) AS u(bucket, n)
		      WHERE h.metric = 1
		      GROUP BY h.tenant_id, h.day) e
		WHERE t.tenant_id = e.tenant_id AND t.day = e.day AND t.metric = 1`,
		`VACUUM ANALYZE analytics.tenant_daily_hist`,
	} {
		if _, err := su.Exec(context.Background(), sql); err != nil {
			tb.Fatal(err)
		}
	}
}

// readHistsArrays is readHists with every inbox's first reply read from the arrays of
// addInboxArrays instead of by_inbox.
func readHistsArrays(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error) {
	if inboxes != nil {
		return readHists(ctx, tx, tenantID, g, inboxes, metrics, perInbox)
	}
	h := &hists{}
	if perInbox {
		h.firstReply = map[int32]*histogram{}
	}
	rows, err := tx.Raw.Query(ctx, `
		SELECT h.day, h.metric, h.buckets, h.counts,
		       (CASE WHEN $5::boolean THEN h.inbox_ids END)::integer[],
		       (CASE WHEN $5::boolean THEN h.inbox_buckets END)::smallint[],
		       (CASE WHEN $5::boolean THEN h.inbox_counts END)::integer[]
		FROM analytics.tenant_daily_hist h
		WHERE h.tenant_id = $1 AND h.day BETWEEN $2 AND $3 AND h.metric = ANY ($4::smallint[])`,
		tenantID, g.From, g.To, metrics, perInbox)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var day time.Time
	var metric int16
	var buckets, inboxBuckets []int16
	var counts, inboxIDs, inboxCounts []int32
	for rows.Next() {
		if err := rows.Scan(&day, &metric, &buckets, &counts, &inboxIDs, &inboxBuckets, &inboxCounts); err != nil {
			return nil, err
		}
		if err := h.addRow(-1, metric, day, buckets, counts); err != nil {
			return nil, err
		}
		if perInbox && metric == metricFirstReply {
			if len(inboxBuckets) != len(inboxIDs) || len(inboxCounts) != len(inboxIDs) {
				return nil, errHistArrays
			}
			for i, id := range inboxIDs {
				if b := inboxBuckets[i]; b >= 0 && b < histBuckets {
					h.inbox(id)[b] += int64(inboxCounts[i])
				}
			}
		}
	}
	return h, rows.Err()
}

// BenchmarkHistEncodings measures Service.Load side by side, interleaved, with the dashboard's
// histograms ("packed") and with each of otherEncodings, on seeded tenants of
// HIST_BENCH_SIZES (inboxes x conversations over 90 days; default 200x200000), and the bytes
// the server sends per load. Run with -benchtime=200x for 200 samples of each.
//
//	go test ./internal/dashboard -run '^$' -bench HistEncodings -benchtime=200x
func BenchmarkHistEncodings(b *testing.B) {
	sizes := os.Getenv("HIST_BENCH_SIZES")
	if sizes == "" {
		sizes = "200x200000"
	}
	for _, size := range strings.Split(sizes, ",") {
		ib, cv, _ := strings.Cut(size, "x")
		inboxes, err1 := strconv.Atoi(ib)
		convs, err2 := strconv.Atoi(cv)
		if err1 != nil || err2 != nil {
			b.Fatalf("HIST_BENCH_SIZES: %q is not INBOXESxCONVERSATIONS", size)
		}
		env := pgtest.New(b)
		t0 := time.Now()
		tenant := seedLargeTenant(b, env, inboxes, convs)
		b.Logf("seeded %d inboxes, %d conversations over 90 days in %.1f s", inboxes, convs, time.Since(t0).Seconds())
		for _, q := range []string{"period=90d", "period=90d&channel=Channel::Whatsapp", "period=90d&inbox=1&inbox=2"} {
			b.Run(fmt.Sprintf("%dx%d/%s", inboxes, convs, q), func(b *testing.B) {
				benchEncodings(b, env, tenant, inboxes, q)
			})
		}
	}
}

func benchEncodings(b *testing.B, env *pgtest.Env, tenant int64, inboxes int, q string) {
	ctx := context.Background()
	var read atomic.Int64
	cfg, err := pgxpool.ParseConfig(env.AuthURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, &read}, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	db := &pg.DB{Pool: pool}
	ids := make([]int32, inboxes)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	v, _ := url.ParseQuery(q)
	f, err := Parse(v, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 30, ids)
	if err != nil {
		b.Fatal(err)
	}
	p := pg.User(tenant, 0, pg.AppClient, "", "")
	type variant struct {
		name string
		svc  *Service
		ms   []float64 // Load's latencies
		sent int64     // bytes the server sent, over every sample
	}
	variants := []variant{{name: "packed", svc: &Service{DB: db}}}
	for _, e := range otherEncodings {
		variants = append(variants, variant{name: e.name, svc: &Service{DB: db, histReader: e.read}})
	}
	shown := make([]string, len(variants))
	for i := range variants {
		d, err := variants[i].svc.Load(ctx, p, tenant, f)
		if err != nil {
			b.Fatal(err)
		}
		if !d.Approx {
			b.Fatalf("%s: the period is ranked, the histograms are not read", q)
		}
		shown[i] = dump(d)
	}
	for _, d := range shown {
		if d != shown[0] {
			b.Fatalf("%s: the encodings give different dashboards", q)
		}
	}
	for range 5 { // warm-up
		for i := range variants {
			if _, err := variants[i].svc.Load(ctx, p, tenant, f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for k := range variants {
			i := (n + k) % len(variants) // alternate which goes first
			before := read.Load()
			t0 := time.Now()
			if _, err := variants[i].svc.Load(ctx, p, tenant, f); err != nil {
				b.Fatal(err)
			}
			variants[i].ms = append(variants[i].ms, float64(time.Since(t0).Microseconds())/1000)
			variants[i].sent += read.Load() - before
		}
	}
	b.StopTimer()
	for _, v := range variants {
		slices.Sort(v.ms)
		b.ReportMetric(pct(v.ms, 0.5), v.name+"-p50-ms")
		b.ReportMetric(pct(v.ms, 0.95), v.name+"-p95-ms")
		b.ReportMetric(float64(v.sent)/float64(b.N), v.name+"-B/load")
	}
	for _, v := range variants[1:] {
		b.ReportMetric(pct(v.ms, 0.5)/pct(variants[0].ms, 0.5), "p50-"+v.name+"/packed")
		b.ReportMetric(pct(v.ms, 0.95)/pct(variants[0].ms, 0.95), "p95-"+v.name+"/packed")
	}
}

// dump writes v with every pointer followed and every float by its bits, so two dumps are equal
// exactly when the values are, NaN included.
func dump(v any) string {
	var sb strings.Builder
	var walk func(r reflect.Value)
	walk = func(r reflect.Value) {
		switch r.Kind() {
		case reflect.Pointer, reflect.Interface:
			if r.IsNil() {
				sb.WriteString("nil")
				return
			}
			sb.WriteString("&")
			walk(r.Elem())
		case reflect.Float32, reflect.Float64:
			fmt.Fprintf(&sb, "%x", math.Float64bits(r.Float()))
		case reflect.Struct:
			if t, ok := r.Interface().(time.Time); ok {
				sb.WriteString(t.String())
				return
			}
			sb.WriteString("{")
			for i := range r.NumField() {
				if r.Type().Field(i).IsExported() {
					fmt.Fprintf(&sb, "%s:", r.Type().Field(i).Name)
					walk(r.Field(i))
					sb.WriteString(" ")
				}
			}
			sb.WriteString("}")
		case reflect.Slice, reflect.Array:
			sb.WriteString("[")
			for i := range r.Len() {
				walk(r.Index(i))
				sb.WriteString(" ")
			}
			sb.WriteString("]")
		case reflect.Map:
			keys := r.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			sb.WriteString("map[")
			for _, k := range keys {
				fmt.Fprintf(&sb, "%v:", k)
				walk(r.MapIndex(k))
				sb.WriteString(" ")
			}
			sb.WriteString("]")
		default:
			fmt.Fprintf(&sb, "%v", r)
		}
	}
	walk(reflect.ValueOf(v))
	return sb.String()
}

// pct is the p-quantile of sorted values (nearest rank).
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// countingConn counts the bytes the server sends.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// seedLargeTenant loads one tenant with inboxes inboxes (a third each WhatsApp, Instagram and web
// widget; lower ids busier) and convs conversations over the 90 days to 2026-11-28, with reply
// and resolution times spread as a mix of bot replies (seconds) and human ones (30 s to 2 days,
// log-uniform), then builds its rollups as the ETL does.
func seedLargeTenant(b testing.TB, env *pgtest.Env, inboxes, convs int) int64 {
	ctx := context.Background()
	su := pgtest.Conn(b, env.SuperURL)
	var id int64
	if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ('bench-hist', 'Bench') RETURNING id`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	_, err := su.Exec(ctx, `
		INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type)
		SELECT $1, i, 'Inbox ' || i, (ARRAY['Channel::Whatsapp', 'Channel::Instagram', 'Channel::WebWidget'])[1 + i % 3]
		FROM generate_series(1, $2::int) i`, id, inboxes)
	if err != nil {
		b.Fatal(err)
	}
	_, err = su.Exec(ctx, `
		WITH g AS (
			SELECT n, (hashint8extended(n, 1) & 1099511627775)::float8 / 1099511627776 AS r1,
			       (hashint8extended(n, 2) & 1099511627775)::float8 / 1099511627776 AS r2,
			       (hashint8extended(n, 3) & 1099511627775)::float8 / 1099511627776 AS r3,
			       (hashint8extended(n, 4) & 1099511627775)::float8 / 1099511627776 AS r4,
			       abs(hashint8extended(n, 5)) % 1000 AS r
			FROM generate_series(1, $2::int) n
		), m AS (
			SELECT g.*, 1 + floor($3::int * g.r1 * g.r1)::int AS inbox_id,
			       timestamptz '2026-11-28 23:59:00-03' - make_interval(secs => g.r2 * 90 * 86400) AS created_at,
			       CASE WHEN g.r % 10 = 9 THEN NULL WHEN g.r % 10 < 4 THEN 1 + 9 * g.r3
			            ELSE exp(ln(30) + g.r3 * (ln(172800) - ln(30))) END AS frt,
			       CASE WHEN g.r % 4 = 1 THEN exp(ln(300) + g.r4 * (ln(604800) - ln(300))) END AS res
			FROM g
		)
		INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type,
			status, contact_name, contact_phone, labels, created_at, source_updated_at, last_activity_at,
			created_day, created_hour, created_dow, contact_messages, bot_messages, human_messages,
			first_reply_seconds, first_human_reply_seconds, unanswered, resolved, handoff, bot_resolved,
			resolution_seconds, csat_rating, is_lead, is_visit, is_converted)
		SELECT $1, n, 1, inbox_id, n, (ARRAY['Channel::Whatsapp', 'Channel::Instagram', 'Channel::WebWidget'])[1 + inbox_id % 3],
			CASE WHEN res IS NULL THEN 0 ELSE 1 END::smallint, 'Contato ' || n, '+55119' || lpad(n::text, 8, '0'),
			CASE r % 5 WHEN 0 THEN '{lead}'::text[] WHEN 1 THEN '{lead,visita-agendada}' WHEN 2 THEN '{matriculado,lead,visita-agendada}' ELSE '{}' END,
			created_at, created_at, created_at + interval '1 hour',
			(created_at AT TIME ZONE 'America/Sao_Paulo')::date,
			extract(hour FROM created_at AT TIME ZONE 'America/Sao_Paulo')::smallint,
			extract(dow FROM created_at AT TIME ZONE 'America/Sao_Paulo')::smallint,
			CASE WHEN r % 10 = 9 THEN 0 ELSE 1 + r % 4 END, r % 3, r % 2,
			frt, CASE WHEN frt > 30 THEN frt END,
			frt IS NULL, res IS NOT NULL, r % 3 > 0 AND r % 2 = 1, res IS NOT NULL AND r % 2 = 0 AND r % 3 > 0,
			res, CASE WHEN r % 7 < 5 THEN (1 + r % 5)::smallint END,
			r % 10 <> 9 AND r % 5 IN (0, 1, 2), r % 10 <> 9 AND r % 5 IN (1, 2), r % 10 <> 9 AND r % 5 = 2
		FROM m`, id, convs, inboxes)
	if err != nil {
		b.Fatal(err)
	}
	pgtest.RefreshRollups(b, su, id)
	addInboxArrays(b, su)
	for _, t := range []string{"analytics.conversations", "analytics.daily_stats", "analytics.daily_hist", "analytics.tenant_daily_hist",
		"analytics.tenant_daily_stats", "analytics.daily_labels", "analytics.tenant_daily_labels"} {
		if _, err := su.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			b.Fatal(err)
		}
	}
	return id
}
