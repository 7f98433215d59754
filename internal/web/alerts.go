package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Alerts (docs/alerts.md): a tenant's admins choose the conditions, the addresses and the webhook
// on /settings/alerts and read the delivery log there; staff read the same log on the tenant's
// page. The webhook key is shown in full to the tenant's admins only (they configure their
// receiver with it).

// alertLogRows is how many deliveries the log shows.
const alertLogRows = 100

// AlertsView is /settings/alerts and /admin/tenants/{tenant}/alerts.
type AlertsView struct {
	Page
	Staff       bool // the staff view: read-only, key masked
	Tenant      dbsqlc.AppTenant
	Settings    alert.Settings
	Emails      string // the form's addresses (as typed, after an error)
	Log         []AlertLogLine
	MailEnabled bool
	SLA         string         // the tenant's SLA target, for the help line
	CanWrite    bool           // the staff navigation's "new client" link
	Loc         *time.Location // the reader's own zone, for the log's times (shown with the offset)
	Error       string
	Notice      string
}

// AlertLogLine is one delivery of the log, ready to show.
type AlertLogLine struct {
	alert.Delivery
	Conversation string // "#211 · Maria Silva"
	HTTP         string // "HTTP 503" or ""
	Problem      string // the last error in plain words, in the reader's language, or ""
	Detail       string // the recorded error when it says more than Problem and HTTP (a network error)
}

// EmailList is the saved addresses, one per line, for the textarea.
func (v AlertsView) EmailList() string { return strings.Join(v.Settings.EmailTo, "\n") }

// MaskedSecret is the key as staff see it: its first characters only.
func (v AlertsView) MaskedSecret() string {
	if len(v.Settings.Secret) < 8 {
		return ""
	}
	return v.Settings.Secret[:6] + "…"
}

// EventName is a delivery's webhook event name (conversation.sla_missed, ...).
func (AlertsView) EventName(kind string) string { return alert.EventName(kind) }

func (s *Server) alertsView(r *http.Request, tenantID int64, staff bool) (AlertsView, error) {
	pr := principalFrom(r)
	v := AlertsView{Page: s.newPage(r, "alerts.title"), Staff: staff, MailEnabled: s.cfg.Mail().Enabled()}
	var err error
	if v.Tenant, err = s.tenantAdmin.Tenant(r.Context(), *pr, tenantID); err != nil {
		return v, err
	}
	set, err := s.tenantAdmin.GetSettings(r.Context(), *pr, tenantID)
	if err != nil {
		return v, err
	}
	v.SLA = alert.Duration(time.Duration(set.SlaSeconds) * time.Second)
	v.Loc = s.viewerZone(r)
	v.CanWrite = pr.Role == pg.AppSuperAdmin
	if v.Settings, err = alert.Get(r.Context(), s.db, *pr, tenantID); err != nil {
		return v, err
	}
	v.Emails = v.EmailList()
	log, err := alert.Log(r.Context(), s.db, *pr, tenantID, alertLogRows)
	if err != nil {
		return v, err
	}
	for _, d := range log {
		l := AlertLogLine{Delivery: d}
		if d.DisplayID != nil {
			l.Conversation = "#" + strconv.Itoa(int(*d.DisplayID))
		}
		if d.ContactName != nil && *d.ContactName != "" {
			l.Conversation += " · " + *d.ContactName
		}
		if d.LastHttpStatus != nil {
			l.HTTP = "HTTP " + strconv.Itoa(int(*d.LastHttpStatus))
		}
		if key := alert.Problem(d.Channel, d.LastHttpStatus, d.LastError); key != "" {
			l.Problem = v.T(key)
			if alert.Technical(d.LastError) {
				l.Detail = d.LastError
			}
		}
		v.Log = append(v.Log, l)
	}
	if r.URL.Query().Get("saved") != "" {
		v.Notice = v.T("settings.saved")
	}
	return v, nil
}

func (s *Server) settingsAlertsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.alertsView(r, principalFrom(r).TenantID, false)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "alerts", v)
}

// settingsAlertsSave stores the form; bad input re-renders it with the message and what was typed.
func (s *Server) settingsAlertsSave(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	in := alert.Input{
		SLAEnabled: r.PostFormValue("sla_enabled") != "", WindowEnabled: r.PostFormValue("window_enabled") != "",
		Emails: r.PostFormValue("emails"), WebhookURL: r.PostFormValue("webhook_url"),
		NewSecret: r.PostFormValue("new_secret") != "",
	}
	err := s.guard.Save(r.Context(), s.db, *pr, pr.TenantID, in)
	if err == nil {
		http.Redirect(w, r, "/settings/alerts?saved=1", http.StatusSeeOther)
		return nil
	}
	if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Conflict {
		return err
	}
	v, verr := s.alertsView(r, pr.TenantID, false)
	if verr != nil {
		return verr
	}
	v.Error = v.Err(err)
	v.Settings.SLAEnabled, v.Settings.WindowEnabled = in.SLAEnabled, in.WindowEnabled
	v.Settings.WebhookURL, v.Emails = strings.TrimSpace(in.WebhookURL), in.Emails
	return s.render(w, r, statusOf(err), "alerts", v)
}

// adminTenantAlerts is the staff view of a tenant's alerts and delivery log (read-only).
func (s *Server) adminTenantAlerts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	v, err := s.alertsView(r, id, true)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "alerts", v)
}
