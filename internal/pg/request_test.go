package pg_test

import (
	"context"
	"testing"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestRequestTransaction: reads of the request's principal join its transaction; other
// principals, nested reads and everything after a server error or a write get their own.
func TestRequestTransaction(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	p := pg.System("test")
	mark := func(ctx context.Context, q pg.Principal) (v string) {
		t.Helper()
		if err := env.DB.InReadTx(ctx, q, func(tx pg.Tx) error {
			return tx.Raw.QueryRow(ctx, `SELECT coalesce(current_setting('test.mark', true), '')`).Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	rq, rctx, err := env.DB.BeginRequest(ctx, p, func(tx pg.Tx) error {
		_, err := tx.Raw.Exec(ctx, `SELECT set_config('test.mark', 'request', true)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rq.End(ctx) //nolint:errcheck
	if got := mark(rctx, p); got != "request" {
		t.Fatalf("same principal did not join: %q", got)
	}
	if got := mark(rctx, pg.ETL(1)); got != "" {
		t.Fatalf("another principal joined: %q", got)
	}
	// Nested: the inner read cannot use the busy transaction.
	if err := env.DB.InReadTx(rctx, p, func(tx pg.Tx) error {
		if got := mark(rctx, p); got != "" {
			t.Errorf("nested read joined: %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A server error ends it; later reads run on their own and succeed.
	if err := env.DB.InReadTx(rctx, p, func(tx pg.Tx) error {
		_, err := tx.Raw.Exec(ctx, `SELECT 1/0`)
		return err
	}); err == nil {
		t.Fatal("division by zero succeeded")
	}
	if got := mark(rctx, p); got != "" {
		t.Fatalf("read after an aborted request transaction: %q", got)
	}

	// A write ends the request's transaction before it runs.
	rq2, rctx2, err := env.DB.BeginRequest(ctx, p, func(tx pg.Tx) error {
		_, err := tx.Raw.Exec(ctx, `SELECT set_config('test.mark', 'request', true)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.InTx(rctx2, p, func(tx pg.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := mark(rctx2, p); got != "" {
		t.Fatalf("read after a write joined the ended transaction: %q", got)
	}
	if err := rq2.End(ctx); err != nil {
		t.Fatal(err)
	}
}
