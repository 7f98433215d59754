package web

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// Isolation under load: 50 clients on 20 signed-in sessions, one per tenant, hammer
// pages, the JSON API and the exports of a server whose pool has only 4 connections. Every
// tenant's rows carry a marker (MARK-tNN-…) in the tenant name, inbox name, contact names,
// labels and transcript; a response showing another tenant's marker fails the test, as does any
// 5xx or transport error. LOAD_REQUESTS sets the number of requests (default 2000; make bench
// runs 100000).

const (
	loadTenants       = 20
	loadClients       = 50
	loadConvsPerTenat = 60
	loadPoolConns     = 4
)

var markerRE = regexp.MustCompile(`MARK-(t\d\d)-`)

func loadSlug(i int) string { return fmt.Sprintf("t%02d", i) }

// loadTenant is one seeded tenant of the load test.
type loadTenant struct {
	id    int64
	slug  string // tNN, the marker's key
	email string
	convs []int // its conversation ids
}

// seedLoadTenants creates the tenants, their inbox, analytics rows with markers and a client.
func seedLoadTenants(t testing.TB, h *harness) []loadTenant {
	t.Helper()
	ctx := context.Background()
	out := make([]loadTenant, loadTenants)
	for i := range out {
		n := i + 1
		slug := loadSlug(n)
		lt := loadTenant{slug: slug, email: "cliente@" + slug + ".load.test"}
		if err := h.super.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ($1, $2) RETURNING id`,
			"load-"+slug, "Academia MARK-"+slug+"-name").Scan(&lt.id); err != nil {
			t.Fatal(err)
		}
		inbox := 100 + n
		h.exec(`INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type) VALUES ($1, $2, $3, 'Channel::Whatsapp')`,
			lt.id, inbox, "MARK-"+slug+"-inbox")
		// Conversations n*1000+1 … over the last 25 days (so every default period shows them).
		h.exec(`
			INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type,
				status, contact_name, contact_phone, labels, created_at, source_updated_at, last_activity_at,
				created_day, created_hour, created_dow, contact_messages, bot_messages, human_messages,
				first_reply_seconds, unanswered, resolved, is_lead, is_visit, is_converted, csat_rating)
			SELECT $1, $2 * 1000 + k, $2, $3, k, 'Channel::Whatsapp', (k % 4)::smallint,
				'MARK-' || $4 || '-contact-' || k, '+5511' || lpad(($2 * 1000 + k)::text, 9, '0'),
				ARRAY['MARK-' || $4 || '-label'], ts, ts, ts + interval '1 hour',
				(ts AT TIME ZONE 'America/Sao_Paulo')::date,
				extract(hour FROM ts AT TIME ZONE 'America/Sao_Paulo')::smallint,
				extract(dow FROM ts AT TIME ZONE 'America/Sao_Paulo')::smallint,
				2, 1, k % 2, 30 + k, false, k % 4 = 1, true, k % 3 = 0, k % 6 = 0, (1 + k % 5)::smallint
			FROM generate_series(1, $5::int) k, LATERAL (SELECT now() - make_interval(days => k % 25, hours => k % 7) AS ts) x`,
			lt.id, n, inbox, slug, loadConvsPerTenat)
		h.exec(`
			INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at, message_senders,
				message_types, message_contents, message_deleted)
			SELECT c.tenant_id, c.conversation_id, ARRAY[c.conversation_id * 10 + 1, c.conversation_id * 10 + 2],
				ARRAY[c.created_at + interval '1 minute', c.created_at + interval '2 minutes'], '{contact,bot}', '{0,1}',
				ARRAY['MARK-' || $2 || '-message-1', 'MARK-' || $2 || '-message-2'], '{f,f}'
			FROM analytics.conversations c WHERE c.tenant_id = $1`, lt.id, slug)
		pgtest.RefreshRollups(t, h.super, lt.id)
		for k := 1; k <= loadConvsPerTenat; k++ {
			lt.convs = append(lt.convs, n*1000+k)
		}
		h.user(lt.id, lt.email, pg.AppClient, pw)
		out[i] = lt
	}
	return out
}

// loadServer is a harness whose server runs on a pool of conns connections, with the result and
// page caches on as in production.
func loadServer(t testing.TB, conns int32) *harness {
	t.Helper()
	h := newHarness(t, nil)
	db, err := pg.Open(context.Background(), h.env.AuthURL, pg.Options{MaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.DashboardCacheEntries, cfg.PageCacheMB = 2000, 32 // the production defaults: isolation holds with the caches
	srv, err := New(Options{DB: db, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	h.srv = srv
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { h.ts.Close(); srv.Close(); db.Close() })
	return h
}

// loadClient is one signed-in client: its own cookie jar over a shared transport.
type loadClient struct {
	base   string
	c      *http.Client
	tenant *loadTenant
}

func newLoadClient(base string, tr http.RoundTripper, lt *loadTenant) (*loadClient, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: tr, Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"email": {lt.email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "load-test")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		return nil, fmt.Errorf("login %s: status %d → %q", lt.email, res.StatusCode, res.Header.Get("Location"))
	}
	return &loadClient{base: base, c: c, tenant: lt}, nil
}

func (lc *loadClient) get(path string) (int, string, error) {
	req, _ := http.NewRequest("GET", lc.base+path, nil)
	req.Header.Set("User-Agent", "load-test")
	res, err := lc.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// loadRequest is one kind of request of the mix.
type loadRequest struct {
	kind       string
	path       func(lt *loadTenant, other *loadTenant, r *rand.Rand) string
	wantStatus int  // 0: 200
	ownMarker  bool // the response must show the tenant's own marker
}

var loadMix = []loadRequest{
	{kind: "dashboard", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/dashboard" }, ownMarker: true},
	{kind: "dashboard-90d", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/dashboard?period=90d&stack=inbox" }},
	{kind: "conversations", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/conversations?period=30d" }, ownMarker: true},
	{kind: "conversations-search-other", path: func(_ *loadTenant, o *loadTenant, _ *rand.Rand) string {
		return "/conversations?period=90d&q=MARK-" + o.slug
	}},
	{kind: "conversation", path: func(lt *loadTenant, _ *loadTenant, r *rand.Rand) string {
		return "/conversations/" + strconv.Itoa(lt.convs[r.IntN(len(lt.convs))])
	}, ownMarker: true},
	{kind: "conversation-other", wantStatus: http.StatusNotFound, path: func(_ *loadTenant, o *loadTenant, r *rand.Rand) string {
		return "/conversations/" + strconv.Itoa(o.convs[r.IntN(len(o.convs))])
	}},
	{kind: "api-summary", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/api/v1/dashboard/summary?period=30d" }},
	{kind: "api-series", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/api/v1/dashboard/series?period=30d" }},
	{kind: "api-conversations", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/api/v1/conversations?limit=50" }, ownMarker: true},
	{kind: "api-conversation", path: func(lt *loadTenant, _ *loadTenant, r *rand.Rand) string {
		return "/api/v1/conversations/" + strconv.Itoa(lt.convs[r.IntN(len(lt.convs))])
	}, ownMarker: true},
	{kind: "api-conversation-other", wantStatus: http.StatusNotFound, path: func(_ *loadTenant, o *loadTenant, r *rand.Rand) string {
		return "/api/v1/conversations/" + strconv.Itoa(o.convs[r.IntN(len(o.convs))])
	}},
	{kind: "export-conversations", path: func(*loadTenant, *loadTenant, *rand.Rand) string { return "/conversations/export.csv?period=30d" }, ownMarker: true},
	{kind: "export-conversations-xlsx", path: func(*loadTenant, *loadTenant, *rand.Rand) string {
		return "/conversations/export.xlsx?period=30d"
	}, ownMarker: true},
	{kind: "export-chart", path: func(_ *loadTenant, _ *loadTenant, r *rand.Rand) string {
		charts := []string{"kpis", "daily", "funnel", "first-reply", "heatmap", "inboxes", "labels", "csat"}
		return "/dashboard/export/" + charts[r.IntN(len(charts))] + ".csv?period=30d"
	}},
}

func loadRequests() int {
	if s := os.Getenv("LOAD_REQUESTS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 2000
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func TestIsolationUnderLoad(t *testing.T) {
	h := loadServer(t, loadPoolConns)
	tenants := seedLoadTenants(t, h)
	tr := &http.Transport{MaxIdleConns: 2 * loadClients, MaxIdleConnsPerHost: 2 * loadClients, IdleConnTimeout: time.Minute}
	t.Cleanup(tr.CloseIdleConnections)

	// One session per tenant, shared by that tenant's clients (a user with several tabs): each
	// sign-in verifies a bcrypt hash, about 3 s under the race detector, so 50 sign-ins took
	// minutes on CI. The 50 clients still send their requests at once.
	sessions := make([]*loadClient, loadTenants)
	for i := range sessions {
		c, err := newLoadClient(h.ts.URL, tr, &tenants[i])
		if err != nil {
			t.Fatal(err)
		}
		sessions[i] = c
	}
	clients := make([]*loadClient, loadClients)
	for i := range clients {
		clients[i] = sessions[i%loadTenants]
	}
	total := loadRequests()
	seed := uint64(time.Now().UnixNano())
	t.Logf("%d requests, %d clients, %d tenants, pool of %d connections, seed %d", total, loadClients, loadTenants, loadPoolConns, seed)

	var (
		next      atomic.Int64
		failures  atomic.Int64
		mu        sync.Mutex
		errs      []string
		latencies = make([][]time.Duration, loadClients)
		ownSeen   = map[string]int{}
		byKind    = map[string]int{}
		wg        sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 20 {
			mu.Lock()
			errs = append(errs, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	}
	start := time.Now()
	for w, lc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			own := lc.tenant.slug
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || failures.Load() > 20 {
					return
				}
				req := loadMix[int(i)%len(loadMix)]
				other := &tenants[r.IntN(loadTenants)]
				for other.slug == own {
					other = &tenants[r.IntN(loadTenants)]
				}
				path := req.path(lc.tenant, other, r)
				t0 := time.Now()
				status, body, err := lc.get(path)
				d := time.Since(t0)
				latencies[w] = append(latencies[w], d)
				if err != nil {
					fail("%s %s (tenant %s): %v", req.kind, path, own, err)
					continue
				}
				want := req.wantStatus
				if want == 0 {
					want = http.StatusOK
				}
				if status >= 500 || status != want {
					fail("%s %s (tenant %s): status %d, want %d: %.300s", req.kind, path, own, status, want, body)
				}
				if strings.Contains(path, ".xlsx") {
					body = xlsxText(body) // the markers are in the sheet, inside the zip
				}
				sawOwn := false
				for _, m := range markerRE.FindAllStringSubmatch(body, -1) {
					if m[1] != own {
						fail("LEAK: %s %s (tenant %s) shows %s", req.kind, path, own, m[0])
						break
					}
					sawOwn = true
				}
				mu.Lock()
				byKind[req.kind]++
				if sawOwn {
					ownSeen[req.kind]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, e := range errs {
		t.Error(e)
	}
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d failed requests (first 20 above)", n)
	}
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) != total {
		t.Fatalf("%d requests done, want %d", len(all), total)
	}
	// The markers must actually render, or the leak check proves nothing.
	for _, req := range loadMix {
		if req.ownMarker && ownSeen[req.kind] != byKind[req.kind] {
			t.Errorf("%s: own marker in %d of %d responses", req.kind, ownSeen[req.kind], byKind[req.kind])
		}
	}
	var kinds []string
	for k, n := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("%d requests in %s: %.0f req/s; latency p50 %s p95 %s p99 %s max %s",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		percentile(all, 0.50).Round(time.Microsecond), percentile(all, 0.95).Round(time.Microsecond),
		percentile(all, 0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	t.Logf("mix: %s", strings.Join(kinds, " "))
}

// xlsxText is the text of an .xlsx's worksheets ("" when it is not one).
func xlsxText(body string) string {
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/worksheets/") {
			if rc, err := f.Open(); err == nil {
				_, _ = io.Copy(&b, rc)
				rc.Close()
			}
		}
	}
	return b.String()
}
