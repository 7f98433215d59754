package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// tokenKey is a session token's key in the store: base64url SHA-256, as scs computes it with
// HashTokenInStore. The token itself is only ever in the browser's cookie.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AccountSession is a row of the account page's session list.
type AccountSession struct {
	dbsqlc.SessionListRow
	Device string
}

// AccountPage is "Minha conta": who the user is and their live sessions.
type AccountPage struct {
	Page
	Notice   string
	Sessions []AccountSession
	Loc      *time.Location // the person's own zone (app.users.timezone)
	Zones    []Zone
	Zone     string // the field's value: the saved zone, or what was refused
	Now      time.Time
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	ctx := r.Context()
	v := AccountPage{Page: s.newPage(r, "account.title")}
	var tz string
	if err := s.db.InReadTx(ctx, *pr, func(tx pg.Tx) error {
		rows, err := tx.SessionList(ctx, dbsqlc.SessionListParams{
			CurrentHash: tokenKey(s.sessions.Token(ctx)), IdleSeconds: int32(s.cfg.SessionIdleTimeout / time.Second)})
		if err != nil {
			return err
		}
		for _, row := range rows {
			v.Sessions = append(v.Sessions, AccountSession{SessionListRow: row, Device: deviceName(v.Page, row.UserAgent)})
		}
		tz, err = tx.UserOwnTimezone(ctx)
		return err
	}); err != nil {
		return err
	}
	v.Loc, v.Zone, v.Now = loadZone(tz), tz, s.now()
	zones, err := s.Zones(ctx)
	if err != nil {
		return err
	}
	v.Zones = zones
	if r.URL.Query().Get("zone") == "saved" {
		v.Notice = v.T("zone.saved")
	}
	switch r.URL.Query().Get("ended") {
	case "":
	case "1":
		v.Notice = v.T("account.ended_one")
	default:
		v.Notice = strings.ReplaceAll(v.T("account.ended_many"), "{n}", r.URL.Query().Get("ended"))
	}
	return s.render(w, r, http.StatusOK, "account", v)
}

// accountSessionEnd ends one of the user's own sessions ("encerrar"); another user's id, or an
// id that is gone, is 404.
func (s *Server) accountSessionEnd(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.New(apperr.NotFound, "err.session.not_found")
	}
	var n int32
	if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
		var err error
		n, err = tx.SessionEnd(ctx, dbsqlc.SessionEndParams{ID: &id, KeepHash: tokenKey(s.sessions.Token(ctx))})
		return err
	}); err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "err.session.not_found")
	}
	http.Redirect(w, r, "/account?ended=1", http.StatusSeeOther)
	return nil
}

// accountSessionsEndOthers ends every session of the user but this one ("encerrar todas as
// outras").
func (s *Server) accountSessionsEndOthers(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	ctx := r.Context()
	var n int32
	if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
		var err error
		n, err = tx.SessionEnd(ctx, dbsqlc.SessionEndParams{KeepHash: tokenKey(s.sessions.Token(ctx))})
		return err
	}); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?ended="+strconv.Itoa(int(n)), http.StatusSeeOther)
	return nil
}

// deviceName names a browser and its system from a User-Agent ("Chrome · Windows"); it
// recognises the common ones and says so when it cannot.
func deviceName(p Page, ua string) string {
	has := func(s string) bool { return strings.Contains(ua, s) }
	var browser, system string
	switch {
	case has("Edg/") || has("EdgA/") || has("EdgiOS/"):
		browser = "Edge"
	case has("OPR/") || has("Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("Firefox/") || has("FxiOS/"):
		browser = "Firefox"
	case has("Chrome/") || has("CriOS/") || has("Chromium/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	switch {
	case has("iPhone"):
		system = "iPhone"
	case has("iPad"):
		system = "iPad"
	case has("Android"):
		system = "Android"
	case has("Windows"):
		system = "Windows"
	case has("Mac OS X") || has("Macintosh"):
		system = "macOS"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Linux"):
		system = "Linux"
	}
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "" || system != "":
		return browser + system
	}
	return p.T("account.unknown_device")
}

// accountZone saves the zone the person reads times in (typed leniently: "Brasília", "GMT-3",
// an IANA name), then shows the account page again (post/redirect/get).
func (s *Server) accountZone(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	ctx := r.Context()
	zones, err := s.Zones(ctx)
	if err != nil {
		return err
	}
	name, ok := ParseZone(r.PostFormValue("timezone"), zones)
	if !ok {
		return apperr.New(apperr.Invalid, "zone.invalid")
	}
	if err := s.db.InTx(ctx, *pr, func(tx pg.Tx) error {
		_, err := tx.UserSetOwnTimezone(ctx, name)
		return err
	}); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?zone=saved#zone", http.StatusSeeOther)
	return nil
}
