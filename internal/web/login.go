package web

import (
	"net/http"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// LoginPage is the data of the sign-in page.
type LoginPage struct {
	Page
	Email string
	Error string
}

// loginForm shows the sign-in page; a signed-in user goes home instead.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	if principalFrom(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	p := s.newPage(r, "login.title")
	p.Flash = s.sessions.PopString(r.Context(), keyFlash)
	email := s.sessions.PopString(r.Context(), keyFlash+"_email")
	return s.render(w, r, http.StatusOK, "login", LoginPage{Page: p, Email: email})
}

// loginSubmit checks the credentials and starts a session under a new token.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	if len(email) > auth.MaxEmailBytes {
		email = email[:auth.MaxEmailBytes]
	}
	ip, ua := s.clientIP(r), userAgent(r)
	acc, err := s.auth.Login(r.Context(), auth.Attempt{
		Email: email, Password: r.PostFormValue("password"), IP: ip, UserAgent: ua,
	})
	if err != nil {
		code := apperr.CodeOf(err)
		if code == apperr.Internal || code == apperr.Unavailable {
			return err
		}
		status := statusOf(err)
		if d := retryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retrySeconds(d))
		}
		page := LoginPage{Page: s.newPage(r, "login.title"), Email: auth.NormalizeEmail(email)}
		page.Error = page.Err(err)
		return s.render(w, r, status, "login", page)
	}
	ctx := r.Context()
	// A new token at every privilege change: a token planted before sign-in is worth nothing.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return pg.MapError(err)
	}
	s.sessions.Put(ctx, keyUserID, acc.UserID)
	s.sessions.Put(ctx, keyTenantID, acc.TenantID)
	s.sessions.Put(ctx, keyRole, acc.Role)
	s.sessions.Put(ctx, keyAuthVersion, acc.AuthVersion)
	s.sessions.Put(ctx, keyIP, ip)
	s.sessions.Put(ctx, keyUA, ua)
	lang := s.chosenLang(r)
	if err := s.db.InTx(ctx, pg.User(acc.TenantID, acc.UserID, acc.Role, ip, ua), func(tx pg.Tx) error {
		_, err := tx.SessionStart(ctx, dbsqlc.SessionStartParams{
			TokenHash: tokenKey(s.sessions.Token(ctx)), LifetimeSeconds: int32(s.cfg.SessionLifetime / time.Second),
			IP: ip, UserAgent: ua,
		})
		if err != nil {
			return err
		}
		lang, err = syncLanguage(ctx, tx, lang)
		return err
	}); err != nil {
		return err
	}
	s.sessions.Put(ctx, keyLang, lang)
	http.Redirect(w, r, homeFor(acc.Role), http.StatusSeeOther)
	return nil
}
func homeFor(role string) string {
	if pg.IsStaffRole(role) {
		return "/admin"
	}
	return "/dashboard"
}

// logout audits, then destroys the session server-side so the old cookie is worthless.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r)
	ctx := r.Context()
	key := tokenKey(s.sessions.Token(ctx))
	if err := s.db.InTx(ctx, *p, func(tx pg.Tx) error {
		if _, err := tx.AuditEvent(ctx, dbsqlc.AuditEventParams{Action: "logout", Entity: "user", EntityID: itoa(p.UserID)}); err != nil {
			return err
		}
		return tx.SessionLogout(ctx, key)
	}); err != nil {
		return err
	}
	if err := s.sessions.Destroy(ctx); err != nil {
		return pg.MapError(err)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// home sends each user to the landing page of their role.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, homeFor(principalFrom(r).Role), http.StatusSeeOther)
	return nil
}
