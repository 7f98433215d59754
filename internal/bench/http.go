package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// httpPhase runs the real `geniai serve` binary on 127.0.0.1, signs in 32 clients spread over
// 20 tenants, drives /dashboard, /conversations and /api/v1/dashboard/summary for a fixed time,
// then measures sign-ins per second at the configured bcrypt cost, and reads the server's peak
// RSS after a SIGTERM.
func (r *run) httpPhase(ctx context.Context) error {
	const clients, tenants = 32, 20
	sc := r.cfg.Scale
	// 20 tenants spread over the size range.
	ts := r.bySize()
	var chosen []*tenant
	for i := 0; i < tenants && i < len(ts); i++ {
		chosen = append(chosen, ts[i*len(ts)/min(tenants, len(ts))])
	}
	r.cfg.logf("creating %d users (bcrypt cost %d)", len(chosen), r.cfg.BcryptCost)
	if err := r.users(ctx, chosen); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := map[string]string{
		"DATABASE_URL": r.dbs.authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL, "LISTEN_ADDR": addr,
		"ETL_INTERVAL": "0", "BCRYPT_COST": strconv.Itoa(r.cfg.BcryptCost), "LOG_LEVEL": "warn",
		"TRUST_PROXY": "true", // each bench client gets its own X-Forwarded-For, like real users
	}
	srv, err := r.startChild(ctx, env, "serve")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = srv.stop()
		}
	}()
	base := "http://" + addr
	if err := waitReady(ctx, base, srv); err != nil {
		return err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()

	// Sign in the 32 clients (not timed: login has its own figure below).
	cs := make([]*client, clients)
	for i := range cs {
		t := chosen[i%len(chosen)]
		cs[i] = newClient(base, transport, fmt.Sprintf("10.%d.%d.%d", 1+i/250, i%250, 7), t)
		if err := cs[i].login(ctx); err != nil {
			return fmt.Errorf("sign-in of client %d (%s): %w", i, t.email, err)
		}
	}
	// /healthz (no database) in the same rotation shows what the server and the load generator
	// cost on their own, side by side with the pages on the same two cores.
	paths := []string{"/dashboard", "/conversations", "/api/v1/dashboard/summary", "/healthz"}
	const pages = 3 // paths[:pages] touch the database
	type result struct {
		path   int
		d      time.Duration
		status int
	}
	run := func(d time.Duration, record bool) ([]result, time.Duration, int64) {
		var mu sync.Mutex
		var out []result
		var errs atomic.Int64
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		t0 := time.Now()
		for i, c := range cs {
			wg.Add(1)
			go func(i int, c *client) {
				defer wg.Done()
				local := make([]result, 0, 512)
				for k := i; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
					p := k % len(paths)
					t := time.Now()
					st, err := c.get(ctx, paths[p])
					if err != nil {
						errs.Add(1)
						continue
					}
					local = append(local, result{p, time.Since(t), st})
				}
				if record {
					mu.Lock()
					out = append(out, local...)
					mu.Unlock()
				}
			}(i, c)
		}
		wg.Wait()
		return out, time.Since(t0), errs.Load()
	}
	r.cfg.logf("HTTP: warm-up, then %s with %d clients", sc.HTTPDuration, clients)
	run(min(5*time.Second, sc.HTTPDuration/3), false)
	before, err := r.dbActivity(ctx)
	if err != nil {
		return err
	}
	res, elapsed, transportErrs := run(sc.HTTPDuration, true)
	after, err := r.dbActivity(ctx)
	if err != nil {
		return err
	}
	var all, pageLat samples
	per := make([]samples, len(paths))
	statuses := map[int]int{}
	for _, x := range res {
		all = append(all, x.d)
		if x.path < pages {
			pageLat = append(pageLat, x.d)
		}
		per[x.path] = append(per[x.path], x.d)
		statuses[x.status]++
	}
	bad := len(res) - statuses[200]
	note := fmt.Sprintf("%d clients over %d tenants, %s requests in %.0f s (/dashboard, /conversations, the summary API and /healthz in turn); non-200: %d, transport errors: %d; real `geniai serve` on %s, the load generator on the same cores",
		clients, len(chosen), format(float64(len(res))), elapsed.Seconds(), bad, transportErrs, addr)
	r.rep.add("HTTP", "throughput, 32 signed-in clients, all four routes", float64(len(res))/elapsed.Seconds(), "requests/s", atLeast(1000), note)
	r.rep.add("HTTP", "throughput of the three pages", float64(len(pageLat))/elapsed.Seconds(), "requests/s", nil,
		fmt.Sprintf("/healthz beside them: %.0f requests/s", float64(len(per[pages]))/elapsed.Seconds()))
	r.rep.add("HTTP", "p95, the three pages", pageLat.pct(95), "ms", atMost(100), fmt.Sprintf("p50 %.1f ms, p99 %.1f ms; all four routes: p95 %.1f ms", pageLat.pct(50), pageLat.pct(99), all.pct(95)))
	if views := float64(len(pageLat)); views > 0 {
		r.rep.add("HTTP", "transactions per page view", float64(after.xacts-before.xacts)/views, "transactions", nil,
			fmt.Sprintf("commits and rollbacks of the analytics database (pg_stat_database) during the run ÷ %s page views; the session lookup included", format(views)))
		r.rep.add("HTTP", "rows written per page view", float64(after.written-before.written)/views, "rows", nil,
			"rows inserted, updated or deleted in the analytics database during the run ÷ page views (session activity, audit)")
	}
	for i, p := range paths {
		r.rep.add("HTTP", "p95 "+p, per[i].pct(95), "ms", nil, fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, %d samples", per[i].pct(50), per[i].pct(99), len(per[i])))
	}
	if bad > 0 || transportErrs > 0 {
		r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("HTTP: %d non-200 responses %v, %d transport errors", bad, statuses, transportErrs))
	}

	// Sign-in throughput: as many concurrent sign-ins as cores ×2, correct passwords.
	workers := 4
	var logins, failures atomic.Int64
	var lat samples
	var mu sync.Mutex
	deadline := time.Now().Add(sc.LoginDuration)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				t := chosen[(w+k*workers)%len(chosen)]
				c := newClient(base, transport, fmt.Sprintf("10.200.%d.%d", w, k%250), t)
				s := time.Now()
				if err := c.login(ctx); err != nil {
					failures.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, time.Since(s))
				mu.Unlock()
				logins.Add(1)
			}
		}(w)
	}
	wg.Wait()
	ld := time.Since(t0)
	r.rep.add("login", fmt.Sprintf("sign-ins per second at bcrypt cost %d", r.cfg.BcryptCost), float64(logins.Load())/ld.Seconds(), "logins/s", nil,
		fmt.Sprintf("%d successful POST /login by %d concurrent clients in %.1f s (p50 %.0f ms), %d failed; bcrypt is the bound by design",
			logins.Load(), workers, ld.Seconds(), lat.pct(50), failures.Load()))

	rss, err := srv.stop()
	stopped = true
	if err != nil {
		r.rep.Errors = append(r.rep.Errors, "serve exit: "+err.Error())
	}
	r.rep.add("memory", "peak RSS of `geniai serve`", rss, "MiB", nil, "ru_maxrss of the child after the HTTP and sign-in load, then SIGTERM")
	return nil
}

// activity is the analytics database's transaction and written-row counters.
type activity struct{ xacts, written int64 }

// dbActivity reads pg_stat_database for the analytics database, after letting the server's
// backends report (statistics are flushed at most every second).
func (r *run) dbActivity(ctx context.Context) (activity, error) {
	time.Sleep(1500 * time.Millisecond)
	conn, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return activity{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var a activity
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&a.xacts, &a.written)
	return a, err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(ctx context.Context, base string, c *child) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			_, err := c.wait()
			return fmt.Errorf("serve exited: %v", err)
		default:
		}
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("serve not ready after 30 s")
}

// client is one signed-in browser.
type client struct {
	base string
	ip   string
	t    *tenant
	c    *http.Client
}

func newClient(base string, tr *http.Transport, ip string, t *tenant) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, ip: ip, t: t, c: &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(ctx context.Context, req *http.Request) (int, error) {
	req.Header.Set("User-Agent", "geniai-bench/1 "+c.ip)
	req.Header.Set("X-Forwarded-For", c.ip)
	res, err := c.c.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func (c *client) login(ctx context.Context) error {
	form := url.Values{"email": {c.t.email}, "password": {c.t.password}}
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if st != http.StatusSeeOther {
		return fmt.Errorf("POST /login: status %d", st)
	}
	return nil
}

func (c *client) get(ctx context.Context, path string) (int, error) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(ctx, req)
}
