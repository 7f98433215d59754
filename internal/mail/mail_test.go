package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/mailcatcher"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

const from = "GeniAI <noreply@geniai.test>"

type fixture struct {
	env      *pgtest.Env
	tenant   int64
	other    int64
	userID   int64
	catcher  *mailcatcher.Catcher
	sender   *mail.SMTP
	worker   *mail.Worker
	tenantPr pg.Principal
}

// setup: a database with two tenants and an admin in the first, a catcher that requires STARTTLS
// and a password (as a real provider does), and a worker sending to it.
func setup(t *testing.T, reject func(string) error) *fixture {
	t.Helper()
	env := pgtest.New(t)
	f := &fixture{env: env}
	su := pgtest.Conn(t, env.SuperURL)
	ctx := context.Background()
	for _, slug := range []string{"academia-a", "academia-b"} {
		var id int64
		if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if f.tenant == 0 {
			f.tenant = id
		} else {
			f.other = id
		}
	}
	if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, role)
		VALUES ($1, 'ana@a.test', '$2a$10$abcdefghijklmnopqrstuv', 'admin') RETURNING id`, f.tenant).Scan(&f.userID); err != nil {
		t.Fatal(err)
	}
	serverTLS, pool, err := mailcatcher.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	f.catcher, err = mailcatcher.Start(mailcatcher.Options{TLS: serverTLS, Username: "geniai", Password: "s3cret", Reject: reject})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.catcher.Close() })
	f.sender, err = mail.NewSMTP("smtp://geniai:s3cret@" + f.catcher.Addr())
	if err != nil {
		t.Fatal(err)
	}
	f.sender.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	f.worker = &mail.Worker{DB: env.DB, Sender: f.sender, From: from}
	f.tenantPr = pg.User(f.tenant, f.userID, pg.AppAdmin, "127.0.0.1", "test")
	return f
}

func (f *fixture) enqueue(t *testing.T, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := f.env.DB.InTx(context.Background(), f.tenantPr, func(tx pg.Tx) error {
		var err error
		id, err = mail.Enqueue(context.Background(), tx, from, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) status(t *testing.T, id int64) (status string, attempts int, lastError string) {
	t.Helper()
	su := pgtest.Conn(t, f.env.SuperURL)
	if err := su.QueryRow(context.Background(), `SELECT status, attempts, coalesce(last_error, '') FROM app.mail_outbox WHERE id = $1`, id).
		Scan(&status, &attempts, &lastError); err != nil {
		t.Fatal(err)
	}
	return
}

// makeDue moves every message's next attempt (or lease end) into the past, as time passing would.
func (f *fixture) makeDue(t *testing.T) {
	t.Helper()
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(context.Background(), `UPDATE app.mail_outbox SET next_attempt_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
}

var png1x1 = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3}

func TestQueueDeliversMIMEOverSTARTTLS(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	id := f.enqueue(t, mail.Message{
		TenantID: f.tenant, Kind: "digest", Ref: "digest:1:2026-12-07", UserID: f.userID,
		To: "Ana@A.test", ToName: "Ana Souza", Subject: "Resumo semanal — Academia A",
		Text: "Conversas: 1.234\n", HTML: `<p>Conversas: <b>1.234</b></p><img src="cid:chart-1">`,
		Headers: map[string]string{"List-Unsubscribe": "<https://x.test/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		Files: []mail.File{
			{Name: "chart.png", ContentType: "image/png", ContentID: "chart-1", Data: png1x1},
			{Name: "conversas.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: []byte("PK\x03\x04xlsx")},
		},
	})
	// Nothing is sent until the worker runs: enqueueing never talks to SMTP.
	if n := len(f.catcher.Messages()); n != 0 {
		t.Fatalf("enqueue sent %d messages by itself", n)
	}
	st, err := f.worker.RunOnce(ctx)
	if err != nil || st.Sent != 1 {
		t.Fatalf("RunOnce = %+v, %v; want one sent", st, err)
	}
	msgs := f.catcher.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "ana@a.test" || msgs[0].From != "noreply@geniai.test" {
		t.Fatalf("envelope = %+v", msgs)
	}
	p, err := msgs[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "Resumo semanal — Academia A" || !strings.Contains(p.Text, "Conversas: 1.234") || !strings.Contains(p.HTML, "<b>1.234</b>") {
		t.Errorf("subject %q, text %q, html %q", p.Subject, p.Text, p.HTML)
	}
	for h, want := range map[string]string{
		"List-Unsubscribe": "<https://x.test/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Auto-Submitted": "auto-generated",
	} {
		if got := p.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var stored string
	su := pgtest.Conn(t, f.env.SuperURL)
	if err := su.QueryRow(ctx, `SELECT message_id FROM app.mail_outbox WHERE id = $1`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if got := p.Header.Get("Message-Id"); got != stored || !strings.HasSuffix(stored, "@geniai.test>") {
		t.Errorf("Message-ID %q, stored %q", got, stored)
	}
	structure := strings.Join(p.Structure, "|")
	for _, want := range []string{"multipart/mixed", "multipart/related", "multipart/alternative", "text/plain", "text/html"} {
		if !strings.Contains(structure, want) {
			t.Errorf("MIME structure %q lacks %s", structure, want)
		}
	}
	img, ok := p.Part("chart.png")
	if !ok || img.ContentID != "chart-1" || !img.Inline || !bytes.Equal(img.Data, png1x1) {
		t.Errorf("inline image = %+v (found %v)", img, ok)
	}
	att, ok := p.Part("conversas.xlsx")
	if !ok || att.Inline || !bytes.Equal(att.Data, []byte("PK\x03\x04xlsx")) {
		t.Errorf("attachment = %+v (found %v)", att, ok)
	}
	if s, n, _ := f.status(t, id); s != "sent" || n != 1 {
		t.Errorf("status %s after %d attempts, want sent after 1", s, n)
	}
	var outcome string
	if err := su.QueryRow(ctx, `SELECT string_agg(outcome, ',' ORDER BY attempt) FROM app.mail_attempts WHERE message_id = $1`, id).Scan(&outcome); err != nil || outcome != "sent" {
		t.Errorf("attempts = %q, %v", outcome, err)
	}
	// A second pass finds nothing to do.
	if st, err := f.worker.RunOnce(ctx); err != nil || st.Claimed != 0 {
		t.Errorf("second pass = %+v, %v", st, err)
	}
}

func TestQueueRetriesWithBackoffAndGivesUpOnPermanentRefusal(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	temporary := 2
	f := setup(t, func(to string) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(to, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		if temporary > 0 {
			temporary--
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	ctx := context.Background()
	id := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "ana@a.test", Subject: "x", Text: "x"})
	bad := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "nobody@a.test", Subject: "x", Text: "x"})

	st, err := f.worker.RunOnce(ctx)
	if err != nil || st.Retried != 1 || st.Failed != 1 {
		t.Fatalf("first pass = %+v, %v; want one retry and one permanent failure", st, err)
	}
	if s, n, e := f.status(t, bad); s != "failed" || n != 1 || !strings.Contains(e, "550") {
		t.Errorf("permanent refusal: %s after %d attempts (%q)", s, n, e)
	}
	s, n, e := f.status(t, id)
	if s != "queued" || n != 1 || !strings.Contains(e, "451") {
		t.Fatalf("temporary refusal: %s after %d attempts (%q)", s, n, e)
	}
	// The retry waits for its backoff: an immediate pass claims nothing.
	if st, _ := f.worker.RunOnce(ctx); st.Claimed != 0 {
		t.Fatalf("retried before its backoff: %+v", st)
	}
	su := pgtest.Conn(t, f.env.SuperURL)
	var wait1 float64
	if err := su.QueryRow(ctx, `SELECT extract(epoch FROM next_attempt_at - now()) FROM app.mail_outbox WHERE id = $1`, id).Scan(&wait1); err != nil || wait1 < 25 || wait1 > 31 {
		t.Errorf("first backoff %.1f s, want about 30 (%v)", wait1, err)
	}
	f.makeDue(t)
	if st, _ := f.worker.RunOnce(ctx); st.Retried != 1 {
		t.Fatalf("second pass = %+v", st)
	}
	var wait2 float64
	if err := su.QueryRow(ctx, `SELECT extract(epoch FROM next_attempt_at - now()) FROM app.mail_outbox WHERE id = $1`, id).Scan(&wait2); err != nil || wait2 < 55 || wait2 > 61 {
		t.Errorf("second backoff %.1f s, want about 60 (%v)", wait2, err)
	}
	f.makeDue(t)
	if st, _ := f.worker.RunOnce(ctx); st.Sent != 1 {
		t.Fatalf("third pass = %+v", st)
	}
	var outcomes string
	if err := su.QueryRow(ctx, `SELECT string_agg(outcome, ',' ORDER BY attempt) FROM app.mail_attempts WHERE message_id = $1`, id).Scan(&outcomes); err != nil || outcomes != "error,error,sent" {
		t.Errorf("attempts recorded %q, want error,error,sent (%v)", outcomes, err)
	}
	if got := len(f.catcher.Messages()); got != 1 {
		t.Errorf("catcher holds %d messages, want 1", got)
	}
}

func TestQueueKeepsMailWhileSMTPIsDown(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	down, err := mail.NewSMTP("smtp://" + addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	down.Timeout = 2 * time.Second
	id := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "ana@a.test", Subject: "x", Text: "x"})
	w := &mail.Worker{DB: f.env.DB, Sender: down, From: from}
	if st, err := w.RunOnce(ctx); err != nil || st.Retried != 1 {
		t.Fatalf("pass with SMTP down = %+v, %v", st, err)
	}
	if s, _, e := f.status(t, id); s != "queued" || e == "" {
		t.Fatalf("after a failed connection: %s (%q), want queued with the error", s, e)
	}
	f.makeDue(t)
	if st, err := f.worker.RunOnce(ctx); err != nil || st.Sent != 1 {
		t.Fatalf("pass with SMTP back = %+v, %v", st, err)
	}
}

func TestQueueTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	const n = 40
	for i := range n {
		f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: fmt.Sprintf("p%d@a.test", i), Subject: "x", Text: "x"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &mail.Worker{DB: f.env.DB, Sender: f.sender, From: from, Batch: 3}
			for {
				st, err := w.RunOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if st.Claimed == 0 {
					return
				}
				mu.Lock()
				total += st.Sent
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	msgs := f.catcher.Messages()
	seen := map[string]bool{}
	for _, m := range msgs {
		p, err := m.Parsed()
		if err != nil {
			t.Fatal(err)
		}
		id := p.Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("message %s delivered twice", id)
		}
		seen[id] = true
	}
	if len(msgs) != n || total != n {
		t.Errorf("delivered %d (workers counted %d), want %d", len(msgs), total, n)
	}
}

func TestQueueCrashAfterHandOffRepeatsWithSameMessageID(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	id := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "ana@a.test", Subject: "x", Text: "x"})
	crashed := &mail.Worker{DB: f.env.DB, Sender: f.sender, From: from, BeforeRecord: func(int64) error {
		return errors.New("process killed")
	}}
	if _, err := crashed.RunOnce(ctx); err == nil {
		t.Fatal("the simulated crash did not stop the worker")
	}
	if s, _, _ := f.status(t, id); s != "sending" {
		t.Fatalf("after the crash the message is %s, want sending (leased)", s)
	}
	// While the lease lasts nobody else takes it.
	if st, _ := f.worker.RunOnce(ctx); st.Claimed != 0 {
		t.Fatalf("claimed during the lease: %+v", st)
	}
	f.makeDue(t) // the lease ends
	if st, err := f.worker.RunOnce(ctx); err != nil || st.Sent != 1 {
		t.Fatalf("after the lease = %+v, %v", st, err)
	}
	msgs := f.catcher.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d deliveries, want 2 (the repeat is allowed)", len(msgs))
	}
	p1, _ := msgs[0].Parsed()
	p2, _ := msgs[1].Parsed()
	if p1.Header.Get("Message-Id") != p2.Header.Get("Message-Id") {
		t.Errorf("the repeat has Message-ID %q, the first %q", p2.Header.Get("Message-Id"), p1.Header.Get("Message-Id"))
	}
	su := pgtest.Conn(t, f.env.SuperURL)
	var outcomes string
	if err := su.QueryRow(ctx, `SELECT string_agg(outcome, ',' ORDER BY attempt) FROM app.mail_attempts WHERE message_id = $1`, id).Scan(&outcomes); err != nil || outcomes != "unknown,sent" {
		t.Errorf("attempts %q, want unknown,sent (%v)", outcomes, err)
	}
}

func TestQueueRechecksRecipientBeforeSending(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	su := pgtest.Conn(t, f.env.SuperURL)
	first := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "digest", UserID: f.userID, To: "ana@a.test", Subject: "x", Text: "x"})
	if _, err := su.Exec(ctx, `UPDATE app.users SET is_active = false WHERE id = $1`, f.userID); err != nil {
		t.Fatal(err)
	}
	if st, err := f.worker.RunOnce(ctx); err != nil || st.Sent != 0 {
		t.Fatalf("pass = %+v, %v", st, err)
	}
	if s, _, _ := f.status(t, first); s != "cancelled" {
		t.Errorf("message to a deactivated user is %s, want cancelled", s)
	}
	if _, err := su.Exec(ctx, `UPDATE app.users SET is_active = true WHERE id = $1`, f.userID); err != nil {
		t.Fatal(err)
	}
	second := f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "digest", UserID: f.userID, To: "ana@a.test", Subject: "x", Text: "x"})
	if _, err := su.Exec(ctx, `UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, f.tenant); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.worker.RunOnce(ctx); st.Sent != 0 {
		t.Fatalf("sent to a suspended tenant: %+v", st)
	}
	if s, _, _ := f.status(t, second); s != "cancelled" {
		t.Errorf("message to a suspended tenant is %s, want cancelled", s)
	}
	if n := len(f.catcher.Messages()); n != 0 {
		t.Errorf("catcher received %d messages", n)
	}
}

func TestEnqueueOnlyForTheContextTenant(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	err := f.env.DB.InTx(ctx, f.tenantPr, func(tx pg.Tx) error {
		_, err := mail.Enqueue(ctx, tx, from, mail.Message{TenantID: f.other, Kind: "x", To: "b@b.test", Subject: "x", Text: "x"})
		return err
	})
	if !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.NotFound) {
		t.Errorf("enqueue for another tenant: %v, want refused", err)
	}
	err = f.env.DB.InTx(ctx, pg.Anon("127.0.0.1", "t"), func(tx pg.Tx) error {
		_, err := mail.Enqueue(ctx, tx, from, mail.Message{TenantID: f.tenant, Kind: "x", To: "b@b.test", Subject: "x", Text: "x"})
		return err
	})
	if err == nil {
		t.Error("an anonymous context enqueued e-mail")
	}
	// Tenants read nothing of the queue, not even their own rows (bodies may hold another user's link).
	f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "x", To: "b@a.test", Subject: "x", Text: "x"})
	err = f.env.DB.InTx(ctx, f.tenantPr, func(tx pg.Tx) error {
		rows, err := tx.MailLog(ctx, dbsqlcMailLog(f.tenant))
		if len(rows) != 0 {
			t.Errorf("a tenant admin read %d rows of the send log", len(rows))
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in      string
		tls     string
		port    int
		wantErr bool
	}{
		{"smtp://u:p@mail.example.com:587", "starttls", 587, false},
		{"smtp://mail.example.com", "starttls", 587, false},
		{"smtps://u:p@mail.example.com", "tls", 465, false},
		{"smtp://127.0.0.1:1025?tls=none", "none", 1025, false},
		{"smtp://u:p@mail.example.com:25?tls=none", "", 0, true}, // a password in clear over the network
		{"http://mail.example.com", "", 0, true},
		{"smtp://mail.example.com?foo=bar", "", 0, true},
		{"smtp://mail.example.com:99999", "", 0, true},
	} {
		s, err := mail.ParseSMTPURL(c.in)
		if (err != nil) != c.wantErr || (err == nil && (s.TLS != c.tls || s.Port != c.port)) {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v", c.in, s, err)
		}
	}
}

func dbsqlcMailLog(tenant int64) dbsqlc.MailLogParams {
	return dbsqlc.MailLogParams{TenantID: tenant, Lim: 10}
}

// TestQueueDepth: the depth /metrics exports counts every tenant's waiting and in-flight
// messages (never sent ones), and the wait of the oldest due message grows until it is sent.
func TestQueueDepth(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	ctx := context.Background()
	if d, err := mail.QueueDepth(ctx, f.env.DB); err != nil || d != (mail.Depth{}) {
		t.Fatalf("empty queue: %+v, %v", d, err)
	}
	f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "ana@a.test", Subject: "x", Text: "x"})
	f.enqueue(t, mail.Message{TenantID: f.tenant, Kind: "alert.test", To: "bia@a.test", Subject: "y", Text: "y"})
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(ctx, `UPDATE app.mail_outbox SET next_attempt_at = now() - interval '90 seconds'`); err != nil {
		t.Fatal(err)
	}
	d, err := mail.QueueDepth(ctx, f.env.DB)
	if err != nil || d.Queued != 2 || d.Sending != 0 || d.OldestDue < 89*time.Second || d.OldestDue > 10*time.Minute {
		t.Fatalf("two messages due 90 s ago: %+v, %v", d, err)
	}
	if st, err := f.worker.RunOnce(ctx); err != nil || st.Sent != 2 {
		t.Fatalf("pass = %+v, %v", st, err)
	}
	if d, err := mail.QueueDepth(ctx, f.env.DB); err != nil || d != (mail.Depth{}) {
		t.Fatalf("after sending: %+v, %v", d, err)
	}
}
