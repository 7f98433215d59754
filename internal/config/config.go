// Package config reads the process configuration from the environment. Every variable is listed
// in README.md; flags of the geniai subcommands override them.
package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/mail"
)

// Mail is the outgoing-mail part of the configuration.
func (c Config) Mail() mail.Config {
	return mail.Config{SMTPURL: c.SMTPURL, From: c.MailFrom, PublicURL: c.PublicURL}
}

// Config is everything the geniai binary reads from the environment.
type Config struct {
	DatabaseURL          string        // DATABASE_URL: the authenticator (serve, etl, admin commands)
	DatabaseReadURL      string        // DATABASE_READ_URL: a streaming replica for read-only pages and API calls; "" for none
	DatabaseReadMaxLag   time.Duration // DATABASE_READ_MAX_LAG, default 5s: a replica further behind is not used
	MigrationDatabaseURL string        // MIGRATION_DATABASE_URL: the owner (migrate)
	ChatwootDatabaseURL  string        // CHATWOOT_DATABASE_URL: the Chatwoot source, read-only
	ChatwootURL          string        // CHATWOOT_URL: Chatwoot's web address, for "open in Chatwoot" links; "" hides them
	ListenAddr           string        // LISTEN_ADDR, default :8080
	DBMaxConns           int32         // DB_MAX_CONNS, default 16
	StatementTimeout     time.Duration // STATEMENT_TIMEOUT, default 30s
	BcryptCost           int           // BCRYPT_COST, default 12, never below 10
	SessionLifetime      time.Duration // SESSION_LIFETIME, default 24h (absolute)
	SessionIdleTimeout   time.Duration // SESSION_IDLE_TIMEOUT, default 2h
	CookieSecure         bool          // COOKIE_SECURE, default false (true behind TLS)
	HijackUserAgent      string        // HIJACK_USER_AGENT: destroy (default), audit or off
	HijackIP             string        // HIJACK_IP: audit (default), destroy or off
	ETLInterval          time.Duration // ETL_INTERVAL, default 1m; 0 disables the scheduler in serve
	ETLWorkers           int           // ETL_WORKERS, default 2: tenants loaded at once (one database and one source connection each)
	ETLStatementTimeout  time.Duration // ETL_STATEMENT_TIMEOUT, default 10m: every statement of a sync, both databases, every ETL path
	LogLevel             string        // LOG_LEVEL: debug, info (default), warn, error
	TrustProxy           bool          // TRUST_PROXY: take the client IP from X-Forwarded-For
	MetricsAddr          string        // METRICS_ADDR: a listener of its own for /metrics (e.g. 127.0.0.1:9464); "" for none
	MetricsToken         string        // METRICS_TOKEN: serve /metrics on the main listener to this bearer token; "" for never
	WebhookSecret        string        // WEBHOOK_SECRET: the path secret of POST /hooks/chatwoot/{secret}; "" disables the route
	WebhookDebounce      time.Duration // WEBHOOK_DEBOUNCE, default 2s: notices of one tenant within it make one sync
	// DashboardCacheEntries is DASHBOARD_CACHE_ENTRIES, default 2000: dashboards kept computed per
	// (asker, tenant, filter, data version); 0 disables the cache.
	DashboardCacheEntries int
	// PageCacheMB is PAGE_CACHE_MB, default 32: rendered dashboard and list pages (html and gzip) kept per
	// cached result, language and moment; 0 disables it (so does DASHBOARD_CACHE_ENTRIES=0).
	PageCacheMB int
	// Outgoing e-mail (invitations, password resets, digests); all off while SMTP_URL is unset.
	SMTPURL   string // SMTP_URL: smtp://user:pass@host:587 (STARTTLS), smtps://host:465, smtp://host:1025?tls=none
	MailFrom  string // MAIL_FROM: sender, e.g. "GeniAI <noreply@example.com>"
	PublicURL string // PUBLIC_URL: the base of every link in an e-mail (never taken from a request)
}

// FromEnv reads the configuration with getenv (os.Getenv in production, a map in tests).
func FromEnv(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		DatabaseURL:           getenv("DATABASE_URL"),
		DatabaseReadURL:       getenv("DATABASE_READ_URL"),
		DatabaseReadMaxLag:    p.duration("DATABASE_READ_MAX_LAG", 5*time.Second),
		MigrationDatabaseURL:  getenv("MIGRATION_DATABASE_URL"),
		ChatwootDatabaseURL:   getenv("CHATWOOT_DATABASE_URL"),
		ChatwootURL:           strings.TrimRight(strings.TrimSpace(getenv("CHATWOOT_URL")), "/"),
		ListenAddr:            p.str("LISTEN_ADDR", ":8080"),
		DBMaxConns:            int32(p.int("DB_MAX_CONNS", 16)),
		StatementTimeout:      p.duration("STATEMENT_TIMEOUT", 30*time.Second),
		BcryptCost:            p.int("BCRYPT_COST", 12),
		SessionLifetime:       p.duration("SESSION_LIFETIME", 24*time.Hour),
		SessionIdleTimeout:    p.duration("SESSION_IDLE_TIMEOUT", 2*time.Hour),
		CookieSecure:          p.bool("COOKIE_SECURE", false),
		HijackUserAgent:       p.oneOf("HIJACK_USER_AGENT", "destroy", "destroy", "audit", "off"),
		HijackIP:              p.oneOf("HIJACK_IP", "audit", "destroy", "audit", "off"),
		ETLInterval:           p.duration("ETL_INTERVAL", time.Minute),
		ETLWorkers:            p.int("ETL_WORKERS", 2),
		ETLStatementTimeout:   p.duration("ETL_STATEMENT_TIMEOUT", 10*time.Minute),
		LogLevel:              p.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		TrustProxy:            p.bool("TRUST_PROXY", false),
		SMTPURL:               getenv("SMTP_URL"),
		MailFrom:              getenv("MAIL_FROM"),
		PublicURL:             getenv("PUBLIC_URL"),
		MetricsAddr:           getenv("METRICS_ADDR"),
		MetricsToken:          getenv("METRICS_TOKEN"),
		WebhookSecret:         getenv("WEBHOOK_SECRET"),
		WebhookDebounce:       p.duration("WEBHOOK_DEBOUNCE", 2*time.Second),
		DashboardCacheEntries: p.int("DASHBOARD_CACHE_ENTRIES", 2000),
		PageCacheMB:           p.int("PAGE_CACHE_MB", 32),
	}
	if c.DatabaseReadMaxLag <= 0 {
		p.errs = append(p.errs, "DATABASE_READ_MAX_LAG must be a positive duration such as 5s")
	}
	if c.DashboardCacheEntries < 0 || c.DashboardCacheEntries > 1000000 {
		p.errs = append(p.errs, "DASHBOARD_CACHE_ENTRIES must be between 0 (off) and 1000000")
	}
	if c.PageCacheMB < 0 || c.PageCacheMB > 65536 {
		p.errs = append(p.errs, "PAGE_CACHE_MB must be between 0 (off) and 65536")
	}
	if c.WebhookSecret != "" && (len(c.WebhookSecret) < 32 || strings.Trim(c.WebhookSecret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "") {
		p.errs = append(p.errs, "WEBHOOK_SECRET must be at least 32 characters among letters, digits, - and _ (it is part of a URL)")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 32 {
		p.errs = append(p.errs, "METRICS_TOKEN must be at least 32 characters (it guards /metrics on the public listener)")
	}
	if c.BcryptCost < 10 || c.BcryptCost > 16 {
		p.errs = append(p.errs, "BCRYPT_COST must be between 10 and 16")
	}
	if c.ChatwootURL != "" && !webAddress(c.ChatwootURL) {
		p.errs = append(p.errs, "CHATWOOT_URL must be an absolute http(s) URL such as https://chat.example.com")
	}
	if c.ETLWorkers < 1 || c.ETLWorkers > 64 {
		p.errs = append(p.errs, "ETL_WORKERS must be between 1 and 64")
	}
	if c.ETLStatementTimeout <= 0 {
		p.errs = append(p.errs, "ETL_STATEMENT_TIMEOUT must be a positive duration (a sync without a limit could hold a tenant's lock forever)")
	}
	if c.DBMaxConns < 1 {
		p.errs = append(p.errs, "DB_MAX_CONNS must be at least 1")
	}
	// serve's ETL workers hold one pooled connection each for a whole run: keep two for requests.
	if c.ETLWorkers > 0 && int(c.DBMaxConns) < c.ETLWorkers+2 {
		p.errs = append(p.errs, "DB_MAX_CONNS must be at least ETL_WORKERS + 2 (serve's sync workers hold a connection each)")
	}
	if c.SMTPURL != "" {
		if err := (mail.Config{SMTPURL: c.SMTPURL, From: c.MailFrom, PublicURL: c.PublicURL}).Validate(); err != nil {
			p.errs = append(p.errs, err.Error())
		}
	}
	if len(p.errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(p.errs, "; "))
	}
	return c, nil
}

type parser struct {
	getenv func(string) string
	errs   []string
}

func (p *parser) str(name, def string) string {
	if v := p.getenv(name); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def int) int {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q is not a whole number", name, v))
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q is not a duration like 90s, 2h or 0", name, v))
		return def
	}
	return d
}

func (p *parser) bool(name string, def bool) bool {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q is not true or false", name, v))
		return def
	}
	return b
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.errs = append(p.errs, fmt.Sprintf("%s=%q must be one of %s", name, v, strings.Join(allowed, ", ")))
	return def
}

// webAddress reports whether s is an absolute http(s) URL with a host and no query or fragment.
func webAddress(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}
