package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// The JSON API serves the same data as the pages, under the same session and isolation. Errors
// are JSON too: {"error": {"code": "...", "message": "...", "request_id": "..."}}.

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiError is the body of every API error: the code, the message key (stable, for programs) and
// the message in the request's language (?lang=, then Accept-Language, then the session; pt-BR).
type apiError struct {
	Code      string `json:"code"`
	Key       string `json:"key"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, status int, err error, msg string) {
	_ = writeJSON(w, status, map[string]apiError{"error": {
		Code: string(apperr.CodeOf(err)), Key: apperr.KeyOf(err), Message: msg, RequestID: infoFrom(r.Context()).id,
	}})
}

// APIValue is a KPI in the API: current value, previous period's, and the change in percent.
type APIValue struct {
	Value     *float64 `json:"value"`
	Previous  *float64 `json:"previous"`
	ChangePct *float64 `json:"change_pct"`
}

func apiValue(v dashboard.Value) APIValue {
	return APIValue{Value: v.Cur, Previous: v.Prev, ChangePct: v.Change()}
}

// APIPeriod is the period of a response and of its comparison.
type APIPeriod struct {
	From         string `json:"from"`
	To           string `json:"to"`
	PreviousFrom string `json:"previous_from"`
	PreviousTo   string `json:"previous_to"`
	Timezone     string `json:"timezone"`
}

func apiPeriod(f dashboard.Filter, tz string) APIPeriod {
	p := f.Previous()
	return APIPeriod{From: f.From.Format(time.DateOnly), To: f.To.Format(time.DateOnly),
		PreviousFrom: p.From.Format(time.DateOnly), PreviousTo: p.To.Format(time.DateOnly), Timezone: tz}
}

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request) error {
	sc, f, d, err := s.loadDashboard(r, false)
	if err != nil {
		return err
	}
	k := d.KPIs
	return writeJSON(w, http.StatusOK, map[string]any{
		"tenant":       sc.Tenant.Slug,
		"period":       apiPeriod(f, sc.Tenant.Timezone),
		"last_sync_at": d.LastSyncAt,
		"kpis": map[string]APIValue{
			"conversations": apiValue(k.Conversations), "leads": apiValue(k.Leads), "visits": apiValue(k.Visits),
			"conversions": apiValue(k.Conversions), "lead_to_visit_rate": apiValue(k.LeadToVisit),
			"visit_to_conversion_rate": apiValue(k.VisitToConversion), "unanswered_leads": apiValue(k.UnansweredLeads),
			"first_reply_p50_seconds": apiValue(k.FirstReplyP50), "first_reply_p90_seconds": apiValue(k.FirstReplyP90),
			"first_human_reply_p50_seconds": apiValue(k.FirstHumanReplyP50),
			"first_human_reply_p90_seconds": apiValue(k.FirstHumanReplyP90),
			"resolution_rate":               apiValue(k.ResolutionRate), "resolution_p50_seconds": apiValue(k.ResolutionP50),
			"bot_resolved_share": apiValue(k.BotResolvedShare), "handoff_rate": apiValue(k.HandoffRate),
			"csat_satisfaction": apiValue(k.CSATSatisfaction), "csat_responses": apiValue(k.CSATResponses),
			"handoff_requests": apiValue(k.HandoffRequests), "human_waits": apiValue(k.HumanWaits),
			"human_wait_p50_seconds": apiValue(k.HumanWaitP50), "human_wait_p90_seconds": apiValue(k.HumanWaitP90),
			"sla_within_share": apiValue(k.SLAWithinShare), "sla_within": apiValue(k.SLAWithin), "sla_missed": apiValue(k.SLAMissed),
		},
		// Durations in business time (hours=business) or calendar time.
		"business_hours": f.Business,
		"sla_seconds":    d.SLASeconds,
		// The queue is a state as of the last sync, not a figure of the period: no previous value.
		"awaiting": map[string]int64{"conversations": d.Awaiting, "past_sla": d.AwaitingPastSLA},
	})
}

// loadDashboard loads the dashboard of the request's filter; byInbox asks for the daily series
// per inbox whatever the filter says (the series API always has it).
func (s *Server) loadDashboard(r *http.Request, byInbox bool) (*tenantScope, dashboard.Filter, *dashboard.Dashboard, error) {
	sc, f, err := s.scopeFilter(r)
	if err != nil {
		return nil, f, nil, err
	}
	f.Stacked = f.Stacked || byInbox
	d, err := s.dash.Load(r.Context(), sc.db, sc.Tenant.ID, f)
	if err != nil {
		return nil, f, nil, err
	}
	return sc, f, d, s.auditView(r, sc, "api")
}

type apiDay struct {
	Day           string           `json:"day"`
	Conversations int64            `json:"conversations"`
	Leads         int64            `json:"leads"`
	ByInbox       map[string]int64 `json:"by_inbox"`
}

type apiCount struct {
	Key           string `json:"key"`
	Label         string `json:"label,omitempty"`
	Conversations int64  `json:"conversations"`
}

func (s *Server) apiSeries(w http.ResponseWriter, r *http.Request) error {
	sc, f, d, err := s.loadDashboard(r, true)
	if err != nil {
		return err
	}
	daily := []apiDay{}
	for _, p := range d.DailySeries() {
		by := map[string]int64{}
		for id, n := range p.ByInbox {
			by[strconv.Itoa(int(id))] = n
		}
		daily = append(daily, apiDay{Day: p.Day.Format(time.DateOnly), Conversations: p.Conversations, Leads: p.Leads, ByInbox: by})
	}
	frt := []apiCount{}
	for i, n := range d.FRTCounts() {
		frt = append(frt, apiCount{Key: strconv.Itoa(i), Label: dashboard.FRTBuckets[i], Conversations: n})
	}
	heat := []map[string]int64{}
	grid, _ := d.HeatmapGrid()
	for dow := range grid {
		for h := range grid[dow] {
			heat = append(heat, map[string]int64{"dow": int64(dow), "hour": int64(h), "conversations": grid[dow][h]})
		}
	}
	csat := []apiCount{}
	for i, n := range d.CSATCounts() {
		csat = append(csat, apiCount{Key: strconv.Itoa(i + 1), Conversations: n})
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"tenant": sc.Tenant.Slug, "period": apiPeriod(f, sc.Tenant.Timezone),
		"daily": daily, "first_reply": frt, "heatmap": heat, "csat": csat,
		"inboxes": d.ByInbox, "labels": d.ByLabel,
	})
}

func (s *Server) apiConversations(w http.ResponseWriter, r *http.Request) error {
	sc, f, err := s.scopeFilter(r)
	if err != nil {
		return err
	}
	page, err := s.dash.List(r.Context(), sc.db, sc.Tenant.ID, f)
	if err != nil {
		return err
	}
	if err := s.auditView(r, sc, "api"); err != nil {
		return err
	}
	var next *string
	if page.Next != nil {
		c := page.Next.String()
		next = &c
	}
	// A bare-number search ("1374") also names the conversation with that number, as the page's
	// box above the list does; empty otherwise ("#1374" lists that conversation only).
	numbered := page.Numbered
	if numbered == nil {
		numbered = []dbsqlc.ConversationByNumberRow{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Tenant        string                           `json:"tenant"`
		Period        APIPeriod                        `json:"period"`
		Total         int64                            `json:"total"`
		Numbered      []dbsqlc.ConversationByNumberRow `json:"numbered"`
		Conversations []dbsqlc.ConversationPageRow     `json:"conversations"`
		NextCursor    *string                          `json:"next_cursor"`
	}{sc.Tenant.Slug, apiPeriod(f, sc.Tenant.Timezone), page.Total, numbered, page.Rows, next})
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request) error {
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
	if err := s.auditView(r, sc, "api"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"conversation": d.Conversation, "inbox_name": d.InboxName, "messages": d.Messages})
}
