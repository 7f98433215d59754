package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// MaxEmails is how many addresses one tenant's alerts may go to.
const MaxEmails = 20

// Settings are a tenant's alerts as its admins see them (docs/alerts.md).
type Settings struct {
	Configured    bool // a row exists (alerts were saved once)
	SLAEnabled    bool
	WindowEnabled bool
	EmailTo       []string
	WebhookURL    string
	Secret        string // the webhook key (hex); "" before the first save
	UpdatedAt     *time.Time
}

// Input is what the settings form sends.
type Input struct {
	SLAEnabled, WindowEnabled bool
	Emails                    string // addresses separated by commas, spaces or lines
	WebhookURL                string // "" for none
	NewSecret                 bool   // replace the webhook key
}

// Get reads a tenant's alert settings as p (its admins, or staff); none saved yet is the zero
// Settings.
func Get(ctx context.Context, db *pg.DB, p pg.Principal, tenantID int64) (Settings, error) {
	var s Settings
	err := db.InReadTx(ctx, p, func(tx pg.Tx) error {
		row, err := tx.AlertSettingsGet(ctx, tenantID)
		if pg.IsNoRows(err) {
			return nil
		} else if err != nil {
			return err
		}
		s = Settings{Configured: true, SLAEnabled: row.SlaEnabled, WindowEnabled: row.WindowEnabled, EmailTo: row.EmailTo,
			Secret: row.WebhookSecret, UpdatedAt: &row.UpdatedAt}
		if row.WebhookUrl != nil {
			s.WebhookURL = *row.WebhookUrl
		}
		return nil
	})
	return s, err
}

// ParseEmails reads a list of addresses: separated by commas, semicolons, spaces or lines,
// lowercased, duplicates dropped, at most MaxEmails. Errors are Invalid with a message in
// Portuguese naming the address.
func ParseEmails(s string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}) {
		e := strings.ToLower(strings.TrimSpace(f))
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
			return nil, apperr.New(apperr.Invalid, "err.alert.email_invalid", clipText(f, 80))
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	if len(out) > MaxEmails {
		return nil, apperr.New(apperr.Invalid, "err.alert.too_many_emails", MaxEmails)
	}
	return out, nil
}

// Save validates in and stores it as p (a tenant admin, or a super_admin): the addresses, and a
// webhook URL that must be https and reach only public addresses (Guard.CheckURL). The webhook
// key is created with the first save and replaced on request.
func (g Guard) Save(ctx context.Context, db *pg.DB, p pg.Principal, tenantID int64, in Input) error {
	emails, err := ParseEmails(in.Emails)
	if err != nil {
		return err
	}
	var hook *string
	if u := strings.TrimSpace(in.WebhookURL); u != "" {
		if err := g.CheckURL(ctx, u); err != nil {
			return err
		}
		hook = &u
	}
	if (in.SLAEnabled || in.WindowEnabled) && len(emails) == 0 && hook == nil {
		return apperr.New(apperr.Invalid, "err.alert.no_destination")
	}
	return db.InTx(ctx, p, func(tx pg.Tx) error {
		cur, err := tx.AlertSettingsGet(ctx, tenantID)
		if err != nil && !pg.IsNoRows(err) {
			return err
		}
		secret := cur.WebhookSecret
		if secret == "" || in.NewSecret {
			secret = NewSecret()
		}
		_, err = tx.AlertSettingsSave(ctx, dbsqlc.AlertSettingsSaveParams{TenantID: tenantID, SlaEnabled: in.SLAEnabled,
			WindowEnabled: in.WindowEnabled, EmailTo: emails, WebhookUrl: hook, WebhookSecret: secret})
		return err
	})
}

// NewSecret is a random webhook key: 32 bytes, hex.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Delivery is one line of the delivery log.
type Delivery = dbsqlc.AlertDeliveryLogRow

// Log is a tenant's latest deliveries (newest first), as p: its admins or staff.
func Log(ctx context.Context, db *pg.DB, p pg.Principal, tenantID int64, limit int) ([]Delivery, error) {
	var out []Delivery
	err := db.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		out, err = tx.AlertDeliveryLog(ctx, dbsqlc.AlertDeliveryLogParams{TenantID: tenantID, MaxRows: int32(limit)})
		return err
	})
	return out, err
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
