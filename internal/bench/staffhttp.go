package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// staffPagesHTTP measures the staff panel's pages over 1,000 client tenants through the real
// `geniai serve`, as a signed-in super_admin would open them: /admin (the overview of every
// client) and /admin/clients (the cross-client comparison: its first page of 100 clients, sorted
// over all of them) for 7, 30 and 90 days, and the comparison's CSV of every client, one request
// at a time (staff are few), HTML rendering and compression included. The server runs with its
// default caches, so after the warm-up the comparison is read from the comparison cache as it is
// between syncs. The server-side figures of the same queries are in the rows beside it.
func (r *run) staffPagesHTTP(ctx context.Context, note string) error {
	svc := &tenantadmin.Service{DB: r.db, BcryptCost: r.cfg.BcryptCost}
	staffUser := &tenant{slug: "geniai", email: "bench-staff@geniai.com.br"}
	_, pw, err := svc.CreateUser(ctx, pg.System("bench"), tenantadmin.UserInput{TenantSlug: "geniai",
		Email: staffUser.email, FullName: "Bench Staff", Role: pg.AppSuperAdmin})
	if err != nil {
		return fmt.Errorf("staff user: %w", err)
	}
	staffUser.password = pw
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := map[string]string{
		"DATABASE_URL": r.dbs.authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL, "LISTEN_ADDR": addr,
		"ETL_INTERVAL": "0", "BCRYPT_COST": strconv.Itoa(r.cfg.BcryptCost), "LOG_LEVEL": "warn",
	}
	srv, err := r.startChild(ctx, env, "serve")
	if err != nil {
		return err
	}
	defer func() { _, _ = srv.stop() }()
	base := "http://" + addr
	if err := waitReady(ctx, base, srv); err != nil {
		return err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	c := newClient(base, transport, "10.250.0.7", staffUser)
	if err := c.login(ctx); err != nil {
		return fmt.Errorf("staff sign-in: %w", err)
	}
	n := min(r.cfg.Scale.Samples, 100)
	for _, p := range []struct{ path, what string }{
		{"/admin", "GET /admin (overview of every client)"},
		{"/admin/clients?period=7d", "GET /admin/clients, 7 days"},
		{"/admin/clients?period=30d", "GET /admin/clients, 30 days"},
		{"/admin/clients?period=90d", "GET /admin/clients, 90 days"},
		{"/admin/clients.csv?period=90d", "GET /admin/clients.csv, 90 days (every client)"},
	} {
		s, err := measure(r.cfg.Scale.Warmup, n, func() error {
			st, err := c.get(ctx, p.path)
			if err == nil && st != http.StatusOK {
				err = fmt.Errorf("GET %s: status %d", p.path, st)
			}
			return err
		})
		if err != nil {
			return err
		}
		r.rep.add("staff panel", p.what+" p50", s.pct(50), "ms", nil, fmt.Sprintf("%d sequential requests after warm-up, one signed-in super_admin, real `geniai serve`; %s", len(s), note))
		r.rep.add("staff panel", p.what+" p95", s.pct(95), "ms", atMost(500), fmt.Sprintf("p99 %.1f ms", s.pct(99)))
	}
	return nil
}
