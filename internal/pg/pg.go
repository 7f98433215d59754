// Package pg is the hand-written glue between the application and PostgreSQL: the pool, the one
// helper that runs work inside a transaction carrying the request identity, error mapping and
// migrations. Every query that touches tenant tables goes through InTx, so Row-Level Security
// always sees who is asking.
package pg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// DBRole is a database role the authenticator may switch to.
type DBRole string

const (
	RoleAnon   DBRole = "geniai_anon"
	RoleTenant DBRole = "geniai_tenant"
	RoleStaff  DBRole = "geniai_staff"
	RoleETL    DBRole = "geniai_etl"
)

// App roles, as stored in app.users.role.
const (
	AppClient     = "client"
	AppAdmin      = "admin"
	AppSuperAdmin = "super_admin"
	AppSupport    = "support"
)

// StaffRoles are the app roles of GeniAI staff: the one definition in Go, as app.is_staff is in
// SQL (TestStaffDefinedOnce holds the two together).
var StaffRoles = []string{AppSuperAdmin, AppSupport}

// IsStaffRole reports whether an app role is GeniAI staff.
func IsStaffRole(role string) bool { return slices.Contains(StaffRoles, role) }

// Principal is who is asking, the one identity type of the application: the database role to
// switch to and the identity policies read, and for a signed-in user what the pages show of them
// (filled from app.principal_check on every request).
type Principal struct {
	DBRole    DBRole
	TenantID  int64  // 0: none
	UserID    int64  // 0: none (anonymous or a system actor)
	Role      string // app role: client, admin, super_admin, support; "" for anon and etl
	Actor     string // label for system actors in the audit log: cli, etl, scheduler
	IP        string // client address, for audit events
	UserAgent string
	// StatementTimeout, when positive, bounds each statement of the transaction instead of the
	// pool's default (the ETL's own limit).
	StatementTimeout time.Duration

	// A signed-in user's account, as re-checked in SQL; empty for other principals.
	Email      string
	FullName   string
	TenantSlug string
	TenantName string
}

// IsStaff reports whether the principal acts as GeniAI staff.
func (p Principal) IsStaff() bool { return IsStaffRole(p.Role) }

// Anon is the principal before sign-in: it may only call the login functions.
func Anon(ip, userAgent string) Principal {
	return Principal{DBRole: RoleAnon, Actor: "anon", IP: ip, UserAgent: userAgent}
}

// User is the principal of a signed-in user; the database role follows the app role.
func User(tenantID, userID int64, appRole, ip, userAgent string) Principal {
	role := RoleTenant
	if IsStaffRole(appRole) {
		role = RoleStaff
	}
	return Principal{DBRole: role, TenantID: tenantID, UserID: userID, Role: appRole, IP: ip, UserAgent: userAgent}
}

// System is a staff principal for trusted tooling (the admin CLI): super_admin with no user.
func System(actor string) Principal {
	return Principal{DBRole: RoleStaff, Role: AppSuperAdmin, Actor: actor}
}

// ETL is the loader's principal for one tenant.
func ETL(tenantID int64) Principal {
	return Principal{DBRole: RoleETL, TenantID: tenantID, Actor: "etl"}
}

func (p Principal) valid() bool {
	switch p.DBRole {
	case RoleAnon, RoleTenant, RoleStaff, RoleETL:
		return true
	}
	return false
}

// optID is an id for app.set_context: nil (unset) for 0.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// DB is the connection pool of the authenticator role, and the read replica it may use.
type DB struct {
	Pool    *pgxpool.Pool
	replica *Replica // nil: no DATABASE_READ_URL
}

// Options tune the pool.
type Options struct {
	MaxConns         int32           // 0: pgxpool's default
	StatementTimeout time.Duration   // 0: none
	Tracer           pgx.QueryTracer // nil: none (the bench times statements with it)
}

// Open connects to url (DATABASE_URL, the authenticator) and checks the connection.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	cfg, err := poolConfig(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, MapError(err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, MapError(err)
	}
	return &DB{Pool: pool}, nil
}

// poolConfig is the pool configuration of url with o's options (the primary's and the replica's).
func poolConfig(url string, o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "err.db.bad_url", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "geniai"
	// A client that dies mid-statement (a killed `etl run`) releases its locks within seconds
	// instead of when its statement would have ended.
	cfg.ConnConfig.RuntimeParams["client_connection_check_interval"] = "2000"
	cfg.ConnConfig.Tracer = o.Tracer
	return cfg, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Tx is the work handle inside InTx: generated queries, plus the raw transaction for the few
// things sqlc cannot express (COPY into staging).
type Tx struct {
	*dbsqlc.Queries
	Raw pgx.Tx
}

// InTx runs fn in one transaction whose first statement switches to p's role and sets p's
// identity transaction-locally. The transaction commits when fn returns nil and rolls back
// otherwise; errors come back mapped to apperr.
func (db *DB) InTx(ctx context.Context, p Principal, fn func(tx Tx) error) error {
	endRequest(ctx, db) // a request's read transaction ends before it writes (request.go)
	return inTx(ctx, db.Pool, p, pgx.TxOptions{}, fn)
}

// readTx is a read-only transaction on one snapshot (REPEATABLE READ): every statement of a page
// or an export sees the same committed ETL run. Read-only, it never fails to serialise.
var readTx = pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}

// InReadTx is InTx in a read-only transaction on one snapshot, for pages and exports.
// Inside a request whose read transaction is open for the same principal, it joins that
// transaction (request.go). In a context marked WithReplica it runs on the read replica while
// that is healthy instead (the request's transaction on the primary, done with the principal
// check, ends first: the request holds no primary connection while it reads the replica).
func (db *DB) InReadTx(ctx context.Context, p Principal, fn func(tx Tx) error) error {
	if _, onReplica := db.readPool(ctx); onReplica {
		endRequest(ctx, db)
		return db.inReadTxRouted(ctx, p, fn)
	}
	if joined, err := join(ctx, db, p, fn); joined {
		return err
	}
	return inTx(ctx, db.Pool, p, readTx, fn)
}

// Conn is one pooled connection held for a sequence of transactions, for work that needs
// session state between them (the ETL's session-level advisory lock). It offers the same
// transaction helpers as DB; nothing else of the session is exposed.
type Conn struct {
	c *pgxpool.Conn
}

// WithConn acquires one connection from the pool, runs fn with it and releases it.
func (db *DB) WithConn(ctx context.Context, fn func(c *Conn) error) error {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return MapError(err)
	}
	defer pc.Release()
	return fn(&Conn{c: pc})
}

// InTx is DB.InTx on this connection.
func (c *Conn) InTx(ctx context.Context, p Principal, fn func(tx Tx) error) error {
	return inTx(ctx, c.c, p, pgx.TxOptions{}, fn)
}

// InReadTx is DB.InReadTx on this connection.
func (c *Conn) InReadTx(ctx context.Context, p Principal, fn func(tx Tx) error) error {
	return inTx(ctx, c.c, p, readTx, fn)
}

// Discard closes the connection instead of returning it to the pool, for when its session
// state (a lock that could not be released) must not outlive the caller.
func (c *Conn) Discard(ctx context.Context) {
	_ = c.c.Conn().Close(ctx)
}

// beginner is what a transaction starts from: the pool or one of its connections.
type beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

func inTx(ctx context.Context, b beginner, p Principal, opts pgx.TxOptions, fn func(tx Tx) error) (err error) {
	if !p.valid() {
		return apperr.Wrap(errors.New("principal without a database role"), apperr.Internal, apperr.KeyInternal)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return MapError(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	q := dbsqlc.New(tx)
	role := string(p.DBRole)
	if err = q.ContextSet(ctx, dbsqlc.ContextSetParams{
		Role:      &role,
		TenantID:  optID(p.TenantID),
		UserID:    optID(p.UserID),
		AppRole:   p.Role,
		Actor:     p.Actor,
		IP:        p.IP,
		UserAgent: p.UserAgent,
	}); err != nil {
		return MapError(fmt.Errorf("set request context: %w", err))
	}
	if p.StatementTimeout > 0 {
		if err = q.ContextStatementTimeout(ctx, strconv.FormatInt(max(p.StatementTimeout.Milliseconds(), 1), 10)); err != nil {
			return MapError(fmt.Errorf("set statement timeout: %w", err))
		}
	}
	if err = fn(Tx{Queries: q, Raw: tx}); err != nil {
		return MapError(err)
	}
	if err = tx.Commit(ctx); err != nil {
		return MapError(err)
	}
	return nil
}

// Ready reports whether the database answers and has every embedded migration applied.
func (db *DB) Ready(ctx context.Context) error {
	var version int32
	err := db.InReadTx(ctx, Anon("", ""), func(tx Tx) error {
		var err error
		version, err = tx.SchemaVersion(ctx)
		return err
	})
	if err != nil {
		return err
	}
	want, err := MigrationCount()
	if err != nil {
		return err
	}
	if int(version) != want {
		return apperr.New(apperr.Unavailable, "err.db.not_migrated", version, want)
	}
	return nil
}

// IsNoRows reports whether err means "no row".
func IsNoRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || apperr.Is(err, apperr.NotFound)
}
