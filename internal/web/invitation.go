package web

import (
	"net/http"

	"github.com/geniai/analytics/internal/pg"
)

// The invitation link's page: a new user sets their password and the account is created.

func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	st, err := s.acct.InvitationState(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token)
	if err != nil {
		return err
	}
	p := AccountLinkPage{Page: s.newPage(r, "invite.title"), MailEnabled: true, Invite: true, Invalid: !st.Valid,
		Expired: st.Expired, Action: "/invite/" + token, Email: st.Email, FullName: st.FullName, Tenant: st.Tenant}
	status := http.StatusOK
	if p.Invalid {
		status = http.StatusGone
	}
	return s.render(w, r, status, "reset", p)
}

func (s *Server) inviteSubmit(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	email, err := s.acct.AcceptInvitation(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token,
		r.PostForm.Get("new"), r.PostForm.Get("confirm"))
	if err != nil {
		return s.linkFailed(w, r, "invite", token, err)
	}
	s.sessions.Put(r.Context(), keyFlash, translate(s.langOf(r), "invite.done"))
	s.sessions.Put(r.Context(), keyFlash+"_email", email)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
