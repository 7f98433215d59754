// Package mail sends e-mail through a durable queue in PostgreSQL. Whoever produces a message
// (an invitation, a password reset, a digest, an alert) renders it and calls Enqueue inside its
// own transaction; a Worker in `geniai serve` claims due messages, hands them to SMTP and records
// every attempt. Nothing is ever sent inside a web request, so an SMTP server that is down delays
// mail without losing it or slowing a page.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Message is one e-mail to one recipient, already rendered.
type Message struct {
	TenantID int64
	// Kind names what the message is (invitation, password_reset, digest, alert.sla...): lowercase
	// letters, digits, '_' and '.'.
	Kind string
	// Ref says what it is about (invitation:12), so queued copies can be cancelled with Cancel.
	Ref string
	// UserID, when set, is re-checked before every attempt: a deactivated user or a tenant that
	// may no longer sign in gets nothing.
	UserID int64
	To     string
	ToName string
	// Subject, Text and HTML: the plain-text part is always sent; HTML, when set, is the
	// alternative part.
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers (List-Unsubscribe, List-Unsubscribe-Post, ...).
	Headers map[string]string
	Files   []File
	// Secret marks a body that carries a secret (a set-password link): it is erased once sent.
	Secret bool
}

// File is an attachment, or an inline image when ContentID is set (the HTML refers to it as
// cid:ContentID).
type File struct {
	Name        string
	ContentType string
	ContentID   string
	Data        []byte
}

// Enqueue queues m in tx (the caller's transaction: the message exists exactly when the work that
// produced it commits). from is MAIL_FROM; its domain names the Message-ID, fixed now so that any
// repeat carries the same one. Returns the outbox id.
func Enqueue(ctx context.Context, tx pg.Tx, from string, m Message) (int64, error) {
	if m.TenantID == 0 || m.Kind == "" || m.To == "" || m.Subject == "" {
		return 0, apperr.Wrap(errors.New("mail: message without tenant, kind, recipient or subject"), apperr.Internal, apperr.KeyInternal)
	}
	headers, err := json.Marshal(orEmpty(m.Headers))
	if err != nil {
		return 0, err
	}
	p := dbsqlc.MailEnqueueParams{
		TenantID: m.TenantID, Kind: m.Kind, ToAddress: m.To, ToName: m.ToName,
		Subject: m.Subject, TextBody: m.Text, HtmlBody: m.HTML, Headers: headers,
		MessageID: NewMessageID(from), Scrub: m.Secret,
		AttNames: []string{}, AttTypes: []string{}, AttCids: []string{}, AttData: [][]byte{},
	}
	if m.Ref != "" {
		p.Ref = &m.Ref
	}
	if m.UserID != 0 {
		p.RecipientUserID = &m.UserID
	}
	for _, f := range m.Files {
		p.AttNames = append(p.AttNames, f.Name)
		p.AttTypes = append(p.AttTypes, f.ContentType)
		p.AttCids = append(p.AttCids, f.ContentID)
		p.AttData = append(p.AttData, f.Data)
	}
	return tx.MailEnqueue(ctx, p)
}

// Cancel cancels the tenant's still-queued messages about ref (not those already in flight).
func Cancel(ctx context.Context, tx pg.Tx, tenantID int64, ref, reason string) (int32, error) {
	return tx.MailCancel(ctx, dbsqlc.MailCancelParams{TenantID: tenantID, Ref: ref, Reason: reason})
}

func orEmpty(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}

// NewMessageID is a random Message-ID in the domain of the from address.
func NewMessageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + "@" + domainOf(from) + ">"
}

func domainOf(from string) string {
	addr := from
	if a, err := mail.ParseAddress(from); err == nil {
		addr = a.Address
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return strings.ToLower(addr[i+1:])
	}
	return "localhost"
}

// Config is the outgoing-mail configuration (SMTP_URL, MAIL_FROM, PUBLIC_URL).
type Config struct {
	SMTPURL   string // smtp://user:pass@host:587 (STARTTLS required), smtps://host:465, ?tls=none for a local catcher
	From      string // MAIL_FROM: "GeniAI <noreply@example.com>"
	PublicURL string // PUBLIC_URL: every link in a message starts with it
}

// Enabled reports whether outgoing mail is configured.
func (c Config) Enabled() bool { return c.SMTPURL != "" }

// Validate checks the three settings together: SMTP needs a sender and a public URL for links.
func (c Config) Validate() error {
	if c.SMTPURL == "" {
		return nil
	}
	if _, err := ParseSMTPURL(c.SMTPURL); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("MAIL_FROM=%q is not an address like \"GeniAI <noreply@example.com>\"", c.From)
	}
	if _, err := PublicBase(c.PublicURL); err != nil {
		return err
	}
	return nil
}

// PublicBase parses PUBLIC_URL: an absolute http(s) URL without query or fragment, returned
// without a trailing slash.
func PublicBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("PUBLIC_URL=%q must be an absolute http(s) URL such as https://analytics.example.com", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
