package dashboard

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// QueueStates are the queue's filters beside the inboxes (docs/metrics.md): the wait is past the
// SLA target, the WhatsApp window closes within two hours, or it has closed.
var QueueStates = []string{"past_sla", "window_closing", "window_closed"}

// WindowClosingWithin is how close to its end a WhatsApp window is "closing".
const WindowClosingWithin = 2 * time.Hour

// QueueFilter is a parsed queue request: inboxes, state, page.
type QueueFilter struct {
	Inboxes  []int32
	State    string
	PageSize int
	After    *QueueCursor
}

// QueueCursor is the keyset position after which the next queue page starts.
type QueueCursor struct {
	Since time.Time
	ID    int32
}

func (c QueueCursor) String() string {
	return strconv.FormatInt(c.Since.UnixMicro(), 10) + "_" + strconv.FormatInt(int64(c.ID), 10)
}

// ParseQueue reads a queue filter from URL parameters; inboxes are the tenant's inbox ids (an
// unknown one is an error). Errors are apperr.Invalid with a message in Portuguese.
func ParseQueue(v url.Values, inboxes []int32) (QueueFilter, error) {
	f := QueueFilter{PageSize: DefaultPageSize}
	for k, vs := range v {
		if len(vs) > 1 && k != "inbox" {
			return QueueFilter{}, apperr.New(apperr.Invalid, "err.filter.repeated", k)
		}
	}
	known := make(map[int32]bool, len(inboxes))
	for _, id := range inboxes {
		known[id] = true
	}
	seen := map[int32]bool{}
	for _, s := range v["inbox"] {
		if s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 32)
		if err != nil || !known[int32(id)] {
			return QueueFilter{}, apperr.New(apperr.Invalid, "err.filter.inbox", clip(s))
		}
		if !seen[int32(id)] {
			seen[int32(id)] = true
			f.Inboxes = append(f.Inboxes, int32(id))
		}
	}
	sort.Slice(f.Inboxes, func(i, j int) bool { return f.Inboxes[i] < f.Inboxes[j] })
	if f.State = v.Get("state"); f.State != "" && !contains(QueueStates, f.State) {
		return QueueFilter{}, apperr.New(apperr.Invalid, "err.queue.state", clip(f.State))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return QueueFilter{}, apperr.New(apperr.Invalid, "err.filter.page_size", MaxPageSize)
		}
		f.PageSize = n
	}
	if s := v.Get("after"); s != "" {
		at, id, ok := strings.Cut(s, "_")
		us, err1 := strconv.ParseInt(at, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 32)
		if !ok || err1 != nil || err2 != nil || n <= 0 {
			return QueueFilter{}, apperr.New(apperr.Invalid, "err.filter.cursor")
		}
		f.After = &QueueCursor{Since: time.UnixMicro(us).UTC(), ID: int32(n)}
	}
	return f, nil
}

// Values is the filter as URL parameters (without the page position).
func (f QueueFilter) Values() url.Values {
	v := url.Values{}
	for _, id := range f.Inboxes {
		v.Add("inbox", strconv.Itoa(int(id)))
	}
	if f.State != "" {
		v.Set("state", f.State)
	}
	if f.PageSize != DefaultPageSize && f.PageSize > 0 {
		v.Set("limit", strconv.Itoa(f.PageSize))
	}
	return v
}

// QueueCounts are how many conversations await a person, in all and per state.
type QueueCounts struct {
	Awaiting, PastSLA, WindowClosing, WindowClosed int64
}

// Queue is one page of the queue as of the tenant's last sync.
type Queue struct {
	Filter   QueueFilter
	SyncedAt *time.Time // nil before the tenant's first sync: the queue is empty
	Counts   QueueCounts
	Rows     []dbsqlc.QueuePageRow
	Next     *QueueCursor
	Inboxes  []dbsqlc.TenantInboxNamesRow
}

// Queue reads one page of the tenant's queue and its counts (of the chosen inboxes) in one
// read-only snapshot.
func (s *Service) Queue(ctx context.Context, p pg.Principal, tenantID int64, f QueueFilter) (*Queue, error) {
	q := &Queue{Filter: f}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		if q.Inboxes, err = tx.TenantInboxNames(ctx, tenantID); err != nil {
			return err
		}
		synced, err := tx.QueueSyncedAt(ctx, tenantID)
		if pg.IsNoRows(err) || (err == nil && synced == nil) {
			return nil
		} else if err != nil {
			return err
		}
		q.SyncedAt = synced
		c, err := tx.QueueCounts(ctx, dbsqlc.QueueCountsParams{SyncedAt: *synced, TenantID: tenantID, Inboxes: f.Inboxes})
		if err != nil {
			return err
		}
		q.Counts = QueueCounts{Awaiting: c.Awaiting, PastSLA: c.PastSla, WindowClosing: c.WindowClosing, WindowClosed: c.WindowClosed}
		params := dbsqlc.QueuePageParams{SyncedAt: *synced, TenantID: tenantID, Inboxes: f.Inboxes, PageSize: int32(f.PageSize) + 1}
		if f.State != "" {
			st := f.State
			params.State = &st
		}
		if f.After != nil {
			since, id := f.After.Since, f.After.ID
			params.AfterSince, params.AfterID = &since, &id
		}
		rows, err := tx.QueuePage(ctx, params)
		if err != nil {
			return err
		}
		if len(rows) > f.PageSize {
			rows = rows[:f.PageSize]
			last := rows[len(rows)-1]
			q.Next = &QueueCursor{Since: last.WaitingSince, ID: last.ConversationID}
		}
		q.Rows = rows
		return nil
	})
	return q, err
}

// WindowLeft is the time left in a row's WhatsApp window at the sync time: nil without a window
// (not WhatsApp), negative once closed.
func (q *Queue) WindowLeft(r dbsqlc.QueuePageRow) *time.Duration {
	if r.WindowClosesAt == nil || q.SyncedAt == nil {
		return nil
	}
	d := r.WindowClosesAt.Sub(*q.SyncedAt)
	return &d
}

// Stage names a row's funnel stage: converted, visit, lead or none.
func Stage(lead, visit, converted bool) string {
	switch {
	case converted:
		return "converted"
	case visit:
		return "visit"
	case lead:
		return "lead"
	}
	return "none"
}
