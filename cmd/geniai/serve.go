package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/metrics"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/web"
)

func init() {
	register("serve", "servidor web (DATABASE_URL, LISTEN_ADDR)", cmdServe)
}

// sessionCleanup is how often serve purges expired sessions. TestServeMetricsAddr turns it off:
// scs's pgxstore starts its cleanup goroutine without synchronisation, so stopping a server
// within moments of its start is a data race under -race (harmless in a process that exits).
var sessionCleanup = 5 * time.Minute

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "serve")
	addr := fs.String("addr", e.cfg.ListenAddr, "endereço de escuta")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need("DATABASE_URL", e.cfg.DatabaseURL); err != nil {
		return err
	}
	// The metrics listener is bound first: a METRICS_ADDR that cannot be had (in use, a typo)
	// stops serve at once rather than leaving it running with nothing to scrape.
	var metricsLn net.Listener
	if addr := e.cfg.MetricsAddr; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR=%s: %w", addr, err)
		}
		defer ln.Close()
		metricsLn = ln
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	db, err := pg.Open(ctx, e.cfg.DatabaseURL, pg.Options{MaxConns: e.cfg.DBMaxConns, StatementTimeout: e.cfg.StatementTimeout})
	if err != nil {
		return err
	}
	defer db.Close()
	m := metrics.New()
	m.AddPool("primary", db.Pool)
	if url := e.cfg.DatabaseReadURL; url != "" {
		r, err := pg.OpenReplica(ctx, url, pg.Options{MaxConns: e.cfg.DBMaxConns, StatementTimeout: e.cfg.StatementTimeout})
		if err != nil {
			return err
		}
		r.MaxLag, r.Logger = e.cfg.DatabaseReadMaxLag, logger
		db.UseReplica(ctx, r)
		m.AddPool("replica", r.Pool)
		m.AddGauge("db_replica_lag_seconds", "Estimated lag of the read replica (DATABASE_READ_URL) behind the primary.",
			nil, time.Second, logger, func(context.Context) ([]metrics.Sample, error) {
				return []metrics.Sample{{Value: r.Status().Lag.Seconds()}}, nil
			})
		m.AddGauge("db_replica_in_use", "1 while read-only pages read from the replica, 0 while they fall back to the primary.",
			nil, time.Second, logger, func(context.Context) ([]metrics.Sample, error) {
				v := 0.0
				if r.Status().Healthy {
					v = 1
				}
				return []metrics.Sample{{Value: v}}, nil
			})
	}
	o := web.Options{DB: db, Config: e.cfg, Logger: logger, SessionCleanup: sessionCleanup, Metrics: m}
	if src := e.cfg.ChatwootDatabaseURL; src != "" {
		runner := &etl.Runner{DB: db, SourceURL: src, Workers: e.cfg.ETLWorkers, StatementTimeout: e.cfg.ETLStatementTimeout,
			OnResult: etlMetrics(m)}
		// After each successful sync of a tenant its alerts are judged at the new sync time and
		// queued (docs/alerts.md): once per conversation, condition and waiting episode, however
		// many servers run. E-mail goes through the mail queue when SMTP is configured.
		ev := &alert.Evaluator{DB: db, PublicURL: e.cfg.PublicURL, ChatwootURL: e.cfg.ChatwootURL}
		if mc := e.cfg.Mail(); mc.Enabled() {
			ev.MailFrom = mc.From
		}
		runner.AfterRun = func(ctx context.Context, tenantID int64) error {
			_, err := ev.Tenant(ctx, tenantID)
			return err
		}
		// The tenants a pass settled together: only those with alerts on are judged.
		runner.AfterSettle = func(ctx context.Context, tenantIDs []int64) error {
			_, err := ev.Tenants(ctx, tenantIDs)
			return err
		}
		// The sender delivers queued webhooks (signed, retried with backoff); several servers never
		// take the same delivery.
		go (&alert.Sender{DB: db, Logger: logger}).Run(ctx, 5*time.Second)
		m.AddGauge("etl_sync_lag_seconds", "Seconds since each tenant's last successful sync (tenants never synced, and cancelled ones, are absent).",
			[]string{"tenant"}, 10*time.Second, logger, syncLag(runner))
		o.Inboxes = func(ctx context.Context) ([]staff.SourceInbox, error) { return chatwoot.Inboxes(ctx, src) }
		o.Sync = func(ctx context.Context, tenantID int64, full bool) error {
			_, err := runner.RunTenant(ctx, tenantID, full)
			return err
		}
		// Chatwoot webhooks notify a tenant's sync within WEBHOOK_DEBOUNCE; the scheduler below
		// stays the safety net for a lost delivery.
		deb := &etl.Debouncer{Delay: e.cfg.WebhookDebounce, Concurrency: e.cfg.ETLWorkers, Logger: logger,
			Sync: func(ctx context.Context, tenantID int64) error {
				_, err := runner.RunTenant(ctx, tenantID, false)
				return err
			}}
		deb.Start(ctx)
		o.Notify = deb.Notify
		// The scheduler syncs every tenant each ETL_INTERVAL; failures back off per tenant and
		// never stop the server.
		go (&etl.Scheduler{Runner: runner, Interval: e.cfg.ETLInterval, Logger: logger}).Run(ctx)
	} else {
		logger.Warn("CHATWOOT_DATABASE_URL not set: no ETL scheduler, no webhooks, no inbox listing")
	}
	addMailQueueGauges(m, db, logger)
	if mc := e.cfg.Mail(); mc.Enabled() {
		sender, err := mail.NewSMTP(mc.SMTPURL)
		if err != nil {
			return err
		}
		// The worker drains the e-mail queue; a down SMTP server only delays it (retries with backoff).
		go (&mail.Worker{DB: db, Sender: sender, From: mc.From, Log: logger}).Run(ctx, 2*time.Second)
	} else {
		logger.Warn("SMTP_URL not set: no e-mail (new users get a one-time password; no reset links, no digests)")
	}
	srv, err := web.New(o)
	if err != nil {
		return err
	}
	if mc := e.cfg.Mail(); mc.Enabled() {
		// Digests due each minute are rendered and queued, once per subscription and period
		// whatever the number of replicas, with the period's conversations as .xlsx.
		go (&digest.Scheduler{DB: db, Dash: &dashboard.Service{DB: db}, Mail: mc, Log: logger,
			Attach: digest.XLSXAttachment(srv.ConversationsXLSX)}).Run(ctx, time.Minute)
	}
	defer srv.Close()
	if metricsLn != nil {
		go serveMetrics(ctx, metricsLn, m.Handler(e.cfg.MetricsToken, logger), logger)
	}
	return srv.ListenAndServe(ctx, *addr)
}

// serveMetrics answers /metrics on a listener of its own (METRICS_ADDR), meant for a private
// interface the scraper reaches; it stops with ctx.
func serveMetrics(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) {
	addr := ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("metrics listening", "addr", addr)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics listener failed", "addr", addr, "err", err)
	}
}

// etlMetrics records every tenant run, whoever started it.
func etlMetrics(m *metrics.Metrics) func(etl.Result) {
	return func(r etl.Result) {
		outcome := "ok"
		switch {
		case r.Skipped:
			outcome = "skipped"
		case r.Err != nil:
			outcome = "failed"
		case r.Unchanged:
			outcome = "unchanged"
		}
		m.ETLRun(outcome, r.Duration, int64(r.Extracted), int64(r.Inserted+r.Updated), int64(r.Deleted))
	}
}

// syncLag reads every tenant's time since its last successful sync.
func syncLag(runner *etl.Runner) func(ctx context.Context) ([]metrics.Sample, error) {
	return func(ctx context.Context) ([]metrics.Sample, error) {
		st, err := runner.Status(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.Sample, 0, len(st))
		for _, t := range st {
			// A cancelled tenant is no longer synced: its lag would only grow and keep an alert on.
			if t.LastSuccessAt != nil && !t.Cancelled {
				out = append(out, metrics.Sample{Labels: []string{t.Slug}, Value: t.Lag.Seconds()})
			}
		}
		return out, nil
	}
}

// addMailQueueGauges exports the outgoing e-mail queue and the alert webhook delivery queue
// (one query per queue and scrape interval), whether or not this process sends: messages queued
// without a sender show here.
func addMailQueueGauges(m *metrics.Metrics, db *pg.DB, log *slog.Logger) {
	addQueueGauges(m, log, "mail_queue", "Outgoing e-mails", "e-mail", func(ctx context.Context) (int64, int64, time.Duration, error) {
		d, err := mail.QueueDepth(ctx, db)
		return d.Queued, d.Sending, d.OldestDue, err
	})
	addQueueGauges(m, log, "alert_webhook_queue", "Alert webhook deliveries", "webhook delivery", func(ctx context.Context) (int64, int64, time.Duration, error) {
		return alert.QueueDepth(ctx, db)
	})
}

// addQueueGauges exports <name>_messages{status} and <name>_oldest_due_seconds from one read.
func addQueueGauges(m *metrics.Metrics, log *slog.Logger, name, what, one string, depth func(ctx context.Context) (int64, int64, time.Duration, error)) {
	var mu sync.Mutex
	var at time.Time
	var queued, sending int64
	var oldest time.Duration
	read := func(ctx context.Context) (int64, int64, time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) >= time.Second {
			q, s, o, err := depth(ctx)
			if err != nil {
				return 0, 0, 0, err
			}
			queued, sending, oldest, at = q, s, o, time.Now()
		}
		return queued, sending, oldest, nil
	}
	m.AddGauge(name+"_messages", what+" waiting (queued, due or backing off) and being sent (sending), all tenants.",
		[]string{"status"}, 15*time.Second, log, func(ctx context.Context) ([]metrics.Sample, error) {
			q, s, _, err := read(ctx)
			if err != nil {
				return nil, err
			}
			return []metrics.Sample{{Labels: []string{"queued"}, Value: float64(q)}, {Labels: []string{"sending"}, Value: float64(s)}}, nil
		})
	m.AddGauge(name+"_oldest_due_seconds", "How long the oldest due "+one+" has waited past its due time (0 when none): growing means nothing is sending.",
		nil, 15*time.Second, log, func(ctx context.Context) ([]metrics.Sample, error) {
			_, _, o, err := read(ctx)
			if err != nil {
				return nil, err
			}
			return []metrics.Sample{{Value: o.Seconds()}}, nil
		})
}
