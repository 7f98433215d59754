package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/pg"
)

// The pages a link in an e-mail leads to, and "Esqueci minha senha". All anonymous: the token in
// the URL is the credential, checked in SQL.

// AccountLinkPage is the data of the forgot-password, reset and invitation pages.
type AccountLinkPage struct {
	Page
	MailEnabled bool
	Sent        bool   // forgot: the request was taken (whatever the address)
	Invalid     bool   // reset/invite: the link is unknown, used, expired or superseded
	Expired     bool   // invite: expired rather than used
	Invite      bool   // which form: invitation (true) or reset
	Action      string // form action
	Email       string
	FullName    string
	Tenant      string
	Error       string
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) error {
	p := AccountLinkPage{Page: s.newPage(r, "forgot.title"), MailEnabled: s.acct.Mail.Enabled()}
	return s.render(w, r, http.StatusOK, "forgot", p)
}

func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) error {
	p := AccountLinkPage{Page: s.newPage(r, "forgot.title"), MailEnabled: s.acct.Mail.Enabled()}
	if !p.MailEnabled {
		return s.render(w, r, http.StatusOK, "forgot", p) // says whom to ask instead
	}
	p.Email = strings.TrimSpace(r.PostForm.Get("email"))
	if len(p.Email) > 254 {
		p.Email = p.Email[:254]
	}
	ip := s.clientIP(r)
	err := s.acct.RequestReset(r.Context(), pg.Anon(ip, userAgent(r)), p.Email, ip)
	switch apperr.CodeOf(err) {
	case "":
		p.Sent = true
		return s.render(w, r, http.StatusOK, "forgot", p)
	case apperr.TooMany:
		w.Header().Set("Retry-After", retrySeconds(time.Hour))
		p.Error = p.T("forgot.throttled")
		return s.render(w, r, http.StatusTooManyRequests, "forgot", p)
	case apperr.Invalid:
		p.Error = p.T("forgot.invalid_email")
		return s.render(w, r, http.StatusUnprocessableEntity, "forgot", p)
	}
	return err
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	st, err := s.acct.ResetState(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token)
	if err != nil {
		return err
	}
	p := AccountLinkPage{Page: s.newPage(r, "reset.title"), MailEnabled: true, Invalid: !st.Valid,
		Action: "/reset/" + token, Email: st.Email}
	status := http.StatusOK
	if p.Invalid {
		status = http.StatusGone
	}
	return s.render(w, r, status, "reset", p)
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	email, err := s.acct.CompleteReset(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token,
		r.PostForm.Get("new"), r.PostForm.Get("confirm"))
	if err != nil {
		return s.linkFailed(w, r, "reset", token, err)
	}
	s.sessions.Put(r.Context(), keyFlash, translate(s.langOf(r), "reset.done"))
	s.sessions.Put(r.Context(), keyFlash+"_email", email)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// linkFailed re-renders a link page with the reason: a bad password (the form again), or a link
// that is no longer valid.
func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, kind, token string, err error) error {
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Conflict {
		return err
	}
	title := "reset.title"
	if kind == "invite" {
		title = "invite.title"
	}
	p := AccountLinkPage{Page: s.newPage(r, title), MailEnabled: true, Invite: kind == "invite", Action: "/" + kind + "/" + token}
	status := statusOf(err)
	if err == account.ErrLinkInvalid {
		p.Invalid = true
		status = http.StatusGone
	} else {
		p.Error = p.Err(err)
		var st account.LinkState
		if kind == "invite" {
			st, _ = s.acct.InvitationState(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token)
		} else {
			st, _ = s.acct.ResetState(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), token)
		}
		p.Email, p.FullName, p.Tenant = st.Email, st.FullName, st.Tenant
		if code == apperr.Conflict {
			p.Invalid = true
		}
	}
	return s.render(w, r, status, "reset", p)
}

// tokenPath hides the token of a link path from the request log.
func tokenPath(path string) string {
	for _, prefix := range []string{"/reset/", "/invite/", "/unsubscribe/"} {
		if strings.HasPrefix(path, prefix) && len(path) > len(prefix) {
			return prefix + "…"
		}
	}
	return path
}
