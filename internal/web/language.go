package web

import (
	"context"
	"net/http"

	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

// A visitor's language choice (?lang=) is remembered in a plain cookie, never in a session (lang,
// middleware.go): choosing costs an anonymous visitor no session row. A signed-in user's language
// is stored with the user (their e-mails are written in it) and copied into their session, where
// langOf reads it:
//   - at sign-in, a choice made on this device before (the cookie) is stored; without one, the
//     stored language is taken;
//   - a choice made while signed in is stored at once (authenticate), and the cookie follows it.

// keyLang is the signed-in user's stored language, in their session.
const keyLang = "lang"

// chosenLang is the language last chosen on this device, or "" when none was.
func (s *Server) chosenLang(r *http.Request) string {
	if c, err := r.Cookie(s.langCookie()); err == nil {
		l, _ := locale.Match(c.Value)
		return l
	}
	return ""
}

// syncLanguage runs in the sign-in transaction, as the user who just signed in: it stores chosen
// as their language, or returns the stored one when nothing was chosen.
func syncLanguage(ctx context.Context, tx pg.Tx, chosen string) (string, error) {
	if chosen != "" {
		return chosen, tx.UserSetOwnLanguage(ctx, chosen)
	}
	stored, err := tx.UserOwnLanguage(ctx)
	l, _ := locale.Match(stored)
	return l, err
}

// storeLanguage saves l as the signed-in user's language. r's context may carry the request's
// read transaction: the write ends it first (pg.DB.InTx).
func (s *Server) storeLanguage(r *http.Request, p pg.Principal, l string) error {
	ctx := r.Context()
	if err := s.db.InTx(ctx, p, func(tx pg.Tx) error { return tx.UserSetOwnLanguage(ctx, l) }); err != nil {
		return err
	}
	s.sessions.Put(ctx, keyLang, l)
	return nil
}
