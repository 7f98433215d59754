package web

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/locale"
)

// Chip is one active filter shown above a tenant page, with the link that removes it.
type Chip struct {
	Label  string
	Remove string
}

// Chips are the filters in force besides the period, in plain words ("Segunda, 15h",
// "1ª resposta: 15–60 min", "Busca: preço"), each removable: nothing narrows a page unseen.
func (p TenantPage) Chips() []Chip {
	f := p.Filter
	var out []Chip
	add := func(label string, clear func(*dashboard.Filter)) {
		out = append(out, Chip{Label: label, Remove: p.Link(p.Path, f.With(clear))})
	}
	for _, id := range f.Inboxes {
		id := id
		add(p.T("chip.inbox")+": "+p.inboxName(id), func(g *dashboard.Filter) {
			var keep []int32
			for _, x := range g.Inboxes {
				if x != id {
					keep = append(keep, x)
				}
			}
			g.Inboxes = keep
		})
	}
	if f.Channel != "" {
		add(p.T("filter.channel")+": "+channelName(f.Channel), func(g *dashboard.Filter) { g.Channel = "" })
	}
	if f.Label != "" {
		add(p.T("filter.label")+": "+f.Label, func(g *dashboard.Filter) { g.Label = "" })
	}
	if f.Status != "" {
		add(p.T("filter.status")+": "+p.T("status."+f.Status), func(g *dashboard.Filter) { g.Status = "" })
	}
	if f.Stage != "" {
		add(p.T("filter.stage")+": "+p.T("stage."+f.Stage), func(g *dashboard.Filter) { g.Stage = "" })
	}
	if f.Flag != "" {
		add(p.T("flag."+f.Flag), func(g *dashboard.Filter) { g.Flag = "" })
	}
	if f.FRT != nil && int(*f.FRT) < len(dashboard.FRTBuckets) {
		add(p.T("chip.first_reply")+": "+dashboard.FRTBuckets[*f.FRT], func(g *dashboard.Filter) { g.FRT = nil })
	}
	switch {
	case f.DOW != nil && f.Hour != nil:
		add(p.T("weekday.long."+itoa(int64(*f.DOW)))+", "+itoa(int64(*f.Hour))+"h", func(g *dashboard.Filter) { g.DOW, g.Hour = nil, nil })
	case f.DOW != nil:
		add(p.T("weekday.long."+itoa(int64(*f.DOW))), func(g *dashboard.Filter) { g.DOW = nil })
	case f.Hour != nil:
		add(p.T("chip.hour")+" "+itoa(int64(*f.Hour))+"h", func(g *dashboard.Filter) { g.Hour = nil })
	}
	if f.CSAT != nil {
		add(p.T("chip.csat")+": "+itoa(int64(*f.CSAT))+" ★", func(g *dashboard.Filter) { g.CSAT = nil })
	}
	if f.Business {
		add(p.T("filter.business"), func(g *dashboard.Filter) { g.Business = false })
	}
	if f.Search != "" {
		label := p.T("chip.search") + ": " + f.Search
		if n, only := dashboard.ConversationNumber(f.Search); n != "" && only {
			label = locale.Translate(p.Lang, "chip.conversation_number", n)
		} else if n != "" {
			label = locale.Translate(p.Lang, "chip.search_number", n)
		}
		add(label, func(g *dashboard.Filter) { g.Search, g.SearchAll = "", false })
		if f.SearchAll {
			add(p.T("chip.search_all"), func(g *dashboard.Filter) { g.SearchAll = false })
		}
	}
	return out
}

// ClearAll is the page with every chip removed: the period, the chart's display and the list's
// page size stay.
func (p TenantPage) ClearAll() string {
	return p.Link(p.Path, p.Filter.With(func(g *dashboard.Filter) {
		*g = dashboard.Filter{Preset: g.Preset, From: g.From, To: g.To, Stacked: g.Stacked, Grain: g.Grain, PageSize: g.PageSize, Sort: g.Sort}
	}))
}

// PresetLink applies a period preset at once, keeping every other filter (a link: no JavaScript
// needed).
func (p TenantPage) PresetLink(key string) string {
	for _, pr := range dashboard.Presets {
		if pr.Key == key {
			today := p.Today
			return p.Link(p.Path, p.Filter.With(func(g *dashboard.Filter) {
				g.Preset, g.To, g.From = key, today, today.AddDate(0, 0, -(pr.Days-1))
			}))
		}
	}
	return p.Link(p.Path, p.Filter)
}

func (p TenantPage) inboxName(id int32) string {
	for _, ib := range p.Scope.Tenant.Inboxes {
		if ib.InboxID == id && ib.InboxName != "" {
			return ib.InboxName
		}
	}
	return "#" + strconv.Itoa(int(id))
}

// filterParams are the URL parameters a tenant page reads; anything else is reported, not
// silently kept or dropped.
var filterParams = map[string]bool{
	"period": true, "from": true, "to": true, "inbox": true, "channel": true, "label": true, "status": true,
	"stage": true, "flag": true, "frt": true, "dow": true, "hour": true, "csat": true, "q": true, "stack": true,
	"group": true, "limit": true, "after": true, "before": true, "sort": true, "lang": true, "hours": true,
	"in": true, "qall": true,
}

// unknownParams lists the parameters of q no tenant page understands, sorted.
func unknownParams(q url.Values) []string {
	var out []string
	for k := range q {
		if !filterParams[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// langLink is the current page in the other language, with every parameter kept.
func langLink(u *url.URL, lang string) string {
	q := u.Query()
	q.Set("lang", lang)
	return u.Path + "?" + q.Encode()
}

// bucketShort is a volume bar's axis label: "23/11" for a day or a week (its first day),
// "nov/26" for a month (English: "11-23", "Nov 26").
func bucketShort(lang, grain string, from time.Time) string {
	if grain == "month" {
		m := translate(lang, "month.short."+strconv.Itoa(int(from.Month())))
		if lang == langEN {
			return m + " " + from.Format("06")
		}
		return m + "/" + from.Format("06")
	}
	if lang == langEN {
		return from.Format("01-02")
	}
	return from.Format("02/01")
}

// bucketLabel names a volume bar in full, for its tooltip, table row and the chart's name.
func bucketLabel(lang, grain string, from, to time.Time) string {
	switch grain {
	case "week":
		return fmt.Sprintf(translate(lang, "chart.week_of"), formatDay(lang, from), formatDay(lang, to))
	case "month":
		return translate(lang, "month.long."+strconv.Itoa(int(from.Month()))) + " " + from.Format("2006")
	}
	return formatDay(lang, from)
}

// LabelLink is the page filtered to one of the tenant's labels (the picker's suggestions).
func (p TenantPage) LabelLink(label string) string {
	return p.Link(p.Path, p.Filter.With(func(g *dashboard.Filter) { g.Label = label }))
}
