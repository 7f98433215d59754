package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// ConversationsView is the data of the conversation explorer.
type ConversationsView struct {
	TenantPage
	P        *dashboard.Page
	Statuses []string
	Stages   []string
	Flags    []string
	NextLink string
	PrevLink string
	Range    string // "51–100 de 466"
}

// SortLink is the list sorted by col: the other direction when it is already sorted by col,
// else the direction a manager looks at first (newest, slowest, best stage; CSAT worst first).
func (v ConversationsView) SortLink(col string) string {
	desc := col != "csat"
	if v.Filter.SortKey() == col {
		desc = !v.Filter.Descending()
	}
	return v.Link("/conversations", v.Filter.With(func(g *dashboard.Filter) {
		g.Sort = col
		if desc {
			g.Sort = "-" + col
		}
		if g.Sort == "-created" {
			g.Sort = ""
		}
	}))
}

// Sorts are the list's sortable columns.
func (v ConversationsView) Sorts() []string { return dashboard.Sorts }

// AriaSort is a column header's aria-sort value ("" when the list is not sorted by it).
func (v ConversationsView) AriaSort(col string) string {
	if v.Filter.SortKey() != col {
		return ""
	}
	if v.Filter.Descending() {
		return "descending"
	}
	return "ascending"
}

// InboxName is the display name of one of the tenant's inboxes.
func (v ConversationsView) InboxName(id int32) string {
	for _, ib := range v.Scope.Tenant.Inboxes {
		if ib.InboxID == id && ib.InboxName != "" {
			return ib.InboxName
		}
	}
	return "#" + strconv.Itoa(int(id))
}

// Status is the localised name of a Chatwoot status.
func (v ConversationsView) Status(code int16) string { return v.T("status." + statusKey(code)) }

// Stage is the localised funnel stage of a row.
func (v ConversationsView) Stage(r dbsqlc.ConversationPageRow) string {
	switch {
	case r.IsConverted:
		return v.T("stage.converted")
	case r.IsVisit:
		return v.T("stage.visit")
	case r.IsLead:
		return v.T("stage.lead")
	}
	return "—"
}

// FirstReply is a row's first reply time, in business time when the filter says so.
func (v ConversationsView) FirstReply(r dbsqlc.ConversationPageRow) *float64 {
	if v.Filter.Business {
		return r.FirstReplyBusinessSeconds
	}
	return r.FirstReplySeconds
}

// FirstHuman is a row's first human reply time, in business time when the filter says so.
func (v ConversationsView) FirstHuman(r dbsqlc.ConversationPageRow) *float64 {
	if v.Filter.Business {
		return r.FirstHumanReplyBusinessSeconds
	}
	return r.FirstHumanReplySeconds
}

func statusKey(code int16) string {
	for k, c := range dashboard.Statuses {
		if c == code {
			return k
		}
	}
	return "open"
}

func (s *Server) conversationsPage(w http.ResponseWriter, r *http.Request) error {
	sc, f, pr, err := s.pageFilter(r)
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "conversations"); err != nil {
		return err
	}
	// The page is the list of the tenant's version, shown in a language and the reader's zone, at
	// a URL, to an app role, on the tenant's date: kept under all of that (pagecache.go).
	var key, version string
	var zone *time.Location // read once when the page is cached: its key and its dates name the same zone
	if who := principalFrom(r); s.pageCache != nil && who != nil && r.Method == http.MethodGet {
		var rk string
		if rk, version, err = s.dash.ResultKey(r.Context(), sc.db, sc.Tenant.ID, f); err != nil {
			return err
		}
		if rk != "" {
			zone = s.viewerZone(r)
			key = pageKey("conversations", rk, s.langOf(r), r.URL.Path, r.URL.RawQuery, string(who.DBRole), who.Role,
				strconv.FormatInt(who.TenantID, 10), sc.Base, strconv.FormatBool(sc.ViewedBy),
				sc.Tenant.Today(s.now()).Format(time.DateOnly), zone.String())
			if p := s.cachedPage(key); p != nil {
				servePage(w, r, p)
				return nil
			}
		}
	}
	page, err := s.dash.List(r.Context(), sc.db, sc.Tenant.ID, f)
	if err != nil {
		return err
	}
	v := ConversationsView{TenantPage: s.tenantPage(r, "conversations.title", "/conversations", sc, f), P: page,
		Statuses: []string{"open", "pending", "snoozed", "resolved"}, Stages: dashboard.Stages, Flags: dashboard.Flags}
	if zone != nil {
		v.Reader = zone
	}
	v.report(pr)
	if page.Next != nil {
		v.NextLink = v.LinkWith("/conversations", f, "after", page.Next.String())
	}
	if page.Prev != nil {
		v.PrevLink = v.LinkWith("/conversations", f, "before", page.Prev.String())
	}
	if n := int64(len(page.Rows)); n > 0 {
		v.Range = fmt.Sprintf(v.T("pager.range"), formatInt(page.Offset+1, v.Lang), formatInt(page.Offset+n, v.Lang), formatInt(page.Total, v.Lang))
	}
	return s.renderCached(w, r, key, sc.Tenant.ID, version, "conversations", v)
}

// ConversationView is the data of one conversation's page.
type ConversationView struct {
	TenantPage
	D *dashboard.Detail
}

// Status is the localised name of the conversation's status.
func (v ConversationView) Status() string { return v.T("status." + statusKey(v.D.Conversation.Status)) }

// At is an optional instant in the reader's zone, with its offset ("—" when absent).
func (v ConversationView) At(t *time.Time) string {
	return formatAtPtr(v.Lang, t, v.Reader)
}

// HumanWait describes the first wait for a person: how long (calendar and business time) and its
// SLA, still waiting, or none (a bot handled it without asking for a person).
func (v ConversationView) HumanWait() string {
	c := v.D.Conversation
	switch {
	case c.HumanWaitFrom == nil:
		return "—"
	case c.HumanWaitSeconds != nil:
		out := formatDuration(v.Lang, c.HumanWaitSeconds) + " (" + formatDuration(v.Lang, c.HumanWaitBusinessSeconds) + " " + v.T("metric.in_business_hours") + ")"
		if c.Sla != "" {
			out += " · " + v.T("sla."+c.Sla)
		}
		return out
	}
	out := v.T("metric.human_wait.unanswered") + " " + v.At(c.HumanWaitFrom)
	if c.Sla != "" {
		out += " · " + v.T("sla."+c.Sla)
	}
	return out
}

// Waiting describes the conversation's place in the queue: since when, and its WhatsApp window;
// "" when it is not awaiting a person.
func (v ConversationView) Waiting() string {
	c := v.D.Conversation
	if c.WaitingSince == nil {
		return ""
	}
	out := v.T("queue.since") + " " + v.At(c.WaitingSince)
	if c.WindowClosesAt != nil && c.SyncedAt != nil {
		if left := c.WindowClosesAt.Sub(*c.SyncedAt); left > 0 {
			out += " · " + v.T("queue.col.window") + " " + fmt.Sprintf(v.T("queue.window.closes_in"), shortDuration(left))
		} else {
			out += " · " + v.T("queue.window.closed")
		}
	}
	return out
}

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scope(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
	if err != nil || id <= 0 {
		return apperr.New(apperr.NotFound, "err.conversation.not_found")
	}
	d, err := s.dash.Detail(r.Context(), sc.db, sc.Tenant.ID, int32(id))
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "conversation:"+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	f, err := s.filter(r, sc)
	if err != nil {
		f = dashboard.Filter{}
	}
	return s.render(w, r, http.StatusOK, "conversation", ConversationView{TenantPage: s.tenantPage(r, "conversation.title", "/conversations", sc, f), D: d})
}
