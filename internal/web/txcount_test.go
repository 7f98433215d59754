package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pg"
)

// txTracer counts what a request costs the database: transactions (a BEGIN, or a statement run
// outside one, which PostgreSQL commits on its own) and the statements that write.
type txTracer struct {
	mu     sync.Mutex
	inTx   map[*pgx.Conn]bool
	txs    int
	writes []string
	all    []string
}

func (t *txTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	sql := strings.ToLower(strings.TrimSpace(data.SQL))
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case strings.HasPrefix(sql, "begin"):
		t.inTx[conn] = true
		t.txs++
	case sql == "commit" || sql == "rollback":
		t.inTx[conn] = false
	default:
		if !t.inTx[conn] {
			t.txs++
		}
		for _, w := range []string{"insert ", "update ", "delete ", "audit.log(", "session_touch", "login_", "session_start"} {
			if strings.Contains(sql, w) {
				t.writes = append(t.writes, sql)
				break
			}
		}
	}
	t.all = append(t.all, sql)
	return ctx
}

func (t *txTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *txTracer) reset() (txs int, writes, all []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	txs, writes, all = t.txs, t.writes, t.all
	t.txs, t.writes, t.all = 0, nil, nil
	return
}

// tracedServer is h's product again on a pool whose every statement goes through a tracer.
func tracedServer(t *testing.T, h *harness, mutate ...func(*config.Config)) *txTracer {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(h.env.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &txTracer{inTx: map[*pgx.Conn]bool{}}
	cfg.ConnConfig.Tracer = tr
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf := testConfig()
	for _, m := range mutate {
		m(&conf)
	}
	srv, err := New(Options{DB: &pg.DB{Pool: pool}, Config: conf, Now: h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { h.ts.Close(); srv.Close(); pool.Close() })
	return tr
}

// TestOneTransactionPerRequest: a signed-in page view or API GET costs the session lookup and at
// most one transaction, and writes nothing once the session's activity is recorded; so does a
// view served from the dashboard and page caches (the production defaults).
func TestOneTransactionPerRequest(t *testing.T) {
	t.Parallel()
	t.Run("uncached", func(t *testing.T) { t.Parallel(); oneTransactionPerRequest(t, nil) })
	t.Run("cached", func(t *testing.T) {
		t.Parallel()
		oneTransactionPerRequest(t, func(c *config.Config) { c.DashboardCacheEntries, c.PageCacheMB = 2000, 32 })
	})
}

func oneTransactionPerRequest(t *testing.T, mutate func(*config.Config)) {
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	var tr *txTracer
	if mutate != nil {
		tr = tracedServer(t, h, mutate)
	} else {
		tr = tracedServer(t, h)
	}
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	for _, path := range []string{"/dashboard", "/conversations", "/api/v1/dashboard/summary", "/api/v1/conversations", "/account", "/account/password"} {
		b.get(path) // the first view after sign-in may record activity (and fills the caches)
		tr.reset()
		res := b.get(path)
		txs, writes, all := tr.reset()
		t.Logf("%s: %d transactions (session lookup included), %d statements, %d writing", path, txs, len(all), len(writes))
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if txs > 2 || len(writes) != 0 {
			t.Errorf("%s: %d transactions, writes %q\nstatements: %q", path, txs, writes, all)
		}
		// Served from the caches: the session, the principal check and the tenant's version read
		// once (the list adds the reader's zone), begin and commit.
		if most, ok := map[string]int{"/dashboard": 6, "/api/v1/dashboard/summary": 6, "/conversations": 7}[path]; ok && mutate != nil && len(all) > most {
			t.Errorf("%s from the caches: %d statements, want at most %d: %q", path, len(all), most, all)
		}
	}
}

// TestActivityRecordedOncePerMinute: the one write of the steady path is the session's activity,
// at most once a minute, in a transaction of its own after the response.
func TestActivityRecordedOncePerMinute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	tr := tracedServer(t, h)
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	h.exec(`UPDATE app.user_sessions SET last_seen_at = now() - interval '61 seconds'`)
	tr.reset()
	b.get("/dashboard")
	txs, writes, _ := tr.reset()
	if txs != 3 || len(writes) != 1 || !strings.Contains(writes[0], "session_touch") {
		t.Fatalf("due: %d transactions, writes %q", txs, writes)
	}
	var recent bool
	if err := h.super.QueryRow(context.Background(), `SELECT last_seen_at > now() - interval '5 seconds' FROM app.user_sessions`).Scan(&recent); err != nil || !recent {
		t.Fatalf("activity not recorded: %v %v", recent, err)
	}
	b.get("/dashboard")
	if txs, writes, _ := tr.reset(); txs > 2 || len(writes) != 0 {
		t.Fatalf("right after: %d transactions, writes %q", txs, writes)
	}
}

// TestActivityRecordedAfterTheClientLeft: the activity is written after the response, and a
// client that closes its connection as soon as it has the page (curl, a script, a tab closed)
// cancels the request's context by then. The write must not depend on it, or such a user's
// activity is never recorded and the idle timeout ends a session in use.
func TestActivityRecordedAfterTheClientLeft(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	b := h.browser()
	b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	u, _ := url.Parse(h.ts.URL)
	for _, path := range []string{"/dashboard", "/conversations", "/api/v1/dashboard/summary"} {
		h.exec(`UPDATE app.user_sessions SET last_seen_at = now() - interval '61 seconds'`)
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx)
		req.Header.Set("User-Agent", b.ua)
		for _, c := range b.c.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		rec := &leavingClient{ResponseRecorder: httptest.NewRecorder(), leave: cancel}
		h.srv.Handler().ServeHTTP(rec, req)
		cancel()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		var recent bool
		if err := h.super.QueryRow(context.Background(), `SELECT last_seen_at > now() - interval '5 seconds' FROM app.user_sessions`).Scan(&recent); err != nil || !recent {
			t.Errorf("%s: the activity of a client that left after the response was not recorded (%v)", path, err)
		}
	}
}

// leavingClient is a client that hangs up once the response is written: the request's context
// ends then, as net/http ends it when the connection closes.
type leavingClient struct {
	*httptest.ResponseRecorder
	leave context.CancelFunc
}

func (c *leavingClient) Write(b []byte) (int, error) {
	defer c.leave()
	return c.ResponseRecorder.Write(b)
}
