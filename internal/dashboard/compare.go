package dashboard

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// The staff comparison of clients: every tenant's KPIs for a period against the one before, with
// the dashboard's own definitions (kpis), from the tenant-level rollups only. Counts and rates are
// exact; the first human reply's median and p90 come from the rollups' histograms, the estimate
// the dashboard makes for a large period (the same code, so a median marked ≈ on both sides is the
// same number).
//
// A tenant's figures depend only on its period and its rollups, and the rollups change only with
// the tenant's version (its data version, which every sync that merged moves, and the change
// stamps of its record and settings). With a CompareCache, Compare reads the list of tenants with
// their periods and versions (one cheap query) and sums the rollups only of the tenants whose
// (period, version) it has not computed yet: after a sync, the tenants that changed; after a
// tenant's midnight, that tenant (ADR 029).

// ComparePeriod is the period of a comparison: the last Days days up to each tenant's own
// today (in its timezone, at Now), or From–To for every tenant when both are set.
type ComparePeriod struct {
	Now      time.Time
	Days     int
	From, To *time.Time
	// StaleAfter is how old a last successful sync may be before the tenant's health is "stale"
	// (the overview's rule); 0: a day.
	StaleAfter time.Duration
}

// ClientRow is one tenant of the comparison.
type ClientRow struct {
	TenantID                 int64
	Slug, Name, Status, Zone string
	// Health is the overview's sync health: "failed", "never", "stale" or "".
	Health           string
	From, To         time.Time // the period, in the tenant's days
	PrevFrom, PrevTo time.Time // the one compared with
	KPIs             KPIs      // FirstHumanReplyP50/P90 approximate
}

// Compare computes the comparison for every client tenant the principal sees (staff), from the
// service's CompareCache where it holds a tenant's figures at its current version.
func (s *Service) Compare(ctx context.Context, p pg.Principal, per ComparePeriod) ([]ClientRow, error) {
	if p.DBRole != pg.RoleStaff {
		// Only staff compare clients, and nothing else may run these statements: under a tenant's
		// row-level security their outer join of app.tenants with the distributed etl.watermarks
		// crashes a Citus 13.2 coordinator (every session on it ends).
		return nil, apperr.New(apperr.NotFound, "err.page.not_found")
	}
	var out []ClientRow
	c := s.CompareCache
	if !pg.IsStaffRole(p.Role) {
		c = nil // only staff see every tenant: nobody else's result is ever kept or served
	}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		out, err = compare(ctx, tx, per, c, fmt.Sprintf("%s/%s/%d", p.DBRole, p.Role, p.TenantID))
		return err
	})
	return out, err
}

// Compare is Service.Compare inside the caller's transaction, without a cache.
func Compare(ctx context.Context, tx pg.Tx, per ComparePeriod) ([]ClientRow, error) {
	return compare(ctx, tx, per, nil, "")
}

func compare(ctx context.Context, tx pg.Tx, per ComparePeriod, cache *CompareCache, asker string) ([]ClientRow, error) {
	days := int32(per.Days)
	if days < 1 {
		days = 30
	}
	stale := per.StaleAfter
	if stale <= 0 {
		stale = 24 * time.Hour
	}
	ts, err := tx.ClientComparisonTenants(ctx, dbsqlc.ClientComparisonTenantsParams{Now: per.Now, Days: days,
		FromDay: per.From, ToDay: per.To, StaleSeconds: stale.Seconds()})
	if err != nil {
		return nil, err
	}
	out := make([]ClientRow, len(ts))
	var missing dbsqlc.ClientComparisonParams
	at := map[int64]int{} // tenant → index in out, of those to compute
	for i, t := range ts {
		out[i] = ClientRow{TenantID: t.ID, Slug: t.Slug, Name: t.Name, Status: t.Status, Zone: t.Timezone, Health: t.Health,
			From: t.FromDay, To: t.ToDay, PrevFrom: t.PrevFromDay, PrevTo: t.PrevToDay}
		if k, ok := cache.get(compareKey{asker, t.ID, t.FromDay, t.ToDay}, t.Version); ok {
			out[i].KPIs = k
			continue
		}
		at[t.ID] = i
		missing.Ids = append(missing.Ids, t.ID)
		missing.FromDays = append(missing.FromDays, t.FromDay)
		missing.ToDays = append(missing.ToDays, t.ToDay)
		missing.PrevFromDays = append(missing.PrevFromDays, t.PrevFromDay)
	}
	if len(missing.Ids) == 0 {
		return out, nil
	}
	sums, err := tx.ClientComparison(ctx, missing)
	if err != nil {
		return nil, err
	}
	hs, err := tx.ClientComparisonHist(ctx, dbsqlc.ClientComparisonHistParams(missing))
	if err != nil {
		return nil, err
	}
	// Per tenant to compute, the current period's [0] and the previous one's [1].
	type pair struct {
		sum  [2]dbsqlc.DashboardSummaryRow
		hist [2]*histogram
	}
	acc := make(map[int64]*pair, len(missing.Ids))
	for _, id := range missing.Ids {
		acc[id] = &pair{}
	}
	side := func(current bool) int {
		if current {
			return 0
		}
		return 1
	}
	for _, r := range sums {
		a := acc[r.TenantID]
		if a == nil {
			continue
		}
		a.sum[side(r.Current)] = dbsqlc.DashboardSummaryRow{
			Conversations: r.Conversations, Leads: r.Leads, Visits: r.Visits, Conversions: r.Conversions,
			UnansweredLeads: r.UnansweredLeads, HumanReplied: r.HumanReplied, Resolved: r.Resolved,
			BotResolved: r.BotResolved, WithBot: r.WithBot, Handoffs: r.Handoffs,
			CsatResponses: r.CsatResponses, CsatSatisfied: r.CsatSatisfied,
		}
	}
	for _, r := range hs {
		if len(r.Buckets) != len(r.Counts) {
			return nil, errHistArrays
		}
		a := acc[r.TenantID]
		if a == nil {
			continue
		}
		h := a.hist[side(r.Current)]
		if h == nil {
			h = &histogram{}
			a.hist[side(r.Current)] = h
		}
		for i, b := range r.Buckets {
			if b >= 0 && b < histBuckets {
				h[b] += int64(r.Counts[i])
			}
		}
	}
	for id, a := range acc {
		for i := range a.sum {
			sum := &a.sum[i]
			sum.FirstReplyP50, sum.FirstReplyP90, sum.FirstReplyAvg = math.NaN(), math.NaN(), math.NaN()
			sum.ResolutionP50 = math.NaN()
			sum.FirstHumanReplyP50, sum.FirstHumanReplyP90 = a.hist[i].percentile(0.5), a.hist[i].percentile(0.9)
		}
		i := at[id]
		out[i].KPIs = kpis(a.sum[0], a.sum[1])
		t := ts[i]
		cache.put(compareKey{asker, t.ID, t.FromDay, t.ToDay}, t.Version, out[i].KPIs)
	}
	return out, nil
}

// CompareCache keeps each tenant's comparison figures per (asker, tenant, period) with the
// tenant's version they were computed at; an entry of another version is never served and is
// replaced by the next computation. At most Max entries are kept, least recently used evicted
// first, so memory stays bounded (an entry is about a kilobyte). The zero value is ready to use;
// a nil *CompareCache keeps nothing.
type CompareCache struct {
	Max int // entries kept; default 10,000 (1,000 tenants × a few periods)

	mu      sync.Mutex
	lru     *list.List // of *compareEntry, most recent first
	entries map[compareKey]*list.Element
	hits    uint64
	misses  uint64
}

type compareKey struct {
	asker    string
	tenant   int64
	from, to time.Time
}

type compareEntry struct {
	key     compareKey
	version string
	kpis    KPIs
}

// Stats reports the cache's size and counters.
func (c *CompareCache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	if c.lru != nil {
		n = c.lru.Len()
	}
	return CacheStats{Entries: n, Hits: c.hits, Misses: c.misses}
}

func (c *CompareCache) get(k compareKey, version string) (KPIs, bool) {
	if c == nil {
		return KPIs{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		if e := el.Value.(*compareEntry); e.version == version {
			c.lru.MoveToFront(el)
			c.hits++
			return e.kpis, true
		}
	}
	c.misses++
	return KPIs{}, false
}

func (c *CompareCache) put(k compareKey, version string, v KPIs) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries, c.lru = map[compareKey]*list.Element{}, list.New()
	}
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*compareEntry)
		e.version, e.kpis = version, v
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(&compareEntry{key: k, version: version, kpis: v})
	max := c.Max
	if max <= 0 {
		max = 10000
	}
	for c.lru.Len() > max {
		el := c.lru.Back()
		c.lru.Remove(el)
		delete(c.entries, el.Value.(*compareEntry).key)
	}
}
