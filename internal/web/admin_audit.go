package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/sheet"
	"github.com/geniai/analytics/internal/staff"
)

// AuditView is /admin/audit.
type AuditView struct {
	StaffPage
	Query   staff.AuditQuery
	Form    map[string]string
	Events  []dbsqlc.AuditSearchRow
	Entries []AuditEntry // the events in words
	Kinds   []string     // the action filter's choices (kind prefixes)
	Tenants []dbsqlc.AdminTenantOverviewRow
	Next    string
}

// auditKinds are the action filter's choices: groups, then the kinds people look for most.
var auditKinds = []string{"tenant.", "tenant.created", "tenant.suspended", "tenant.reactivated", "tenant.cancelled",
	"user.", "user.created", "user.deactivated", "user.role_changed", "user.password_reset", "user.reset_link_sent",
	"settings.", "inbox.", "access.", "access.login", "access.login_failed", "access.locked", "view.as_client"}

// auditQuery parses the audit filters; bad input is a 400 with a message.
func (s *Server) auditQuery(r *http.Request) (staff.AuditQuery, map[string]string, error) {
	q := r.URL.Query()
	form := map[string]string{}
	var aq staff.AuditQuery
	for _, k := range []string{"tenant", "user", "person", "kind", "action", "from", "to", "before"} {
		form[k] = strings.TrimSpace(q.Get(k))
	}
	id := func(name string) (*int64, error) {
		if form[name] == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(form[name], 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.New(apperr.Invalid, "err.audit.filter", name)
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
		return aq, form, apperr.New(apperr.Invalid, "err.audit.action_too_long")
	}
	aq.Action = form["action"]
	if len(form["person"]) > 100 {
		return aq, form, apperr.New(apperr.Invalid, "err.audit.person_too_long")
	}
	aq.Person = form["person"]
	if k := form["kind"]; k != "" {
		if !slices.Contains(auditKinds, k) {
			return aq, form, apperr.New(apperr.Invalid, "err.audit.kind", k)
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
			return aq, form, apperr.New(apperr.Invalid, "err.audit.date", form[d.key])
		}
		t = t.AddDate(0, 0, d.add)
		*d.dst = &t
	}
	if aq.Since != nil && aq.Until != nil && !aq.Since.Before(*aq.Until) {
		return aq, form, apperr.New(apperr.Invalid, "err.audit.date_order")
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
	if v.Events, err = s.staff.Audit(r.Context(), *pr, aq); err != nil {
		return err
	}
	v.Entries = auditWords(newTranslator(v.Lang), v.Lang, v.Loc, v.Events)
	if v.Tenants, err = s.staff.Overview(r.Context(), *pr, s.now(), s.staleAfter()); err != nil {
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
		if rows, err = s.staff.Audit(r.Context(), *pr, aq); err != nil {
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
