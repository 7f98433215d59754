package bench

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
	"github.com/geniai/analytics/internal/etl"
)

// extractOnly reads from Chatwoot exactly what a full load reads — every tenant's id set, then
// its conversations with their aggregates and transcripts in chunks, with the ETL's worker count
// and chunk size — and throws it away. The full load's wall time divided by this is the ETL's
// own overhead (staging, merge, rollups, search words), a ratio that holds on any machine: the
// source shares the cores with everything else.
func (r *run) extractOnly(ctx context.Context) (time.Duration, int64, error) {
	t0 := time.Now()
	var (
		mu    sync.Mutex
		rows  int64
		first error
		wg    sync.WaitGroup
	)
	work := make(chan *tenant)
	for w := 0; w < etlWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The ETL's own source session (plan per chunk, work_mem, no JIT): with pgx's
			// defaults, a cached generic plan of the = ANY ($1) chunks made "extraction
			// alone" twice as slow as the whole load.
			cc, err := etl.SourceConnConfig(r.dbs.cwReaderURL, etl.DefaultStatementTimeout)
			var conn *pgx.Conn
			if err == nil {
				conn, err = pgx.ConnectConfig(ctx, cc)
			}
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
				for range work {
				}
				return
			}
			defer conn.Close(context.WithoutCancel(ctx))
			q := cwsqlc.New(conn)
			for t := range work {
				n, err := extractTenant(ctx, q, t.inboxes)
				mu.Lock()
				rows += n
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range r.tenants {
		work <- t
	}
	close(work)
	wg.Wait()
	return time.Since(t0), rows, first
}

func extractTenant(ctx context.Context, q *cwsqlc.Queries, inboxes []int32) (int64, error) {
	idRows, err := q.ExtractConversationIDs(ctx, inboxes)
	if err != nil {
		return 0, err
	}
	ids := make([]int32, len(idRows))
	for i, x := range idRows {
		ids[i] = x.ConversationID
	}
	slices.Sort(ids)
	var n int64
	for i := 0; i < len(ids); i += etl.DefaultChunkSize {
		rows, err := q.ExtractConversations(ctx, cwsqlc.ExtractConversationsParams{Ids: ids[i:min(i+etl.DefaultChunkSize, len(ids))], InboxIds: inboxes})
		if err != nil {
			return n, err
		}
		n += int64(len(rows))
	}
	return n, nil
}
