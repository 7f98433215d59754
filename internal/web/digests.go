package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/pg"
)

// DigestsPage is "Resumos por e-mail": the user's subscriptions (a tenant admin's: the whole
// tenant's, and the users to subscribe).
type DigestsPage struct {
	Page
	MailEnabled   bool
	IsAdmin       bool
	Subscriptions []dbsqlc.DigestSubscriptionsRow
	Users         []dbsqlc.UserSearchRow
	Timezone      string
	Error         string
	Notice        string
}

// Schedule describes a subscription's schedule in words.
func (p DigestsPage) Schedule(s dbsqlc.DigestSubscriptionsRow) string {
	hour := strconv.Itoa(int(s.Hour)) + ":00"
	switch s.Frequency {
	case "daily":
		return p.T("digests.every_day") + " " + hour
	case "weekly":
		return p.T("digests.every_week") + " " + p.T("digests.weekday."+strconv.Itoa(int(s.Weekday))) + " " + hour
	}
	return p.T("digests.every_month") + " " + hour
}

// Hours lists 0-23 for the form.
func (DigestsPage) Hours() []int {
	h := make([]int, 24)
	for i := range h {
		h[i] = i
	}
	return h
}

func (s *Server) digestsView(r *http.Request) (DigestsPage, error) {
	pr := principalFrom(r)
	v := DigestsPage{Page: s.newPage(r, "digests.title"), MailEnabled: s.acct.Mail.Enabled(), IsAdmin: pr.Role == pg.AppAdmin}
	var err error
	if v.Subscriptions, err = digest.List(r.Context(), s.db, *pr, pr.TenantID); err != nil {
		return v, err
	}
	if v.IsAdmin {
		tid := pr.TenantID
		if v.Users, err = s.staff.SearchUsers(r.Context(), *pr, &tid, ""); err != nil {
			return v, err
		}
	}
	t, _, err := s.staff.Tenant(r.Context(), *pr, pr.TenantID)
	v.Timezone = t.Timezone
	return v, err
}

func (s *Server) digestsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.digestsView(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("saved") != "" {
		v.Notice = v.T("digests.saved")
	}
	return s.render(w, r, http.StatusOK, "digests", v)
}

// digestsResult redirects after a change, or shows the page again with the reason.
func (s *Server) digestsResult(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil {
		http.Redirect(w, r, "/account/digests?saved=1", http.StatusSeeOther)
		return nil
	}
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Conflict && code != apperr.NotFound {
		return err
	}
	v, verr := s.digestsView(r)
	if verr != nil {
		return verr
	}
	v.Error = v.Err(err)
	return s.render(w, r, statusOf(err), "digests", v)
}

func (s *Server) digestsSubscribe(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	if !s.acct.Mail.Enabled() {
		return apperr.New(apperr.Invalid, "err.mail.disabled")
	}
	sub := digest.Subscription{UserID: pr.UserID, Frequency: r.PostFormValue("frequency")}
	if u := r.PostFormValue("user_id"); u != "" && pr.Role == pg.AppAdmin {
		id, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			return s.digestsResult(w, r, apperr.New(apperr.NotFound, "err.user.not_found"))
		}
		sub.UserID = id
	}
	sub.Weekday, sub.Hour = formSmallint(r.PostFormValue("weekday"), 0), formSmallint(r.PostFormValue("hour"), -1)
	_, err := digest.Subscribe(r.Context(), s.db, *pr, pr.TenantID, sub)
	return s.digestsResult(w, r, err)
}

func (s *Server) digestsUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.New(apperr.NotFound, "err.subscription.not_found")
	}
	return s.digestsResult(w, r, digest.Unsubscribe(r.Context(), s.db, *pr, pr.TenantID, id))
}

// Weekdays lists ISO weekdays for the form, Monday first.
func (DigestsPage) Weekdays() []int { return []int{1, 2, 3, 4, 5, 6, 7} }

// Day formats a period's last day (YYYY-MM-DD) as dd/mm/aaaa, or keeps it in English.
func (p DigestsPage) Day(iso string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return "—"
	}
	if p.Lang == langEN {
		return iso
	}
	return t.Format("02/01/2006")
}

// formSmallint reads a small whole number from a form: empty is def, anything else that is not a
// number in smallint range is -1, which the column's CHECK refuses with its own message.
func formSmallint(v string, def int32) int32 {
	v = strings.TrimSpace(v)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 16)
	if err != nil {
		return -1
	}
	return int32(n)
}
