package dashboard

import "time"

// KPI drill-down: each card links to the explorer filtered to exactly the conversations it
// counts (for a rate, its numerator; for a percentile, the conversations ranked).
var kpiDrill = map[string]func(*Filter){
	"conversations":     func(*Filter) {},
	"leads":             func(f *Filter) { f.Stage = "lead" },
	"visits":            func(f *Filter) { f.Stage = "visit" },
	"conversions":       func(f *Filter) { f.Stage = "converted" },
	"unanswered_leads":  func(f *Filter) { f.Flag = "unanswered_lead" },
	"first_reply":       func(f *Filter) { f.Flag = "replied" },
	"first_human_reply": func(f *Filter) { f.Flag = "human_replied" },
	"resolved":          func(f *Filter) { f.Flag = "resolved" },
	"bot_resolved":      func(f *Filter) { f.Flag = "bot_resolved" },
	"with_bot":          func(f *Filter) { f.Flag = "with_bot" },
	"handoff":           func(f *Filter) { f.Flag = "handoff" },
	"csat":              func(f *Filter) { f.Flag = "csat" },
	"satisfied":         func(f *Filter) { f.Flag = "satisfied" },
	"handoff_requests":  func(f *Filter) { f.Flag = "handoff_requested" },
	"human_wait":        func(f *Filter) { f.Flag = "human_wait" },
	"sla":               func(f *Filter) { f.Flag = "sla" },
	"sla_within":        func(f *Filter) { f.Flag = "sla_within" },
	"sla_missed":        func(f *Filter) { f.Flag = "sla_missed" },
}

// DrillKPI is the explorer filter behind a KPI card (see kpiDrill for the names).
func (f Filter) DrillKPI(kpi string) Filter {
	fn, ok := kpiDrill[kpi]
	if !ok {
		fn = func(*Filter) {}
	}
	return f.With(fn)
}

// DrillDay is the explorer filter behind one day of the daily chart.
func (f Filter) DrillDay(day time.Time) Filter {
	return f.With(func(g *Filter) { g.Preset, g.From, g.To = "", day, day })
}

// DrillFRT is the explorer filter behind one bar of the first-reply distribution.
func (f Filter) DrillFRT(bucket int) Filter {
	b := int16(bucket)
	return f.With(func(g *Filter) { g.FRT = &b })
}

// DrillCell is the explorer filter behind one heatmap cell.
func (f Filter) DrillCell(dow, hour int) Filter {
	d, h := int16(dow), int16(hour)
	return f.With(func(g *Filter) { g.DOW, g.Hour = &d, &h })
}

// DrillInbox is the explorer filter behind one row of the per-inbox table.
func (f Filter) DrillInbox(id int32) Filter {
	return f.With(func(g *Filter) { g.Inboxes = []int32{id} })
}

// DrillLabel is the explorer filter behind one row of the per-label table.
func (f Filter) DrillLabel(label string) Filter {
	return f.With(func(g *Filter) { g.Label = label })
}

// DrillCSAT is the explorer filter behind one rating of the CSAT distribution.
func (f Filter) DrillCSAT(rating int) Filter {
	r := int16(rating)
	return f.With(func(g *Filter) { g.CSAT = &r })
}

// DrillRange is the explorer filter behind one bar of the volume chart (a day, a week or a
// month, already clipped to the period).
func (f Filter) DrillRange(from, to time.Time) Filter {
	return f.With(func(g *Filter) { g.Preset, g.From, g.To = "", from, to })
}
