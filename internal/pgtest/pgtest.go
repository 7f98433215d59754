// Package pgtest gives each test its own migrated PostgreSQL database, cloned in about 0.1 s from
// a template that is migrated once per version of the migrations. It needs a real server:
// TEST_DATABASE_URL (a superuser or a role with CREATEDB and CREATEROLE) and TEST_ROLE_PASSWORD,
// both set by `make test`, which starts a throwaway cluster.
//
// With TEST_CITUS_WORKER_URLS (set by `make test/citus`: superuser URLs of the workers, space
// separated) TEST_DATABASE_URL is a Citus coordinator, and every database exists on every node:
// the template is prepared, migrated and distributed (`geniai db distribute`) once, and each test
// gets a clone of it on every node under one name, which is all a coordinator needs to find its
// shards. Tests on a cluster run one package at a time.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/db/citus"
	"github.com/geniai/analytics/db/migrations"
	"github.com/geniai/analytics/internal/pg"
)

// Env is one test database.
type Env struct {
	Name     string // database name
	OwnerURL string // geniai_owner: migrations, fixtures
	AuthURL  string // geniai_authenticator: what the server uses
	SuperURL string // the admin connection, on this database
	DB       *pg.DB // pool of the authenticator, closed at cleanup
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL returns TEST_DATABASE_URL or fails the test with instructions.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" || os.Getenv("TEST_ROLE_PASSWORD") == "" {
		tb.Fatal("TEST_DATABASE_URL and TEST_ROLE_PASSWORD are not set: run the tests with `make test`, " +
			"which starts a throwaway PostgreSQL and sets them")
	}
	return u
}

// URLFor returns a keyword/value connection string for user on database db, on the server of
// TEST_DATABASE_URL; user "" means the admin itself.
func URLFor(tb testing.TB, user, password, db string) string {
	tb.Helper()
	s, err := ConnString(AdminURL(tb), user, password, db)
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	return s
}

// ConnString rewrites adminURL for user and password on database db; user "" keeps the admin.
func ConnString(adminURL, user, password, db string) (string, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return "", err
	}
	if user == "" {
		user, password = cfg.User, cfg.Password
	}
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		quote(cfg.Host), cfg.Port, quote(user), quote(password), quote(db)), nil
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// New creates a fresh, fully migrated database for the test and drops it at cleanup.
func New(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	tmpl := template(tb)
	name := "t_" + randomHex(8)
	if err := cloneEverywhere(ctx, tb, tmpl, name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	pw := os.Getenv("TEST_ROLE_PASSWORD")
	env := &Env{
		Name:     name,
		OwnerURL: URLFor(tb, "geniai_owner", pw, name),
		AuthURL:  URLFor(tb, "geniai_authenticator", pw, name),
		SuperURL: URLFor(tb, "", "", name),
	}
	db, err := pg.Open(ctx, env.AuthURL, pg.Options{MaxConns: 8})
	if err != nil {
		tb.Fatalf("open authenticator pool: %v", err)
	}
	env.DB = db
	tb.Cleanup(func() {
		db.Close()
		for _, node := range nodeAdminURLs(tb) {
			admin := connect(tb, node)
			var err error
			// On a cluster a Citus daemon may reconnect between FORCE's termination and the
			// drop: try again.
			for attempt := 0; attempt < 10; attempt++ {
				if _, err = admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err == nil || !citusMode() {
					break
				}
				time.Sleep(300 * time.Millisecond)
			}
			if err != nil {
				tb.Errorf("drop test database: %v", err)
			}
			admin.Close(ctx)
		}
	})
	return env
}

// Empty creates an empty database owned by geniai_owner (no migration applied), dropped at
// cleanup, for tests that migrate step by step; it returns the owner's and the admin's URLs.
func Empty(tb testing.TB) (ownerURL, superURL string) {
	tb.Helper()
	ctx := context.Background()
	template(tb) // the roles and their passwords
	name := "e_" + randomHex(8)
	admin := connect(tb, URLFor(tb, "", "", "postgres"))
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" OWNER geniai_owner"); err != nil {
		tb.Fatalf("create empty database: %v", err)
	}
	tb.Cleanup(func() {
		admin := connect(tb, URLFor(tb, "", "", "postgres"))
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop empty database: %v", err)
		}
	})
	return URLFor(tb, "geniai_owner", os.Getenv("TEST_ROLE_PASSWORD"), name), URLFor(tb, "", "", name)
}

// Conn opens a direct connection (owner, superuser...) closed at cleanup.
func Conn(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	c := connect(tb, url)
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return c
}

// template returns the name of a template database migrated to the current migrations, creating
// it once per content hash. Test binaries run in parallel, so creation is serialised with an
// advisory lock on the server.
func template(tb testing.TB) string {
	tb.Helper()
	templateOnce.Do(func() { templateName, templateErr = makeTemplate(tb) })
	if templateErr != nil {
		tb.Fatalf("template database: %v", templateErr)
	}
	return templateName
}

func makeTemplate(tb testing.TB) (string, error) {
	ctx := context.Background()
	name := "tmpl_" + migrationsHash()
	admin := connect(tb, URLFor(tb, "", "", "postgres"))
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(74657374)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(74657374)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	pw := os.Getenv("TEST_ROLE_PASSWORD")
	for _, stmt := range []string{
		"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_owner') THEN CREATE ROLE geniai_owner; END IF; " +
			"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_authenticator') THEN CREATE ROLE geniai_authenticator; END IF; END $$",
		fmt.Sprintf("ALTER ROLE geniai_owner LOGIN CREATEROLE PASSWORD %s", quoteLiteral(pw)),
		fmt.Sprintf("ALTER ROLE geniai_authenticator LOGIN NOINHERIT PASSWORD %s", quoteLiteral(pw)),
		"DROP DATABASE IF EXISTS " + name + "_wip",
		"CREATE DATABASE " + name + "_wip OWNER geniai_owner",
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("%.60s: %w", stmt, err)
		}
	}
	if citusMode() {
		return name, makeCitusTemplate(ctx, tb, admin, name)
	}
	if err := pg.Migrate(ctx, URLFor(tb, "geniai_owner", pw, name+"_wip"), -1, nil); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+"_wip RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// citusMode reports whether TEST_DATABASE_URL is a Citus coordinator (TEST_CITUS_WORKER_URLS set).
func citusMode() bool { return os.Getenv("TEST_CITUS_WORKER_URLS") != "" }

// nodeAdminURLs are superuser connections to the postgres database of every node: the server of
// TEST_DATABASE_URL, then the Citus workers (workers first would not matter: nothing connects
// to a test database before all its copies exist).
func nodeAdminURLs(tb testing.TB) []string {
	urls := []string{URLFor(tb, "", "", "postgres")}
	for _, w := range strings.Fields(os.Getenv("TEST_CITUS_WORKER_URLS")) {
		u, err := ConnString(w, "", "", "postgres")
		if err != nil {
			tb.Fatalf("TEST_CITUS_WORKER_URLS: %v", err)
		}
		urls = append(urls, u)
	}
	return urls
}

// makeCitusTemplate builds the template on a Citus cluster, the way the README deploys one: the
// database with the extension on every node, the workers registered, db/citus/prepare.sql, the
// migrations, `geniai db distribute`. The coordinator's _wip database exists already.
func makeCitusTemplate(ctx context.Context, tb testing.TB, admin *pgx.Conn, name string) error {
	wip := name + "_wip"
	nodes := nodeAdminURLs(tb)
	for i, node := range nodes {
		if i > 0 {
			c := connect(tb, node)
			_, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+wip+" WITH (FORCE)")
			if err == nil {
				_, err = c.Exec(ctx, "CREATE DATABASE "+wip+" OWNER geniai_owner")
			}
			c.Close(ctx)
			if err != nil {
				return fmt.Errorf("worker %d: %w", i, err)
			}
		}
		c := connect(tb, onDatabase(tb, node, wip))
		_, err := c.Exec(ctx, "CREATE EXTENSION citus")
		c.Close(ctx)
		if err != nil {
			return fmt.Errorf("node %d: create extension: %w", i, err)
		}
	}
	coord := connect(tb, URLFor(tb, "", "", wip))
	defer coord.Close(ctx)
	host := os.Getenv("TEST_CITUS_NODE_HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	for i, node := range nodes {
		cfg, err := pgx.ParseConfig(node)
		if err != nil {
			return err
		}
		stmt := "SELECT citus_add_node($1, $2)"
		if i == 0 {
			stmt = "SELECT citus_set_coordinator_host($1, $2)"
		}
		if _, err := coord.Exec(ctx, stmt, host, int(cfg.Port)); err != nil {
			return fmt.Errorf("register node %s:%d: %w", host, cfg.Port, err)
		}
	}
	if _, err := coord.Exec(ctx, citus.Prepare); err != nil {
		return fmt.Errorf("db/citus/prepare.sql: %w", err)
	}
	ownerURL := URLFor(tb, "geniai_owner", os.Getenv("TEST_ROLE_PASSWORD"), wip)
	if err := pg.Migrate(ctx, ownerURL, -1, nil); err != nil {
		return err
	}
	// Few shards keep the clones small; two workers still split every tenant set.
	if _, err := pg.Distribute(ctx, ownerURL, pg.DistributeOptions{ShardCount: 4}, nil); err != nil {
		return fmt.Errorf("distribute: %w", err)
	}
	coord.Close(ctx)
	for _, node := range nodes {
		c := connect(tb, node)
		err := freeConnections(ctx, c, wip)
		if err == nil {
			_, err = c.Exec(ctx, "ALTER DATABASE "+wip+" RENAME TO "+name)
		}
		c.Close(ctx)
		if err != nil {
			return fmt.Errorf("rename template: %w", err)
		}
	}
	return nil
}

// cloneMu serialises clones within a test binary: on a cluster each clone first ends the
// template's Citus maintenance daemon, which another clone must not see come back half-way.
var cloneMu sync.Mutex

// cloneEverywhere creates database name from template tmpl on every node.
func cloneEverywhere(ctx context.Context, tb testing.TB, tmpl, name string) error {
	cloneMu.Lock()
	defer cloneMu.Unlock()
	for _, node := range nodeAdminURLs(tb) {
		c := connect(tb, node)
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if citusMode() {
				// Citus keeps a maintenance daemon connected to every database with the
				// extension (restarted seconds after it ends); a template must have no
				// other session while it is copied.
				if err = freeConnections(ctx, c, tmpl); err != nil {
					break
				}
			}
			if _, err = c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER geniai_owner", name, tmpl)); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		c.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// freeConnections ends every other session on database db (on a cluster, Citus's daemon).
func freeConnections(ctx context.Context, c *pgx.Conn, db string) error {
	_, err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
	return err
}

// onDatabase rewrites an admin URL for database db.
func onDatabase(tb testing.TB, url, db string) string {
	tb.Helper()
	s, err := ConnString(url, "", "", db)
	if err != nil {
		tb.Fatalf("connection string: %v", err)
	}
	return s
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func migrationsHash() string {
	h := sha256.New()
	if citusMode() {
		h.Write([]byte(citus.Prepare))
	}
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
