package mail

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Worker drains the queue: it claims due messages (a lease, FOR UPDATE SKIP LOCKED, so any number
// of `serve` replicas share the queue), hands them to the Sender and records each attempt.
type Worker struct {
	DB     *pg.DB
	Sender Sender
	From   string // MAIL_FROM
	Log    *slog.Logger
	// Batch is how many messages one claim takes (default 10); Lease how long a claim lasts
	// before another worker may take the message over (default 5 minutes: longer than one SMTP
	// exchange can take).
	Batch int32
	Lease time.Duration
	// BeforeRecord, when set, runs after the SMTP hand-off and before the outcome is recorded
	// (tests use it to simulate a crash in between).
	BeforeRecord func(id int64) error
}

// Stats counts what one pass did.
type Stats struct {
	Claimed, Sent, Retried, Failed int
}

func (w *Worker) principal() pg.Principal { return pg.System("mailer") }

func (w *Worker) logger() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}

// RunOnce claims one batch, sends it and records the outcomes.
func (w *Worker) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	batch, lease := w.Batch, w.Lease
	if batch <= 0 {
		batch = 10
	}
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	var claimed []dbsqlc.MailClaimRow
	files := map[int64][]File{}
	err := w.DB.InTx(ctx, w.principal(), func(tx pg.Tx) error {
		var err error
		claimed, err = tx.MailClaim(ctx, dbsqlc.MailClaimParams{Lim: batch, LeaseSeconds: int32(lease / time.Second)})
		if err != nil {
			return err
		}
		for _, c := range claimed {
			rows, err := tx.MailAttachments(ctx, dbsqlc.MailAttachmentsParams{TenantID: c.TenantID, MessageID: c.ID})
			if err != nil {
				return err
			}
			for _, r := range rows {
				files[c.ID] = append(files[c.ID], File{Name: r.Filename, ContentType: r.ContentType, ContentID: r.ContentID, Data: r.Data})
			}
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		return st, err
	}
	st.Claimed = len(claimed)
	out := make([]Outgoing, len(claimed))
	for i, c := range claimed {
		var h map[string]string
		_ = json.Unmarshal(c.Headers, &h)
		out[i] = Outgoing{From: w.From, MessageID: c.MessageID, To: c.ToAddress, ToName: c.ToName,
			Subject: c.Subject, Text: c.TextBody, HTML: c.HtmlBody, Headers: h, Files: files[c.ID]}
	}
	results, dialErr := w.Sender.Send(ctx, out)
	for i, c := range claimed {
		var sendErr error
		if dialErr != nil {
			sendErr = dialErr
		} else {
			sendErr = results[i]
		}
		if w.BeforeRecord != nil {
			if err := w.BeforeRecord(c.ID); err != nil {
				return st, err
			}
		}
		p := dbsqlc.MailRecordParams{TenantID: c.TenantID, ID: c.ID, Attempt: c.Attempt, Sent: sendErr == nil}
		if sendErr != nil {
			p.Error = sendErr.Error()
			p.Permanent = dialErr == nil && Permanent(sendErr)
		}
		var status string
		err := w.DB.InTx(context.WithoutCancel(ctx), w.principal(), func(tx pg.Tx) error {
			var err error
			status, err = tx.MailRecord(ctx, p)
			return err
		})
		if err != nil {
			return st, err
		}
		switch status {
		case "sent":
			st.Sent++
		case "queued":
			st.Retried++
			w.logger().Warn("mail: attempt failed, will retry", "id", c.ID, "tenant_id", c.TenantID, "attempt", c.Attempt, "err", sendErr)
		case "failed":
			st.Failed++
			w.logger().Error("mail: giving up", "id", c.ID, "tenant_id", c.TenantID, "attempt", c.Attempt, "err", sendErr)
		}
	}
	return st, nil
}

// Run drains the queue every interval until ctx ends; a full batch is followed at once by the next.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			st, err := w.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.logger().Error("mail: worker pass failed", "err", err)
				}
				break
			}
			if st.Claimed == 0 || (w.Batch > 0 && st.Claimed < int(w.Batch)) || (w.Batch <= 0 && st.Claimed < 10) {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Depth is the outgoing queue at one moment, for /metrics.
type Depth struct {
	Queued, Sending int64
	// OldestDue is how long the oldest due message has waited past its due time: a growing value
	// means no worker is sending (SMTP down, or no `serve` with SMTP_URL running).
	OldestDue time.Duration
}

// QueueDepth reads the queue's depth across tenants, as the worker sees it.
func QueueDepth(ctx context.Context, db *pg.DB) (Depth, error) {
	var d Depth
	err := db.InReadTx(ctx, pg.System("metrics"), func(tx pg.Tx) error {
		row, err := tx.MailQueueDepth(ctx)
		if err != nil {
			return err
		}
		d = Depth{Queued: row.Queued, Sending: row.Sending, OldestDue: time.Duration(row.OldestDueSeconds * float64(time.Second))}
		return nil
	})
	return d, err
}
