package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/chart"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// The GeniAI admin panel: staff only. super_admin changes things; support sees everything and
// every POST route refuses them (404) — the buttons are hidden too. One file per page:
// admin_overview.go (/admin), admin_onboard.go, admin_tenant.go, admin_sync.go, admin_users.go,
// admin_audit.go.

// StaffPage is what every admin page gets.
type StaffPage struct {
	Page
	CanWrite bool
	Error    string
	Notice   string
	Loc      *time.Location // the reader's zone: every timestamp is shown in it, with its offset
}

func (s *Server) staffPage(r *http.Request, titleKey string) StaffPage {
	p := StaffPage{Page: s.newPage(r, titleKey)}
	p.CanWrite = principalFrom(r).Role == pg.AppSuperAdmin
	p.Loc = s.viewerZone(r)
	if r.URL.Query().Get("saved") != "" {
		p.Notice = p.T("settings.saved")
	}
	if n := s.sessions.PopString(r.Context(), keyFlash+"_staff"); n != "" {
		p.Notice = n
	}
	return p
}

// TenantRow is one line of the overview.
type TenantRow struct {
	dbsqlc.AdminTenantOverviewRow
	ConvChange, LeadChange *float64
	Lag                    *time.Duration
	Flag                   string // "", "failing", "stale", "never"
}

// OverviewView is /admin.
type OverviewView struct {
	StaffPage
	Rows                  []TenantRow
	Sort, Q, Status       string
	TotalConv, TotalLeads int64
	TotalPrev, TotalUsers int64
	Chart                 chart.Bars
	Watch                 []dbsqlc.LoginWatchRow // accounts locked on some network or under attack

	StaleAfter time.Duration // a tenant is flagged "atrasada" when its last success is older
}

// StaleText is the flag's threshold in words ("3 min"), for the legend under the table.
func (v OverviewView) StaleText() string { return v.LagText(&v.StaleAfter) }

// staleAfter is how old a last success may be before the overview flags a tenant: three sync
// intervals (a day when the server runs no scheduler).
func (s *Server) staleAfter() time.Duration {
	if s.cfg.ETLInterval > 0 {
		return 3 * s.cfg.ETLInterval
	}
	return 24 * time.Hour
}
func pctChange(cur, prev int64) *float64 {
	if prev == 0 {
		return nil
	}
	c := float64(cur-prev) / float64(prev) * 100
	return &c
}
func (s *Server) adminOverview(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	now := s.now()
	rows, err := s.staff.Overview(r.Context(), *pr, now, s.staleAfter())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := OverviewView{StaffPage: s.staffPage(r, "admin.title"), Sort: q.Get("sort"), Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status")}
	v.StaleAfter = s.staleAfter()
	if v.Watch, err = s.staff.LoginWatch(r.Context(), *pr, 20); err != nil {
		return err
	}
	for _, row := range rows {
		if v.Status != "" && row.Status != v.Status {
			continue
		}
		if v.Q != "" && !strings.Contains(strings.ToLower(row.Name+" "+row.Slug), strings.ToLower(v.Q)) {
			continue
		}
		tr := TenantRow{AdminTenantOverviewRow: row, ConvChange: pctChange(row.Conversations30d, row.ConversationsPrev30d),
			LeadChange: pctChange(row.Leads30d, row.LeadsPrev30d)}
		switch row.Health { // decided in SQL (AdminTenantOverview), with the same threshold
		case "failed":
			tr.Flag = "failing"
		case "never", "stale":
			tr.Flag = row.Health
		}
		if row.LastSuccessAt != nil {
			lag := now.Sub(*row.LastSuccessAt).Round(time.Second)
			tr.Lag = &lag
		}
		v.Rows = append(v.Rows, tr)
		v.TotalConv += row.Conversations30d
		v.TotalLeads += row.Leads30d
		v.TotalPrev += row.ConversationsPrev30d
		v.TotalUsers += int64(row.Users)
	}
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		switch v.Sort {
		case "conversations":
			return a.Conversations30d > b.Conversations30d
		case "leads":
			return a.Leads30d > b.Leads30d
		case "status":
			return a.Status < b.Status
		case "sync":
			return a.Flag > b.Flag
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	var items []chart.Item
	for _, row := range v.Rows {
		items = append(items, chart.Item{Label: row.Slug, Values: []int64{row.Leads30d, row.Conversations30d - row.Leads30d},
			Title: row.Name + ": " + formatInt(row.Conversations30d, v.Lang), Href: "/admin/tenants/" + strconv.FormatInt(row.ID, 10) + "/dashboard"})
	}
	v.Chart = chart.Layout(items, 900, 220, func(n int64) string { return formatInt(n, v.Lang) })
	return s.render(w, r, http.StatusOK, "admin", v)
}

// SortLink keeps the overview's filters when changing the sort.
func (v OverviewView) SortLink(key string) string {
	q := url.Values{}
	q.Set("sort", key)
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	return "/admin?" + q.Encode()
}

// Change formats a percentage change for a row.
func (v OverviewView) Change(x *float64) string { return formatChange(v.Lang, x) }

// LagText formats a sync lag.
func (v OverviewView) LagText(d *time.Duration) string {
	if d == nil {
		return "—"
	}
	secs := d.Seconds()
	return formatDuration(v.Lang, &secs)
}
