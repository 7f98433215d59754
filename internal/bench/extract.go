package bench

import (
	"context"
	"fmt"
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
	return r.extract(ctx, "")
}

// floorSchema holds what the bare copy writes: each extracted conversation as it came (one row
// of its scalars, one of its transcript arrays, as analytics.conversations and
// analytics.transcripts hold them), logged, with a primary key and nothing else — no RLS, no
// staging, no derived column, no secondary index, no rollup.
const floorSchema = `
CREATE SCHEMA bench_floor;
CREATE TABLE bench_floor.conversations (
    tenant_id bigint, conversation_id integer, account_id integer, inbox_id integer, display_id integer,
    channel_type text, status smallint, priority integer, contact_id bigint, contact_name text,
    contact_phone text, assignee_id integer, team_id bigint, labels text[], created_at timestamptz,
    updated_at timestamptz, last_activity_at timestamptz, contact_messages integer, bot_messages integer,
    human_messages integer, private_notes integer, first_contact_at timestamptz, first_reply_at timestamptz,
    first_human_reply_at timestamptz, last_message_at timestamptz, handoff boolean,
    resolved_event_at timestamptz, handoff_requested_at timestamptz, last_contact_at timestamptz,
    last_human_at timestamptz, waiting_contact_at timestamptz, human_wait_from timestamptz,
    human_wait_reply_at timestamptz, csat_rating smallint, csat_at timestamptz,
    PRIMARY KEY (tenant_id, conversation_id));
CREATE TABLE bench_floor.transcripts (
    tenant_id bigint, conversation_id integer, message_ids integer[], created_at timestamptz[],
    senders text[], types smallint[], contents text[], deleted boolean[],
    PRIMARY KEY (tenant_id, conversation_id));`

var (
	floorConversations = []string{"tenant_id", "conversation_id", "account_id", "inbox_id", "display_id",
		"channel_type", "status", "priority", "contact_id", "contact_name", "contact_phone", "assignee_id",
		"team_id", "labels", "created_at", "updated_at", "last_activity_at", "contact_messages", "bot_messages",
		"human_messages", "private_notes", "first_contact_at", "first_reply_at", "first_human_reply_at",
		"last_message_at", "handoff", "resolved_event_at", "handoff_requested_at", "last_contact_at",
		"last_human_at", "waiting_contact_at", "human_wait_from", "human_wait_reply_at", "csat_rating", "csat_at"}
	floorTranscripts = []string{"tenant_id", "conversation_id", "message_ids", "created_at", "senders", "types", "contents", "deleted"}
)

// bareCopy is the floor of any loader that keeps what it reads: the full load's extraction
// (same queries, workers, chunks, one chunk read ahead as the ETL does), each chunk written with
// COPY into floorSchema, one transaction per tenant. Writing rows costs more than reading them,
// whoever writes them; the full load's time divided by this is the ETL's own work on top.
// The schema is dropped afterwards.
func (r *run) bareCopy(ctx context.Context) (time.Duration, int64, error) {
	su, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return 0, 0, err
	}
	defer su.Close(context.WithoutCancel(ctx))
	if _, err := su.Exec(ctx, floorSchema); err != nil {
		return 0, 0, fmt.Errorf("bare copy tables: %w", err)
	}
	d, n, err := r.extract(ctx, r.dbs.superAnalyticsURL)
	if _, derr := su.Exec(context.WithoutCancel(ctx), "DROP SCHEMA bench_floor CASCADE"); derr != nil && err == nil {
		err = derr
	}
	return d, n, err
}

// extract runs the full load's extraction over every tenant; with sinkURL, each worker also
// writes what it reads into floorSchema on that database.
func (r *run) extract(ctx context.Context, sinkURL string) (time.Duration, int64, error) {
	t0 := time.Now()
	var (
		mu    sync.Mutex
		rows  int64
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	work := make(chan *tenant)
	for w := 0; w < etlWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The ETL's own source session (plan per chunk, work_mem, no JIT): with pgx's
			// defaults, a cached generic plan of the = ANY ($1) chunks made "extraction
			// alone" twice as slow as the whole load.
			cc, err := etl.SourceConnConfig(r.dbs.cwReaderURL, etl.DefaultStatementTimeout)
			var conn, sink *pgx.Conn
			if err == nil {
				conn, err = pgx.ConnectConfig(ctx, cc)
			}
			if err == nil && sinkURL != "" {
				if sink, err = pgx.Connect(ctx, sinkURL); err != nil {
					conn.Close(context.WithoutCancel(ctx))
				}
			}
			if err != nil {
				fail(err)
				for range work {
				}
				return
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if sink != nil {
				defer sink.Close(context.WithoutCancel(ctx))
			}
			q := cwsqlc.New(conn)
			for t := range work {
				n, err := extractTenant(ctx, q, t, sink)
				mu.Lock()
				rows += n
				mu.Unlock()
				if err != nil {
					fail(err)
				}
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

// extractTenant reads one tenant's conversations in the ETL's chunks, one chunk ahead of the
// consumer; with a sink, each chunk is copied into floorSchema in one transaction per tenant.
func extractTenant(ctx context.Context, q *cwsqlc.Queries, t *tenant, sink *pgx.Conn) (int64, error) {
	idRows, err := q.ExtractConversationIDs(ctx, t.inboxes)
	if err != nil {
		return 0, err
	}
	ids := make([]int32, len(idRows))
	for i, x := range idRows {
		ids[i] = x.ConversationID
	}
	slices.Sort(ids)
	type chunk struct {
		rows []cwsqlc.ExtractConversationsRow
		err  error
	}
	chunks := make(chan chunk, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		for i := 0; i < len(ids); i += etl.DefaultChunkSize {
			rows, err := q.ExtractConversations(ctx, cwsqlc.ExtractConversationsParams{Ids: ids[i:min(i+etl.DefaultChunkSize, len(ids))], InboxIds: t.inboxes})
			select {
			case chunks <- chunk{rows, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var tx pgx.Tx
	if sink != nil {
		if tx, err = sink.Begin(ctx); err != nil {
			return 0, err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
	}
	var n int64
	for c := range chunks {
		if c.err != nil {
			return n, c.err
		}
		n += int64(len(c.rows))
		if tx != nil {
			if err := copyFloor(ctx, tx, t.id, c.rows); err != nil {
				return n, fmt.Errorf("bare copy: %w", err)
			}
		}
	}
	if tx != nil {
		return n, tx.Commit(ctx)
	}
	return n, nil
}

func copyFloor(ctx context.Context, tx pgx.Tx, tenantID int64, rows []cwsqlc.ExtractConversationsRow) error {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_floor", "conversations"}, floorConversations,
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			x := &rows[i]
			return []any{tenantID, x.ConversationID, x.AccountID, x.InboxID, x.DisplayID, x.ChannelType, x.Status,
				x.Priority, x.ContactID, x.ContactName, x.ContactPhone, x.AssigneeID, x.TeamID, x.Labels,
				x.CreatedAt, x.UpdatedAt, x.LastActivityAt, x.ContactMessages, x.BotMessages, x.HumanMessages,
				x.PrivateNotes, x.FirstContactAt, x.FirstReplyAt, x.FirstHumanReplyAt, x.LastMessageAt, x.Handoff,
				x.ResolvedEventAt, x.HandoffRequestedAt, x.LastContactAt, x.LastHumanAt, x.WaitingContactAt,
				x.HumanWaitFrom, x.HumanWaitReplyAt, x.CsatRating, x.CsatAt}, nil
		}))
	if err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"bench_floor", "transcripts"}, floorTranscripts,
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			x := &rows[i]
			return []any{tenantID, x.ConversationID, x.MessageIds, x.MessageCreatedAt, x.MessageSenders,
				x.MessageTypes, x.MessageContents, x.MessageDeleted}, nil
		}))
	return err
}

// checkpoint writes out every dirty buffer of the bench cluster (CHECKPOINT, as its superuser).
func (r *run) checkpoint(ctx context.Context) error {
	su, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return err
	}
	defer su.Close(context.WithoutCancel(ctx))
	if _, err := su.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
