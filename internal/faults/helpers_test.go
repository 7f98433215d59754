package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/pgtest"
)

// repoRoot is the directory holding go.mod, found upwards from the test's working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// freePort is a TCP port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// cluster is a private PostgreSQL cluster started with db/pgcluster.sh.
type cluster struct {
	t      testing.TB
	script string
	dir    string
	port   int
	env    map[string]string // DIR/env after bootstrap
}

// startCluster starts a private ephemeral cluster on a free port and bootstraps dbs (the second
// one, when given, is set up as the Chatwoot database). It is stopped and deleted at cleanup.
func startCluster(t testing.TB, dbs ...string) *cluster {
	t.Helper()
	// As root the cluster runs as the postgres OS user, which cannot reach t.TempDir() (mode
	// 0700): the directory lives under /var/tmp, readable by all, and is deleted at cleanup.
	dir, err := os.MkdirTemp("/var/tmp", "geniai-faults-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, script: filepath.Join(repoRoot(t), "db", "pgcluster.sh"), dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		_ = exec.Command(c.script, "stop", c.dir).Run()
		if target, err := os.Readlink(filepath.Join(c.dir, "pg")); err == nil && strings.HasPrefix(target, "/var/tmp/geniai-pg-") {
			_ = os.RemoveAll(target)
		}
		_ = os.RemoveAll(dir)
	})
	c.start()
	c.run(append([]string{"bootstrap", c.dir}, dbs...)...)
	c.env = readEnv(t, filepath.Join(c.dir, "env"))
	return c
}

func (c *cluster) run(args ...string) {
	c.t.Helper()
	out, err := exec.Command(c.script, args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("pgcluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *cluster) start() { c.t.Helper(); c.run("start", c.dir, strconv.Itoa(c.port), "--ephemeral") }
func (c *cluster) stop()  { c.t.Helper(); c.run("stop", c.dir) }

// superURL is the superuser on database db, over the cluster's Unix socket.
func (c *cluster) superURL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.env["PGCLUSTER_SOCKET"], c.port, db)
}

func readEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	return env
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func exec1(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%.80s: %v", sql, err)
	}
}

const pw = "correct horse battery"

// addUser creates a user with a cheap hash, as the superuser.
func addUser(t testing.TB, su *pgx.Conn, tenantID int64, email, role string) {
	t.Helper()
	hash, err := auth.Hash(pw, auth.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, su, `INSERT INTO app.users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4)`, tenantID, email, hash, role)
}

// addTenants creates one client tenant per Chatwoot account of the source (slug gym-<account>),
// mapping the account's inboxes, and returns their ids by slug.
func addTenants(t testing.TB, su *pgx.Conn, inboxes []sourceInbox) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, ib := range inboxes {
		slug := fmt.Sprintf("gym-%d", ib.AccountID)
		if _, ok := ids[slug]; !ok {
			var id int64
			if err := su.QueryRow(context.Background(), `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids[slug] = id
		}
		exec1(t, su, `INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type) VALUES ($1, $2, $3, $4)`,
			ids[slug], ib.ID, ib.Name, ib.ChannelType)
	}
	return ids
}

type sourceInbox struct {
	ID, AccountID     int32
	Name, ChannelType string
}

func listInboxes(t testing.TB, url string) []sourceInbox {
	t.Helper()
	ibs, err := chatwoot.Inboxes(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sourceInbox, len(ibs))
	for i, ib := range ibs {
		out[i] = sourceInbox{ID: ib.ID, AccountID: ib.AccountID, Name: ib.Name, ChannelType: ib.ChannelType}
	}
	return out
}

// demoNow fixes the end of the demo history, so every demo database of a test is identical.
var demoNow = time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)

// sharedDemoSource creates a Chatwoot demo database on the shared test cluster and returns its
// superuser URL (the ETL opens it read-only).
func sharedDemoSource(t testing.TB, name string, o chatwoot.Options) string {
	t.Helper()
	ctx := context.Background()
	admin := connect(t, pgtest.URLFor(t, "", "", "postgres"))
	exec1(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	exec1(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.URLFor(t, "", "", "postgres"))
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	url := pgtest.URLFor(t, "", "", name)
	conn := connect(t, url)
	if _, err := chatwoot.CreateDemo(ctx, conn, o); err != nil {
		t.Fatal(err)
	}
	return url
}

// analyticsChecksum is one md5 over analytics.conversations, analytics.transcripts and
// analytics.daily_stats, rows keyed by tenant slug rather than id, without loaded_at (the only
// column that legitimately differs between two loads of the same data).
func analyticsChecksum(t testing.TB, su *pgx.Conn) string {
	t.Helper()
	var sum string
	err := su.QueryRow(context.Background(), `SELECT coalesce(md5(string_agg(r, E'\n' ORDER BY r)), 'empty') FROM (`+analyticsRows+`) x`).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// analyticsDiff describes the first rows that differ between two databases, for failure messages.
func analyticsDiff(t testing.TB, a, b *pgx.Conn) string {
	t.Helper()
	rows := func(c *pgx.Conn) map[string]bool {
		rs, err := c.Query(context.Background(), analyticsRows)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for rs.Next() {
			var r string
			if err := rs.Scan(&r); err != nil {
				t.Fatal(err)
			}
			m[r] = true
		}
		return m
	}
	ra, rb := rows(a), rows(b)
	var out []string
	for r := range ra {
		if !rb[r] && len(out) < 5 {
			out = append(out, "only in got:  "+r)
		}
	}
	n := len(out)
	for r := range rb {
		if !ra[r] && len(out) < n+5 {
			out = append(out, "only in want: "+r)
		}
	}
	return strings.Join(out, "\n")
}

// analyticsRows is one text row per analytics row, the tenant as its slug, without loaded_at.
// The float sums of daily_stats are rounded: summing the same values in another physical row
// order (an upsert moves rows) changes their last bits, not their meaning.
const analyticsRows = `
			SELECT 'c ' || t.slug || ' ' || (to_jsonb(c) - 'tenant_id' - 'loaded_at')::text AS r
			FROM analytics.conversations c JOIN app.tenants t ON t.id = c.tenant_id
			UNION ALL
			SELECT 'm ' || t.slug || ' ' || (to_jsonb(tr) - 'tenant_id')::text
			FROM analytics.transcripts tr JOIN app.tenants t ON t.id = tr.tenant_id
			UNION ALL
			SELECT 'd ' || t.slug || ' ' || (to_jsonb(d) - 'tenant_id' - 'first_reply_sum' - 'first_human_reply_sum' - 'resolution_sum'
				|| jsonb_build_object('first_reply_sum', round(d.first_reply_sum::numeric, 4),
					'first_human_reply_sum', round(d.first_human_reply_sum::numeric, 4),
					'resolution_sum', round(d.resolution_sum::numeric, 4)))::text
			FROM analytics.daily_stats d JOIN app.tenants t ON t.id = d.tenant_id`

// analyticsCounts is for the log: rows of the three tables.
func analyticsCounts(t testing.TB, su *pgx.Conn) string {
	t.Helper()
	var c, m, d int64
	err := su.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM analytics.conversations),
		(SELECT coalesce(sum(cardinality(message_ids)), 0) FROM analytics.transcripts), (SELECT count(*) FROM analytics.daily_stats)`).Scan(&c, &m, &d)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d conversations, %d messages, %d daily rows", c, m, d)
}

// proxy forwards TCP to target and can run a trip function once, synchronously, when the bytes
// sent from the server to the client since Arm cross a threshold: the client waits while trip
// runs, as it would wait on a server going down.
type proxy struct {
	ln     net.Listener
	target string
	bytes  atomic.Int64 // server → client since the start or the last Arm
	mu     sync.Mutex
	limit  int64
	trip   func()
	fired  bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// arm resets the byte count and runs trip once when it reaches limit.
func (p *proxy) arm(limit int64, trip func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes.Store(0)
	p.limit, p.trip, p.fired = limit, trip, false
}

func (p *proxy) tripped() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.fired }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(server, client); server.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			total := p.bytes.Add(int64(n))
			p.mu.Lock()
			if p.trip != nil && !p.fired && total >= p.limit {
				p.fired = true
				p.trip() // the source goes down before this chunk reaches the client
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stopErr stops the cluster without failing the test (for use off the test goroutine).
func (c *cluster) stopErr() error {
	out, err := exec.Command(c.script, "stop", c.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster.sh stop: %v: %s", err, out)
	}
	return nil
}
