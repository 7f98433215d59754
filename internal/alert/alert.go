// Package alert tells a tenant, by e-mail and by a signed HTTPS webhook, when a conversation
// awaiting a person passes the SLA target and when its WhatsApp window is about to close
// (docs/alerts.md). Which alerts are due is decided in SQL (etl.fire_alerts) at the tenant's sync
// time, once per conversation, condition and waiting episode however many schedulers ask; this
// package renders what each alert says, queues its e-mails in the outgoing mail queue and its
// webhook in app.alert_deliveries, and delivers webhooks with retries.
package alert

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/pg"
)

// Kinds of alert and the event names receivers see.
const (
	KindSLA    = "sla"
	KindWindow = "window"
)

// EventName is the webhook event (X-GeniAI-Event, and "type" in the body) of an alert kind.
func EventName(kind string) string {
	if kind == KindWindow {
		return "conversation.window_closing"
	}
	return "conversation.sla_missed"
}

// Evaluator fires a tenant's due alerts and queues their deliveries.
type Evaluator struct {
	DB *pg.DB
	// MailFrom is MAIL_FROM; empty means outgoing mail is off: alerts go by webhook only.
	MailFrom string
	// PublicURL is PUBLIC_URL (links to the conversation in the product); may be empty.
	PublicURL string
	// ChatwootURL is CHATWOOT_URL (links to open the conversation in Chatwoot); may be empty.
	ChatwootURL string
}

// Payload is a webhook body (docs/alerts.md).
type Payload struct {
	EventID      string         `json:"event_id"`
	Type         string         `json:"type"`
	Tenant       string         `json:"tenant"`
	FiredAt      time.Time      `json:"fired_at"`
	SyncedAt     time.Time      `json:"synced_at"`
	Conversation PayloadConvers `json:"conversation"`
}

// PayloadConvers is the conversation an alert is about.
type PayloadConvers struct {
	ID                  int32      `json:"id"`
	DisplayID           int32      `json:"display_id"`
	AccountID           int32      `json:"account_id"`
	InboxID             int32      `json:"inbox_id"`
	InboxName           string     `json:"inbox_name"`
	ContactName         string     `json:"contact_name"`
	WaitingSince        time.Time  `json:"waiting_since"`
	WaitBusinessSeconds float64    `json:"wait_business_seconds"`
	SLASeconds          int32      `json:"sla_seconds"`
	WindowClosesAt      *time.Time `json:"window_closes_at"`
	URL                 string     `json:"url,omitempty"`
	ChatwootURL         string     `json:"chatwoot_url,omitempty"`
}

// Tenants fires the due alerts of many tenants (those an ETL pass settled together): one
// statement keeps the tenants whose alerts are on with somewhere to send them, and each of those
// is judged as Tenant does; the others cost nothing. It returns how many alerts fired; a tenant's
// failure does not stop the others'.
func (e *Evaluator) Tenants(ctx context.Context, tenantIDs []int64) (int, error) {
	var wanted []int64
	if err := e.DB.InReadTx(ctx, pg.ETL(0), func(tx pg.Tx) error {
		var err error
		wanted, err = tx.AlertTenantsWanted(ctx, tenantIDs)
		return err
	}); err != nil {
		return 0, err
	}
	fired := 0
	var errs []error
	for _, id := range wanted {
		n, err := e.Tenant(ctx, id)
		fired += n
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %d: %w", id, err))
		}
	}
	return fired, errors.Join(errs...)
}

// Tenant fires the tenant's due alerts at its sync time and queues their deliveries, all in one
// transaction under the loader's principal; it returns how many alerts it fired. Safe to call
// from any number of processes at once: an alert is fired (and delivered) by one call only.
func (e *Evaluator) Tenant(ctx context.Context, tenantID int64) (int, error) {
	fired := 0
	err := e.DB.InTx(ctx, pg.ETL(tenantID), func(tx pg.Tx) error {
		ids, err := tx.AlertsFire(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		alerts, err := tx.AlertsGet(ctx, dbsqlc.AlertsGetParams{TenantID: tenantID, EventIds: ids})
		if err != nil {
			return err
		}
		fired = len(alerts)
		set, err := tx.AlertSettingsGet(ctx, tenantID)
		if err != nil {
			return err
		}
		info, err := tx.AlertTenantInfo(ctx, tenantID)
		if err != nil {
			return err
		}
		names := map[int32]string{}
		inboxes, err := tx.TenantInboxNames(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, ib := range inboxes {
			names[ib.InboxID] = ib.InboxName
		}
		// Each address's stored language, when it is a user of the tenant; Portuguese otherwise.
		langOf := map[string]string{}
		if e.MailFrom != "" && len(set.EmailTo) > 0 {
			rows, err := tx.AlertRecipientLanguages(ctx, set.EmailTo)
			if err != nil {
				return err
			}
			for _, r := range rows {
				langOf[r.Email] = r.Language
			}
		}
		for _, a := range alerts {
			p := e.payload(a, info, names[a.InboxID])
			if set.WebhookUrl != nil {
				body, err := json.Marshal(p)
				if err != nil {
					return err
				}
				if _, err := tx.AlertDeliveryAdd(ctx, dbsqlc.AlertDeliveryAddParams{
					TenantID: tenantID, EventID: a.EventID, ConversationID: a.ConversationID, Kind: a.Kind,
					Channel: "webhook", Target: *set.WebhookUrl, Payload: body,
				}); err != nil {
					return err
				}
			}
			if e.MailFrom == "" {
				continue
			}
			for _, to := range set.EmailTo {
				lang := langOf[strings.ToLower(strings.TrimSpace(to))]
				subject, text := Message(lang, p, info.DisplayName)
				html, err := messageHTML(lang, p, info)
				if err != nil {
					return err
				}
				id, err := mail.Enqueue(ctx, tx, e.MailFrom, mail.Message{
					TenantID: tenantID, Kind: "alert." + a.Kind, Ref: "alert:" + p.EventID, To: to,
					Subject: subject, Text: text, HTML: html,
				})
				if err != nil {
					return err
				}
				if _, err := tx.AlertDeliveryAdd(ctx, dbsqlc.AlertDeliveryAddParams{
					TenantID: tenantID, EventID: a.EventID, ConversationID: a.ConversationID, Kind: a.Kind,
					Channel: "email", Target: to, MailID: &id,
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return fired, nil
}

func (e *Evaluator) payload(a dbsqlc.AnalyticsAlert, info dbsqlc.AlertTenantInfoRow, inbox string) Payload {
	p := Payload{
		EventID: uuidString(a.EventID), Type: EventName(a.Kind), Tenant: info.Slug, FiredAt: a.FiredAt.UTC(),
		SyncedAt: a.SyncedAt.UTC(),
		Conversation: PayloadConvers{
			ID: a.ConversationID, DisplayID: a.DisplayID, AccountID: a.AccountID, InboxID: a.InboxID, InboxName: inbox,
			ContactName: a.ContactName, WaitingSince: a.Episode.UTC(), WaitBusinessSeconds: math.Round(a.WaitBusinessSeconds*1000) / 1000,
			SLASeconds: info.SlaSeconds,
		},
	}
	if a.WindowClosesAt != nil {
		w := a.WindowClosesAt.UTC()
		p.Conversation.WindowClosesAt = &w
	}
	if e.PublicURL != "" {
		p.Conversation.URL = strings.TrimRight(e.PublicURL, "/") + "/conversations/" + strconv.Itoa(int(a.ConversationID))
	}
	p.Conversation.ChatwootURL = ChatwootLink(e.ChatwootURL, a.AccountID, a.DisplayID)
	return p
}

// ChatwootLink opens a conversation in Chatwoot's web app; "" without a Chatwoot address.
func ChatwootLink(base string, account, display int32) string {
	if base == "" {
		return ""
	}
	return fmt.Sprintf("%s/app/accounts/%d/conversations/%d", strings.TrimRight(base, "/"), account, display)
}

// message is what an alert e-mail says, in one language.
type message struct {
	Subject  string
	Lines    []string // what happened
	Inbox    string
	Chatwoot string // "Abrir no Chatwoot: <url>"
	Product  string // "Ver no GeniAI Analytics: <url>"
	Footer   string // who sends it and where to change it
}

func compose(lang string, p Payload, tenantName string) message {
	lang = locale.Normalize(lang)
	tr := func(key string, args ...any) string { return locale.Translate(lang, key, args...) }
	c := p.Conversation
	who := c.ContactName
	if who == "" {
		who = tr("alert.mail.no_name")
	}
	var m message
	switch p.Type {
	case EventName(KindWindow):
		left := tr("alert.mail.window.soon")
		if c.WindowClosesAt != nil {
			left = Duration(c.WindowClosesAt.Sub(p.SyncedAt))
		}
		m.Subject = tr("alert.mail.window.subject", left, who, c.DisplayID)
		m.Lines = []string{tr("alert.mail.window.body", c.DisplayID, who, left), tr("alert.mail.window.after")}
	default:
		m.Subject = tr("alert.mail.sla.subject", who, c.DisplayID)
		m.Lines = []string{tr("alert.mail.sla.body", who, c.DisplayID,
			Duration(time.Duration(c.WaitBusinessSeconds*float64(time.Second))), Duration(time.Duration(c.SLASeconds)*time.Second))}
	}
	m.Inbox = tr("alert.mail.inbox", c.InboxName)
	if c.ChatwootURL != "" {
		m.Chatwoot = tr("alert.mail.open_chatwoot") + ": " + c.ChatwootURL
	}
	if c.URL != "" {
		m.Product = tr("alert.mail.open_product") + ": " + c.URL
	}
	m.Footer = tr("alert.mail.footer", tenantName)
	return m
}

// Message is an alert e-mail's subject and plain text in lang (pt-BR or en; the recipient's
// stored language).
func Message(lang string, p Payload, tenantName string) (subject, text string) {
	m := compose(lang, p, tenantName)
	var b strings.Builder
	for _, l := range m.Lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n" + m.Inbox + "\n")
	for _, l := range []string{m.Chatwoot, m.Product} {
		if l != "" {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("\n" + m.Footer + "\n")
	return m.Subject, b.String()
}

// messageHTML is the alert e-mail in the tenant's colours (the mail layout): the same words as
// Message, a button to open the conversation in Chatwoot (else in the product).
func messageHTML(lang string, p Payload, info dbsqlc.AlertTenantInfoRow) (string, error) {
	lang = locale.Normalize(lang)
	m := compose(lang, p, info.DisplayName)
	page := mail.Page{Lang: lang, Brand: mail.Brand{Name: info.DisplayName, Primary: info.PrimaryColor,
		Secondary: info.SecondaryColor, LogoURL: info.LogoURL}, Title: m.Subject, Preheader: m.Lines[0]}
	page.Intro = append(append(page.Intro, m.Lines...), m.Inbox)
	page.Footer = []string{m.Footer}
	switch c := p.Conversation; {
	case c.ChatwootURL != "":
		page.Button = &mail.Button{Label: locale.Translate(lang, "alert.mail.open_chatwoot"), URL: c.ChatwootURL}
	case c.URL != "":
		page.Button = &mail.Button{Label: locale.Translate(lang, "alert.mail.view_conversation"), URL: c.URL}
	}
	return page.HTML()
}

// Duration writes a duration the way pages do: "1 h 40", "12 min", "45 s", "2 d 3 h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		if m := s % 3600 / 60; m > 0 {
			return fmt.Sprintf("%d h %02d", s/3600, m)
		}
		return fmt.Sprintf("%d h", s/3600)
	default:
		if h := s % 86400 / 3600; h > 0 {
			return fmt.Sprintf("%d d %d h", s/86400, h)
		}
		return fmt.Sprintf("%d d", s/86400)
	}
}

func uuidString(u pgtype.UUID) string {
	b := u.Bytes
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
