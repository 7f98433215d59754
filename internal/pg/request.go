package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/dbsqlc"
)

// Request is the one read transaction of an HTTP request. The server opens it when it checks the
// request's session, and every InReadTx of the same principal during the request joins it instead
// of opening a transaction of its own: a page view costs one transaction, checked principal
// included, on one snapshot. A write (InTx) ends it first, so a request never holds two pooled
// connections; reads after that run on their own, as they would without a Request.
type Request struct {
	db   *DB
	p    Principal
	mu   sync.Mutex
	tx   pgx.Tx
	q    Tx
	busy bool // fn is running: a nested or concurrent InReadTx opens its own transaction
	memo map[any]any
}

// Remember returns what read returned earlier in the same request transaction under key, or
// runs read and keeps its result: a read that several parts of one request repeat (the tenant's
// version) costs one statement, and on one snapshot its answer cannot differ. Outside the
// request's own transaction (tx another one, or no request) read always runs; errors are not kept.
func Remember[T any](ctx context.Context, tx Tx, key any, read func() (T, error)) (T, error) {
	r, _ := ctx.Value(requestKey{}).(*Request)
	if r == nil {
		return read()
	}
	r.mu.Lock()
	mine := r.tx != nil && r.q.Raw == tx.Raw
	v, ok := r.memo[key]
	r.mu.Unlock()
	if !mine {
		return read()
	}
	if ok {
		return v.(T), nil
	}
	x, err := read()
	if err == nil {
		r.mu.Lock()
		if r.memo == nil {
			r.memo = map[any]any{}
		}
		r.memo[key] = x
		r.mu.Unlock()
	}
	return x, err
}

type requestKey struct{}

// BeginRequest opens a read-only transaction on one snapshot for p, runs check in it (the
// session's principal check) and returns ctx carrying the transaction for the request's
// handlers. The caller must End it. On error nothing stays open.
func (db *DB) BeginRequest(ctx context.Context, p Principal, check func(tx Tx) error) (*Request, context.Context, error) {
	if !p.valid() {
		return nil, ctx, errors.New("principal without a database role")
	}
	tx, err := db.Pool.BeginTx(ctx, readTx)
	if err != nil {
		return nil, ctx, MapError(err)
	}
	rq := &Request{db: db, p: p, tx: tx, q: Tx{Queries: dbsqlc.New(tx), Raw: tx}}
	if err := setContext(ctx, rq.q.Queries, p); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, ctx, err
	}
	if err := check(rq.q); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, ctx, MapError(err)
	}
	return rq, context.WithValue(ctx, requestKey{}, rq), nil
}

// End finishes the request's transaction (idempotent).
func (r *Request) End(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tx == nil {
		return nil
	}
	err := r.tx.Commit(context.WithoutCancel(ctx))
	r.tx, r.memo = nil, nil
	return MapError(err)
}

// join runs fn in the request's transaction when ctx carries one for db and p that is open and
// idle; joined is false when the caller must open its own.
func join(ctx context.Context, db *DB, p Principal, fn func(tx Tx) error) (joined bool, err error) {
	r, _ := ctx.Value(requestKey{}).(*Request)
	if r == nil || r.db != db || !r.p.sameIdentity(p) {
		return false, nil
	}
	r.mu.Lock()
	if r.tx == nil || r.busy {
		r.mu.Unlock()
		return false, nil
	}
	r.busy = true
	r.mu.Unlock()
	err = fn(r.q)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy = false
	var pe *pgconn.PgError
	if errors.As(err, &pe) || (err != nil && r.tx.Conn().IsClosed()) {
		// The server aborted the transaction: nothing more can run in it.
		_ = r.tx.Rollback(context.WithoutCancel(ctx))
		r.tx = nil
	}
	return true, MapError(err)
}

// endRequest ends ctx's request transaction of db before a write (a write runs in a
// transaction of its own, and a request holds one connection at a time).
func endRequest(ctx context.Context, db *DB) {
	if r, _ := ctx.Value(requestKey{}).(*Request); r != nil && r.db == db {
		_ = r.End(ctx)
	}
}

// sameIdentity reports whether q would set the same request context as p.
func (p Principal) sameIdentity(q Principal) bool {
	return p.DBRole == q.DBRole && p.TenantID == q.TenantID && p.UserID == q.UserID && p.Role == q.Role &&
		p.Actor == q.Actor && p.IP == q.IP && p.UserAgent == q.UserAgent && p.StatementTimeout == q.StatementTimeout
}

// setContext is the first statement of every transaction (see inTx).
func setContext(ctx context.Context, q *dbsqlc.Queries, p Principal) error {
	role := string(p.DBRole)
	if err := q.ContextSet(ctx, dbsqlc.ContextSetParams{
		Role: &role, TenantID: optID(p.TenantID), UserID: optID(p.UserID), AppRole: p.Role,
		Actor: p.Actor, IP: p.IP, UserAgent: p.UserAgent,
	}); err != nil {
		return MapError(fmt.Errorf("set request context: %w", err))
	}
	if p.StatementTimeout > 0 {
		if err := q.ContextStatementTimeout(ctx, strconv.FormatInt(max(p.StatementTimeout.Milliseconds(), 1), 10)); err != nil {
			return MapError(fmt.Errorf("set statement timeout: %w", err))
		}
	}
	return nil
}
