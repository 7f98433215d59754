package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Sender delivers queued webhooks: it leases due deliveries of any tenant (several senders never
// take the same one), POSTs each signed body, and records the outcome. A failure is retried with
// backoff — 1, 2, 4 ... minutes, at most an hour apart — up to the delivery's max_attempts; a
// refusal that retrying cannot fix (a 4xx other than 408, 425 or 429, or an address the guard
// refuses) fails at once.
type Sender struct {
	DB     *pg.DB
	Guard  Guard
	Client *http.Client  // default Guard.Client(nil)
	Batch  int           // deliveries leased at once; default 20
	Lease  time.Duration // how long a leased delivery is ours; default 1 minute
	Logger *slog.Logger  // default slog.Default()
	// Now is the clock signing timestamps; default time.Now.
	Now func() time.Time
}

// Run delivers what is due every interval until ctx is done.
func (s *Sender) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("alert webhooks: delivery round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sender) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// principal is the sender's: staff, because it works across tenants.
var principal = pg.System("alerts")

// SendDue leases the due deliveries and delivers them; it returns how many it attempted.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	batch, lease := s.Batch, s.Lease
	if batch <= 0 {
		batch = 20
	}
	if lease <= 0 {
		lease = time.Minute
	}
	var due []dbsqlc.AlertWebhookClaimRow
	if err := s.DB.InTx(ctx, principal, func(tx pg.Tx) error {
		var err error
		due, err = tx.AlertWebhookClaim(ctx, dbsqlc.AlertWebhookClaimParams{Batch: int32(batch), LeaseSeconds: lease.Seconds()})
		if err != nil {
			return err
		}
		for _, d := range due {
			if err := tx.AlertAttemptStart(ctx, dbsqlc.AlertAttemptStartParams{TenantID: d.TenantID, DeliveryID: d.ID, Attempt: d.Attempts}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	client := s.Client
	if client == nil {
		client = s.Guard.Client(nil)
	}
	for _, d := range due {
		status, code, errText := s.deliver(ctx, client, d)
		next := time.Now()
		if status == "queued" {
			if d.Attempts >= d.MaxAttempts {
				status = "failed"
			} else {
				next = next.Add(Backoff(int(d.Attempts)))
			}
		}
		p := dbsqlc.AlertWebhookRecordParams{Status: status, NextAttemptAt: next, TenantID: d.TenantID, DeliveryID: d.ID, Attempt: d.Attempts}
		if code != 0 {
			c := int32(code)
			p.HttpStatus = &c
		}
		if errText != "" {
			p.Error = &errText
		}
		if err := s.DB.InTx(context.WithoutCancel(ctx), principal, func(tx pg.Tx) error { return tx.AlertWebhookRecord(ctx, p) }); err != nil {
			return len(due), err
		}
		if status != "delivered" {
			s.log().Warn("alert webhook not delivered", "tenant", d.TenantID, "delivery", d.ID, "attempt", d.Attempts,
				"status", status, "http", code, "err", errText)
		}
	}
	return len(due), nil
}

// Backoff is the wait before attempt n+1 after attempt n failed: 1 minute doubled per attempt,
// at most an hour.
func Backoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// deliver POSTs one delivery: "delivered", "queued" (try again) or "failed" (do not), with the
// HTTP status and the error to record.
func (s *Sender) deliver(ctx context.Context, client *http.Client, d dbsqlc.AlertWebhookClaimRow) (status string, code int, errText string) {
	u, err := url.Parse(d.Target)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "failed", 0, errNotHTTPS
	}
	if d.Secret == "" {
		return "failed", 0, errNoWebhook
	}
	ts := s.now().Unix()
	eventID := uuidString(d.EventID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, bytes.NewReader(d.Payload))
	if err != nil {
		return "failed", 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GeniAI-Analytics-Alerts/1")
	req.Header.Set(HeaderEvent, EventName(d.Kind))
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(HeaderSignature, Sign(d.Secret, ts, eventID, d.Payload))
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errBlocked) {
			return "failed", 0, errPrivate
		}
		return "queued", 0, shorten(err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return "delivered", c, ""
	case c == http.StatusRequestTimeout || c == http.StatusTooEarly || c == http.StatusTooManyRequests || c >= 500:
		return "queued", c, fmt.Sprintf("HTTP %d", c)
	default:
		return "failed", c, fmt.Sprintf("HTTP %d (recusado pelo destino; não será repetido)", c)
	}
}

func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// QueueDepth reads the webhook delivery queue across tenants, for /metrics: deliveries queued and
// sending, and how long the oldest due one has waited past its due time.
func QueueDepth(ctx context.Context, db *pg.DB) (queued, sending int64, oldestDue time.Duration, err error) {
	err = db.InReadTx(ctx, pg.System("metrics"), func(tx pg.Tx) error {
		row, err := tx.AlertWebhookQueueDepth(ctx)
		if err != nil {
			return err
		}
		queued, sending = row.Queued, row.Sending
		oldestDue = time.Duration(row.OldestDueSeconds * float64(time.Second))
		return nil
	})
	return
}
