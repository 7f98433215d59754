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
