package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

// Session keys.
const (
	keyUserID      = "uid"
	keyTenantID    = "tid"
	keyRole        = "role"
	keyAuthVersion = "av"
	keyIP          = "ip"
	keyUA          = "ua"
	keyFlash       = "flash"
)

// reqInfo travels in the context from the request log to the handlers, which fill in who asked.
type reqInfo struct {
	id        string
	userID    int64
	tenantID  int64
	principal *pg.Principal
}

type ctxKey int

const infoKey ctxKey = 0

func infoFrom(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// principalFrom is the signed-in user of a request, as re-checked in SQL (nil before sign-in).
func principalFrom(r *http.Request) *pg.Principal { return infoFrom(r.Context()).principal }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives the request an id and logs one line when it ends.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", info.id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey, info)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", info.id),
			slog.String("method", r.Method),
			slog.String("path", loggedPath(r.URL.Path)),
			slog.Int("status", sw.status),
			slog.Int64("user_id", info.userID),
			slog.Int64("tenant_id", info.tenantID),
			slog.Duration("duration", time.Since(start)))
	})
}

// loggedPath is the path as logged: a webhook's secret and a link's token never reach the logs.
func loggedPath(p string) string {
	if strings.HasPrefix(p, webhookPathPrefix) {
		return webhookPathPrefix + "[secret]"
	}
	return tokenPath(p)
}

// recoverPanics turns a panic into the 500 page; the stack goes to the log only.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "request_id", infoFrom(r.Context()).id, "panic", v, "stack", string(debug.Stack()))
				w.Header().Set("Connection", "close")
				s.fail(w, r, apperr.Wrap(fmt.Errorf("panic: %v", v), apperr.Internal, apperr.KeyInternal))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// imgSrc is the policy's img-src: the app's own images only; a page showing the client's logo
// adds exactly that address (pageCSP).
const imgSrc = "img-src 'self'"

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; " + imgSrc + "; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// hsts asks browsers to use HTTPS only, for two years, once the server is known to sit behind
// TLS (COOKIE_SECURE). Subdomains are the operator's business and are left out.
const hsts = "max-age=63072000"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.cfg.CookieSecure {
			h.Set("Strict-Transport-Security", hsts)
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address of the client: the connection's, or the last X-Forwarded-For hop when
// the server sits behind a trusted proxy (the proxy appends what it saw; earlier hops are the
// client's word).
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return ""
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 500 {
		ua = ua[:500]
	}
	return ua
}

// authenticate loads the session's user and re-checks it, and the session itself, in SQL on every
// request (app.session_check, database clock); a session that fails any check is destroyed and
// the visitor continues as anonymous. The check opens the request's one read transaction, which
// the handlers' reads join (pg.Request): a signed-in page view costs the session lookup and that
// transaction, and writes nothing but, once a minute, the session's activity.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		uid := s.sessions.GetInt64(ctx, keyUserID)
		if uid == 0 {
			next.ServeHTTP(w, r)
			return
		}
		p, rq, rctx, touch, refusal, err := s.checkSession(r, uid)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if p == nil {
			if refusal.Reason != "" && !isAPI(r) && !wantsPage(r) {
				// An asset or a script's fetch continues anonymous and leaves the session for
				// the next page, which says why it ended.
				next.ServeHTTP(w, r)
				return
			}
			lang := s.sessions.GetString(ctx, keyLang)
			if err := s.sessions.Destroy(ctx); err != nil {
				s.fail(w, r, pg.MapError(err))
				return
			}
			if refusal.Reason != "" {
				s.sessionEnded(w, r, refusal, lang)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		defer func() { _ = rq.End(ctx) }()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			_ = rq.End(ctx) // a request that writes holds no read transaction while it does
		}
		info := infoFrom(ctx)
		info.principal, info.userID, info.tenantID = p, p.UserID, p.TenantID
		rr := r.WithContext(rctx)
		if l, ok := locale.Match(r.URL.Query().Get("lang")); ok && l != s.sessions.GetString(ctx, keyLang) {
			// A language chosen while signed in is stored (the rare request that writes it
			// gives up the shared read transaction).
			if err := s.storeLanguage(rr, *p, l); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, rr)
		if touch {
			_ = rq.End(ctx)
			key := tokenKey(s.sessions.Token(ctx))
			// After the response: a client that hung up as soon as it had it (curl, a script)
			// has cancelled the request's context by now, and the activity must still count.
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.db.InTx(tctx, *p, func(tx pg.Tx) error {
				return tx.SessionTouch(tctx, dbsqlc.SessionTouchParams{TokenHash: key, IP: p.IP, UserAgent: p.UserAgent})
			}); err != nil {
				s.log.Warn("session activity not recorded", "request_id", info.id, "error", err)
			}
		}
	})
}

// checkSession returns the principal and the request's open transaction (and ctx carrying it),
// or a nil principal when the session must end; touch says its activity is due to be recorded,
// refusal why the account may no longer sign in (app.sign_in_refusal), when that is why.
func (s *Server) checkSession(r *http.Request, uid int64) (_ *pg.Principal, _ *pg.Request, _ context.Context, touch bool, refusal sessionRefusal, _ error) {
	ctx := r.Context()
	tid := s.sessions.GetInt64(ctx, keyTenantID)
	role := s.sessions.GetString(ctx, keyRole)
	av := s.sessions.GetInt32(ctx, keyAuthVersion)
	ip, ua := s.clientIP(r), userAgent(r)
	dbp := pg.User(tid, uid, role, ip, ua)

	if oldUA := s.sessions.GetString(ctx, keyUA); oldUA != ua && s.cfg.HijackUserAgent != "off" {
		if err := s.audit(ctx, dbp, "session.hijack_user_agent", uid, map[string]string{"old_user_agent": oldUA, "new_user_agent": ua}); err != nil {
			return nil, nil, ctx, false, sessionRefusal{}, err
		}
		if s.cfg.HijackUserAgent == "destroy" {
			return nil, nil, ctx, false, sessionRefusal{}, nil
		}
		s.sessions.Put(ctx, keyUA, ua)
	}
	if oldIP := s.sessions.GetString(ctx, keyIP); oldIP != ip && s.cfg.HijackIP != "off" {
		if err := s.audit(ctx, dbp, "session.ip_changed", uid, map[string]string{"old_ip": oldIP, "new_ip": ip}); err != nil {
			return nil, nil, ctx, false, sessionRefusal{}, err
		}
		if s.cfg.HijackIP == "destroy" {
			return nil, nil, ctx, false, sessionRefusal{}, nil
		}
		s.sessions.Put(ctx, keyIP, ip)
	}

	var row dbsqlc.SessionCheckRow
	found := false
	rq, rctx, err := s.db.BeginRequest(ctx, dbp, func(tx pg.Tx) error {
		var err error
		row, err = tx.SessionCheck(ctx, dbsqlc.SessionCheckParams{
			UserID: uid, AuthVersion: av, TokenHash: tokenKey(s.sessions.Token(ctx)),
			IdleSeconds: int32(s.cfg.SessionIdleTimeout / time.Second),
		})
		if pg.IsNoRows(err) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return nil, nil, ctx, false, sessionRefusal{}, err
	}
	// The role in the session chose the database role; a role changed since sign-in (or a staff
	// member moved) ends the session rather than running under a stale role.
	if !found || !row.Allowed || row.Role != role || row.TenantID != tid {
		_ = rq.End(ctx)
		return nil, nil, ctx, false, sessionRefusal{Reason: row.Refusal, Tenant: row.TenantName}, nil
	}
	p := pg.User(row.TenantID, row.UserID, row.Role, ip, ua)
	p.Email, p.FullName, p.TenantSlug, p.TenantName = row.Email, row.FullName, row.TenantSlug, row.TenantName
	return &p, rq, rctx, row.TouchDue, sessionRefusal{}, nil
}

// audit writes an event for p in its own transaction.
func (s *Server) audit(ctx context.Context, p pg.Principal, action string, userID int64, details map[string]string) error {
	var js []byte
	if details != nil {
		var err error
		if js, err = json.Marshal(details); err != nil {
			return err
		}
	}
	return s.db.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.AuditEvent(ctx, dbsqlc.AuditEventParams{
			Action: action, Entity: "user", EntityID: itoa(userID), Details: js,
		})
		return err
	})
}

// requireUser sends anonymous visitors to /login.
func (s *Server) requireUser(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if principalFrom(r) == nil {
			if isAPI(r) {
				return apperr.New(apperr.Unauthorized, "err.session.expired")
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		return h(w, r)
	}
}

// requireRole answers 404 to users without one of the roles: the page does not exist for them.
func (s *Server) requireRole(h handlerFunc, roles ...string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := principalFrom(r)
		for _, role := range roles {
			if p != nil && p.Role == role {
				return h(w, r)
			}
		}
		return apperr.New(apperr.NotFound, "err.page.not_found")
	}
}

// lang remembers a ?lang= choice in a plain cookie (a year), never in a session: an anonymous
// visitor choosing a language must not cost a row in the session store.
func (s *Server) lang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := locale.Match(r.URL.Query().Get("lang")); ok {
			if c, err := r.Cookie(s.langCookie()); err != nil || c.Value != l {
				http.SetCookie(w, &http.Cookie{
					Name: s.langCookie(), Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
					HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode,
				})
			}
		}
		next.ServeHTTP(w, r)
	})
}
