package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
)

// One-time secrets (a generated password) never travel in a POST's answer: the POST keeps the
// secret in the server-side session store (the sessions table, keyed by the hashed cookie) and
// redirects; the next page view takes it out — shown once, gone on F5 — and a secret not shown
// within secretTTL is dropped unseen.

const (
	keySecret = "one_time_secret"
	secretTTL = 10 * time.Minute
)

// keepSecret holds password (for email, about scope: "tenant:12", "user:34") for the next view.
func (s *Server) keepSecret(r *http.Request, scope, email, password string) {
	s.sessions.Put(r.Context(), keySecret, strings.Join([]string{strconv.FormatInt(s.now().Unix(), 10), scope, email, password}, "\n"))
}

// takeSecret returns the secret kept for scope and forgets it; nothing when it is for another
// page, too old, or already shown.
func (s *Server) takeSecret(r *http.Request, scope string) (email, password string) {
	v := s.sessions.GetString(r.Context(), keySecret)
	if v == "" {
		return "", ""
	}
	parts := strings.SplitN(v, "\n", 4)
	if len(parts) != 4 {
		s.sessions.Remove(r.Context(), keySecret)
		return "", ""
	}
	at, _ := strconv.ParseInt(parts[0], 10, 64)
	if s.now().Sub(time.Unix(at, 0)) > secretTTL {
		s.sessions.Remove(r.Context(), keySecret)
		return "", ""
	}
	if parts[1] != scope {
		return "", ""
	}
	s.sessions.Remove(r.Context(), keySecret)
	return parts[2], parts[3]
}

// WelcomeView is the page after onboarding: the first admin's invitation (with mail) or password
// (once, without), then the first
// sync's own progress and result — never a later run's — and the way into the dashboard.
type WelcomeView struct {
	StaffPage
	Tenant          dbsqlc.AppTenant
	AdminEmail      string
	Password        string
	MailOn          bool
	Invitations     []dbsqlc.InvitationsPendingRow // the tenant's pending invitations (the first admin's)
	Run             *dbsqlc.EtlRunsRecentRow       // the tenant's first run; nil until it starts
	Waiting         bool                           // refresh until the first run ends
	DurationSeconds float64
}

func (s *Server) adminTenantWelcome(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTenant(r)
	if err != nil {
		return err
	}
	pr := principalFrom(r)
	v := WelcomeView{StaffPage: s.staffPage(r, "admin.onboard_done")}
	if v.Tenant, _, err = s.staff.Tenant(r.Context(), *pr, id); err != nil {
		return err
	}
	v.AdminEmail, v.Password = s.takeSecret(r, "tenant:"+strconv.FormatInt(id, 10))
	// The invitation is the database's state, not a one-time secret: a reload shows it again
	// (and sends nothing); after a resend, its new expiry.
	if v.MailOn = s.acct.Mail.Enabled(); v.MailOn {
		if v.Invitations, err = s.pendingInvitations(r, id); err != nil {
			return err
		}
	}
	runs, err := s.staff.Runs(r.Context(), *pr, id, 500)
	if err != nil {
		return err
	}
	v.Waiting = true
	if len(runs) > 0 {
		first := runs[len(runs)-1] // newest first: the last is the first sync
		v.Run = &first
		v.Waiting = first.Status == "running"
		if first.FinishedAt != nil {
			v.DurationSeconds = first.FinishedAt.Sub(first.StartedAt).Seconds()
		}
	}
	return s.render(w, r, http.StatusOK, "admin_welcome", v)
}
