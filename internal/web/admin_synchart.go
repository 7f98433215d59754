package web

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/chart"
)

// syncCharts draws the tenant page's sync history of the last day: for each run, the time since
// the previous successful check (lag: how long the dashboard went without a sync) and how long
// the run took. A folded row of quiet checks is one bar.
func (s *Server) syncCharts(r *http.Request, v *TenantView, tenantID int64) error {
	rows, err := s.staff.RunHistory(r.Context(), *principalFrom(r), tenantID, s.now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	v.HasRuns = len(rows) > 0
	lag := make([]chart.Item, 0, len(rows))
	dur := make([]chart.Item, 0, len(rows))
	for _, h := range rows {
		at := h.StartedAt.In(v.Loc).Format("15:04")
		lagS := int64(0)
		if !math.IsNaN(h.LagSeconds) {
			lagS = int64(math.Round(h.LagSeconds))
		}
		ms := int64(math.Round(h.DurationSeconds * 1000))
		title := at + " · " + v.T("run."+h.Status)
		if h.Unchanged && h.Checks > 1 {
			title += " · " + strconv.Itoa(int(h.Checks)) + " " + v.T("run.checks")
		}
		lag = append(lag, chart.Item{Label: at, Title: title + " · " + v.T("admin.lag") + " " + formatInt(lagS, v.Lang) + " s", Values: []int64{lagS}})
		series := []int64{ms, 0}
		if h.Status == "failed" || h.Status == "stale" {
			series = []int64{0, ms} // failures in the second colour
		}
		dur = append(dur, chart.Item{Label: at, Title: title + " · " + formatInt(ms, v.Lang) + " ms", Values: series})
	}
	v.LagChart = chart.Layout(lag, 440, 160, func(n int64) string { return formatInt(n, v.Lang) + " s" })
	v.DurChart = chart.Layout(dur, 440, 160, func(n int64) string { return formatInt(n, v.Lang) + " ms" })
	return nil
}
