package web

import (
	"net/http"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/locale"
)

// sessionRefusal is why a signed-in account may no longer sign in (app.sign_in_refusal's reason:
// inactive, suspended, cancelled, trial_ended, not_active) and the name of its client.
type sessionRefusal struct {
	Reason string
	Tenant string
}

// EndedPage explains a session that ended because the account may no longer sign in.
type EndedPage struct {
	Page
	Message string
}

// wantsPage says whether a request is a page the browser shows (a link, a form), not an asset or
// a script's fetch: browsers ask for text/html when they navigate.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// endedKeys words each reason for the person whose session it ended, naming their client.
var endedKeys = map[string]string{
	"inactive": "ended.inactive", "suspended": "ended.suspended", "cancelled": "ended.cancelled",
	"trial_ended": "ended.trial_ended", "not_active": "ended.not_active",
}

// sessionEnded answers the first page request after an account was deactivated or its client
// suspended, cancelled or out of trial, mid-session: the session is gone, and instead of a bare
// login page the person reads why, in their language, and whom to ask. The reason is
// app.sign_in_refusal's, the rule sign-in applies (the JSON API answers with sign-in's own
// refusal, auth.Refusal, and its stable key).
func (s *Server) sessionEnded(w http.ResponseWriter, r *http.Request, why sessionRefusal, lang string) {
	p := s.newPage(r, "ended.title")
	if l, ok := locale.Match(lang); ok && r.URL.Query().Get("lang") == "" {
		p.Lang = l // the language the person chose, kept from the session that just ended
		p.Title = p.T("ended.title")
	}
	if isAPI(r) {
		err := auth.Refusal(why.Reason)
		s.failJSON(w, r, http.StatusForbidden, err, apperr.Message(err, p.Lang))
		return
	}
	key, ok := endedKeys[why.Reason]
	if !ok {
		key = endedKeys["not_active"]
	}
	msg := locale.Translate(p.Lang, key, why.Tenant)
	if err := s.render(w, r, http.StatusForbidden, "ended", EndedPage{Page: p, Message: msg}); err != nil {
		s.fail(w, r, err)
	}
}
