package dashboard

import (
	"container/list"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Cache keeps computed dashboards so that one is computed once per change, not once per view
// (ADR 020). An entry's key is everything the result depends on:
//
//   - who asks: database role, app role and the asker's tenant, so a result is never served to
//     another tenant or another kind of user;
//   - the tenant shown, and the filter with its period resolved to absolute dates (a relative
//     period such as "7d" names other days after midnight, so it finds other entries then);
//   - the tenant's version (DashboardVersion): its data version, which every sync that merged
//     moves, the change stamps of its record and settings, and its inboxes.
//
// The version is read in the same transaction, on the same snapshot, as the result would be, so
// an entry never holds data older than its key says. Entries of a tenant's previous versions are
// dropped as soon as a newer one is stored; the rest is evicted least recently used beyond Max
// entries, which bounds memory. LoadTenant's results (the tenant's record, settings, inboxes and
// labels, all covered by the version) are kept the same way, under an empty filter. Nothing in a Dashboard depends on the clock but its period (the
// last sync time is read afresh on every view and never cached).
type Cache struct {
	Max int // entries kept; default 2,000 (a dashboard is a few tens of KB)

	mu       sync.Mutex
	lru      *list.List // of *cacheEntry, most recent first
	entries  map[cacheKey]*list.Element
	versions map[int64]string // tenant → newest version stored (one short string per tenant)
	hits     uint64
	misses   uint64
}

type cacheKey struct {
	asker   string // role, app role, asker's tenant
	tenant  int64
	filter  string
	version string
}

type cacheEntry struct {
	key cacheKey
	d   *Dashboard
	t   *Tenant // an entry of LoadTenant (key.filter is scopeFilter)
}

// scopeFilter is the filter part of a LoadTenant entry's key: no real filter is empty.
const scopeFilter = ""

// CacheStats are the cache's counters since it was made.
type CacheStats struct {
	Entries      int
	Hits, Misses uint64
}

// Stats reports the cache's size and counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	if c.lru != nil {
		n = c.lru.Len()
	}
	return CacheStats{Entries: n, Hits: c.hits, Misses: c.misses}
}

func (c *Cache) max() int {
	if c.Max > 0 {
		return c.Max
	}
	return 2000
}

func newKey(p pg.Principal, tenantID int64, f Filter, v dbsqlc.DashboardVersionRow) cacheKey {
	settings, checked := "", ""
	if v.SettingsUpdatedAt != nil {
		settings = v.SettingsUpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	if v.SourceCheckedAt != nil {
		// The SLA states (met, missed, awaiting past the SLA) are judged at the last check of the
		// source, which an unchanged sync moves without a new data version.
		checked = v.SourceCheckedAt.UTC().Format(time.RFC3339Nano)
	}
	return cacheKey{
		asker:  fmt.Sprintf("%s/%s/%d", p.DBRole, p.Role, p.TenantID),
		tenant: tenantID,
		filter: f.From.Format(time.DateOnly) + "|" + f.To.Format(time.DateOnly) + "|" + f.Query().Encode(),
		version: fmt.Sprintf("%d|%s|%s|%s|%s", v.DataVersion, v.TenantUpdatedAt.UTC().Format(time.RFC3339Nano),
			settings, v.Inboxes, checked),
	}
}

// versionOf reads the tenant's version once per request transaction: the tenant scope, the
// dashboard and the list of one request all start from it.
func versionOf(ctx context.Context, tx pg.Tx, tenantID int64) (dbsqlc.DashboardVersionRow, error) {
	return pg.Remember(ctx, tx, versionKey{tenantID}, func() (dbsqlc.DashboardVersionRow, error) {
		return tx.DashboardVersion(ctx, tenantID)
	})
}

type versionKey struct{ tenant int64 }

// String is the key as one string: the tenant, its version, the asker and the filter.
func (k cacheKey) String() string {
	return strconv.FormatInt(k.tenant, 10) + "\x00" + k.version + "\x00" + k.asker + "\x00" + k.filter
}

// get returns the entry for k, nil when there is none.
func (c *Cache) get(k cacheKey) *Dashboard {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		return el.Value.(*cacheEntry).d
	}
	c.misses++
	return nil
}

// getTenant returns the LoadTenant entry for k, nil when there is none.
func (c *Cache) getTenant(k cacheKey) *Tenant {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cacheEntry).t
	}
	return nil
}

// put stores d under k, dropping the tenant's entries of other versions.
func (c *Cache) put(k cacheKey, d *Dashboard) { c.store(&cacheEntry{key: k, d: d}) }

// putTenant stores a LoadTenant result under k, like put.
func (c *Cache) putTenant(k cacheKey, t *Tenant) { c.store(&cacheEntry{key: k, t: t}) }

func (c *Cache) store(e *cacheEntry) {
	k := e.key
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries, c.versions, c.lru = map[cacheKey]*list.Element{}, map[int64]string{}, list.New()
	}
	if old, ok := c.versions[k.tenant]; ok && old != k.version {
		for el := c.lru.Front(); el != nil; {
			next := el.Next()
			if e := el.Value.(*cacheEntry); e.key.tenant == k.tenant && e.key.version != k.version {
				c.lru.Remove(el)
				delete(c.entries, e.key)
			}
			el = next
		}
	}
	c.versions[k.tenant] = k.version
	if el, ok := c.entries[k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.max() {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.entries, e.key)
	}
}
