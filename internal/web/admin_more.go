package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/sheet"
)

// OnboardView is the onboarding wizard: one page, three parts (tenant, inboxes, first admin).
type OnboardView struct {
	StaffPage
	Inboxes   []admin.SourceInbox
	SourceErr string
	Form      map[string]string
	Chosen    map[int32]bool
	Timezones []string
	Zones     []Zone
	Done      *admin.Onboarded
}

func (s *Server) onboardView(r *http.Request) OnboardView {
	v := OnboardView{StaffPage: s.staffPage(r, "admin.onboard"), Form: map[string]string{"timezone": "America/Sao_Paulo"},
		Chosen: map[int32]bool{}, Timezones: commonTimezones}
	list, err := s.sourceInboxes(r.Context(), principalFrom(r).DB())
	if err != nil {
		v.SourceErr = apperr.MessageOf(err)
	}
	v.Inboxes = list
	v.Zones, _ = s.Zones(r.Context())
	return v
}

func (s *Server) adminOnboardForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "admin_onboard", s.onboardView(r))
}

// adminOnboard creates the tenant, its inboxes and first admin in one transaction, shows the
// admin's password once, and starts the first full sync.
func (s *Server) adminOnboard(w http.ResponseWriter, r *http.Request) error {
	v := s.onboardView(r)
	for _, k := range []string{"name", "slug", "timezone", "admin_email", "admin_name"} {
		v.Form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	v.Form["timezone"] = s.readZone(r.Context(), v.Form["timezone"])
	in := admin.Onboarding{
		Tenant:     admin.TenantInput{Name: v.Form["name"], Slug: v.Form["slug"], Timezone: v.Form["timezone"]},
		AdminEmail: v.Form["admin_email"], AdminName: v.Form["admin_name"],
	}
	for _, raw := range r.PostForm["inbox"] {
		id, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || id <= 0 {
			continue
		}
		v.Chosen[int32(id)] = true
		in.Tenant.Inboxes = append(in.Tenant.Inboxes, admin.Inbox{ID: int32(id)})
	}
	if v.SourceErr != "" {
		v.Error = v.SourceErr
		return s.render(w, r, http.StatusServiceUnavailable, "admin_onboard", v)
	}
	done, err := s.staff.Onboard(r.Context(), principalFrom(r).DB(), in, v.Inboxes)
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.Conflict {
			v.Error = apperr.MessageOf(err)
			return s.render(w, r, statusOf(err), "admin_onboard", v)
		}
		return err
	}
	id := strconv.FormatInt(done.Tenant.ID, 10)
	s.keepSecret(r, "tenant:"+id, done.AdminEmail, done.AdminPassword)
	if err := s.startSync(r, done.Tenant.ID, true); err != nil {
		s.log.Warn("first sync not started", "tenant_id", done.Tenant.ID, "error", err)
	}
	http.Redirect(w, r, "/admin/tenants/"+id+"/welcome", http.StatusSeeOther)
	return nil
}

// UsersView is /admin/users.
type UsersView struct {
	StaffPage
	Q        string
	Users    []dbsqlc.UserSearchRow
	Tenants  []dbsqlc.AdminTenantOverviewRow
	Platform int64
	Password string
	PwFor    string
}

// Locked reports whether a user is locked out now.
func (v UsersView) Locked(u dbsqlc.UserSearchRow) bool {
	return u.LockedUntil != nil && u.LockedUntil.After(time.Now())
}

func (s *Server) usersView(r *http.Request) (UsersView, error) {
	pr := principalFrom(r)
	v := UsersView{StaffPage: s.staffPage(r, "admin.users"), Q: strings.TrimSpace(r.URL.Query().Get("q")), Platform: pr.TenantID}
	var err error
	if v.Users, err = s.staff.SearchUsers(r.Context(), pr.DB(), nil, v.Q); err != nil {
		return v, err
	}
	v.Tenants, err = s.staff.Overview(r.Context(), pr.DB(), s.now(), s.staleAfter())
	return v, err
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	v, err := s.usersView(r)
	if err != nil {
		return err
	}
	v.PwFor, v.Password = s.takeSecret(r, "users")
	return s.render(w, r, http.StatusOK, "admin_users", v)
}

func (s *Server) usersResult(w http.ResponseWriter, r *http.Request, err error, email, password string) error {
	if err == nil {
		if password != "" { // shown once by the page the redirect leads to (post/redirect/get)
			s.keepSecret(r, "users", email, password)
		}
		http.Redirect(w, r, "/admin/users?saved=1", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		if c := apperr.CodeOf(err); c != apperr.Invalid && c != apperr.Conflict {
			return err
		}
	}
	v, verr := s.usersView(r)
	if verr != nil {
		return verr
	}
	status := http.StatusOK
	if err != nil {
		v.Error, status = apperr.MessageOf(err), statusOf(err)
	}
	return s.render(w, r, status, "admin_users", v)
}

func (s *Server) adminUserCreate(w http.ResponseWriter, r *http.Request) error {
	if s.acct.Mail.Enabled() {
		return s.adminUserInvite(w, r)
	}
	u, password, err := s.staff.CreateUser(r.Context(), principalFrom(r).DB(), admin.UserInput{
		TenantSlug: r.PostFormValue("tenant"), Email: r.PostFormValue("email"),
		FullName: r.PostFormValue("full_name"), Role: r.PostFormValue("role"),
	})
	if err != nil {
		return s.usersResult(w, r, err, "", "")
	}
	return s.usersResult(w, r, nil, u.Email, password)
}

func pathUser(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Usuário não encontrado.")
	}
	return id, nil
}

func (s *Server) adminUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	_, err = s.staff.UpdateUser(r.Context(), principalFrom(r).DB(), id, admin.UserEdit{
		FullName: r.PostFormValue("full_name"), Role: r.PostFormValue("role"), Active: r.PostFormValue("active") != "",
	})
	return s.usersResult(w, r, err, "", "")
}

func (s *Server) adminUserUnlock(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	return s.usersResult(w, r, s.staff.UnlockUser(r.Context(), principalFrom(r).DB(), id), "", "")
}

func (s *Server) adminUserReset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	u, err := s.staff.GetUser(r.Context(), principalFrom(r).DB(), id)
	if err != nil {
		return err
	}
	password, err := s.staff.ResetPassword(r.Context(), principalFrom(r).DB(), id)
	if err != nil {
		return s.usersResult(w, r, err, "", "")
	}
	return s.usersResult(w, r, nil, u.Email, password)
}

// AuditView is /admin/audit.
type AuditView struct {
	StaffPage
	Query   admin.AuditQuery
	Form    map[string]string
	Events  []dbsqlc.AuditSearchRow
	Entries []AuditEntry // the events in words
	Kinds   []string     // the action filter's choices (kind prefixes)
	Tenants []dbsqlc.AdminTenantOverviewRow
	Next    string
}

// auditKinds are the action filter's choices: groups, then the kinds people look for most.
var auditKinds = []string{"tenant.", "tenant.created", "tenant.suspended", "tenant.reactivated", "tenant.cancelled",
	"user.", "user.created", "user.deactivated", "user.role_changed", "user.password_reset",
	"settings.", "inbox.", "access.", "access.login", "access.login_failed", "access.locked", "view.as_client"}

// auditQuery parses the audit filters; bad input is a 400 with a message.
func (s *Server) auditQuery(r *http.Request) (admin.AuditQuery, map[string]string, error) {
	q := r.URL.Query()
	form := map[string]string{}
	var aq admin.AuditQuery
	for _, k := range []string{"tenant", "user", "person", "kind", "action", "from", "to", "before"} {
		form[k] = strings.TrimSpace(q.Get(k))
	}
	id := func(name string) (*int64, error) {
		if form[name] == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(form[name], 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.New(apperr.Invalid, "Filtro %q inválido.", name)
		}
		return &n, nil
	}
	var err error
	if aq.TenantID, err = id("tenant"); err != nil {
		return aq, form, err
	}
	if aq.UserID, err = id("user"); err != nil {
		return aq, form, err
	}
	if len(form["action"]) > 60 {
		return aq, form, apperr.New(apperr.Invalid, "Ação muito longa.")
	}
	aq.Action = form["action"]
	if len(form["person"]) > 100 {
		return aq, form, apperr.New(apperr.Invalid, "Nome ou e-mail muito longo.")
	}
	aq.Person = form["person"]
	if k := form["kind"]; k != "" {
		if !slices.Contains(auditKinds, k) {
			return aq, form, apperr.New(apperr.Invalid, "Ação desconhecida: %q.", k)
		}
		aq.Kind = k
	}
	zone := s.viewerZone(r)
	for _, d := range []struct {
		key string
		dst **time.Time
		add int
	}{{"from", &aq.Since, 0}, {"to", &aq.Until, 1}} {
		if form[d.key] == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", form[d.key], zone)
		if err != nil {
			return aq, form, apperr.New(apperr.Invalid, "Data inválida: %q. Use AAAA-MM-DD.", form[d.key])
		}
		t = t.AddDate(0, 0, d.add)
		*d.dst = &t
	}
	if aq.Since != nil && aq.Until != nil && !aq.Since.Before(*aq.Until) {
		return aq, form, apperr.New(apperr.Invalid, "A data inicial é posterior à final.")
	}
	if form["before"] != "" {
		c, err := dashboard.ParseCursor(form["before"])
		if err != nil {
			return aq, form, err
		}
		at, id := c.CreatedAt, int64(c.ID)
		aq.BeforeAt, aq.BeforeID = &at, &id
	}
	aq.Limit = 100
	return aq, form, nil
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	aq, form, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	v := AuditView{StaffPage: s.staffPage(r, "admin.audit"), Query: aq, Form: form, Kinds: auditKinds}
	if v.Events, err = s.staff.Audit(r.Context(), pr.DB(), aq); err != nil {
		return err
	}
	v.Entries = auditWords(newTranslator(v.Lang), v.Lang, v.Loc, v.Events)
	if v.Tenants, err = s.staff.Overview(r.Context(), pr.DB(), s.now(), s.staleAfter()); err != nil {
		return err
	}
	if len(v.Events) == int(aq.Limit) {
		last := v.Events[len(v.Events)-1]
		q := r.URL.Query()
		q.Set("before", dashboard.Cursor{CreatedAt: last.At, ID: int32(last.ID)}.String())
		v.Next = "/admin/audit?" + q.Encode()
	}
	return s.render(w, r, http.StatusOK, "admin_audit", v)
}

// adminAuditExport exports the filtered audit log (up to 100,000 events, newest first) as CSV
// or .xlsx (the path's extension).
func (s *Server) adminAuditExport(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	aq, _, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	format, redirected, err := exportFormat(w, r, r.URL.Path)
	if err != nil || redirected {
		return err
	}
	lang := s.langOf(r)
	c := func(key string, k sheet.Kind) sheet.Column {
		return sheet.Column{Key: key, Title: translate(lang, "export.audit."+key), Kind: k}
	}
	zone := s.viewerZone(r)
	tr := newTranslator(lang)
	t := sheet.Table{Name: translate(lang, "export.sheet.audit"), Loc: zone, Locale: sheet.PtBR, Columns: []sheet.Column{
		c("quando", sheet.DateTime), c("evento", sheet.Text), c("alteracoes", sheet.Text), c("cliente", sheet.Text), c("ator", sheet.Text), c("papel", sheet.Code),
		c("acao", sheet.Code), c("entidade", sheet.Code), c("id", sheet.Code), c("antes", sheet.Text),
		c("depois", sheet.Text), c("ip", sheet.Code), c("navegador", sheet.Text)}}
	if lang == langEN {
		t.Locale = sheet.English
	}
	out := &download{w: w, name: "auditoria", format: format}
	sw, err := sheet.New(out, format, t)
	if err != nil {
		return err
	}
	defer sw.Abort()
	aq.Limit = 1000
	n := 0
	for page := 0; page < 100 && err == nil; page++ {
		var rows []dbsqlc.AuditSearchRow
		if rows, err = s.staff.Audit(r.Context(), pr.DB(), aq); err != nil {
			break
		}
		for _, e := range rows {
			n++
			if err = sw.Row(sheet.Time(e.At), sheet.Str(auditSentence(tr, e)), sheet.Str(auditChangesText(auditChanges(tr, lang, zone, e))),
				sheet.Str(e.TenantSlug), sheet.Str(e.ActorEmail), sheet.Str(deref(e.ActorRole)),
				sheet.Str(e.Action), sheet.Str(deref(e.Entity)), sheet.Str(deref(e.EntityID)), sheet.Str(string(e.OldValues)),
				sheet.Str(string(e.NewValues)), sheet.Str(e.IP), sheet.Str(deref(e.UserAgent))); err != nil {
				break
			}
		}
		if len(rows) < int(aq.Limit) {
			break
		}
		last := rows[len(rows)-1]
		aq.BeforeAt, aq.BeforeID = &last.At, &last.ID
	}
	return s.finishExport(r, out, sw, err, n)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ExportQuery is the audit filter without the page cursor, for the CSV link.
func (v AuditView) ExportQuery() url.Values {
	q := url.Values{}
	for k, val := range v.Form {
		if val != "" && k != "before" {
			q.Set(k, val)
		}
	}
	return q
}

// KindLabel is an action filter choice in words: a group ("Clientes: todas") or one kind's
// sentence without names.
func (v AuditView) KindLabel(kind string) string {
	if group, ok := strings.CutSuffix(kind, "."); ok {
		return v.T("audit.group." + group)
	}
	return "· " + v.T("audit.choice."+kind)
}
