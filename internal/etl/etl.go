// Package etl loads Chatwoot conversations into the per-tenant analytics tables (docs/etl.md).
//
// A run of one tenant holds one pooled connection for its whole life: a session-level advisory
// lock serialises runs of the tenant across processes; one transaction records the run; one
// transaction does all the work (id set and changed conversations streamed with COPY into
// staging, then etl.merge_run applies them, counts the run and moves the watermark). Anything
// that fails or is killed before that transaction commits leaves no trace but a failed (or,
// found later, stale) run row.
package etl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

// lockClass is the first key of the per-tenant advisory lock ("ETL").
const lockClass = 0x45544c

// Defaults of Runner's tuning fields.
const (
	DefaultChunkSize = 10000
	DefaultOverlap   = 10 * time.Minute
	// DefaultStatementTimeout bounds each statement of a run, on both databases, when the Runner
	// sets none (ETL_STATEMENT_TIMEOUT): far above a full rebuild of a large tenant, far below
	// "forever".
	DefaultStatementTimeout = 10 * time.Minute
	DefaultConnectTimeout   = 15 * time.Second
)

// Runner runs the ETL. Only DB and SourceURL are required.
type Runner struct {
	DB        *pg.DB
	SourceURL string // CHATWOOT_DATABASE_URL, read-only use

	ChunkSize int           // conversations per source query, COPY and chunk merge; default 10000
	Workers   int           // tenants RunAll loads at once (ETL_WORKERS); 0 means 1
	Overlap   time.Duration // re-read window before the previous run's source check; default 10m
	// StatementTimeout bounds every statement of a run, in the analytics database and in the
	// source (ETL_STATEMENT_TIMEOUT); default DefaultStatementTimeout. A statement past it fails
	// the run, which is recorded with the reason and releases the tenant's lock.
	StatementTimeout time.Duration
	SourceTimeout    time.Duration // the source's statement_timeout when it must differ (tests); default StatementTimeout
	Worker           string        // recorded on runs; default host:pid
	Logger           *slog.Logger  // warnings about the source (an inbox timezone PostgreSQL does not know); default slog.Default()
	// OnResult, when set, is told every tenant run's result, whoever started it (the scheduler,
	// "sincronizar agora", a webhook): serve's metrics.
	OnResult func(Result)

	// AfterRun, when set, is called after each successful run of a tenant (loaded or unchanged,
	// never a skipped one), outside the run's transaction: `geniai serve` fires the tenant's
	// alerts there, at the sync time the run just recorded. Its error is logged; the run stays a
	// success. The tenants a pass settles together go to AfterSettle instead, when it is set.
	AfterRun func(ctx context.Context, tenantID int64) error
	// AfterSettle, when set, is called once per pass with the tenants the pass settled together
	// (settle.go), in place of AfterRun for each of them: `geniai serve` judges in one statement
	// which of them have alerts to fire. Its error is logged.
	AfterSettle func(ctx context.Context, tenantIDs []int64) error

	// hook, when set (tests), is called at each stage; an error aborts the run there.
	hook func(ctx context.Context, stage string) error
	// sourceTracer, when set (tests), traces the statements sent to the source.
	sourceTracer pgx.QueryTracer
	// settleSize, when set (tests), replaces settleBatch.
	settleSize int
}

// Result is what one tenant's run did.
type Result struct {
	TenantID  int64
	Slug      string
	RunID     int64 // 0 when skipped
	Skipped   bool  // another runner holds the tenant's lock
	Unchanged bool  // the source fingerprint matched: nothing was read or written but the run row
	Extracted int
	Inserted  int
	Updated   int
	Deleted   int
	Messages  int
	Duration  time.Duration
	Phases    Phases // where the time went (work transaction only)
	Err       error
}

// Phases splits a run's work transaction: wall time reading the source, writing staging (COPY)
// and merging (etl.merge_chunk per chunk, then etl.merge_run). Source reads overlap COPY and
// merge, so the phases can sum to more than the run.
type Phases struct {
	IDs, Extract, Copy, Merge time.Duration
}

// requiredColumns are the source columns the ETL reads (docs/chatwoot.md); checked before a run.
var requiredColumns = map[string][]string{
	"conversations":         {"id", "account_id", "inbox_id", "display_id", "status", "priority", "contact_id", "assignee_id", "team_id", "created_at", "updated_at", "last_activity_at"},
	"inboxes":               {"id", "channel_type", "timezone", "working_hours_enabled"},
	"working_hours":         {"id", "inbox_id", "day_of_week", "closed_all_day", "open_all_day", "open_hour", "open_minutes", "close_hour", "close_minutes"},
	"contacts":              {"id", "account_id", "name", "phone_number"},
	"messages":              {"id", "conversation_id", "inbox_id", "message_type", "private", "sender_type", "content", "content_attributes", "created_at"},
	"taggings":              {"tag_id", "taggable_type", "taggable_id", "context"},
	"tags":                  {"id", "name"},
	"csat_survey_responses": {"id", "account_id", "conversation_id", "rating", "created_at"},
	"reporting_events":      {"name", "inbox_id", "conversation_id", "event_end_time"},
}

func (r *Runner) chunkSize() int {
	if r.ChunkSize > 0 {
		return r.ChunkSize
	}
	return DefaultChunkSize
}

func (r *Runner) overlap() time.Duration {
	if r.Overlap > 0 {
		return r.Overlap
	}
	return DefaultOverlap
}

func (r *Runner) statementTimeout() time.Duration {
	if r.StatementTimeout > 0 {
		return r.StatementTimeout
	}
	return DefaultStatementTimeout
}

// principal is the loader's principal for a tenant, with the run's statement timeout.
func (r *Runner) principal(tenantID int64) pg.Principal {
	p := pg.ETL(tenantID)
	p.StatementTimeout = r.statementTimeout()
	return p
}

// timedOut names a run that failed on our database's statement timeout (the source's has its
// own message, sourceError); other errors pass unchanged.
func (r *Runner) timedOut(err error) error {
	var pe *pgconn.PgError
	var src fromSource
	if errors.As(err, &pe) && pe.Code == "57014" && !errors.As(err, &src) {
		return apperr.Wrap(err, apperr.Unavailable, "err.etl.statement_timeout", r.statementTimeout())
	}
	return err
}

func (r *Runner) worker() string {
	if r.Worker != "" {
		return r.Worker
	}
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

func (r *Runner) callHook(ctx context.Context, stage string) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(ctx, stage)
}

// source is an open, checked, read-only connection to Chatwoot.
type source struct {
	conn *pgx.Conn
	q    *cwsqlc.Queries
}

// openSource connects read-only with a statement timeout and checks the columns the ETL reads.
func (r *Runner) openSource(ctx context.Context) (*source, error) {
	if strings.TrimSpace(r.SourceURL) == "" {
		return nil, apperr.New(apperr.Invalid, "err.etl.source_url_missing")
	}
	timeout := r.SourceTimeout
	if timeout <= 0 {
		timeout = r.statementTimeout()
	}
	cfg, err := SourceConnConfig(r.SourceURL, timeout)
	if err != nil {
		return nil, err
	}
	if r.sourceTracer != nil {
		cfg.Tracer = r.sourceTracer
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable,
			"err.etl.source_unreachable", shortErr(err))
	}
	s := &source{conn: conn, q: cwsqlc.New(conn)}
	if err := s.checkColumns(ctx); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// SourceConnConfig is how the ETL connects to Chatwoot (url: CHATWOOT_DATABASE_URL): read-only,
// with the statement timeout and the session settings its extract queries are planned with. The
// bench reads the source through it too, so its "extraction alone" is the ETL's own extraction.
func SourceConnConfig(url string, timeout time.Duration) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "err.etl.source_url_invalid", err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	cfg.RuntimeParams["application_name"] = "geniai-etl"
	// The extract queries are planned per chunk with their real id arrays (a generic plan
	// guesses 10 rows for = ANY ($1)), hash and sort in memory, and skip JIT, whose compile
	// time costs more than it saves on chunk-sized queries.
	cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	cfg.RuntimeParams["work_mem"] = "64MB"
	cfg.RuntimeParams["jit"] = "off"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, nil
}

func (s *source) close(ctx context.Context) { _ = s.conn.Close(context.WithoutCancel(ctx)) }

func (s *source) checkColumns(ctx context.Context) error {
	tables := make([]string, 0, len(requiredColumns))
	for t := range requiredColumns {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	rows, err := s.q.ExtractSourceColumns(ctx, tables)
	if err != nil {
		return sourceError(err)
	}
	readable := map[string]bool{} // every column the source has: may the connection read it?
	for _, row := range rows {
		readable[row.TableName+"."+row.ColumnName] = row.Readable
	}
	var missing, denied []string
	for _, t := range tables {
		for _, c := range requiredColumns[t] {
			ok, exists := readable[t+"."+c]
			switch {
			case !exists:
				missing = append(missing, t+"."+c)
			case !ok:
				denied = append(denied, t+"."+c)
			}
		}
	}
	if len(missing) > 0 {
		return apperr.New(apperr.Invalid,
			"err.etl.source_column_missing", strings.Join(missing, ", "))
	}
	if len(denied) > 0 {
		return apperr.New(apperr.Invalid,
			"err.etl.source_column_denied", strings.Join(denied, ", "))
	}
	return nil
}

// fromSource marks an error of the Chatwoot connection (for timedOut).
type fromSource struct{ error }

func (e fromSource) Unwrap() error { return e.error }

// sourceError names the usual source failures; others pass through.
func sourceError(err error) error {
	if err == nil {
		return nil
	}
	err = fromSource{err}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57014":
			return apperr.Wrap(err, apperr.Unavailable,
				"err.etl.source_timeout")
		case "42703", "42P01":
			return apperr.Wrap(err, apperr.Invalid,
				"err.etl.source_schema", pe.Message)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(err, apperr.Unavailable, "err.etl.interrupted")
	}
	return apperr.Wrap(err, apperr.Unavailable, "err.etl.source_read", shortErr(err))
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// failureMessage is what the run row records: the person-facing message plus the cause, in
// pt-BR and English ("… / …"), since the row is read later by people of either language.
func failureMessage(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		key, args := ae.Key, ae.Args
		if ae.Code == apperr.Internal && ae.Err != nil {
			key, args = "err.etl.internal", []any{shortErr(ae.Err)}
		}
		return locale.Translate(locale.PT, key, args...) + " / " + locale.Translate(locale.EN, key, args...)
	}
	return shortErr(err)
}

// RunTenant runs the ETL once for one tenant. A run skipped because another runner holds the
// tenant returns Skipped and no error. The returned error is also recorded on the run row.
func (r *Runner) RunTenant(ctx context.Context, tenantID int64, full bool) (Result, error) {
	res := r.runTenant(ctx, nil, nil, nil, tenantID, full)
	if res.wrote() {
		r.refreshStatistics(ctx)
	}
	return res, res.Err
}

// wrote reports whether the run changed rows.
func (res Result) wrote() bool {
	return res.Err == nil && res.Inserted+res.Updated+res.Deleted > 0
}

// refreshStatistics lets the planner see what the runs just wrote (etl.refresh_statistics: the
// tables grown by a fifth since their last ANALYZE). Without it, the run right after a tenant's
// first load plans its staged ids against a tenant the statistics say is empty, and re-reads the
// tenant's conversations once per staged id until autovacuum comes by. A failure is logged: the
// data is already committed, and autovacuum will catch up.
func (r *Runner) refreshStatistics(ctx context.Context) {
	var analyzed []string
	err := r.DB.InTx(ctx, r.principal(0), func(tx pg.Tx) error {
		var err error
		analyzed, err = tx.EtlRefreshStatistics(ctx)
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		r.log().Warn("etl: refreshing the planner's statistics", "err", err)
	case len(analyzed) > 0:
		r.log().Info("etl: planner statistics refreshed", "tables", analyzed)
	}
}

// runTenant runs one tenant with src (nil: open one); srcErr, when set, is why the shared source
// could not be opened, recorded as this tenant's failed run; fps, when set, are the source's
// fingerprints read for the whole pass.
func (r *Runner) runTenant(ctx context.Context, src *source, srcErr error, fps *fingerprints, tenantID int64, full bool) (res Result) {
	start := time.Now()
	res.TenantID = tenantID
	defer func() {
		res.Duration = time.Since(start)
		if r.OnResult != nil {
			r.OnResult(res)
		}
	}()
	p := r.principal(tenantID)
	if src == nil && srcErr == nil {
		s, err := r.openSource(ctx)
		if err == nil {
			defer s.close(ctx)
		}
		src, srcErr = s, err
	}
	res.Err = r.DB.WithConn(ctx, func(c *pg.Conn) error {
		// One transaction takes the tenant's lock, closes runs left by dead processes, records this
		// run and asks the source for its fingerprint. When nothing changed it also completes the
		// run and releases the lock: a quiet tenant costs one transaction and one source query.
		// The lock is session-level: it outlives the transaction (even a rollback).
		locked, released := false, false
		var pre precheck
		workErr := srcErr
		if err := c.InTx(ctx, p, func(tx pg.Tx) error {
			var err error
			locked, err = tx.EtlLockTry(ctx, dbsqlc.EtlLockTryParams{Class: lockClass, TenantID: int32(tenantID)})
			if err != nil || !locked {
				return err
			}
			if _, err := tx.EtlRunsMarkStale(ctx, tenantID); err != nil {
				return err
			}
			row, err := tx.EtlRunStart(ctx, dbsqlc.EtlRunStartParams{TenantID: tenantID, FullLoad: full, Worker: r.worker()})
			if err != nil {
				return err
			}
			res.RunID = row.ID
			if workErr != nil {
				return nil // recorded as failed below
			}
			t0 := time.Now()
			// A source failure is the run's failure, recorded below; only our database's errors
			// abort this transaction.
			pre, workErr, err = r.precheck(ctx, tx, src, fps, tenantID, full)
			res.Phases.IDs = time.Since(t0)
			if err != nil || workErr != nil || !pre.unchanged {
				return err
			}
			res.Unchanged = true
			// A quiet stretch is one row: the check is folded into the previous one when that was
			// unchanged too, and the run's id becomes that row's.
			kept, err := tx.EtlRunUnchanged(ctx, dbsqlc.EtlRunUnchangedParams{RunID: res.RunID, SourceNow: pre.fp.SourceNow.Time})
			if err != nil {
				return err
			}
			if kept != 0 {
				res.RunID = kept
			}
			// Released here, so a quiet tenant needs no third transaction; if the release fails, the
			// caller's unlock retries it and drops the connection rather than pool a held lock.
			released, err = tx.EtlLockRelease(ctx, dbsqlc.EtlLockReleaseParams{Class: lockClass, TenantID: int32(tenantID)})
			released = released && err == nil
			return err
		}); err != nil {
			if locked {
				// The run row rolled back with the transaction: record the failure in one of its own
				// (the source's failure, when there was one, is the reason a commit then failed).
				cause := r.timedOut(err)
				if workErr != nil {
					cause = workErr
				}
				if ferr := r.recordFailure(context.WithoutCancel(ctx), c, tenantID, full, &res, cause); ferr != nil {
					err = errors.Join(err, ferr)
				}
				if !released {
					r.unlock(ctx, c, tenantID)
				}
			}
			return err
		}
		if !locked {
			res.Skipped = true
			return nil
		}
		if res.Unchanged {
			return nil
		}
		defer r.unlock(ctx, c, tenantID)
		if workErr == nil {
			workErr = r.timedOut(r.work(ctx, c, src, tenantID, full, pre, &res))
		}
		if workErr != nil {
			uctx := context.WithoutCancel(ctx)
			if ferr := c.InTx(uctx, p, func(tx pg.Tx) error {
				return tx.EtlRunFail(uctx, dbsqlc.EtlRunFailParams{Error: failureMessage(workErr), TenantID: tenantID, ID: res.RunID})
			}); ferr != nil {
				return errors.Join(workErr, ferr)
			}
		}
		return workErr
	})
	r.afterRun(ctx, res)
	return res
}

// afterRun calls AfterRun after a successful run (loaded or unchanged) and logs its error.
func (r *Runner) afterRun(ctx context.Context, res Result) {
	if res.Err == nil && !res.Skipped && r.AfterRun != nil {
		if err := r.AfterRun(ctx, res.TenantID); err != nil && ctx.Err() == nil {
			r.log().Warn("etl: after the sync", "tenant", res.TenantID, "run", res.RunID, "err", err)
		}
	}
}

// recordFailure records a failed run of the tenant whose own run row was rolled back.
func (r *Runner) recordFailure(ctx context.Context, c *pg.Conn, tenantID int64, full bool, res *Result, cause error) error {
	return c.InTx(ctx, r.principal(tenantID), func(tx pg.Tx) error {
		row, err := tx.EtlRunStart(ctx, dbsqlc.EtlRunStartParams{TenantID: tenantID, FullLoad: full, Worker: r.worker()})
		if err != nil {
			return err
		}
		res.RunID = row.ID
		return tx.EtlRunFail(ctx, dbsqlc.EtlRunFailParams{Error: failureMessage(cause), TenantID: tenantID, ID: row.ID})
	})
}

// precheck is what a run learns before reading any conversation: the tenant's inboxes, the
// source's clock and fingerprint of their id set, how the source describes those inboxes
// (channel, timezone, opening hours), and whether all of that equals what is stored.
type precheck struct {
	inboxes   []int32
	fp        cwsqlc.ExtractFingerprintRow
	described []cwsqlc.ExtractInboxesRow // the tenant's inboxes the source has, by id
	unchanged bool
}

// precheck fills a precheck in tx; srcErr is a source failure (the run's), err one of tx. With
// fps (a pass over every tenant) the fingerprint is summed from them instead of asked for.
func (r *Runner) precheck(ctx context.Context, tx pg.Tx, src *source, fps *fingerprints, tenantID int64, full bool) (pre precheck, srcErr, err error) {
	if pre.inboxes, err = tx.EtlTenantInboxIDs(ctx, tenantID); err != nil {
		return pre, nil, err
	}
	if fps != nil {
		pre.fp = fps.of(pre.inboxes)
		pre.described = fps.described(pre.inboxes)
	} else {
		if pre.fp, srcErr = src.q.ExtractFingerprint(ctx, pre.inboxes); srcErr != nil {
			return pre, sourceError(srcErr), nil
		}
		if pre.described, srcErr = src.q.ExtractInboxes(ctx, cwsqlc.ExtractInboxesParams{InboxIds: pre.inboxes}); srcErr != nil {
			return pre, sourceError(srcErr), nil
		}
	}
	if !full {
		ids, sigs := make([]int32, len(pre.described)), make([]string, len(pre.described))
		for i, d := range pre.described {
			ids[i], sigs[i] = d.InboxID, d.Signature
		}
		pre.unchanged, err = tx.EtlUnchanged(ctx, dbsqlc.EtlUnchangedParams{
			Conversations: pre.fp.Conversations, Hash: hashMod(0, pre.fp.Hash),
			MaxUpdatedAt: ts(pre.fp.MaxUpdatedAt), OverlapSeconds: r.overlap().Seconds(),
			InboxIds: ids, InboxSignatures: sigs,
		})
	}
	return pre, nil, err
}

// fingerprintPrime is the modulus of the fingerprint's hash sums (queries/chatwoot/extract.sql).
const fingerprintPrime = 9223372036854775783

// hashMod adds hash sums modulo fingerprintPrime; the result is in [0, fingerprintPrime).
func hashMod(a, b int64) int64 {
	norm := func(x int64) uint64 {
		x %= fingerprintPrime
		if x < 0 {
			x += fingerprintPrime
		}
		return uint64(x)
	}
	return int64((norm(a) + norm(b)) % fingerprintPrime) // both < 2^63: the sum fits in 64 bits
}

// fingerprints are the source's per-inbox fingerprints, read once for a pass over every tenant.
type fingerprints struct {
	now     pgtype.Timestamptz
	byInbox map[int32]cwsqlc.ExtractFingerprintsRow
	inboxes map[int32]cwsqlc.ExtractInboxesRow // every inbox's description
}

// readFingerprints reads every inbox's fingerprint in one pass over the source's conversations,
// and every inbox's description.
func readFingerprints(ctx context.Context, src *source) (*fingerprints, error) {
	rows, err := src.q.ExtractFingerprints(ctx)
	if err != nil {
		return nil, sourceError(err)
	}
	described, err := src.q.ExtractInboxes(ctx, cwsqlc.ExtractInboxesParams{AllInboxes: true})
	if err != nil {
		return nil, sourceError(err)
	}
	fps := &fingerprints{byInbox: make(map[int32]cwsqlc.ExtractFingerprintsRow, len(rows)),
		inboxes: make(map[int32]cwsqlc.ExtractInboxesRow, len(described))}
	for _, r := range rows {
		fps.now = r.SourceNow
		fps.byInbox[r.InboxID] = r
	}
	for _, d := range described {
		fps.inboxes[d.InboxID] = d
	}
	if !fps.now.Valid { // no conversation at all: the clock still matters
		if err := src.conn.QueryRow(ctx, "SELECT now()").Scan(&fps.now); err != nil {
			return nil, sourceError(err)
		}
	}
	return fps, nil
}

// of is the fingerprint of a tenant's inboxes, as ExtractFingerprint would compute it.
func (fps *fingerprints) of(inboxes []int32) cwsqlc.ExtractFingerprintRow {
	out := cwsqlc.ExtractFingerprintRow{SourceNow: fps.now}
	for _, id := range inboxes {
		x, ok := fps.byInbox[id]
		if !ok {
			continue
		}
		out.Conversations += x.Conversations
		out.Hash = hashMod(out.Hash, x.Hash)
		if x.MaxUpdatedAt.Valid && (!out.MaxUpdatedAt.Valid || x.MaxUpdatedAt.Time.After(out.MaxUpdatedAt.Time)) {
			out.MaxUpdatedAt = x.MaxUpdatedAt
		}
	}
	return out
}

// described is how the source describes the given inboxes (those it has), ordered by id, as
// ExtractInboxes would return them.
func (fps *fingerprints) described(inboxes []int32) []cwsqlc.ExtractInboxesRow {
	out := []cwsqlc.ExtractInboxesRow{}
	for _, id := range inboxes {
		if d, ok := fps.inboxes[id]; ok {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b cwsqlc.ExtractInboxesRow) int { return cmp.Compare(a.InboxID, b.InboxID) })
	return out
}

// unlock releases the tenant's lock; a lock that cannot be released must not stay on a pooled
// connection, so the connection is dropped.
func (r *Runner) unlock(ctx context.Context, c *pg.Conn, tenantID int64) {
	uctx := context.WithoutCancel(ctx)
	err := c.InTx(uctx, r.principal(tenantID), func(tx pg.Tx) error {
		_, err := tx.EtlLockRelease(uctx, dbsqlc.EtlLockReleaseParams{Class: lockClass, TenantID: int32(tenantID)})
		return err
	})
	if err != nil {
		c.Discard(uctx)
	}
}

// chunk is one extracted batch of conversations and their public messages.
type chunk struct {
	convs []cwsqlc.ExtractConversationsRow
	group map[int32]*grouped // per conversation: transcript and search words
	wait  time.Duration      // time spent reading it from the source
	err   error
}

// extract reads the chunks of todo from the source in order, one ahead of the consumer: the
// source computes chunk n+1 while chunk n is copied into staging and merged (2 cores: one
// backend reads Chatwoot while the other writes analytics). At most three chunks are in
// memory (being read, queued, being copied), whatever the number of conversations.
func (r *Runner) extract(ctx context.Context, src *source, todo []int32, pre precheck) <-chan chunk {
	out := make(chan chunk, 1)
	go func() {
		defer close(out)
		for i := 0; i < len(todo); i += r.chunkSize() {
			ids := todo[i:min(i+r.chunkSize(), len(todo))]
			t0 := time.Now()
			var c chunk
			c.convs, c.err = src.q.ExtractConversations(ctx, cwsqlc.ExtractConversationsParams{Ids: ids, InboxIds: pre.inboxes})
			if c.err != nil {
				c.err = sourceError(c.err)
			} else {
				c.group = groupChunk(c.convs)
			}
			c.wait = time.Since(t0)
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	return out
}

// grouped is a conversation's public messages as the merge takes them: its transcript as
// parallel arrays, oldest first (created_at, then message id), and its search words.
type grouped struct {
	ids       []int32
	createdAt []time.Time
	senders   []string
	types     []int16
	contents  []string
	deleted   []bool
	search    string // search words (searchWords), separated by single spaces
}

// groupChunk orders every conversation's transcript of a chunk oldest first (created_at, then
// message id: the source sends it in no particular order) and computes its search words
// (contact name and messages).
func groupChunk(convs []cwsqlc.ExtractConversationsRow) map[int32]*grouped {
	out := make(map[int32]*grouped, len(convs))
	var ws wordSets
	for _, c := range convs {
		order := make([]int, len(c.MessageIds))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return cmp.Or(c.MessageCreatedAt[a].Time.Compare(c.MessageCreatedAt[b].Time), cmp.Compare(c.MessageIds[a], c.MessageIds[b]))
		})
		g := &grouped{ids: make([]int32, len(order)), createdAt: make([]time.Time, len(order)), senders: make([]string, len(order)),
			types: make([]int16, len(order)), contents: make([]string, len(order)), deleted: make([]bool, len(order))}
		for i, k := range order {
			g.ids[i], g.createdAt[i], g.senders[i] = c.MessageIds[k], c.MessageCreatedAt[k].Time, c.MessageSenders[k]
			g.types[i], g.contents[i], g.deleted[i] = c.MessageTypes[k], c.MessageContents[k], c.MessageDeleted[k]
		}
		// One text, not an array: COPY decodes an array element by element (words hold no space).
		g.search = strings.Join(ws.words(c.ContactName, g.contents, g.types), " ")
		out[c.ConversationID] = g
	}
	return out
}

// work is the one transaction that stages and merges the run; it fills res with the run's counts.
func (r *Runner) work(ctx context.Context, c *pg.Conn, src *source, tenantID int64, full bool, pre precheck, res *Result) error {
	runID, ph := res.RunID, &res.Phases
	inboxes, fp := pre.inboxes, pre.fp
	return c.InTx(ctx, r.principal(tenantID), func(tx pg.Tx) error {
		t0 := time.Now()
		ids, err := src.q.ExtractConversationIDs(ctx, inboxes)
		if err != nil {
			return sourceError(err)
		}
		if _, err := tx.EtlStageIDsCopy(ctx, stageIDs(tenantID, runID, ids)); err != nil {
			return err
		}
		ph.IDs += time.Since(t0)
		if err := r.syncInboxes(ctx, tx, runID, tenantID, pre.described); err != nil {
			return err
		}
		if err := r.callHook(ctx, "ids"); err != nil {
			return err
		}
		todo, err := tx.EtlIDsToExtract(ctx, dbsqlc.EtlIDsToExtractParams{
			TenantID: tenantID, RunID: runID, FullLoad: full, OverlapSeconds: r.overlap().Seconds(),
		})
		if err != nil {
			return err
		}
		if len(todo) > 0 {
			// The reader stops (and releases the source connection) before work returns.
			xctx, stop := context.WithCancel(ctx)
			chunks := r.extract(xctx, src, todo, pre)
			defer func() {
				stop()
				for range chunks {
				}
			}()
			for n := int32(0); ; n++ {
				ch, ok := <-chunks
				if !ok {
					break
				}
				ph.Extract += ch.wait
				if ch.err != nil {
					return ch.err
				}
				if err := r.callHook(ctx, "extract"); err != nil {
					return err
				}
				t1 := time.Now()
				if _, err := tx.EtlStageConversationsCopy(ctx, stageConversations(tenantID, runID, n, ch.convs, ch.group)); err != nil {
					return err
				}
				ph.Copy += time.Since(t1)
				if err := r.callHook(ctx, "copy"); err != nil {
					return err
				}
				t1 = time.Now()
				if err := tx.EtlMergeChunk(ctx, dbsqlc.EtlMergeChunkParams{RunID: runID, Chunk: n}); err != nil {
					return err
				}
				ph.Merge += time.Since(t1)
			}
			if err := ctx.Err(); err != nil {
				return sourceError(err)
			}
		}
		if err := r.callHook(ctx, "merge"); err != nil {
			return err
		}
		t2 := time.Now()
		defer func() { ph.Merge += time.Since(t2) }()
		if err := tx.EtlMergeRun(ctx, runID); err != nil {
			return err
		}
		if err := tx.EtlStoreFingerprint(ctx, dbsqlc.EtlStoreFingerprintParams{SourceNow: fp.SourceNow.Time, TenantID: tenantID}); err != nil {
			return err
		}
		run, err := tx.EtlRunGet(ctx, dbsqlc.EtlRunGetParams{TenantID: tenantID, ID: runID})
		res.Extracted, res.Inserted, res.Updated = int(run.Extracted), int(run.Inserted), int(run.Updated)
		res.Deleted, res.Messages = int(run.Deleted), int(run.Messages)
		return err
	})
}

// syncInboxes stores the inboxes' descriptions (etl.sync_inboxes re-applies changed opening
// hours to the stored history) before any conversation is merged, and logs the inboxes whose
// timezone PostgreSQL does not know: their times are read in the tenant's timezone.
func (r *Runner) syncInboxes(ctx context.Context, tx pg.Tx, runID, tenantID int64, described []cwsqlc.ExtractInboxesRow) error {
	p := dbsqlc.EtlSyncInboxesParams{RunID: runID}
	for _, d := range described {
		p.Ids = append(p.Ids, d.InboxID)
		p.ChannelTypes = append(p.ChannelTypes, d.ChannelType)
		p.Timezones = append(p.Timezones, d.Timezone)
		p.Enabled = append(p.Enabled, d.WorkingHoursEnabled)
		p.Signatures = append(p.Signatures, d.Signature)
		for i := range d.WhDays {
			p.WhInboxes = append(p.WhInboxes, d.InboxID)
			p.WhDays = append(p.WhDays, d.WhDays[i])
			p.WhClosed = append(p.WhClosed, d.WhClosed[i])
			p.WhOpenAll = append(p.WhOpenAll, d.WhOpenAll[i])
			p.WhOpenHours = append(p.WhOpenHours, d.WhOpenHours[i])
			p.WhOpenMinutes = append(p.WhOpenMinutes, d.WhOpenMinutes[i])
			p.WhCloseHours = append(p.WhCloseHours, d.WhCloseHours[i])
			p.WhCloseMinutes = append(p.WhCloseMinutes, d.WhCloseMinutes[i])
		}
	}
	unknown, err := tx.EtlSyncInboxes(ctx, p)
	if err != nil {
		return err
	}
	for _, u := range unknown {
		r.log().Warn("etl: inbox timezone unknown, using the tenant's", "tenant", tenantID, "inbox", u.InboxID, "timezone", u.SourceTimezone)
	}
	return nil
}

func (r *Runner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func stageIDs(tenantID, runID int64, ids []cwsqlc.ExtractConversationIDsRow) []dbsqlc.EtlStageIDsCopyParams {
	out := make([]dbsqlc.EtlStageIDsCopyParams, len(ids))
	for i, id := range ids {
		out[i] = dbsqlc.EtlStageIDsCopyParams{TenantID: tenantID, RunID: runID, ConversationID: id.ConversationID, UpdatedAt: id.UpdatedAt.Time}
	}
	return out
}

func stageConversations(tenantID, runID int64, chunk int32, rows []cwsqlc.ExtractConversationsRow, group map[int32]*grouped) []dbsqlc.EtlStageConversationsCopyParams {
	out := make([]dbsqlc.EtlStageConversationsCopyParams, len(rows))
	for i, x := range rows {
		g := group[x.ConversationID]
		out[i] = dbsqlc.EtlStageConversationsCopyParams{
			TenantID:           tenantID,
			RunID:              runID,
			Chunk:              chunk,
			ConversationID:     x.ConversationID,
			AccountID:          x.AccountID,
			InboxID:            x.InboxID,
			DisplayID:          x.DisplayID,
			ChannelType:        x.ChannelType,
			Status:             int16(x.Status),
			Priority:           i16(x.Priority),
			ContactID:          x.ContactID,
			ContactName:        x.ContactName,
			ContactPhone:       x.ContactPhone,
			AssigneeID:         x.AssigneeID,
			TeamID:             x.TeamID,
			Labels:             x.Labels,
			CreatedAt:          x.CreatedAt.Time,
			UpdatedAt:          x.UpdatedAt.Time,
			LastActivityAt:     x.LastActivityAt.Time,
			ContactMessages:    x.ContactMessages,
			BotMessages:        x.BotMessages,
			HumanMessages:      x.HumanMessages,
			PrivateNotes:       x.PrivateNotes,
			FirstContactAt:     ts(x.FirstContactAt),
			FirstReplyAt:       ts(x.FirstReplyAt),
			FirstHumanReplyAt:  ts(x.FirstHumanReplyAt),
			LastMessageAt:      ts(x.LastMessageAt),
			Handoff:            x.Handoff,
			ResolvedEventAt:    ts(x.ResolvedEventAt),
			CsatAt:             ts(x.CsatAt),
			SearchText:         g.search,
			HandoffRequestedAt: ts(x.HandoffRequestedAt),
			LastContactAt:      ts(x.LastContactAt),
			LastHumanAt:        ts(x.LastHumanAt),
			WaitingContactAt:   ts(x.WaitingContactAt),
			HumanWaitFrom:      ts(x.HumanWaitFrom),
			HumanWaitReplyAt:   ts(x.HumanWaitReplyAt),
			MessageIds:         g.ids,
			MessageCreatedAt:   g.createdAt,
			MessageSenders:     g.senders,
			MessageTypes:       g.types,
			MessageContents:    g.contents,
			MessageDeleted:     g.deleted,
		}
		// The source query sends "no CSAT answer" as 0 (sqlc loses the nullability of its LEFT
		// JOIN); staging and analytics store NULL.
		if x.CsatRating > 0 {
			r := x.CsatRating
			out[i].CsatRating = &r
		}
	}
	return out
}

func ts(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

func i16(v *int32) *int16 {
	if v == nil {
		return nil
	}
	x := int16(*v)
	return &x
}

// RunAll runs every client tenant once, Workers tenants at a time; each worker keeps one source
// connection for the tenants it runs. Per-tenant failures are in the results (in tenant order);
// the error is only for failures before any tenant ran.
func (r *Runner) RunAll(ctx context.Context, full bool) ([]Result, error) {
	return r.runAll(ctx, full, nil)
}

func (r *Runner) runAll(ctx context.Context, full bool, skip func(tenantID int64) bool) ([]Result, error) {
	var tenants []dbsqlc.EtlTenantListRow
	if err := r.DB.InReadTx(ctx, r.principal(0), func(tx pg.Tx) error {
		var err error
		tenants, err = tx.EtlTenantList(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	todo := tenants[:0:0]
	for _, t := range tenants {
		if skip == nil || !skip(t.ID) {
			todo = append(todo, t)
		}
	}
	// With several tenants, one pass over the source's conversations reads every fingerprint
	// (each tenant's own query revisits pages every other tenant's rows share). If it fails, each
	// tenant asks for its own and records its own failure.
	var fps *fingerprints
	if len(todo) > 1 {
		if s, err := r.openSource(ctx); err == nil {
			fps, _ = readFingerprints(ctx, s)
			s.close(ctx)
		}
	}
	// The tenants those fingerprints show unchanged are settled in a few statements per batch
	// (settle.go); only the others get a run of their own below.
	var settled map[int64]Result
	if fps != nil && !full {
		settled = r.settle(ctx, todo, fps)
	}
	if len(settled) > 0 && r.AfterSettle != nil {
		ids := slices.Sorted(maps.Keys(settled))
		if err := r.AfterSettle(ctx, ids); err != nil && ctx.Err() == nil {
			r.log().Warn("etl: after settling unchanged tenants", "tenants", len(ids), "err", err)
		}
	}
	results := make([]Result, len(todo))
	ran := make([]bool, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(r.Workers, 1), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var src *source
			var srcErr error
			defer func() {
				if src != nil {
					src.close(ctx)
				}
			}()
			for i := range next {
				if res, ok := settled[todo[i].ID]; ok {
					res.Slug = todo[i].Slug
					if r.OnResult != nil {
						r.OnResult(res)
					}
					if r.AfterSettle == nil {
						r.afterRun(ctx, res)
					}
					results[i], ran[i] = res, true
					continue
				}
				if src == nil && srcErr == nil {
					src, srcErr = r.openSource(ctx)
				}
				// With srcErr the run is still recorded (failed), so the failure shows per tenant.
				res := r.runTenant(ctx, src, srcErr, fps, todo[i].ID, full)
				if src != nil && res.Err != nil && src.conn.IsClosed() {
					src = nil // reconnect for the next tenant
				}
				res.Slug = todo[i].Slug
				results[i], ran[i] = res, true
			}
		}()
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	out, wrote := results[:0], false
	for i, res := range results {
		if ran[i] {
			out = append(out, res)
			wrote = wrote || res.wrote()
		}
	}
	if wrote {
		r.refreshStatistics(ctx)
	}
	return out, nil
}
