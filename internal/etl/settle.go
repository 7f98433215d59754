package etl

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// settleBatch is how many tenants one settling transaction takes (Runner.settleSize in tests). Each holds its tenant's
// advisory lock until the commit, well inside the lock table (max_locks_per_transaction ×
// max_connections); batches run Workers at a time, and a batch that fails leaves its tenants to
// their own runs.
const settleBatch = 100

// settle records, before any tenant runs on its own, the check of every tenant that the pass's
// source fingerprints show unchanged: one statement lists every tenant's inboxes, then one
// transaction of one statement per batch of tenants compares each tenant's fingerprint with its
// watermark and, for the unchanged ones, closes stale runs, folds the check into the quiet
// stretch and moves the watermark (etl.settle_unchanged). A quiet pass so costs the analytics
// database a few statements per hundred tenants instead of a transaction per tenant. It returns
// the settled tenants' results by id; every other tenant (changed, due for its overlap re-read,
// held by another runner, or in a batch that failed) is left to its own run, which records its
// own outcome.
func (r *Runner) settle(ctx context.Context, todo []dbsqlc.EtlTenantListRow, fps *fingerprints) map[int64]Result {
	ids := make([]int64, len(todo))
	for i, t := range todo {
		ids[i] = t.ID
	}
	var tenants []dbsqlc.EtlPassInboxesRow
	if err := r.DB.InReadTx(ctx, r.principal(0), func(tx pg.Tx) error {
		var err error
		tenants, err = tx.EtlPassInboxes(ctx, ids)
		return err
	}); err != nil {
		if ctx.Err() == nil {
			r.log().Warn("etl: listing the tenants' inboxes for the pass; every tenant runs on its own", "err", err)
		}
		return nil
	}
	out := make(map[int64]Result, len(tenants))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(r.Workers, 1))
	size := settleBatch
	if r.settleSize > 0 {
		size = r.settleSize
	}
	for batch := range slices.Chunk(tenants, size) {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			res := r.settleBatch(ctx, batch, fps)
			mu.Lock()
			defer mu.Unlock()
			for _, x := range res {
				out[x.TenantID] = x
			}
		}()
	}
	wg.Wait()
	return out
}

// settleBatch settles one batch of tenants in one transaction and returns the settled ones.
func (r *Runner) settleBatch(ctx context.Context, batch []dbsqlc.EtlPassInboxesRow, fps *fingerprints) []Result {
	p := dbsqlc.EtlSettleUnchangedParams{
		LockClass: lockClass, SourceNow: fps.now.Time, OverlapSeconds: r.overlap().Seconds(), Worker: r.worker(),
		InboxOffsets: []int32{0},
	}
	for _, t := range batch {
		fp := fps.of(t.InboxIds)
		p.TenantIds = append(p.TenantIds, t.TenantID)
		p.Conversations = append(p.Conversations, fp.Conversations)
		p.Hashes = append(p.Hashes, hashMod(0, fp.Hash))
		// No conversation: a time before any (the array cannot carry a NULL).
		p.MaxUpdatedAt = append(p.MaxUpdatedAt, fp.MaxUpdatedAt.Time)
		for _, d := range fps.described(t.InboxIds) {
			p.InboxIds = append(p.InboxIds, d.InboxID)
			p.InboxSignatures = append(p.InboxSignatures, d.Signature)
		}
		p.InboxOffsets = append(p.InboxOffsets, int32(len(p.InboxIds)))
	}
	t0 := time.Now()
	var rows []dbsqlc.EtlSettleUnchangedRow
	if err := r.DB.InTx(ctx, r.principal(0), func(tx pg.Tx) error {
		var err error
		rows, err = tx.EtlSettleUnchanged(ctx, p)
		return err
	}); err != nil {
		if ctx.Err() == nil {
			r.log().Warn("etl: settling unchanged tenants; they run on their own", "tenants", len(batch), "err", err)
		}
		return nil
	}
	// Each settled tenant is charged its share of the batch.
	share := time.Since(t0) / time.Duration(len(batch))
	out := make([]Result, len(rows))
	for i, row := range rows {
		out[i] = Result{TenantID: row.TenantID, RunID: row.RunID, Unchanged: true, Duration: share}
	}
	return out
}
