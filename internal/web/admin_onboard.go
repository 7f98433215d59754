package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/staff"
)

// OnboardView is the onboarding wizard: one page, three parts (tenant, inboxes, first admin).
type OnboardView struct {
	StaffPage
	Inboxes   []staff.SourceInbox
	Groups    []InboxGroup // Inboxes by Chatwoot account, filtered by Query
	Query     string
	Hidden    []int32 // chosen inboxes the filter leaves out, still submitted
	SourceErr string
	Form      map[string]string
	Chosen    map[int32]bool
	Timezones []string
	Zones     []Zone
	Done      *staff.Onboarded
	MailOn    bool // the first admin is invited by e-mail (SMTP configured)
}

func (s *Server) onboardView(r *http.Request) OnboardView {
	v := OnboardView{StaffPage: s.staffPage(r, "admin.onboard"), Form: map[string]string{"timezone": "America/Sao_Paulo"},
		Chosen: map[int32]bool{}, Timezones: commonTimezones, MailOn: s.acct.Mail.Enabled()}
	list, err := s.sourceInboxes(r.Context(), *principalFrom(r))
	if err != nil {
		v.SourceErr = v.Err(err)
	}
	v.Inboxes = list
	v.Zones, _ = s.Zones(r.Context())
	return v
}

// adminOnboardForm is the empty wizard, or — when the inbox filter was submitted without
// JavaScript (a GET of the whole form) — the wizard as filled in, with the inboxes filtered.
func (s *Server) adminOnboardForm(w http.ResponseWriter, r *http.Request) error {
	v := s.onboardView(r)
	q := r.URL.Query()
	for _, k := range []string{"name", "slug", "timezone", "admin_email", "admin_name"} {
		if val := strings.TrimSpace(q.Get(k)); val != "" {
			v.Form[k] = val
		}
	}
	for _, raw := range q["inbox"] {
		if id, err := strconv.ParseInt(raw, 10, 32); err == nil && id > 0 {
			v.Chosen[int32(id)] = true
		}
	}
	v.Query = strings.TrimSpace(q.Get("q"))
	v.Groups, v.Hidden = groupInboxes(v.Inboxes, v.Query, v.Chosen)
	return s.render(w, r, http.StatusOK, "admin_onboard", v)
}

// adminOnboard creates the tenant, its inboxes and first admin in one transaction — with
// outgoing mail the admin is invited by e-mail, without it their password is shown once — and
// starts the first full sync.
func (s *Server) adminOnboard(w http.ResponseWriter, r *http.Request) error {
	v := s.onboardView(r)
	for _, k := range []string{"name", "slug", "timezone", "admin_email", "admin_name", "admin_language"} {
		v.Form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	v.Form["timezone"] = s.readZone(r.Context(), v.Form["timezone"])
	if v.Form["slug"] == "" && v.Form["name"] != "" { // left blank (no JavaScript): the name's suggestion
		if c, err := s.staff.CheckSlug(r.Context(), *principalFrom(r), "", v.Form["name"]); err == nil {
			v.Form["slug"] = c.Slug
		}
	}
	in := staff.Onboarding{
		Tenant:     staff.TenantInput{Name: v.Form["name"], Slug: v.Form["slug"], Timezone: v.Form["timezone"]},
		AdminEmail: v.Form["admin_email"], AdminName: v.Form["admin_name"], AdminLanguage: v.Form["admin_language"],
	}
	if v.MailOn {
		in.Invite = s.acct.InviteIn
	}
	for _, raw := range r.PostForm["inbox"] {
		id, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || id <= 0 {
			continue
		}
		v.Chosen[int32(id)] = true
		in.Tenant.Inboxes = append(in.Tenant.Inboxes, staff.Inbox{ID: int32(id)})
	}
	v.Groups, v.Hidden = groupInboxes(v.Inboxes, "", v.Chosen)
	if v.SourceErr != "" {
		v.Error = v.SourceErr
		return s.render(w, r, http.StatusServiceUnavailable, "admin_onboard", v)
	}
	done, err := s.staff.Onboard(r.Context(), *principalFrom(r), in, v.Inboxes)
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.Conflict {
			v.Error = v.Err(err)
			return s.render(w, r, statusOf(err), "admin_onboard", v)
		}
		return err
	}
	id := strconv.FormatInt(done.Tenant.ID, 10)
	if done.AdminPassword != "" {
		s.keepSecret(r, "tenant:"+id, done.AdminEmail, done.AdminPassword)
	}
	if err := s.startSync(r, done.Tenant.ID, true); err != nil {
		s.log.Warn("first sync not started", "tenant_id", done.Tenant.ID, "error", err)
	}
	http.Redirect(w, r, "/admin/tenants/"+id+"/welcome", http.StatusSeeOther)
	return nil
}

// SlugAnswer is the onboarding wizard's live check of an identifier (GET /admin/tenants/slug).
type SlugAnswer struct {
	Slug      string `json:"slug"`
	Free      bool   `json:"free"`
	Suggested bool   `json:"suggested"`     // derived from the name: no slug was given
	Key       string `json:"key,omitempty"` // why not, as a message key
	Message   string `json:"message"`       // the answer in the request's language
}

// adminSlugCheck answers ?slug= (is it free and well formed?) or, with no slug, ?name= (the
// suggestion from the name, the first free one). Read-only, so it is not audited.
func (s *Server) adminSlugCheck(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	slug, name := strings.TrimSpace(q.Get("slug")), strings.TrimSpace(q.Get("name"))
	if len(slug) > 200 || len(name) > 500 {
		return apperr.New(apperr.Invalid, "err.constraint.tenants_slug_format")
	}
	c, err := s.staff.CheckSlug(r.Context(), *principalFrom(r), slug, name)
	if err != nil {
		return err
	}
	lang := s.langOf(r)
	a := SlugAnswer{Slug: c.Slug, Free: c.Free, Suggested: c.Suggested, Key: c.Reason}
	if c.Free {
		a.Message = translate(lang, "admin.slug_free")
	} else {
		a.Message = translate(lang, c.Reason)
	}
	return writeJSON(w, http.StatusOK, a)
}
