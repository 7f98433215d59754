// Package web is the HTTP shell: routes, middleware, sessions, sign-in and the pages. Handlers
// are methods on *Server that return an error; one wrapper turns errors into pages.
package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/metrics"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// Options builds a Server.
type Options struct {
	DB     *pg.DB
	Config config.Config
	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // nil: time.Now; tests inject a clock
	// Inboxes lists Chatwoot's inboxes live (the onboarding wizard); nil when no source is set.
	Inboxes func(ctx context.Context) ([]staff.SourceInbox, error)
	// Sync runs one tenant's ETL now ("sincronizar agora", onboarding); nil when no source is set.
	Sync func(ctx context.Context, tenantID int64, full bool) error
	// SessionCleanup is how often expired rows are purged from public.sessions; 0 disables it
	// (tests: each test database is dropped anyway).
	SessionCleanup time.Duration
	// AlertGuard checks webhook URLs when saved; the zero Guard (production) allows public
	// addresses only, resolved by DNS. Tests inject a resolver.
	AlertGuard alert.Guard
	// Metrics records requests; nil: a registry of the server's own. /metrics is served on this
	// listener only when Config.MetricsToken is set (serve also offers METRICS_ADDR).
	Metrics *metrics.Metrics
	// Notify tells a tenant's debounced sync that Chatwoot changed its data (webhooks); nil
	// disables POST /hooks/chatwoot/{secret}, as does an empty Config.WebhookSecret.
	Notify func(tenantID int64)
}

// Server holds what the handlers share.
type Server struct {
	db          *pg.DB
	cfg         config.Config
	log         *slog.Logger
	now         func() time.Time
	sessions    *scs.SessionManager
	compareWarm comparisonWarmer // the client comparisons staff asked for, recomputed each minute
	store       *pgxstore.PostgresStore
	csrf        *http.CrossOriginProtection
	auth        *auth.Authenticator
	pages       map[string]*template.Template
	handler     http.Handler
	bcryptCst   int
	dash        *dashboard.Service
	pageCache   *pageCache // nil: off
	staff       *staff.Service
	tenantAdmin *tenantadmin.Service
	acct        *account.Service
	guard       alert.Guard
	inboxes     func(ctx context.Context) ([]staff.SourceInbox, error)
	sync        func(ctx context.Context, tenantID int64, full bool) error
	metrics     *metrics.Metrics
	// Chatwoot webhooks: the secret's SHA-256 (nil: the route is off), the inbox → tenant map
	// and the debounced sync to notify.
	webhookSecret []byte
	hookInboxes   inboxMap
	notify        func(tenantID int64)
	zones         zoneList // the timezone picker's list, read once
}

// New builds a Server; call Close when done.
func New(o Options) (*Server, error) {
	if o.DB == nil {
		return nil, errors.New("web: nil DB")
	}
	s := &Server{db: o.DB, cfg: o.Config, log: o.Logger, now: o.Now, inboxes: o.Inboxes, sync: o.Sync, guard: o.AlertGuard, metrics: o.Metrics}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	if o.Config.WebhookSecret != "" && o.Notify != nil {
		sum := sha256.Sum256([]byte(o.Config.WebhookSecret))
		s.webhookSecret, s.notify = sum[:], o.Notify
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.bcryptCst = max(o.Config.BcryptCost, auth.MinBcryptCost)
	if s.cfg.SessionLifetime <= 0 {
		s.cfg.SessionLifetime = 24 * time.Hour
	}
	if s.cfg.SessionIdleTimeout <= 0 {
		s.cfg.SessionIdleTimeout = 2 * time.Hour
	}
	s.store = pgxstore.NewWithCleanupInterval(o.DB.Pool, o.SessionCleanup)
	sm := scs.New()
	sm.Store = s.store
	sm.Codec = &memoCodec{max: 10000}
	sm.Lifetime = s.cfg.SessionLifetime
	// The idle timeout is app.session_check's (database clock, activity recorded once a minute):
	// scs's own would rewrite every session on every request.
	sm.IdleTimeout = 0
	// The store keys sessions by the SHA-256 of their token (tokenKey); a read of the table is
	// no set of live sessions.
	sm.HashTokenInStore = true
	sm.Cookie.Name = s.cookieName("geniai_session")
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = s.cfg.CookieSecure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, pg.MapError(err)) }
	s.sessions = sm

	s.csrf = http.NewCrossOriginProtection()
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errCrossOrigin)
	}))
	s.auth = &auth.Authenticator{DB: o.DB, Cost: s.bcryptCst}
	s.dash = &dashboard.Service{DB: o.DB}
	if n := o.Config.DashboardCacheEntries; n > 0 {
		s.dash.Cache = &dashboard.Cache{Max: n}
		s.dash.OnCache = s.metrics.Cache
		s.pageCache = newPageCache(int64(o.Config.PageCacheMB)<<20, s.metrics.PageCache)
		s.dash.CompareCache = &dashboard.CompareCache{}
	}
	s.staff = &staff.Service{DB: o.DB, BcryptCost: s.bcryptCst}
	s.tenantAdmin = &tenantadmin.Service{DB: o.DB, BcryptCost: s.bcryptCst}
	s.acct = &account.Service{DB: o.DB, Mail: o.Config.Mail(), BcryptCost: s.bcryptCst}
	s.auth.Warm()
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	s.handler = s.routes()
	return s, nil
}

// cookieName is name, with the __Host- prefix when cookies are Secure: browsers then accept the
// cookie only from HTTPS, for the whole host (Path=/) and never from a subdomain (no Domain).
func (s *Server) cookieName(name string) string {
	if s.cfg.CookieSecure {
		return "__Host-" + name
	}
	return name
}

// langCookie is the name of the cookie holding the language choice.
func (s *Server) langCookie() string { return s.cookieName("geniai_lang") }

// Handler is the whole application, usable from httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the session cleanup goroutine (the pool belongs to the caller).
func (s *Server) Close() { s.store.StopCleanup() }

// ListenAndServe serves on addr until ctx ends, then shuts down gracefully (in-flight requests
// get up to 20 seconds).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on an existing listener (tests use port :0).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.dash.CompareCache != nil {
		wctx, stop := context.WithCancel(ctx)
		defer stop() // the warmer ends with Serve, whichever way Serve returns
		go s.warmComparisons(wctx, time.Minute)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	s.log.Info("server stopped")
	return err
}
