package etl

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Scheduler runs every tenant each Interval inside serve. A tenant that fails waits
// Interval·2^(failures−1), capped at MaxBackoff, before its next try; a panic or error never
// escapes Run, so the web server keeps serving whatever the source does.
type Scheduler struct {
	Runner     *Runner
	Interval   time.Duration // 0 or less: Run returns at once (disabled)
	MaxBackoff time.Duration // default 30m
	Logger     *slog.Logger  // default slog.Default()

	mu    sync.Mutex
	state map[int64]*backoff
}

type backoff struct {
	failures int
	next     time.Time
}

// Run blocks until ctx is done, running a pass at start and then every Interval.
func (s *Scheduler) Run(ctx context.Context) {
	if s.Interval <= 0 || s.Runner == nil {
		return
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass runs one round over the tenants not in backoff.
func (s *Scheduler) Pass(ctx context.Context) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("etl scheduler panic", "panic", fmt.Sprint(p))
		}
	}()
	now := time.Now()
	s.mu.Lock()
	if s.state == nil {
		s.state = map[int64]*backoff{}
	}
	s.mu.Unlock()
	results, err := s.Runner.runAll(ctx, false, func(id int64) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.state[id]
		return b != nil && now.Before(b.next)
	})
	if err != nil {
		log.Error("etl pass failed", "err", err)
		return
	}
	for _, r := range results {
		s.record(r)
		switch {
		case r.Skipped:
			log.Debug("etl tenant skipped: another runner holds it", "tenant", r.Slug)
		case r.Err != nil:
			log.Warn("etl tenant failed", "tenant", r.Slug, "run", r.RunID, "err", failureMessage(r.Err))
		case r.Unchanged:
			log.Debug("etl tenant unchanged", "tenant", r.Slug, "run", r.RunID, "ms", r.Duration.Milliseconds())
		default:
			log.Info("etl tenant loaded", "tenant", r.Slug, "run", r.RunID, "extracted", r.Extracted,
				"inserted", r.Inserted, "updated", r.Updated, "deleted", r.Deleted, "ms", r.Duration.Milliseconds())
		}
	}
}

func (s *Scheduler) record(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Err == nil {
		delete(s.state, r.TenantID)
		return
	}
	b := s.state[r.TenantID]
	if b == nil {
		b = &backoff{}
		s.state[r.TenantID] = b
	}
	b.failures++
	max := s.MaxBackoff
	if max <= 0 {
		max = 30 * time.Minute
	}
	d := s.Interval
	for i := 1; i < b.failures && d < max; i++ {
		d *= 2
	}
	b.next = time.Now().Add(min(d, max))
}

// TenantStatus is one tenant's ETL health.
type TenantStatus struct {
	TenantID      int64
	Slug          string
	Cancelled     bool // the scheduler no longer syncs it
	LastSuccessAt *time.Time
	Lag           time.Duration // since the last success; 0 when never
	Watermark     *time.Time
	LastRunID     int64
	LastStatus    string // "" when never run
	LastError     string // the latest run's error, when it did not succeed
	Extracted     int
	Inserted      int
	Updated       int
	Deleted       int
	Messages      int
}

// Status reports every client tenant's ETL health, read as staff.
func (r *Runner) Status(ctx context.Context) ([]TenantStatus, error) {
	var rows []dbsqlc.EtlStatusListRow
	if err := r.DB.InReadTx(ctx, pg.System("etl"), func(tx pg.Tx) error {
		var err error
		rows, err = tx.EtlStatusList(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	out := make([]TenantStatus, len(rows))
	for i, x := range rows {
		st := TenantStatus{
			TenantID: x.TenantID, Slug: x.Slug, Cancelled: x.TenantStatus == "cancelled",
			LastSuccessAt: x.LastSuccessAt, Watermark: x.SourceUpdatedAt,
			LastRunID: x.RunID, LastStatus: x.RunStatus,
			Extracted: int(x.Extracted), Inserted: int(x.Inserted), Updated: int(x.Updated),
			Deleted: int(x.Deleted), Messages: int(x.Messages),
		}
		if x.LastSuccessAt != nil {
			st.Lag = time.Since(*x.LastSuccessAt)
		}
		if x.RunError != nil {
			st.LastError = *x.RunError
		}
		out[i] = st
	}
	return out, nil
}
