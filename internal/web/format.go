package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/chart"
	"github.com/geniai/analytics/internal/dashboard"
)

// funcs are the template helpers: pt-BR number, percent, duration and date formatting, and small
// conveniences for building links. Formatting that depends on the page language takes it first.
var funcs = template.FuncMap{
	"num":      func(lang string, n int64) string { return formatInt(n, lang) },
	"numf":     formatNumPtr,
	"pct":      formatPct,
	"dur":      formatDuration,
	"change":   formatChange,
	"trend":    trendClass,
	"day":      formatDay,
	"datetime": formatDateTime,
	"join":     strings.Join,
	"query":    func(v url.Values) template.URL { return template.URL(v.Encode()) },
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	},
	"add":     func(a, b int) int { return a + b },
	"f1":      func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
	"sub1":    func(x float64) float64 { return x - 4 },
	"channel": channelName,
	"lower":   strings.ToLower,
	"svgOf":   func(b chart.Bars, name string) svgData { return svgData{B: b, Name: name} },
	"kpi":     kpiCard,
	"exp":     exportLinks,
	"stack":   func() func(*dashboard.Filter) { return func(f *dashboard.Filter) { f.Stacked = true } },
	"unstack": func() func(*dashboard.Filter) { return func(f *dashboard.Filter) { f.Stacked = false } },
	"nan": func(x float64) *float64 {
		if math.IsNaN(x) {
			return nil
		}
		return &x
	},
	"strs": func(xs ...string) []string { return xs },
	"pctp": func(cur, prev int64) *float64 {
		if prev == 0 {
			return nil
		}
		c := float64(cur-prev) / float64(prev) * 100
		return &c
	},
	"list": func(xs ...int32) []int32 { return xs },
	"derefTime": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"deref": func(p *int16) int16 {
		if p == nil {
			return 0
		}
		return *p
	},
}

func decimalSep(lang string) string {
	if lang == langEN {
		return "."
	}
	return ","
}

// formatNumPtr formats a count held as *float64 (a KPI value); nil is a dash.
func formatNumPtr(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	return formatInt(int64(math.Round(*x)), lang)
}

// formatPct formats a fraction as a percentage with one decimal: 0.4531 → "45,3%".
func formatPct(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	s := strconv.FormatFloat(*x*100, 'f', 1, 64)
	return strings.Replace(s, ".", decimalSep(lang), 1) + "%"
}

// formatDuration formats seconds for people: "45 s", "3 min 12 s", "2 h 05 min", "3 d 4 h".
// Storage keeps fractions of a second; pages round.
func formatDuration(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	s := int64(math.Round(*x))
	day := "d"
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%d %s %d h", s/86400, day, s%86400/3600)
}

// formatChange formats a relative change: "+12,5%", "−3,0%", or "" without a base.
func formatChange(lang string, x *float64) string {
	if x == nil {
		return ""
	}
	v := *x
	sign := "+"
	if v < 0 {
		sign, v = "−", -v
	}
	return sign + strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", decimalSep(lang), 1) + "%"
}

// trendClass is the CSS class of a change; for "lower is better" figures the colours swap.
func trendClass(x *float64, lowerIsBetter bool) string {
	if x == nil || math.Abs(*x) < 0.05 {
		return "flat"
	}
	if (*x > 0) != lowerIsBetter {
		return "up-good"
	}
	return "down-bad"
}

func formatDay(lang string, t time.Time) string {
	if lang == langEN {
		return t.Format("2006-01-02")
	}
	return t.Format("02/01/2006")
}

// formatDateTime formats an instant in loc.
func formatDateTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc != nil {
		t = t.In(loc)
	}
	if lang == langEN {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("02/01/2006 15:04")
}

// svgData is what the "bars" template draws: a chart and its accessible name.
type svgData struct {
	B    chart.Bars
	Name string
}

// channelName turns a Chatwoot channel type into a name people know.
func channelName(t string) string { return dashboard.ChannelName(t) }
