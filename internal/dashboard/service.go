package dashboard

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Service reads a tenant's dashboard data under the caller's principal (RLS applies).
type Service struct {
	DB *pg.DB
	// RollupAbove is the period size (conversations) above which the rollup path takes medians
	// and p90 from the histograms instead of ranking the conversations: 0 means
	// DefaultRollupAbove, a negative value means always (tests).
	RollupAbove int64
	// ScanOnly makes Load compute everything from the conversations, never the rollups: the
	// reference the rollup path is tested against.
	ScanOnly bool
	// Cache, when set, keeps Load's results per (asker, tenant, filter, tenant version): a
	// dashboard is computed once per change instead of once per view (cache.go).
	Cache *Cache
	// OnCache, when set, is told whether each Load was served from the cache (metrics).
	OnCache func(hit bool)
	// CompareCache, when set, keeps each tenant's staff comparison figures per period and tenant
	// version, so that Compare sums only the tenants that changed (compare.go).
	CompareCache *CompareCache

	// histReader, when set, replaces readHists: the other encodings BenchmarkHistEncodings
	// measures against it.
	histReader func(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error)
}

// Value is one KPI figure with its value in the previous period; nil means "no value" (nothing
// to measure), distinct from zero.
type Value struct {
	Cur, Prev *float64
}

// Change is the relative change against the previous period in percent, nil when the previous
// period had no value or zero.
func (v Value) Change() *float64 {
	if v.Cur == nil || v.Prev == nil || *v.Prev == 0 {
		return nil
	}
	c := (*v.Cur - *v.Prev) / math.Abs(*v.Prev) * 100
	return &c
}

// KPIs are the dashboard's cards. Durations in seconds, rates as fractions 0-1.
type KPIs struct {
	Conversations, Leads, Visits, Conversions          Value
	LeadToVisit, VisitToConversion                     Value
	LeadToConversion                                   Value // conversions ÷ leads (the staff comparison's conversion rate)
	UnansweredLeads                                    Value
	FirstReplyP50, FirstReplyP90                       Value
	FirstHumanReplyP50, FirstHumanReplyP90             Value
	ResolutionRate, ResolutionP50                      Value
	BotResolvedShare, HandoffRate                      Value
	CSATSatisfaction, CSATResponses                    Value
	Replied, HumanReplied, Resolved, WithBot, Handoffs Value
	BotResolved, CSATSatisfied                         Value

	// Speed to lead (docs/metrics.md): the bot's requests for a person, answered first waits for a
	// person (count, median, p90) and the SLA (share within, counts within and missed). Durations
	// follow the filter's business-hours switch like every other.
	HandoffRequests, HumanWaits Value
	HumanWaitP50, HumanWaitP90  Value
	SLAWithinShare              Value
	SLAWithin, SLAMissed        Value
}

// Dashboard is everything the dashboard page shows.
type Dashboard struct {
	Filter     Filter
	KPIs       KPIs
	Daily      []dbsqlc.DashboardDailyRow
	FRT        []dbsqlc.DashboardFirstReplyBucketsRow
	Heatmap    []dbsqlc.DashboardHeatmapRow
	ByInbox    []dbsqlc.DashboardByInboxRow
	ByLabel    []dbsqlc.DashboardByLabelRow
	CSAT       []dbsqlc.DashboardCSATRow
	Inboxes    []dbsqlc.TenantInboxNamesRow
	LastSyncAt *time.Time
	Approx     bool // medians and p90 come from the rollups' histograms
	// Awaiting is how many conversations await a person now (as of the last sync): the queue's
	// headline, whatever the period; AwaitingPastSLA of them are past the SLA target.
	Awaiting, AwaitingPastSLA int64
	// SLASeconds is the tenant's SLA target.
	SLASeconds int32

	// Key names the cached result this dashboard is (asker, tenant, filter and the tenant's
	// version; cache.go) and Version the tenant's version alone; both "" when no Cache served it.
	// Whatever is computed from the dashboard alone may be kept under Key (a rendered page is).
	Key, Version string
}

// Empty reports whether the tenant has no conversation in the period.
func (d *Dashboard) Empty() bool {
	return d.KPIs.Conversations.Cur == nil || *d.KPIs.Conversations.Cur == 0
}

// Load reads the whole dashboard in one read-only transaction, so every figure is of one snapshot.
// With a Cache, the tenant's version is read first, in the same transaction, and a result of
// that very version is returned without reading anything else; the caller must not modify it.
func (s *Service) Load(ctx context.Context, p pg.Principal, tenantID int64, f Filter) (*Dashboard, error) {
	var d *Dashboard
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		if s.Cache == nil {
			var err error
			d, err = s.LoadIn(ctx, tx, tenantID, f)
			return err
		}
		v, err := versionOf(ctx, tx, tenantID)
		if pg.IsNoRows(err) { // not visible to the asker: nothing to cache
			d, err = s.LoadIn(ctx, tx, tenantID, f)
			return err
		}
		if err != nil {
			return err
		}
		key := newKey(p, tenantID, f, v)
		if cached := s.Cache.get(key); cached != nil {
			s.observe(true)
			shown := *cached // the last sync moves without changing the data: read afresh
			shown.LastSyncAt = v.LastSuccessAt
			d = &shown
			return nil
		}
		s.observe(false)
		if d, err = s.LoadIn(ctx, tx, tenantID, f); err != nil {
			return err
		}
		d.Key, d.Version = key.String(), key.version
		s.Cache.put(key, d)
		return nil
	})
	return d, err
}

func (s *Service) observe(hit bool) {
	if s.OnCache != nil {
		s.OnCache(hit)
	}
}

// LoadIn is Load inside the caller's transaction (the bench runs it under two roles to compare).
func (s *Service) LoadIn(ctx context.Context, tx pg.Tx, tenantID int64, f Filter) (*Dashboard, error) {
	d := &Dashboard{Filter: f}
	cur, prev := f.params(tenantID), f.Previous().params(tenantID)
	// Which filters are NULL decides each plan: a cached generic plan ranked a 200,000-conversation
	// tenant's whole period to keep two inboxes (180 ms, against 33 ms planned with the values).
	if err := tx.PlanPerCall(ctx); err != nil {
		return d, err
	}
	var err error
	if d.Inboxes, err = tx.TenantInboxNames(ctx, tenantID); err != nil {
		return d, err
	}
	sync, err := tx.TenantSyncTimes(ctx, tenantID)
	if err != nil && !pg.IsNoRows(err) {
		return d, err
	}
	d.LastSyncAt = sync.LastSuccessAt
	if err := s.loadQueueHeadline(ctx, tx, d, tenantID, sync.SourceCheckedAt); err != nil {
		return d, err
	}
	if !s.ScanOnly && f.rollupOK() {
		return d, s.loadRollups(ctx, tx, d, tenantID)
	}
	now, err := tx.DashboardSummary(ctx, cur)
	if err != nil {
		return d, err
	}
	before, err := tx.DashboardSummary(ctx, dbsqlc.DashboardSummaryParams(prev))
	if err != nil {
		return d, err
	}
	d.KPIs = kpis(now, before)
	if d.Daily, err = tx.DashboardDaily(ctx, f.listParams(tenantID)); err != nil {
		return d, err
	}
	if d.FRT, err = tx.DashboardFirstReplyBuckets(ctx, dbsqlc.DashboardFirstReplyBucketsParams(cur)); err != nil {
		return d, err
	}
	if d.Heatmap, err = tx.DashboardHeatmap(ctx, dbsqlc.DashboardHeatmapParams(f.listParams(tenantID))); err != nil {
		return d, err
	}
	if d.ByInbox, err = tx.DashboardByInbox(ctx, dbsqlc.DashboardByInboxParams(cur)); err != nil {
		return d, err
	}
	if d.ByLabel, err = tx.DashboardByLabel(ctx, dbsqlc.DashboardByLabelParams(f.listParams(tenantID))); err != nil {
		return d, err
	}
	d.CSAT, err = tx.DashboardCSAT(ctx, dbsqlc.DashboardCSATParams(f.listParams(tenantID)))
	return d, err
}

// loadQueueHeadline fills the queue's count (of the filter's inboxes, any period) and the SLA
// target; synced is the tenant's sync time (nil before its first successful run: no queue yet).
func (s *Service) loadQueueHeadline(ctx context.Context, tx pg.Tx, d *Dashboard, tenantID int64, synced *time.Time) error {
	sla, err := tx.TenantSLASeconds(ctx, tenantID)
	if err != nil && !pg.IsNoRows(err) {
		return err
	}
	d.SLASeconds = sla
	if synced == nil {
		return nil
	}
	c, err := tx.QueueCounts(ctx, dbsqlc.QueueCountsParams{SyncedAt: *synced, TenantID: tenantID, Inboxes: d.Filter.rollupInboxes(d.Inboxes)})
	d.Awaiting, d.AwaitingPastSLA = c.Awaiting, c.PastSla
	return err
}

func kpis(c, p dbsqlc.DashboardSummaryRow) KPIs {
	n := func(a, b int64) Value { return Value{num(float64(a)), num(float64(b))} }
	sec := func(a, b float64) Value { return Value{opt(a), opt(b)} }
	rate := func(an, ad, bn, bd int64) Value { return Value{ratio(an, ad), ratio(bn, bd)} }
	return KPIs{
		Conversations:      n(c.Conversations, p.Conversations),
		Leads:              n(c.Leads, p.Leads),
		Visits:             n(c.Visits, p.Visits),
		Conversions:        n(c.Conversions, p.Conversions),
		LeadToVisit:        rate(c.Visits, c.Leads, p.Visits, p.Leads),
		VisitToConversion:  rate(c.Conversions, c.Visits, p.Conversions, p.Visits),
		LeadToConversion:   rate(c.Conversions, c.Leads, p.Conversions, p.Leads),
		UnansweredLeads:    n(c.UnansweredLeads, p.UnansweredLeads),
		FirstReplyP50:      sec(c.FirstReplyP50, p.FirstReplyP50),
		FirstReplyP90:      sec(c.FirstReplyP90, p.FirstReplyP90),
		FirstHumanReplyP50: sec(c.FirstHumanReplyP50, p.FirstHumanReplyP50),
		FirstHumanReplyP90: sec(c.FirstHumanReplyP90, p.FirstHumanReplyP90),
		ResolutionRate:     rate(c.Resolved, c.Conversations, p.Resolved, p.Conversations),
		ResolutionP50:      sec(c.ResolutionP50, p.ResolutionP50),
		BotResolvedShare:   rate(c.BotResolved, c.Resolved, p.BotResolved, p.Resolved),
		HandoffRate:        rate(c.Handoffs, c.WithBot, p.Handoffs, p.WithBot),
		CSATSatisfaction:   rate(c.CsatSatisfied, c.CsatResponses, p.CsatSatisfied, p.CsatResponses),
		CSATResponses:      n(c.CsatResponses, p.CsatResponses),
		Replied:            n(c.Replied, p.Replied),
		HumanReplied:       n(c.HumanReplied, p.HumanReplied),
		Resolved:           n(c.Resolved, p.Resolved),
		WithBot:            n(c.WithBot, p.WithBot),
		Handoffs:           n(c.Handoffs, p.Handoffs),
		BotResolved:        n(c.BotResolved, p.BotResolved),
		CSATSatisfied:      n(c.CsatSatisfied, p.CsatSatisfied),
		HandoffRequests:    n(c.HandoffRequests, p.HandoffRequests),
		HumanWaits:         n(c.HumanWaits, p.HumanWaits),
		HumanWaitP50:       sec(c.HumanWaitP50, p.HumanWaitP50),
		HumanWaitP90:       sec(c.HumanWaitP90, p.HumanWaitP90),
		SLAWithinShare:     rate(c.SlaWithin, c.SlaWithin+c.SlaMissed, p.SlaWithin, p.SlaWithin+p.SlaMissed),
		SLAWithin:          n(c.SlaWithin, p.SlaWithin),
		SLAMissed:          n(c.SlaMissed, p.SlaMissed),
	}
}

func num(x float64) *float64 { return &x }

// Num is a value's pointer (tests and templates build values with it).
func Num(x float64) *float64 { return &x }

// opt turns the NaN the SQL returns for "nothing to rank" into nil.
func opt(x float64) *float64 {
	if math.IsNaN(x) {
		return nil
	}
	return &x
}

func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// Page is one page of the conversation explorer.
type Page struct {
	Filter Filter
	Total  int64
	Offset int64 // conversations before this page under its sort ("51–100 de 466" starts at 50)
	Rows   []dbsqlc.ConversationPageRow
	Next   *Cursor // nil on the last page
	Prev   *Cursor // nil on the first page
	// Numbered are the conversations whose number a bare-number search names ("1374"), shown
	// first on the first page; the list below them also holds phone and word matches.
	Numbered []dbsqlc.ConversationByNumberRow
}

// ResultKey is the key a result of (asker, tenant, filter) has now: the cache's key (cache.go)
// and the tenant's version alone, read in the caller's transaction. What is computed from the
// tenant's data and settings for this filter alone (a rendered page of the list) may be kept under
// it. Both are "" without a Cache, or when the tenant is not visible to the asker.
func (s *Service) ResultKey(ctx context.Context, p pg.Principal, tenantID int64, f Filter) (key, version string, err error) {
	if s.Cache == nil {
		return "", "", nil
	}
	err = s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		v, err := versionOf(ctx, tx, tenantID)
		if pg.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		k := newKey(p, tenantID, f, v)
		key, version = k.String(), k.version
		return nil
	})
	return key, version, err
}

// List reads one page of conversations and the total count of the filter. Newest first (the
// default) reads the created_at index; any other sort, and the page before a position, read the
// filtered period sorted by its key (ConversationPageSorted).
func (s *Service) List(ctx context.Context, p pg.Principal, tenantID int64, f Filter) (*Page, error) {
	pg_ := &Page{Filter: f}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		pg_, err = s.ListIn(ctx, tx, tenantID, f)
		return err
	})
	return pg_, err
}

// ListIn is List in a transaction the caller opened (the Citus check that a tenant's list reaches
// one worker reads the dashboard and the list in one).
func (s *Service) ListIn(ctx context.Context, tx pg.Tx, tenantID int64, f Filter) (*Page, error) {
	pg_ := &Page{Filter: f}
	err := func() error {
		if err := tx.PlanPerCall(ctx); err != nil {
			return err
		}
		var rows []dbsqlc.ConversationPageRow
		var keys []*int64
		more := false
		if f.DefaultSort() && f.Before == nil {
			r, err := tx.ConversationPage(ctx, pageParams(tenantID, f, f.After, int32(f.PageSize)+1))
			if err != nil {
				return err
			}
			rows, keys = r, make([]*int64, len(r))
			more = len(rows) > f.PageSize
		} else {
			at, rev := f.After, int64(1)
			if f.Before != nil {
				at, rev = f.Before, -1
			}
			r, err := tx.ConversationPageSorted(ctx, sortedParams(tenantID, f, at, rev, int32(f.PageSize)+1))
			if err != nil {
				return err
			}
			more = len(r) > f.PageSize
			if more {
				r = r[:f.PageSize]
			}
			if rev < 0 {
				slices.Reverse(r)
			}
			for _, x := range r {
				rows = append(rows, sortedRow(x))
				k := x.SortKey
				keys = append(keys, &k)
			}
		}
		if len(rows) > f.PageSize {
			rows, keys = rows[:f.PageSize], keys[:f.PageSize]
		}
		pg_.Rows = rows
		if n := len(rows); n > 0 {
			if more || f.Before != nil {
				pg_.Next = &Cursor{Key: keys[n-1], CreatedAt: rows[n-1].CreatedAt, ID: rows[n-1].ConversationID}
			}
			if f.After != nil || (f.Before != nil && more) {
				pg_.Prev = &Cursor{Key: keys[0], CreatedAt: rows[0].CreatedAt, ID: rows[0].ConversationID}
			}
			if f.After != nil || f.Before != nil {
				first := sortedParams(tenantID, f, nil, 1, 0)
				key := sortKeyOf(f, rows[0].CreatedAt, keys[0])
				var err error
				pg_.Offset, err = tx.ConversationRank(ctx, dbsqlc.ConversationRankParams{
					TenantID: first.TenantID, FromDay: first.FromDay, ToDay: first.ToDay, Inboxes: first.Inboxes,
					Channel: first.Channel, Label: first.Label, Status: first.Status, Stage: first.Stage, Flag: first.Flag,
					FrtBucket: first.FrtBucket, Dow: first.Dow, Hour: first.Hour, Csat: first.Csat, Search: first.Search,
					SearchAll: first.SearchAll, Sign: first.Sign, SortBy: first.SortBy,
					AtKey: key, AtUs: rows[0].CreatedAt.UnixMicro(), AtID: int64(rows[0].ConversationID),
				})
				if err != nil {
					return err
				}
			}
		}
		if err := s.numbered(ctx, tx, tenantID, f, pg_); err != nil {
			return err
		}
		var err error
		pg_.Total, err = s.count(ctx, tx, tenantID, f)
		return err
	}()
	return pg_, err
}

// numbered fills the page's Numbered on the first page of a bare-number search: the conversation
// with that number (under the page's other filters) comes first, before phones and words that
// merely contain the digits. "#1374" lists that conversation only, so it needs nothing here.
func (s *Service) numbered(ctx context.Context, tx pg.Tx, tenantID int64, f Filter, page *Page) error {
	n, only := ConversationNumber(f.Search)
	if n == "" || only || f.After != nil || f.Before != nil {
		return nil
	}
	number, err := strconv.ParseInt(n, 10, 32) // at most nine digits: always fits
	if err != nil {
		return err
	}
	b := f.params(tenantID)
	page.Numbered, err = tx.ConversationByNumber(ctx, dbsqlc.ConversationByNumberParams{
		TenantID: b.TenantID, FromDay: b.FromDay, ToDay: b.ToDay, Inboxes: b.Inboxes, Channel: b.Channel,
		Label: b.Label, Status: b.Status, Stage: b.Stage, Flag: b.Flag, FrtBucket: b.FrtBucket, Dow: b.Dow,
		Hour: b.Hour, Csat: b.Csat, Number: int32(number),
	})
	return err
}

// sortKeyOf is a row's sort key: as read, or under the default order minus its creation time.
func sortKeyOf(f Filter, created time.Time, key *int64) int64 {
	if key != nil {
		return *key
	}
	return -created.UnixMicro()
}

// sortedParams are ConversationPageSorted's parameters: the filter, its sort, the position to
// read from (nil: the start) and the direction (rev -1 reads backwards from at).
func sortedParams(tenantID int64, f Filter, at *Cursor, rev int64, size int32) dbsqlc.ConversationPageSortedParams {
	b := f.params(tenantID)
	sign, by := int64(1), f.SortKey()
	if f.Descending() {
		sign = -1
	}
	if by == "stage" {
		by = "funnel"
	}
	p := dbsqlc.ConversationPageSortedParams{
		Sign: sign, SortBy: by, Rev: rev, PageSize: size,
		TenantID: b.TenantID, FromDay: b.FromDay, ToDay: b.ToDay, Inboxes: b.Inboxes, Channel: b.Channel,
		Label: b.Label, Status: b.Status, Stage: b.Stage, Flag: b.Flag, FrtBucket: b.FrtBucket, Dow: b.Dow,
		Hour: b.Hour, Csat: b.Csat, Search: b.Search, SearchAll: b.SearchAll,
	}
	if at != nil {
		k, us, id := sortKeyOf(f, at.CreatedAt, at.Key), at.CreatedAt.UnixMicro(), int64(at.ID)
		p.AfterKey, p.AfterUs, p.AfterID = &k, &us, &id
	}
	return p
}

func sortedRow(x dbsqlc.ConversationPageSortedRow) dbsqlc.ConversationPageRow {
	return dbsqlc.ConversationPageRow{
		ConversationID: x.ConversationID, DisplayID: x.DisplayID, InboxID: x.InboxID, ChannelType: x.ChannelType,
		Status: x.Status, ContactName: x.ContactName, ContactPhone: x.ContactPhone, Labels: x.Labels,
		CreatedAt: x.CreatedAt, LastActivityAt: x.LastActivityAt, ContactMessages: x.ContactMessages,
		BotMessages: x.BotMessages, HumanMessages: x.HumanMessages, FirstReplySeconds: x.FirstReplySeconds,
		FirstHumanReplySeconds: x.FirstHumanReplySeconds, ResolutionSeconds: x.ResolutionSeconds,
		Unanswered: x.Unanswered, Resolved: x.Resolved, Handoff: x.Handoff, BotResolved: x.BotResolved,
		CsatRating: x.CsatRating, IsLead: x.IsLead, IsVisit: x.IsVisit, IsConverted: x.IsConverted,
	}
}

// count is the number of conversations of the filter: summed from the daily rollups when the
// filter names only a period, inboxes and a channel (what they are keyed by; the same number,
// without counting a large tenant's rows one by one), else counted.
func (s *Service) count(ctx context.Context, tx pg.Tx, tenantID int64, f Filter) (int64, error) {
	if s.ScanOnly || !f.rollupOK() {
		return tx.ConversationCount(ctx, dbsqlc.ConversationCountParams(f.listParams(tenantID)))
	}
	inboxes, err := tx.TenantInboxNames(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	sum, _, err := rollupSummaries(ctx, tx, tenantID, f, f.rollupInboxes(inboxes), false)
	return sum.Conversations, err
}

func pageParams(tenantID int64, f Filter, after *Cursor, size int32) dbsqlc.ConversationPageParams {
	b := f.listParams(tenantID)
	p := dbsqlc.ConversationPageParams{
		TenantID: b.TenantID, FromDay: b.FromDay, ToDay: b.ToDay, Inboxes: b.Inboxes, Channel: b.Channel,
		Label: b.Label, Status: b.Status, Stage: b.Stage, Flag: b.Flag, FrtBucket: b.FrtBucket, Dow: b.Dow,
		Hour: b.Hour, Csat: b.Csat, Search: b.Search, Business: b.Business, SearchAll: b.SearchAll, PageSize: size,
	}
	if after != nil {
		at, id := after.CreatedAt, after.ID
		p.AfterCreated, p.AfterID = &at, &id
	}
	return p
}

// Detail is one conversation with its transcript.
type Detail struct {
	Conversation dbsqlc.ConversationGetRow
	Messages     []dbsqlc.ConversationTranscriptRow
	InboxName    string
}

// Detail reads one conversation; another tenant's id is NotFound, exactly like a missing one.
func (s *Service) Detail(ctx context.Context, p pg.Principal, tenantID int64, conversationID int32) (*Detail, error) {
	d := &Detail{}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		d.Conversation, err = tx.ConversationGet(ctx, dbsqlc.ConversationGetParams{TenantID: tenantID, ConversationID: conversationID})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.conversation.not_found")
		} else if err != nil {
			return err
		}
		if d.Messages, err = tx.ConversationTranscript(ctx, dbsqlc.ConversationTranscriptParams{TenantID: tenantID, ConversationID: conversationID}); err != nil {
			return err
		}
		inboxes, err := tx.TenantInboxNames(ctx, tenantID)
		for _, ib := range inboxes {
			if ib.InboxID == d.Conversation.InboxID {
				d.InboxName = ib.InboxName
			}
		}
		return err
	})
	return d, err
}

// Each streams every conversation of the filter to fn in pages of batch rows, in one
// REPEATABLE READ snapshot, so an export of a million rows holds one page in memory.
func (s *Service) Each(ctx context.Context, p pg.Principal, tenantID int64, f Filter, fn func(dbsqlc.ConversationPageRow) error) error {
	const batch = 2000
	return s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		if err := tx.PlanPerCall(ctx); err != nil {
			return err
		}
		var after *Cursor
		for {
			rows, err := tx.ConversationPage(ctx, pageParams(tenantID, f, after, batch))
			if err != nil {
				return err
			}
			for _, r := range rows {
				if err := fn(r); err != nil {
					return err
				}
			}
			if len(rows) < batch {
				return nil
			}
			last := rows[len(rows)-1]
			after = &Cursor{CreatedAt: last.CreatedAt, ID: last.ConversationID}
		}
	})
}
