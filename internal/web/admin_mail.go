package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

// Staff's view of e-mail: a tenant's digest subscriptions and send log, and the invitations
// across tenants — held ones first, with the account that holds their address, which a
// super_admin may free (a squatted address) before resending.

// AdminMailView is /admin/tenants/{tenant}/mail.
type AdminMailView struct {
	StaffPage
	Tenant        dbsqlc.AppTenant
	Subscriptions []dbsqlc.DigestSubscriptionsRow
	Log           []dbsqlc.MailLogRow
	Attempts      map[int64][]dbsqlc.MailAttemptsOfRow
	MailEnabled   bool
}

// Kind names a message's kind for people ("Alerta: passou do SLA"); a kind without a name in the
// catalogue shows as stored.
func (v AdminMailView) Kind(kind string) string {
	if key := "adminmail.kind." + kind; locale.Has(locale.PT, key) {
		return v.T(key)
	}
	return kind
}

func (s *Server) adminTenantMail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	v := AdminMailView{StaffPage: s.staffPage(r, "adminmail.title"), Attempts: map[int64][]dbsqlc.MailAttemptsOfRow{}, MailEnabled: s.acct.Mail.Enabled()}
	if v.Tenant, _, err = s.staff.Tenant(r.Context(), *pr, id); err != nil {
		return err
	}
	if v.Subscriptions, err = digest.List(r.Context(), s.db, *pr, id); err != nil {
		return err
	}
	err = s.db.InReadTx(r.Context(), *pr, func(tx pg.Tx) error {
		var err error
		if v.Log, err = tx.MailLog(r.Context(), dbsqlc.MailLogParams{TenantID: id, Lim: 100}); err != nil {
			return err
		}
		for _, m := range v.Log {
			if m.Attempts > 1 || m.Status != "sent" {
				if v.Attempts[m.ID], err = tx.MailAttemptsOf(r.Context(), dbsqlc.MailAttemptsOfParams{TenantID: id, MessageID: m.ID}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_mail", v)
}

// AdminInvitationsView is /admin/invitations.
type AdminInvitationsView struct {
	StaffPage
	Q           string
	Invitations []dbsqlc.InvitationsStaffSearchRow
	Holders     map[string]dbsqlc.UserHoldingEmailRow // address → the account holding it
}

func (s *Server) adminInvitationsView(r *http.Request) (AdminInvitationsView, error) {
	pr := principalFrom(r)
	v := AdminInvitationsView{StaffPage: s.staffPage(r, "adminmail.invitations"), Q: strings.ToLower(strings.TrimSpace(r.URL.Query().Get("email"))),
		Holders: map[string]dbsqlc.UserHoldingEmailRow{}}
	err := s.db.InReadTx(r.Context(), *pr, func(tx pg.Tx) error {
		var q *string
		if v.Q != "" {
			q = &v.Q
		}
		var err error
		if v.Invitations, err = tx.InvitationsStaffSearch(r.Context(), q); err != nil {
			return err
		}
		for _, inv := range v.Invitations {
			if !inv.Held {
				continue
			}
			if _, ok := v.Holders[inv.Email]; ok {
				continue
			}
			u, err := tx.UserHoldingEmail(r.Context(), inv.Email)
			if pg.IsNoRows(err) {
				continue // freed since: a resend goes out
			} else if err != nil {
				return err
			}
			v.Holders[inv.Email] = u
		}
		return nil
	})
	return v, err
}

func (s *Server) adminInvitations(w http.ResponseWriter, r *http.Request) error {
	v, err := s.adminInvitationsView(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_invitations", v)
}

func (s *Server) adminInvitationsResult(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil {
		http.Redirect(w, r, "/admin/invitations?saved=1", http.StatusSeeOther)
		return nil
	}
	if c := apperr.CodeOf(err); c != apperr.Invalid && c != apperr.Conflict {
		return err
	}
	v, verr := s.adminInvitationsView(r)
	if verr != nil {
		return verr
	}
	v.Error = v.Err(err)
	return s.render(w, r, statusOf(err), "admin_invitations", v)
}

func (s *Server) adminInvitationResend(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathTenant(r)
	if err != nil {
		return err
	}
	id, err := invitationID(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	if err := s.acct.Resend(r.Context(), *pr, tid, id, ""); err != nil || r.PostFormValue("back") != "welcome" {
		return s.adminInvitationsResult(w, r, err)
	}
	// From the page after onboarding: back there, saying where it went and until when.
	lang := s.langOf(r)
	if inv, err := s.pendingInvitations(r, tid); err == nil {
		for _, x := range inv {
			if x.ID == id {
				s.staffNotice(r, locale.Translate(lang, "welcome.invitation_resent", x.Email, formatAt(lang, x.ExpiresAt, s.viewerZone(r))))
			}
		}
	}
	http.Redirect(w, r, "/admin/tenants/"+strconv.FormatInt(tid, 10)+"/welcome", http.StatusSeeOther)
	return nil
}

// adminUserRelease frees the address of an account (a squatted address): deactivated, sessions
// ended, its e-mail renamed; held invitations of the address can then be resent.
func (s *Server) adminUserRelease(w http.ResponseWriter, r *http.Request) error {
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
	if ok, err := s.confirmed(w, r, "/admin/invitations?email="+url.QueryEscape(u.Email), "adminmail.invitations",
		locale.Translate(lang, "confirm.release.question", u.Email), locale.Translate(lang, "confirm.release.consequence"),
		locale.Translate(lang, "confirm.release.button")); !ok {
		return err
	}
	err = s.db.InTx(r.Context(), *pr, func(tx pg.Tx) error {
		u, err := tx.UserReleaseEmail(r.Context(), id)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.user.not_found")
		} else if err != nil {
			return err
		}
		eid := strconv.FormatInt(u.ID, 10)
		_, err = tx.AuditEvent(r.Context(), dbsqlc.AuditEventParams{Action: "user.release_email", Entity: "user", EntityID: eid,
			Details: []byte(`{"reason":"address held by invitations of another tenant"}`)})
		return err
	})
	return s.adminInvitationsResult(w, r, err)
}

// adminUserInvite is /admin/users' "new user" with mail on: an invitation. Staff see every
// tenant, so an address that already has an account is named as such.
func (s *Server) adminUserInvite(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	email := account.NormalEmail(r.PostFormValue("email"))
	var tenantID int64
	err := s.db.InReadTx(r.Context(), *pr, func(tx pg.Tx) error {
		t, err := tx.TenantGetBySlug(r.Context(), r.PostFormValue("tenant"))
		if pg.IsNoRows(err) {
			return apperr.New(apperr.Invalid, "err.tenant.not_found_slug", r.PostFormValue("tenant"))
		} else if err != nil {
			return err
		}
		tenantID = t.ID
		u, err := tx.UserHoldingEmail(r.Context(), email)
		if err == nil {
			return apperr.New(apperr.Conflict, "err.invitation.held_by", u.TenantName)
		} else if !pg.IsNoRows(err) {
			return err
		}
		return nil
	})
	if err == nil {
		_, err = s.acct.Invite(r.Context(), *pr, account.Invitation{TenantID: tenantID, Email: email,
			FullName: r.PostFormValue("full_name"), Role: r.PostFormValue("role"), Language: r.PostFormValue("language"),
			InvitedBy: "GeniAI"})
	}
	if err != nil {
		return s.usersResult(w, r, err, "", "")
	}
	v, err := s.usersView(r)
	if err != nil {
		return err
	}
	v.Notice = fmt.Sprintf(v.T("settings.invited"), email)
	return s.render(w, r, http.StatusOK, "admin_users", v)
}
