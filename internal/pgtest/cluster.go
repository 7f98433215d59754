package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a whole PostgreSQL cluster of the test's own, for what a shared test cluster cannot
// show: installing from nothing (cluster-wide roles) and restoring into a fresh server. It
// starts in a few seconds (initdb); use it sparingly.
type Cluster struct {
	Dir      string // what db/pgcluster.sh was given
	Port     int
	Socket   string // directory of the Unix socket
	SuperURL string // the superuser postgres over the socket (no password)
}

// RepoRoot is the repository's top directory (where db/pgcluster.sh lives).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// NewCluster initialises and starts a throwaway cluster (db/pgcluster.sh start --ephemeral) on a
// free loopback port and stops and removes it at cleanup.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	dir := tb.TempDir()
	port := freePort(tb)
	script := filepath.Join(RepoRoot(), "db", "pgcluster.sh")
	out, err := exec.Command(script, "start", dir, fmt.Sprint(port), "--ephemeral").CombinedOutput()
	tb.Cleanup(func() {
		_ = exec.Command(script, "stop", dir).Run()
		// As root the data may live behind a link (pgcluster.sh datadir); remove it too.
		if target, err := filepath.EvalSymlinks(filepath.Join(dir, "pg")); err == nil && target != filepath.Join(dir, "pg") {
			_ = os.RemoveAll(target)
		}
	})
	if err != nil {
		tb.Fatalf("start a cluster: %v\n%s", err, out)
	}
	env, err := os.ReadFile(filepath.Join(dir, "cluster.env"))
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{Dir: dir, Port: port}
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "PGCLUSTER_SOCKET="); ok {
			c.Socket = strings.Trim(v, "'")
		}
	}
	c.SuperURL = fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", c.Socket, port)
	return c
}

// URL is a keyword/value connection string to db on the cluster's TCP port as user (password
// authentication, like a remote server).
func (c *Cluster) URL(user, password, db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable",
		c.Port, quote(user), quote(password), quote(db))
}

// SuperURLFor is the superuser's connection to db, over the socket.
func (c *Cluster) SuperURLFor(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s", c.Socket, c.Port, quote(db))
}

// Exec runs statements as the superuser on db, failing the test on error.
func (c *Cluster) Exec(tb testing.TB, db string, sql ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.SuperURLFor(db))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ReplicaURLFor returns a keyword/value connection string for user on database db of the
// streaming replica of the test server (TEST_REPLICA_URL, started by `make test`), or fails
// the test with instructions.
func ReplicaURLFor(tb testing.TB, user, password, db string) string {
	tb.Helper()
	u := os.Getenv("TEST_REPLICA_URL")
	if u == "" {
		tb.Fatal("TEST_REPLICA_URL is not set: run the tests with `make test`, which starts a streaming " +
			"replica of the test server (db/pgcluster.sh replica)")
	}
	s, err := ConnString(u, user, password, db)
	if err != nil {
		tb.Fatalf("TEST_REPLICA_URL: %v", err)
	}
	return s
}

// StopReplica and StartReplica stop and start the test server's replica (TEST_REPLICA_DIR), for
// tests of what happens while it is down. Callers must serialise: the replica is shared.
func StopReplica(tb testing.TB) {
	tb.Helper()
	replicaScript(tb, "stop", replicaDir(tb))
}

// StartReplica starts the replica again on its port (its data is kept).
func StartReplica(tb testing.TB) {
	tb.Helper()
	dir := replicaDir(tb)
	env, err := os.ReadFile(filepath.Join(dir, "cluster.env"))
	if err != nil {
		tb.Fatal(err)
	}
	port := ""
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "PGCLUSTER_PORT="); ok {
			port = strings.Trim(v, "'")
		}
	}
	primary := filepath.Join(filepath.Dir(dir), "test")
	if p := os.Getenv("TEST_PRIMARY_DIR"); p != "" {
		primary = p
	}
	replicaScript(tb, "replica", primary, dir, port, "--ephemeral")
}

func replicaDir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("TEST_REPLICA_DIR")
	if d == "" {
		tb.Fatal("TEST_REPLICA_DIR is not set: run the tests with `make test`")
	}
	return d
}

func replicaScript(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command(filepath.Join(RepoRoot(), "db", "pgcluster.sh"), args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("db/pgcluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
