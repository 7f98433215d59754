package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// The queue of conversations awaiting a person ("Aguardando atendimento", docs/metrics.md): a
// state as of the tenant's last sync, oldest wait first, with the wait in business time and the
// WhatsApp window's time left; the same rows as JSON under /api/v1/queue.

// QueueView is the data of the queue page.
type QueueView struct {
	TenantPage
	Q           *dashboard.Queue
	States      []string
	NextLink    string
	ChatwootURL string // CHATWOOT_URL, for the "open in Chatwoot" links; "" hides them
}

// QueueLink is the queue under the scope with the queue filter qf.
func (v QueueView) QueueLink(qf dashboard.QueueFilter) string {
	q := qf.Values()
	if len(q) == 0 {
		return v.Scope.Base + "/queue"
	}
	return v.Scope.Base + "/queue?" + q.Encode()
}

// StateLink is the queue filtered to one state ("" for all), keeping the inboxes.
func (v QueueView) StateLink(state string) string {
	qf := v.Q.Filter
	qf.State, qf.After = state, nil
	return v.QueueLink(qf)
}

// StateCount is how many conversations are in a state ("" for all).
func (v QueueView) StateCount(state string) int64 {
	c := v.Q.Counts
	switch state {
	case "past_sla":
		return c.PastSLA
	case "window_closing":
		return c.WindowClosing
	case "window_closed":
		return c.WindowClosed
	}
	return c.Awaiting
}

// At is an optional instant in the reader's zone, with its offset ("—" when absent).
func (v QueueView) At(t *time.Time) string {
	return formatAtPtr(v.Lang, t, v.Reader)
}

// SLA is the tenant's SLA target, as a duration.
func (v QueueView) SLA() string {
	secs := float64(v.Scope.Tenant.Settings.SlaSeconds)
	if int64(secs)%60 == 0 {
		// The target is set in minutes: "5 min", as the alerts page says, not "5 min 00 s".
		return shortDuration(time.Duration(secs) * time.Second)
	}
	return formatDuration(v.Lang, &secs)
}

// InboxSelected reports whether an inbox is in the queue's filter.
func (v QueueView) InboxSelected(id int32) bool {
	for _, x := range v.Q.Filter.Inboxes {
		if x == id {
			return true
		}
	}
	return false
}

// InboxName is the display name of one of the tenant's inboxes.
func (v QueueView) InboxName(id int32) string {
	for _, ib := range v.Scope.Tenant.Inboxes {
		if ib.InboxID == id && ib.InboxName != "" {
			return ib.InboxName
		}
	}
	return "#" + strconv.Itoa(int(id))
}

// Wait is a row's wait in business time, as on the cards: "23 min", "1 h 40", "2 d 3 h".
func (v QueueView) Wait(r dbsqlc.QueuePageRow) string {
	return shortDuration(time.Duration(r.WaitBusinessSeconds * float64(time.Second)))
}

// Window is a row's WhatsApp window: "fecha em 1 h 40", "encerrada", or "" without one.
func (v QueueView) Window(r dbsqlc.QueuePageRow) string {
	left := v.Q.WindowLeft(r)
	if left == nil {
		return ""
	}
	if *left <= 0 {
		return v.T("queue.window.closed")
	}
	return fmt.Sprintf(v.T("queue.window.closes_in"), shortDuration(*left))
}

// WindowClass is the CSS class of a row's window: closing (under 2 h), closed, or none.
func (v QueueView) WindowClass(r dbsqlc.QueuePageRow) string {
	left := v.Q.WindowLeft(r)
	switch {
	case left == nil:
		return ""
	case *left <= 0:
		return "window-closed"
	case *left <= dashboard.WindowClosingWithin:
		return "window-closing"
	}
	return ""
}

// Stage is the localised funnel stage of a row.
func (v QueueView) Stage(r dbsqlc.QueuePageRow) string {
	st := dashboard.Stage(r.IsLead, r.IsVisit, r.IsConverted)
	if st == "none" {
		return "—"
	}
	return v.T("stage." + st)
}

// Excerpt is the contact's last message, shortened for the table.
func (v QueueView) Excerpt(r dbsqlc.QueuePageRow) string {
	if r.LastContactMessageDeleted {
		return v.T("queue.message_deleted")
	}
	return excerpt(r.LastContactMessage, 140)
}

// ChatwootLink opens a row in Chatwoot ("" without CHATWOOT_URL).
func (v QueueView) ChatwootLink(r dbsqlc.QueuePageRow) string {
	return chatwootLink(v.ChatwootURL, r.AccountID, r.DisplayID)
}

// chatwootLink is the one definition, shared with the alerts' messages.
var chatwootLink = alert.ChatwootLink

// excerpt keeps the first n characters of s on one line, with an ellipsis when cut.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// shortDuration writes a wait or a time left: "45 s", "23 min", "1 h 40", "2 d 3 h".
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		if m := s % 3600 / 60; m > 0 {
			return fmt.Sprintf("%d h %02d", s/3600, m)
		}
		return fmt.Sprintf("%d h", s/3600)
	}
	if h := s % 86400 / 3600; h > 0 {
		return fmt.Sprintf("%d d %d h", s/86400, h)
	}
	return fmt.Sprintf("%d d", s/86400)
}

// loadQueue resolves the tenant and reads one page of its queue.
func (s *Server) loadQueue(r *http.Request) (*tenantScope, *dashboard.Queue, error) {
	sc, err := s.scope(r)
	if err != nil {
		return nil, nil, err
	}
	qf, err := dashboard.ParseQueue(r.URL.Query(), sc.Tenant.InboxIDs())
	if err != nil {
		return nil, nil, err
	}
	q, err := s.dash.Queue(r.Context(), sc.db, sc.Tenant.ID, qf)
	if err != nil {
		return nil, nil, err
	}
	return sc, q, nil
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request) error {
	sc, q, err := s.loadQueue(r)
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "queue"); err != nil {
		return err
	}
	v := QueueView{TenantPage: s.tenantPage(r, "queue.title", "/queue", sc, dashboard.Filter{}), Q: q,
		States: dashboard.QueueStates, ChatwootURL: s.cfg.ChatwootURL}
	if q.Next != nil {
		qf := q.Filter
		qf.After = q.Next
		next := qf.Values()
		next.Set("after", q.Next.String())
		v.NextLink = sc.Base + "/queue?" + next.Encode()
	}
	return s.render(w, r, http.StatusOK, "queue", v)
}

// apiQueueItem is one awaiting conversation in the API.
type apiQueueItem struct {
	ConversationID      int32      `json:"conversation_id"`
	DisplayID           int32      `json:"display_id"`
	InboxID             int32      `json:"inbox_id"`
	InboxName           string     `json:"inbox_name"`
	ChannelType         string     `json:"channel_type"`
	ContactName         string     `json:"contact_name"`
	ContactPhone        string     `json:"contact_phone"`
	Labels              []string   `json:"labels"`
	Stage               string     `json:"stage"`
	WaitingSince        time.Time  `json:"waiting_since"`
	WaitBusinessSeconds float64    `json:"wait_business_seconds"`
	PastSLA             bool       `json:"past_sla"`
	HandoffRequestedAt  *time.Time `json:"handoff_requested_at"`
	LastContactAt       *time.Time `json:"last_contact_at"`
	LastContactMessage  string     `json:"last_contact_message"`
	MessageDeleted      bool       `json:"last_contact_message_deleted"`
	WindowClosesAt      *time.Time `json:"window_closes_at"`
	WindowSecondsLeft   *float64   `json:"window_seconds_left"`
	WindowState         *string    `json:"window_state"`
	ChatwootURL         string     `json:"chatwoot_url,omitempty"`
}

func (s *Server) apiQueue(w http.ResponseWriter, r *http.Request) error {
	sc, q, err := s.loadQueue(r)
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "api"); err != nil {
		return err
	}
	names := map[int32]string{}
	for _, ib := range sc.Tenant.Inboxes {
		names[ib.InboxID] = ib.InboxName
	}
	items := make([]apiQueueItem, 0, len(q.Rows))
	for _, row := range q.Rows {
		it := apiQueueItem{ConversationID: row.ConversationID, DisplayID: row.DisplayID, InboxID: row.InboxID,
			InboxName: names[row.InboxID], ChannelType: row.ChannelType, ContactName: row.ContactName,
			ContactPhone: row.ContactPhone, Labels: row.Labels, Stage: dashboard.Stage(row.IsLead, row.IsVisit, row.IsConverted),
			WaitingSince: row.WaitingSince, WaitBusinessSeconds: row.WaitBusinessSeconds, PastSLA: row.PastSla,
			HandoffRequestedAt: row.HandoffRequestedAt, LastContactAt: row.LastContactAt,
			LastContactMessage: row.LastContactMessage, MessageDeleted: row.LastContactMessageDeleted,
			WindowClosesAt: row.WindowClosesAt, ChatwootURL: chatwootLink(s.cfg.ChatwootURL, row.AccountID, row.DisplayID)}
		if left := q.WindowLeft(row); left != nil {
			secs := left.Seconds()
			state := "open"
			switch {
			case *left <= 0:
				state, secs = "closed", 0
			case *left <= dashboard.WindowClosingWithin:
				state = "closing"
			}
			it.WindowSecondsLeft, it.WindowState = &secs, &state
		}
		items = append(items, it)
	}
	var next *string
	if q.Next != nil {
		c := q.Next.String()
		next = &c
	}
	return writeJSON(w, http.StatusOK, struct {
		Tenant     string           `json:"tenant"`
		SyncedAt   *time.Time       `json:"synced_at"`
		SLASeconds int32            `json:"sla_seconds"`
		Counts     map[string]int64 `json:"counts"`
		Items      []apiQueueItem   `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}{sc.Tenant.Slug, q.SyncedAt, sc.Tenant.Settings.SlaSeconds, map[string]int64{
		"awaiting": q.Counts.Awaiting, "past_sla": q.Counts.PastSLA, "window_closing": q.Counts.WindowClosing,
		"window_closed": q.Counts.WindowClosed}, items, next})
}
