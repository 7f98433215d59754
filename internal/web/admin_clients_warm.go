package web

import (
	"context"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
)

// The client comparison's cache (dashboard.CompareCache) holds each client's figures at its data
// version; a client that synced, and every client at its midnight, must be summed again from the
// rollups. Summing a thousand clients' 90 days takes about a second, so instead of letting the
// operator who opens /admin/clients wait for it, the server recomputes each minute the standard
// periods (7, 30 and 90 days) that staff of each role asked for within the last day: the page
// then reads figures computed at most a minute earlier for the changed clients and finds every
// other client in the cache. The recomputation runs as that role with no user (the cache key is
// the role, not the person), reads only, and writes no audit rows.

// comparisonInterest is one staff role's standard period of the comparison.
type comparisonInterest struct {
	tenantID int64 // the staff user's tenant (the platform), part of the cache key
	role     string
	days     int
}

// comparisonWarmer remembers which comparisons staff asked for, and when.
type comparisonWarmer struct {
	mu    sync.Mutex
	asked map[comparisonInterest]time.Time
}

// comparisonInterestTTL is how long a period stays warmed after staff last asked for it.
const comparisonInterestTTL = 24 * time.Hour

func (w *comparisonWarmer) note(p pg.Principal, days int, at time.Time) {
	if !pg.IsStaffRole(p.Role) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.asked == nil {
		w.asked = map[comparisonInterest]time.Time{}
	}
	w.asked[comparisonInterest{p.TenantID, p.Role, days}] = at
}

// due lists the interests asked for within the TTL before now, forgetting older ones.
func (w *comparisonWarmer) due(now time.Time) []comparisonInterest {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []comparisonInterest
	for k, at := range w.asked {
		if now.Sub(at) > comparisonInterestTTL {
			delete(w.asked, k)
			continue
		}
		out = append(out, k)
	}
	return out
}

// warmComparisons recomputes the asked-for comparisons every interval until ctx ends.
func (s *Server) warmComparisons(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.warmComparisonsOnce(ctx)
		}
	}
}

// warmComparisonsOnce brings every asked-for comparison up to date in the cache.
func (s *Server) warmComparisonsOnce(ctx context.Context) {
	for _, k := range s.compareWarm.due(s.now()) {
		p := pg.User(k.tenantID, 0, k.role, "", "")
		p.Actor = "comparison-warmer"
		per := dashboard.ComparePeriod{Now: s.now(), Days: k.days, StaleAfter: s.staleAfter()}
		if _, err := s.dash.Compare(ctx, p, per); err != nil && ctx.Err() == nil {
			s.log.Warn("client comparison: recomputing the cache", "role", k.role, "days", k.days, "err", err)
		}
	}
}
