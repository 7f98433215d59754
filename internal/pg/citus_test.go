//go:build citus

// The Citus cluster's own tests (`make test/citus` builds them with -tags citus and points the
// test helpers at a coordinator and its workers): logins between nodes, the request context on
// the workers, and an idempotent distribution step.
package pg_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

var requestRoles = []string{"geniai_anon", "geniai_tenant", "geniai_staff", "geniai_etl"}

// workerPorts are the workers' ports, from TEST_CITUS_WORKER_URLS.
func workerPorts(t *testing.T) []uint16 {
	t.Helper()
	var ports []uint16
	for _, u := range strings.Fields(os.Getenv("TEST_CITUS_WORKER_URLS")) {
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, cfg.Port)
	}
	if len(ports) < 2 {
		t.Fatalf("TEST_CITUS_WORKER_URLS names %d workers; the cluster has two", len(ports))
	}
	return ports
}

// tcpLogin tries to log in over TCP (127.0.0.1, as a coordinator or a client would) and returns
// the server's answer; tls is "" or the name of a client certificate of the cluster
// (coordinator, worker) in TEST_CITUS_TLS.
func tcpLogin(t *testing.T, port uint16, user, password, cert string) error {
	t.Helper()
	conn := "host=127.0.0.1 port=" + strconv.Itoa(int(port)) + " dbname=postgres connect_timeout=5 user=" + user
	if password != "" {
		conn += " password=" + password
	}
	if cert == "" {
		conn += " sslmode=disable"
	} else {
		dir := os.Getenv("TEST_CITUS_TLS")
		if dir == "" {
			t.Fatal("TEST_CITUS_TLS is not set (make test/citus sets it to the cluster's certificates)")
		}
		conn += " sslmode=verify-full sslrootcert=" + filepath.Join(dir, "ca.crt") +
			" sslcert=" + filepath.Join(dir, cert+".crt") + " sslkey=" + filepath.Join(dir, cert+".key")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, conn)
	if err == nil {
		c.Close(ctx)
	}
	return err
}

// refusedByServer reports whether err is the server refusing the login (not a network failure).
func refusedByServer(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "28000" || pgErr.Code == "28P01"
	}
	var netErr net.Error
	return err != nil && !errors.As(err, &netErr) &&
		(strings.Contains(err.Error(), "28000") || strings.Contains(err.Error(), "28P01"))
}

func TestCitusRequestRolesCannotLogInOnTheCoordinator(t *testing.T) {
	admin, err := pgx.ParseConfig(os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range requestRoles {
		if err := tcpLogin(t, admin.Port, r, "anything", ""); !refusedByServer(err) {
			t.Errorf("%s logging in on the coordinator: %v, want a refusal", r, err)
		}
		if err := tcpLogin(t, admin.Port, r, "", "coordinator"); !refusedByServer(err) {
			t.Errorf("%s logging in on the coordinator with the coordinator's certificate: %v, want a refusal", r, err)
		}
	}
}

func TestCitusWorkersAcceptRequestRolesFromTheCoordinatorOnly(t *testing.T) {
	for _, port := range workerPorts(t) {
		for _, r := range requestRoles {
			if err := tcpLogin(t, port, r, os.Getenv("TEST_ROLE_PASSWORD"), ""); !refusedByServer(err) {
				t.Errorf("worker %d, %s with a password and no certificate: %v, want a refusal", port, r, err)
			}
			if err := tcpLogin(t, port, r, "", "worker"); !refusedByServer(err) {
				t.Errorf("worker %d, %s with a worker's certificate: %v, want a refusal", port, r, err)
			}
			if err := tcpLogin(t, port, r, "", "coordinator"); err != nil {
				t.Errorf("worker %d, %s with the coordinator's certificate: %v, want a login", port, r, err)
			}
		}
		for _, r := range []string{"geniai_owner", "geniai_authenticator", "postgres"} {
			if err := tcpLogin(t, port, r, os.Getenv("TEST_ROLE_PASSWORD"), ""); !refusedByServer(err) {
				t.Errorf("worker %d, %s with a password: %v, want a refusal", port, r, err)
			}
		}
		if err := tcpLogin(t, port, "geniai_authenticator", "", "coordinator"); !refusedByServer(err) {
			t.Errorf("worker %d, the authenticator with the coordinator's certificate: %v, want a refusal", port, err)
		}
		if err := tcpLogin(t, port, "postgres", "", "worker"); err != nil {
			t.Errorf("worker %d, the superuser with a worker's certificate (Citus maintenance): %v, want a login", port, err)
		}
	}
}

// TestCitusContextReachesEveryWorker reads the tenant data through the product's own transaction
// helper: each tenant sees exactly its rows on whichever worker holds them (the context reached
// that worker), a query over every shard sees nothing else, and a forgotten context sees nothing on
// any worker. The tenants' rows cover both workers.
func TestCitusContextReachesEveryWorker(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	const tenants = 6
	ids := make([]int64, tenants)
	workers := map[string]bool{}
	for i := range ids {
		if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`,
			"citus-"+strconv.Itoa(i)).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
		// i+1 conversations and rollup rows per tenant, so a leak shows up as a wrong count too.
		if _, err := su.Exec(ctx, `
			INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id,
				status, created_at, source_updated_at, last_activity_at, created_day, created_hour, created_dow)
			SELECT $1::bigint, g, 1, 1, g, 0, now(), now(), now(), current_date - g, 0, 0
			FROM generate_series(1, $2::int) g`, ids[i], i+1); err != nil {
			t.Fatal(err)
		}
		if _, err := su.Exec(ctx, `
			INSERT INTO analytics.tenant_daily_stats (tenant_id, day, inbox_id, conversations)
			SELECT $1::bigint, current_date - g, 0, 1 FROM generate_series(1, $2::int) g`, ids[i], i+1); err != nil {
			t.Fatal(err)
		}
		var node string
		if err := su.QueryRow(ctx, `SELECT nodeport::text FROM citus_shards
			WHERE table_name = 'analytics.conversations'::regclass
			  AND shardid = get_shard_id_for_distribution_column('analytics.conversations', $1::bigint)`, ids[i]).Scan(&node); err != nil {
			t.Fatal(err)
		}
		workers[node] = true
	}
	if len(workers) < 2 {
		t.Fatalf("the tenants' rows are on %d worker(s); the test needs both", len(workers))
	}
	for i, id := range ids {
		for _, table := range []string{"analytics.conversations", "analytics.tenant_daily_stats"} {
			var seen, seenAll int64
			err := env.DB.InReadTx(ctx, pg.User(id, 0, pg.AppClient, "127.0.0.1", "citus-test"), func(tx pg.Tx) error {
				if err := tx.Raw.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE tenant_id = $1", id).Scan(&seen); err != nil {
					return err
				}
				return tx.Raw.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&seenAll)
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != int64(i+1) || seenAll != int64(i+1) {
				t.Errorf("tenant %d in %s: sees %d of its rows and %d over every shard, want %d and %d", id, table, seen, seenAll, i+1, i+1)
			}
		}
	}
	for _, p := range []pg.Principal{{DBRole: pg.RoleTenant}, {DBRole: pg.RoleTenant, Role: pg.AppAdmin}, {DBRole: pg.RoleETL}, {DBRole: pg.RoleStaff}} {
		for _, table := range []string{"analytics.conversations", "analytics.tenant_daily_stats"} {
			var n int64
			err := env.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
				return tx.Raw.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s without a tenant (app role %q) sees %d rows of %s over every shard, want 0", p.DBRole, p.Role, n, table)
			}
		}
	}
}

// TestCitusDistributeIsIdempotent runs the distribution step again on a distributed database.
func TestCitusDistributeIsIdempotent(t *testing.T) {
	env := pgtest.New(t)
	steps, err := pg.Distribute(context.Background(), env.OwnerURL, pg.DistributeOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logins int
	for _, s := range steps {
		switch {
		case strings.HasPrefix(s.Table, "roles @ "):
			logins++
		case s.Action != "kept" && s.Action != "left on the coordinator":
			t.Errorf("%s: %s, want it kept as it was", s.Table, s.Action)
		}
	}
	if logins != 3 {
		t.Errorf("role logins set on %d nodes, want 3 (the coordinator and two workers)", logins)
	}
}

// TestCitusRequestsRunWithoutJITOnWorkers: a request's statements run on the workers with JIT
// off, whoever asks. A dashboard statement that takes a platform table's value reads it on the
// worker from an intermediate result, which the worker's planner estimates at a thousand rows: a
// 5,000-row tenant's scan looked millions of rows big, and the worker compiled it with LLVM for
// over a second each time.
func TestCitusRequestsRunWithoutJITOnWorkers(t *testing.T) {
	env := pgtest.New(t)
	a, _ := pgtest.SeedAnalytics(t, env)
	ctx := context.Background()
	coordinator, err := pgx.ParseConfig(env.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []pg.Principal{pg.User(a, 0, pg.AppClient, "127.0.0.1", "citus-test"), pg.User(0, 0, pg.AppSupport, "", ""),
		{DBRole: pg.RoleETL, TenantID: a}} {
		var jit string
		var port *int32
		err := env.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
			// Both values are read where the statement runs: on the tenant's worker.
			return tx.Raw.QueryRow(ctx, `SELECT current_setting('jit'), inet_server_port() FROM analytics.conversations
				WHERE tenant_id = $1 LIMIT 1`, a).Scan(&jit, &port)
		})
		if err != nil {
			t.Fatalf("%s: %v", p.DBRole, err)
		}
		if port == nil || uint16(*port) == coordinator.Port {
			t.Fatalf("%s: the statement ran on the coordinator (port %v); the check proves nothing", p.DBRole, port)
		}
		if jit != "off" {
			t.Errorf("%s on the worker at port %d: jit = %s, want off", p.DBRole, *port, jit)
		}
	}
}
