package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshnessPhase measures how long a conversation written in Chatwoot takes to show in the
// summary API, twice on the real `geniai serve`: with Chatwoot's webhook posted right after the
// write (as Chatwoot does) and with the interval scheduler alone (ETL_INTERVAL, 1 minute). Each
// of a few tenants writes a new conversation, then polls its "today" count every 100 ms until
// the API shows it; the tenants run at once, so syncs of several tenants overlap like in life.
func (r *run) freshnessPhase(ctx context.Context) error {
	ts := r.bySize()
	var chosen []*tenant
	n := min(8, len(ts))
	for i := 0; i < n; i++ {
		chosen = append(chosen, ts[len(ts)-1-i*len(ts)/n]) // from the largest down, over the sizes
	}
	if err := r.users(ctx, chosen); err != nil {
		return err
	}
	perTenant := 3
	if r.cfg.Scale.Name != "full" {
		perTenant = 2
	}
	for _, mode := range []string{"webhook", "polling"} {
		lat, err := r.freshness(ctx, chosen, perTenant, mode == "webhook")
		if err != nil {
			return fmt.Errorf("freshness (%s): %w", mode, err)
		}
		var target *target
		name := "freshness p95, Chatwoot write → API, webhooks"
		note := fmt.Sprintf("%d writes over %d tenants; p50 %.1f s, max %.1f s; WEBHOOK_DEBOUNCE 2 s, the webhook posted right after the write",
			len(lat), len(chosen), lat.pct(50)/1000, lat.pct(100)/1000)
		if mode == "webhook" {
			target = atMost(5)
		} else {
			name = "freshness p95, Chatwoot write → API, polling only"
			note = fmt.Sprintf("%d writes over %d tenants; p50 %.1f s, max %.1f s; ETL_INTERVAL %s, no webhook",
				len(lat), len(chosen), lat.pct(50)/1000, lat.pct(100)/1000, r.pollInterval())
		}
		r.rep.add("freshness", name, lat.pct(95)/1000, "s", target, note)
	}
	return nil
}

func (r *run) freshness(ctx context.Context, chosen []*tenant, perTenant int, webhook bool) (samples, error) {
	const secret = "bench_webhook_secret_0123456789abcdef"
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"DATABASE_URL": r.dbs.authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL, "LISTEN_ADDR": addr,
		"ETL_INTERVAL": r.pollInterval().String(), "BCRYPT_COST": fmt.Sprint(r.cfg.BcryptCost), "LOG_LEVEL": "warn", "TRUST_PROXY": "true",
		"WEBHOOK_SECRET": secret,
	}
	srv, err := r.startChild(ctx, env, "serve")
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = srv.stop() }()
	base := "http://" + addr
	if err := waitReady(ctx, base, srv); err != nil {
		return nil, err
	}
	src, err := pgx.Connect(ctx, r.dbs.cwAdminURL)
	if err != nil {
		return nil, err
	}
	defer src.Close(context.WithoutCancel(ctx))
	var srcMu sync.Mutex
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	defer transport.CloseIdleConnections()

	var (
		mu    sync.Mutex
		lat   samples
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for i, t := range chosen {
		wg.Add(1)
		go func(i int, t *tenant) {
			defer wg.Done()
			c := newClient(base, transport, fmt.Sprintf("10.250.%d.9", i), t)
			if err := c.login(ctx); err != nil {
				fail(err)
				return
			}
			for k := 0; k < perTenant && ctx.Err() == nil; k++ {
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Millisecond)
				before, err := c.todayCount(ctx)
				if err != nil {
					fail(err)
					return
				}
				srcMu.Lock()
				_, err = src.Exec(ctx, `INSERT INTO conversations (account_id, inbox_id, status, created_at, updated_at, last_activity_at, display_id)
					SELECT i.account_id, i.id, 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
					       (SELECT coalesce(max(display_id), 0) + 1 FROM conversations WHERE account_id = i.account_id)
					FROM inboxes i WHERE i.id = $1`, t.inboxes[0])
				srcMu.Unlock()
				written := time.Now()
				if err != nil {
					fail(err)
					return
				}
				if webhook {
					body := fmt.Sprintf(`{"event":"conversation_created","inbox_id":%d}`, t.inboxes[0])
					res, err := http.Post(base+"/hooks/chatwoot/"+secret, "application/json", strings.NewReader(body))
					if err != nil {
						fail(err)
						return
					}
					res.Body.Close()
				}
				for {
					n, err := c.todayCount(ctx)
					if err != nil {
						fail(err)
						return
					}
					if n > before {
						break
					}
					if time.Since(written) > 5*time.Minute {
						fail(fmt.Errorf("tenant %s: a new conversation not shown after 5 minutes", t.slug))
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				mu.Lock()
				lat = append(lat, time.Since(written))
				mu.Unlock()
			}
		}(i, t)
	}
	wg.Wait()
	return lat, first
}

// todayCount is the summary API's conversation count for today.
func (c *client) todayCount(ctx context.Context) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/dashboard/summary?period=today", nil)
	req.Header.Set("User-Agent", "geniai-bench/1 "+c.ip) // as c.do: the session is bound to it
	req.Header.Set("X-Forwarded-For", c.ip)
	res, err := c.c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("summary: status %d", res.StatusCode)
	}
	var sum struct {
		KPIs map[string]struct{ Value *float64 } `json:"kpis"`
	}
	if err := json.Unmarshal(body, &sum); err != nil {
		return 0, err
	}
	if v := sum.KPIs["conversations"].Value; v != nil {
		return *v, nil
	}
	return 0, nil
}

// pollInterval is the scheduler's interval in the freshness runs: the default ETL_INTERVAL, or
// the scale's own (the tiny run of `make test` cannot wait minutes).
func (r *run) pollInterval() time.Duration {
	if r.cfg.Scale.PollInterval > 0 {
		return r.cfg.Scale.PollInterval
	}
	return time.Minute
}
