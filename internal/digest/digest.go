// Package digest sends the scheduled e-mail summaries of a tenant's dashboard. A Scheduler in
// every `geniai serve` asks the database which subscriptions are due (the latest scheduled
// period without a delivery), then for each one, in one transaction run as the subscriber (so
// Row-Level Security scopes every read to their tenant): it records the delivery (the primary key
// makes a second scheduler skip), loads the dashboard for the period, draws the charts, renders
// the message and queues it. A crash before the commit leaves nothing; after it, the mail queue
// delivers.
package digest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/pg"
)

// AttachFunc builds the period's spreadsheet, read as p (the subscriber); nil file means none.
type AttachFunc func(ctx context.Context, p pg.Principal, tenantID int64, f dashboard.Filter, lang string) (*mail.File, error)

// Scheduler delivers due digests.
type Scheduler struct {
	DB   *pg.DB
	Dash *dashboard.Service
	Mail mail.Config
	Now  func() time.Time // nil: time.Now
	Log  *slog.Logger
	// Attach builds the attachment (the period's conversations; `serve` gives XLSXAttachment of
	// the web server's export); nil attaches nothing.
	Attach AttachFunc
	// BeforeCommit, when set, runs after a digest is rendered and queued and before its
	// transaction commits (tests simulate a crash there).
	BeforeCommit func(subscriptionID int64) error
	// Batch bounds one pass (default 100).
	Batch int32
}

// Stats counts what one pass did.
type Stats struct {
	Due, Delivered, Skipped int
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// RunOnce delivers every digest due now. A failure of one subscription is logged and does not
// stop the others (it is retried at the next pass, since nothing of it was recorded).
func (s *Scheduler) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	batch := s.Batch
	if batch <= 0 {
		batch = 100
	}
	var due []dbsqlc.DigestDueRow
	err := s.DB.InReadTx(ctx, pg.System("digest"), func(tx pg.Tx) error {
		var err error
		due, err = tx.DigestDue(ctx, dbsqlc.DigestDueParams{Now: s.now(), Lim: batch})
		return err
	})
	if err != nil {
		return st, err
	}
	st.Due = len(due)
	var firstErr error
	for _, d := range due {
		ok, err := s.Deliver(ctx, d)
		switch {
		case err != nil:
			s.logger().Error("digest: delivery failed", "tenant_id", d.TenantID, "subscription", d.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		case ok:
			st.Delivered++
		default:
			st.Skipped++
		}
	}
	return st, firstErr
}

// Run delivers due digests every interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.logger().Error("digest: pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Subscriber is the principal a digest is rendered as: the subscribing user in their tenant.
func Subscriber(d dbsqlc.DigestDueRow) pg.Principal {
	p := pg.User(d.TenantID, d.UserID, d.Role, "", "digest")
	p.Actor = "digest"
	return p
}

// Compose renders the digest of d inside tx, which runs as the subscriber (Subscriber(d)): the
// period's dashboard, its charts and attachment, the links (the unsubscribe link carries key).
func (s *Scheduler) Compose(ctx context.Context, tx pg.Tx, d dbsqlc.DigestDueRow, key string) (mail.Message, error) {
	f := dashboard.Filter{From: d.PeriodStart, To: d.PeriodEnd}
	dash, err := s.Dash.LoadIn(ctx, tx, d.TenantID, f)
	if err != nil {
		return mail.Message{}, err
	}
	b, err := tx.MailBrandOf(ctx, d.TenantID)
	if err != nil {
		return mail.Message{}, err
	}
	base, err := mail.PublicBase(s.Mail.PublicURL)
	if err != nil {
		return mail.Message{}, err
	}
	in := Input{
		Lang: d.Language, Frequency: d.Frequency, Name: d.FullName, Email: d.Email,
		Brand: mail.Brand{Name: b.Name, Primary: b.PrimaryColor, Secondary: b.SecondaryColor, LogoURL: b.LogoURL},
		Dash:  dash, PublicURL: base,
		UnsubscribeURL: fmt.Sprintf("%s/unsubscribe/%d.%d.%s", base, d.TenantID, d.ID, key),
	}
	if s.Attach != nil {
		if in.File, err = s.Attach(ctx, Subscriber(d), d.TenantID, f, d.Language); err != nil {
			return mail.Message{}, err
		}
	}
	return Render(in)
}

// Deliver renders and queues one due digest; false when another scheduler already delivered
// this period.
func (s *Scheduler) Deliver(ctx context.Context, d dbsqlc.DigestDueRow) (bool, error) {
	p := Subscriber(d)
	delivered := false
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		if _, err := tx.DigestDeliveryClaim(ctx, dbsqlc.DigestDeliveryClaimParams{
			TenantID: d.TenantID, SubscriptionID: d.ID, PeriodStart: d.PeriodStart, PeriodEnd: d.PeriodEnd,
			ScheduledFor: d.ScheduledFor,
		}); pg.IsNoRows(err) {
			return nil // delivered by another scheduler (or the subscription is gone)
		} else if err != nil {
			return err
		}
		key, err := tx.DigestSubscriptionKey(ctx, dbsqlc.DigestSubscriptionKeyParams{TenantID: d.TenantID, ID: d.ID})
		if err != nil {
			return err
		}
		msg, err := s.Compose(ctx, tx, d, key)
		if err != nil {
			return err
		}
		msg.TenantID, msg.UserID, msg.To, msg.ToName = d.TenantID, d.UserID, d.Email, d.FullName
		msg.Ref = fmt.Sprintf("digest:%d", d.ID)
		id, err := mail.Enqueue(ctx, tx, s.Mail.From, msg)
		if err != nil {
			return err
		}
		if err := tx.DigestDeliveryMail(ctx, dbsqlc.DigestDeliveryMailParams{MailID: &id, TenantID: d.TenantID,
			SubscriptionID: d.ID, PeriodStart: d.PeriodStart}); err != nil {
			return err
		}
		if s.BeforeCommit != nil {
			if err := s.BeforeCommit(d.ID); err != nil {
				return err
			}
		}
		delivered = true
		return nil
	})
	return delivered && err == nil, err
}
