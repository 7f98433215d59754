package web

import (
	"net/http"
	"time"

	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// PasswordPage is the data of the password change page.
type PasswordPage struct {
	Page
	Error string
	Done  bool
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, "password.title")
	done := s.sessions.PopBool(r.Context(), keyFlash+"_pw")
	return s.render(w, r, http.StatusOK, "password", PasswordPage{Page: p, Done: done})
}

// passwordLocked answers 429 with a Retry-After on the password page of a locked account.
func (s *Server) passwordLocked(w http.ResponseWriter, r *http.Request, page PasswordPage, seconds int32) error {
	w.Header().Set("Retry-After", retrySeconds(time.Duration(seconds)*time.Second))
	page.Error = page.T("password.locked")
	return s.render(w, r, http.StatusTooManyRequests, "password", page)
}

// passwordSubmit changes the user's own password; auth_version moves, so every other session of
// the user is refused at its next request, and this one continues under a new token.
func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	ctx := r.Context()
	page := PasswordPage{Page: s.newPage(r, "password.title")}
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	fail := func(msg string) error {
		page.Error = msg
		return s.render(w, r, http.StatusUnprocessableEntity, "password", page)
	}
	if err := auth.ValidatePassword(next, pr.Email); err != nil {
		return fail(page.Err(err))
	}
	if next != confirm {
		return fail(page.T("password.mismatch"))
	}
	// A wrong current password is a failed attempt for the account (same lockout rules as sign-in,
	// audited as password.change_failed); a locked account may not try at all.
	var cur dbsqlc.UserOwnPasswordCheckRow
	if err := s.db.InReadTx(ctx, *pr, func(tx pg.Tx) error {
		var err error
		cur, err = tx.UserOwnPasswordCheck(ctx)
		return err
	}); err != nil {
		return err
	}
	if cur.RetrySeconds > 0 {
		return s.passwordLocked(w, r, page, cur.RetrySeconds)
	}
	if len(current) > auth.MaxLoginPasswordBytes || !auth.Check(cur.PasswordHash, current) {
		var retry int32
		if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
			var err error
			retry, err = tx.UserOwnPasswordFail(ctx)
			return err
		}); err != nil {
			return err
		}
		if retry > 0 {
			return s.passwordLocked(w, r, page, retry)
		}
		return fail(page.T("password.wrong"))
	}
	newHash, err := auth.Hash(next, s.bcryptCst)
	if err != nil {
		return err
	}
	var version int32
	if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
		var err error
		version, err = tx.UserSetOwnPassword(ctx, newHash)
		return err
	}); err != nil {
		return err
	}
	oldKey := tokenKey(s.sessions.Token(ctx))
	if err := s.sessions.RenewToken(ctx); err != nil {
		return pg.MapError(err)
	}
	// The session follows its new token and the new auth_version; the user's others end.
	if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
		_, err := tx.SessionRotate(ctx, dbsqlc.SessionRotateParams{OldHash: oldKey, NewHash: tokenKey(s.sessions.Token(ctx))})
		return err
	}); err != nil {
		return err
	}
	s.sessions.Put(ctx, keyAuthVersion, version)
	s.sessions.Put(ctx, keyFlash+"_pw", true)
	http.Redirect(w, r, "/account/password", http.StatusSeeOther)
	return nil
}
