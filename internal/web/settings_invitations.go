package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/geniai/analytics/internal/account"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// With outgoing mail, a tenant admin adds a user by invitation: the person gets a link to set
// their own password, and nothing on the page tells whether the address has an account in
// another tenant (such an invitation is held, and only staff see it).

// pendingInvitations lists the tenant's invitations not yet used.
func (s *Server) pendingInvitations(r *http.Request, tenantID int64) ([]dbsqlc.InvitationsPendingRow, error) {
	var out []dbsqlc.InvitationsPendingRow
	err := s.db.InReadTx(r.Context(), *principalFrom(r), func(tx pg.Tx) error {
		var err error
		out, err = tx.InvitationsPending(r.Context(), tenantID)
		return err
	})
	return out, err
}

// inviterName is how an invitation names who sent it.
func inviterName(p *pg.Principal) string {
	if p.FullName != "" {
		return p.FullName
	}
	return p.Email
}

func (s *Server) settingsInvite(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	role := r.PostFormValue("role")
	if err := tenantRole(role); err != nil {
		return s.settingsResult(w, r, err)
	}
	email := r.PostFormValue("email")
	_, err := s.acct.Invite(r.Context(), *pr, account.Invitation{TenantID: pr.TenantID, Email: email,
		FullName: r.PostFormValue("full_name"), Role: role, Language: r.PostFormValue("language"), InvitedBy: inviterName(pr)})
	if err != nil {
		return s.settingsResult(w, r, err)
	}
	v, err := s.settingsView(r)
	if err != nil {
		return err
	}
	v.Notice = fmt.Sprintf(v.T("settings.invited"), account.NormalEmail(email))
	return s.render(w, r, http.StatusOK, "settings", v)
}

// invitationID reads {id}; the SQL functions check the invitation is the caller's tenant's.
func invitationID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "err.invitation.not_found")
	}
	return id, nil
}

func (s *Server) settingsInvitationResend(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	id, err := invitationID(r)
	if err != nil {
		return err
	}
	if err := s.acct.Resend(r.Context(), *pr, pr.TenantID, id, inviterName(pr)); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	return nil
}

func (s *Server) settingsInvitationRevoke(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	id, err := invitationID(r)
	if err != nil {
		return err
	}
	if err := s.acct.Revoke(r.Context(), *pr, pr.TenantID, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	return nil
}
