package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// UsersView is /admin/users.
type UsersView struct {
	StaffPage
	Q        string
	Users    []dbsqlc.UserSearchRow
	Tenants  []dbsqlc.AdminTenantOverviewRow
	Platform int64
	Password string
	PwFor    string
	MailOn   bool // resets send a link (SMTP configured) rather than show a password
}

// Locked reports whether a user is locked out now.
func (v UsersView) Locked(u dbsqlc.UserSearchRow) bool {
	return u.LockedUntil != nil && u.LockedUntil.After(time.Now())
}
func (s *Server) usersView(r *http.Request) (UsersView, error) {
	pr := principalFrom(r)
	v := UsersView{StaffPage: s.staffPage(r, "admin.users"), Q: strings.TrimSpace(r.URL.Query().Get("q")), Platform: pr.TenantID,
		MailOn: s.acct.Mail.Enabled()}
	var err error
	if v.Users, err = s.staff.SearchUsers(r.Context(), *pr, nil, v.Q); err != nil {
		return v, err
	}
	v.Tenants, err = s.staff.Overview(r.Context(), *pr, s.now(), s.staleAfter())
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
		v.Error, status = v.Err(err), statusOf(err)
	}
	return s.render(w, r, status, "admin_users", v)
}
func (s *Server) adminUserCreate(w http.ResponseWriter, r *http.Request) error {
	if s.acct.Mail.Enabled() {
		return s.adminUserInvite(w, r)
	}
	u, password, err := s.tenantAdmin.CreateUser(r.Context(), *principalFrom(r), tenantadmin.UserInput{
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
		return 0, apperr.New(apperr.NotFound, "err.user.not_found")
	}
	return id, nil
}
func (s *Server) adminUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	active := r.PostFormValue("active") != ""
	if !active {
		u, err := s.tenantAdmin.GetUser(r.Context(), *pr, id)
		if err != nil {
			return err
		}
		if u.IsActive {
			lang := s.langOf(r)
			if ok, err := s.confirmed(w, r, "/admin/users?q="+url.QueryEscape(u.Email), "admin.users",
				locale.Translate(lang, "confirm.deactivate.question", u.Email), locale.Translate(lang, "confirm.deactivate.consequence"),
				locale.Translate(lang, "confirm.deactivate.button")); !ok {
				return err
			}
		}
	}
	_, err = s.tenantAdmin.UpdateUser(r.Context(), *pr, id, tenantadmin.UserEdit{
		FullName: r.PostFormValue("full_name"), Role: r.PostFormValue("role"), Active: active,
	})
	return s.usersResult(w, r, err, "", "")
}
func (s *Server) adminUserUnlock(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	return s.usersResult(w, r, s.staff.UnlockUser(r.Context(), *principalFrom(r), id), "", "")
}

// adminUserReset is "Enviar link de redefinição" with outgoing mail (a one-hour link in the
// user's language, through the queue, audited), "Gerar nova senha" without (a password shown
// once); either after a confirmation step.
func (s *Server) adminUserReset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUser(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	u, err := s.tenantAdmin.GetUser(r.Context(), *pr, id)
	if err != nil {
		return err
	}
	lang := s.langOf(r)
	back := "/admin/users?q=" + url.QueryEscape(u.Email)
	mailOn := s.acct.Mail.Enabled()
	what := "reset_password"
	if mailOn {
		what = "reset_link"
	}
	if ok, err := s.confirmed(w, r, back, "admin.users", locale.Translate(lang, "confirm."+what+".question", u.Email),
		locale.Translate(lang, "confirm."+what+".consequence"), locale.Translate(lang, "confirm."+what+".button")); !ok {
		return err
	}
	if mailOn {
		sent, err := s.acct.SendReset(r.Context(), *pr, id, inviterName(pr))
		if err != nil {
			return s.usersResult(w, r, err, "", "")
		}
		s.staffNotice(r, locale.Translate(lang, "admin.reset_link_sent", sent.Email, formatAt(lang, sent.ExpiresAt, s.viewerZone(r))))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	password, err := s.tenantAdmin.ResetPassword(r.Context(), *pr, id)
	if err != nil {
		return s.usersResult(w, r, err, "", "")
	}
	return s.usersResult(w, r, nil, u.Email, password)
}
