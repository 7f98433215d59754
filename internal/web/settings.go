package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// SettingsView is the tenant admin's settings page.
type SettingsView struct {
	Page
	Tenant      dbsqlc.AppTenant
	Settings    tenantadmin.Settings
	Users       []dbsqlc.UserSearchRow
	Error       string
	Notice      string
	NewPassword string // shown exactly once, after creating a user or resetting a password
	NewFor      string
	Timezones   []string
	TextOnMain  string
	MailEnabled bool // users are added by invitation
	Invitations []dbsqlc.InvitationsPendingRow

	Loc *time.Location // the reader's own zone: last sign-ins and expiries are shown in it, with the offset
}

// Labels joins a label list for a text input.
func (SettingsView) Labels(ls []string) string { return strings.Join(ls, ", ") }

// SLAMinutes is the SLA target in minutes, for its input.
func (v SettingsView) SLAMinutes() int32 { return v.Settings.SlaSeconds / 60 }

// Opt dereferences an optional string.
func (SettingsView) Opt(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// commonTimezones are offered first; any IANA name is accepted.
var commonTimezones = []string{"America/Sao_Paulo", "America/Manaus", "America/Cuiaba", "America/Belem",
	"America/Fortaleza", "America/Recife", "America/Bahia", "America/Rio_Branco", "America/Noronha",
	"America/Porto_Velho", "America/Boa_Vista", "America/Campo_Grande", "America/Araguaina", "America/Maceio",
	"America/Santarem", "UTC"}

func (s *Server) settingsView(r *http.Request) (SettingsView, error) {
	pr := principalFrom(r)
	v := SettingsView{Page: s.newPage(r, "settings.title"), Timezones: commonTimezones, Loc: s.viewerZone(r)}
	var err error
	if v.Tenant, err = s.tenantAdmin.Tenant(r.Context(), *pr, pr.TenantID); err != nil {
		return v, err
	}
	if v.Settings, err = s.tenantAdmin.GetSettings(r.Context(), *pr, pr.TenantID); err != nil {
		return v, err
	}
	if v.Users, err = s.tenantAdmin.Users(r.Context(), *pr, pr.TenantID); err != nil {
		return v, err
	}
	v.TextOnMain = tenantadmin.TextOn(v.Settings.PrimaryColor)
	if v.MailEnabled = s.acct.Mail.Enabled(); v.MailEnabled {
		if v.Invitations, err = s.pendingInvitations(r, pr.TenantID); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.settingsView(r)
	if err != nil {
		return err
	}
	v.NewFor, v.NewPassword = s.takeSecret(r, "settings")
	if r.URL.Query().Get("saved") != "" {
		v.Notice = v.T("settings.saved")
	}
	if n := s.sessions.PopString(r.Context(), keyFlash+"_settings"); n != "" {
		v.Notice = n
	}
	return s.render(w, r, http.StatusOK, "settings", v)
}

// settingsResult re-renders the page after a POST: bad input shows its message beside the
// forms (nothing was saved); success redirects so a reload does not post again.
func (s *Server) settingsResult(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil {
		http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
		return nil
	}
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Conflict {
		return err
	}
	v, verr := s.settingsView(r)
	if verr != nil {
		return verr
	}
	v.Error = v.Err(err)
	return s.render(w, r, statusOf(err), "settings", v)
}

func (s *Server) settingsBranding(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	days, _ := strconv.Atoi(r.PostFormValue("default_period_days"))
	err := s.tenantAdmin.SetBranding(r.Context(), *pr, pr.TenantID, tenantadmin.Branding{
		DisplayName: r.PostFormValue("display_name"), LogoURL: r.PostFormValue("logo_url"),
		PrimaryColor: r.PostFormValue("primary_color"), SecondaryColor: r.PostFormValue("secondary_color"),
		DefaultPeriodDays: int32(days),
	})
	return s.settingsResult(w, r, err)
}

func (s *Server) settingsTimezone(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	return s.settingsResult(w, r, s.tenantAdmin.SetTimezone(r.Context(), *pr, pr.TenantID, r.PostFormValue("timezone")))
}

func (s *Server) settingsFunnel(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	err := s.tenantAdmin.SetFunnel(r.Context(), *pr, pr.TenantID, funnelFromForm(r))
	return s.settingsResult(w, r, err)
}

// funnelFromForm reads funnel rules from a form (shared with the staff panel).
func funnelFromForm(r *http.Request) tenantadmin.Funnel {
	return tenantadmin.Funnel{
		LeadAnyMessage:  r.PostFormValue("lead_any_message") != "",
		LeadLabels:      tenantadmin.ParseLabels(r.PostFormValue("lead_labels")),
		LeadRegex:       strings.TrimSpace(r.PostFormValue("lead_regex")),
		VisitLabels:     tenantadmin.ParseLabels(r.PostFormValue("visit_labels")),
		VisitRegex:      strings.TrimSpace(r.PostFormValue("visit_regex")),
		ConvertedLabels: tenantadmin.ParseLabels(r.PostFormValue("converted_labels")),
		ConvertedRegex:  strings.TrimSpace(r.PostFormValue("converted_regex")),
		ExcludedLabels:  tenantadmin.ParseLabels(r.PostFormValue("excluded_labels")),
		SLAMinutes:      slaMinutes(r.PostFormValue("sla_minutes")),
	}
}

// slaMinutes reads the SLA target field: whole minutes; 0 when the form has none (the target is
// kept), -1 for anything else, which Validate refuses with a message.
func slaMinutes(s string) int32 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return -1
	}
	return int32(n)
}

// tenantRole limits the roles a tenant admin may give.
func tenantRole(role string) error {
	if role != "admin" && role != "client" {
		return apperr.New(apperr.Invalid, "err.user.tenant_role")
	}
	return nil
}

func (s *Server) settingsUserCreate(w http.ResponseWriter, r *http.Request) error {
	if s.acct.Mail.Enabled() {
		return s.settingsInvite(w, r)
	}
	pr := principalFrom(r)
	role := r.PostFormValue("role")
	if err := tenantRole(role); err != nil {
		return s.settingsResult(w, r, err)
	}
	u, password, err := s.tenantAdmin.CreateUser(r.Context(), *pr, tenantadmin.UserInput{
		TenantSlug: pr.TenantSlug, Email: r.PostFormValue("email"), FullName: r.PostFormValue("full_name"), Role: role,
	})
	if err != nil {
		return s.settingsResult(w, r, err)
	}
	return s.showPassword(w, r, u.Email, password)
}

// showPassword renders the settings page with a generated password, shown this once.
func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, email, password string) error {
	s.keepSecret(r, "settings", email, password) // shown once by the page the redirect leads to
	http.Redirect(w, r, "/settings?saved=1#users", http.StatusSeeOther)
	return nil
}

// userID reads {id} of a user of the admin's own tenant; anyone else's id is 404.
func (s *Server) ownUser(r *http.Request) (dbsqlc.UserGetRow, error) {
	pr := principalFrom(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return dbsqlc.UserGetRow{}, apperr.New(apperr.NotFound, "err.user.not_found")
	}
	u, err := s.tenantAdmin.GetUser(r.Context(), *pr, id)
	if err == nil && u.TenantID != pr.TenantID {
		err = apperr.New(apperr.NotFound, "err.user.not_found")
	}
	return u, err
}

func (s *Server) settingsUserUpdate(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	u, err := s.ownUser(r)
	if err != nil {
		return err
	}
	role := r.PostFormValue("role")
	if err := tenantRole(role); err != nil {
		return s.settingsResult(w, r, err)
	}
	_, err = s.tenantAdmin.UpdateUser(r.Context(), *pr, u.ID, tenantadmin.UserEdit{
		FullName: r.PostFormValue("full_name"), Role: role, Active: r.PostFormValue("active") != "",
	})
	return s.settingsResult(w, r, err)
}

// settingsUserReset is "Enviar link de redefinição" with outgoing mail (a one-hour link in the
// user's language, through the queue, audited as password_reset.send; the page then says where
// it went and until when), "Gerar nova senha" without (a password shown once); either after a
// confirmation step.
func (s *Server) settingsUserReset(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	u, err := s.ownUser(r)
	if err != nil {
		return err
	}
	lang := s.langOf(r)
	mailOn := s.acct.Mail.Enabled()
	what := "reset_password"
	if mailOn {
		what = "reset_link"
	}
	if ok, err := s.settingsConfirmed(w, r, locale.Translate(lang, "confirm."+what+".question", u.Email),
		locale.Translate(lang, "confirm."+what+".consequence"), locale.Translate(lang, "confirm."+what+".button")); !ok {
		return err
	}
	if mailOn {
		sent, err := s.acct.SendReset(r.Context(), *pr, u.ID, inviterName(pr))
		if err != nil {
			return s.settingsResult(w, r, err)
		}
		s.settingsNotice(r, locale.Translate(lang, "admin.reset_link_sent", sent.Email, formatAt(lang, sent.ExpiresAt, s.viewerZone(r))))
		http.Redirect(w, r, "/settings#users", http.StatusSeeOther)
		return nil
	}
	password, err := s.tenantAdmin.ResetPassword(r.Context(), *pr, u.ID)
	if err != nil {
		return s.settingsResult(w, r, err)
	}
	return s.showPassword(w, r, u.Email, password)
}
