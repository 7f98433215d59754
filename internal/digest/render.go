package digest

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/chartpng"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/sheet"
)

// Input is everything one digest shows.
type Input struct {
	Lang           string // pt-BR or en
	Frequency      string // daily, weekly, monthly
	Name, Email    string // the recipient
	Brand          mail.Brand
	Dash           *dashboard.Dashboard // the period's dashboard (its filter is the period)
	PublicURL      string               // base of every link
	UnsubscribeURL string
	File           *mail.File // the period's spreadsheet, attached when set
}

// KPI is one line of the digest's table.
type KPI struct {
	Label, Value, Previous, Change string
	// Good is +1 when the change is an improvement, -1 when it is worse, 0 when neutral.
	Good int
}

// XLSXAttachment attaches the period's conversations as the explorer's .xlsx export, built by
// export (the web server's ConversationsXLSX) as the subscriber.
func XLSXAttachment(export func(ctx context.Context, p pg.Principal, tenantID int64, f dashboard.Filter, lang string) (string, []byte, error)) AttachFunc {
	return func(ctx context.Context, p pg.Principal, tenantID int64, f dashboard.Filter, lang string) (*mail.File, error) {
		name, data, err := export(ctx, p, tenantID, f, lang)
		if err != nil {
			return nil, err
		}
		return &mail.File{Name: name, ContentType: sheet.XLSX.ContentType(), Data: data}, nil
	}
}

// KPIs are the digest's figures against the previous period, formatted.
func KPIs(lang string, k dashboard.KPIs) []KPI {
	t := texts(lang)
	type row struct {
		key           string
		v             dashboard.Value
		kind          byte // n count, d duration, p rate
		lowerIsBetter bool
	}
	rows := []row{
		{"conversations", k.Conversations, 'n', false}, {"leads", k.Leads, 'n', false},
		{"visits", k.Visits, 'n', false}, {"conversions", k.Conversions, 'n', false},
		{"unanswered_leads", k.UnansweredLeads, 'n', true},
		{"first_reply_p50", k.FirstReplyP50, 'd', true}, {"first_human_reply_p50", k.FirstHumanReplyP50, 'd', true},
		{"resolution_rate", k.ResolutionRate, 'p', false}, {"csat", k.CSATSatisfaction, 'p', false},
	}
	out := make([]KPI, 0, len(rows))
	for _, r := range rows {
		f := func(x *float64) string {
			switch r.kind {
			case 'd':
				return duration(lang, x)
			case 'p':
				return percent(lang, x)
			}
			if x == nil {
				return "0"
			}
			return number(lang, int64(math.Round(*x)))
		}
		kpi := KPI{Label: t[r.key], Value: f(r.v.Cur), Previous: f(r.v.Prev)}
		if c := r.v.Change(); c != nil {
			kpi.Change = signedPercent(lang, *c)
			switch {
			case math.Abs(*c) < 0.05:
			case (*c > 0) != r.lowerIsBetter:
				kpi.Good = 1
			default:
				kpi.Good = -1
			}
		} else {
			kpi.Change = "—"
		}
		out = append(out, kpi)
	}
	return out
}

// Charts draws the digest's images: the period by day (or by hour for a one-day digest), the
// funnel and the first-reply distribution.
func Charts(lang string, brand mail.Brand, d *dashboard.Dashboard) ([]mail.File, error) {
	t := texts(lang)
	primary, secondary := brand.Primary, brand.Secondary
	if primary == "" {
		primary = "#0F766E"
	}
	if secondary == "" {
		secondary = "#B45309"
	}
	var volume chartpng.Bars
	if d.Filter.Days() == 1 {
		grid, _ := d.HeatmapGrid()
		labels := make([]string, 24)
		vals := make([]float64, 24)
		for h := range 24 {
			labels[h] = fmt.Sprintf("%dh", h)
			for dow := range 7 {
				vals[h] += float64(grid[dow][h])
			}
		}
		volume = chartpng.Bars{Title: t["chart.hourly"], Labels: labels, Series: []chartpng.Series{{Name: t["conversations"], Colour: primary, Values: vals}}}
	} else {
		days := d.DailySeries()
		labels := make([]string, len(days))
		conv := make([]float64, len(days))
		leads := make([]float64, len(days))
		for i, p := range days {
			labels[i] = p.Day.Format("02/01")
			if lang == "en" {
				labels[i] = p.Day.Format("Jan 2")
			}
			conv[i], leads[i] = float64(p.Conversations), float64(p.Leads)
		}
		volume = chartpng.Bars{Title: t["chart.daily"], Labels: labels, Series: []chartpng.Series{
			{Name: t["conversations"], Colour: primary, Values: conv}, {Name: t["leads"], Colour: secondary, Values: leads}}}
	}
	k := d.KPIs
	val := func(v dashboard.Value) float64 {
		if v.Cur == nil {
			return 0
		}
		return *v.Cur
	}
	rate := func(n, of float64) string {
		if of <= 0 {
			return ""
		}
		return percent(lang, ptr(n/of))
	}
	c, l, v, m := val(k.Conversations), val(k.Leads), val(k.Visits), val(k.Conversions)
	funnel := chartpng.HBars{Title: t["chart.funnel"], Colour: primary,
		Labels: []string{t["conversations"], t["leads"], t["visits"], t["conversions"]},
		Values: []float64{c, l, v, m}, Notes: []string{"", rate(l, c), rate(v, l), rate(m, v)},
		Format: func(x float64) string { return number(lang, int64(x)) }}
	frt := d.FRTCounts()
	frtVals := make([]float64, len(frt))
	for i, n := range frt {
		frtVals[i] = float64(n)
	}
	first := chartpng.Bars{Title: t["chart.frt"], Labels: dashboard.FRTBuckets, Height: 180,
		Series: []chartpng.Series{{Name: t["conversations"], Colour: primary, Values: frtVals}}}
	var files []mail.File
	for i, ch := range []interface{ PNG() ([]byte, error) }{volume, funnel, first} {
		b, err := ch.PNG()
		if err != nil {
			return nil, err
		}
		files = append(files, mail.File{Name: fmt.Sprintf("grafico-%d.png", i+1), ContentType: "image/png",
			ContentID: fmt.Sprintf("chart-%d", i+1), Data: b})
	}
	return files, nil
}

func ptr(x float64) *float64 { return &x }

// Period is the digest's period as words ("01/12/2026 a 07/12/2026").
func Period(lang string, f dashboard.Filter) string {
	if lang == "en" {
		if f.From.Equal(f.To) {
			return f.From.Format("Jan 2, 2006")
		}
		return f.From.Format("Jan 2") + " – " + f.To.Format("Jan 2, 2006")
	}
	if f.From.Equal(f.To) {
		return f.From.Format("02/01/2006")
	}
	return f.From.Format("02/01/2006") + " a " + f.To.Format("02/01/2006")
}

var body = template.Must(template.New("digest").Parse(`
<p style="margin:0 0 14px;font-size:15px;line-height:1.5;">{{.Lead}}</p>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 18px;font-size:14px;">
<tr><th align="left" style="padding:6px 4px;border-bottom:2px solid #E5E7EB;color:#6B7280;font-size:12px;">{{.T.indicator}}</th>
<th align="right" style="padding:6px 4px;border-bottom:2px solid #E5E7EB;color:#6B7280;font-size:12px;">{{.T.period}}</th>
<th align="right" style="padding:6px 4px;border-bottom:2px solid #E5E7EB;color:#6B7280;font-size:12px;">{{.T.previous}}</th>
<th align="right" style="padding:6px 4px;border-bottom:2px solid #E5E7EB;color:#6B7280;font-size:12px;">{{.T.change}}</th></tr>
{{range .KPIs}}<tr><td style="padding:7px 4px;border-bottom:1px solid #F3F4F6;">{{.Label}}</td>
<td align="right" style="padding:7px 4px;border-bottom:1px solid #F3F4F6;font-weight:bold;">{{.Value}}</td>
<td align="right" style="padding:7px 4px;border-bottom:1px solid #F3F4F6;color:#6B7280;">{{.Previous}}</td>
<td align="right" style="padding:7px 4px;border-bottom:1px solid #F3F4F6;color:{{if gt .Good 0}}#047857{{else if lt .Good 0}}#B91C1C{{else}}#6B7280{{end}};">{{.Change}}</td></tr>
{{end}}</table>
{{if .Unanswered}}<p style="margin:0 0 18px;padding:10px 12px;background:#FEF3C7;border-radius:6px;font-size:14px;line-height:1.5;">{{.Unanswered}} <a href="{{.UnansweredURL}}" style="color:#92400E;">{{.T.see_them}}</a></p>{{end}}
{{range .Charts}}<img src="cid:{{.}}" width="560" alt="" style="display:block;width:100%;max-width:560px;height:auto;margin:0 0 18px;border:0;">
{{end}}`))

// Render builds the digest message (recipient fields are the caller's).
func Render(in Input) (mail.Message, error) {
	lang := in.Lang
	if lang != "en" {
		lang = "pt-BR"
	}
	t := texts(lang)
	f := in.Dash.Filter
	period := Period(lang, f)
	q := url.Values{"from": {f.From.Format("2006-01-02")}, "to": {f.To.Format("2006-01-02")}}
	dashURL := in.PublicURL + "/dashboard?" + q.Encode()
	q.Set("flag", "unanswered_lead")
	unansweredURL := in.PublicURL + "/conversations?" + q.Encode()
	kpis := KPIs(lang, in.Dash.KPIs)
	charts, err := Charts(lang, in.Brand, in.Dash)
	if err != nil {
		return mail.Message{}, err
	}
	var unanswered string
	if n := in.Dash.KPIs.UnansweredLeads.Cur; n != nil && *n > 0 {
		key := "unanswered"
		if int64(*n) == 1 {
			key = "unanswered_one"
		}
		unanswered = fmt.Sprintf(t[key], number(lang, int64(*n)))
	}
	lead := fmt.Sprintf(t["lead"], in.Brand.Name, period)
	if in.Dash.Empty() {
		lead = fmt.Sprintf(t["lead.empty"], in.Brand.Name, period)
	}
	var cids []string
	for _, c := range charts {
		cids = append(cids, c.ContentID)
	}
	var b bytes.Buffer
	if err := body.Execute(&b, map[string]any{"T": t, "KPIs": kpis, "Lead": lead, "Unanswered": unanswered,
		"UnansweredURL": unansweredURL, "Charts": cids}); err != nil {
		return mail.Message{}, err
	}
	title := fmt.Sprintf(t["title."+in.Frequency], in.Brand.Name)
	page := mail.Page{Lang: lang, Brand: in.Brand, Title: title, Preheader: lead, Body: template.HTML(b.String()),
		Button: &mail.Button{Label: t["open_dashboard"], URL: dashURL},
		Footer: []string{fmt.Sprintf(t["footer"], in.Email)}, FooterLink: &mail.Button{Label: t["unsubscribe"], URL: in.UnsubscribeURL}}
	if in.File != nil {
		page.After = []string{fmt.Sprintf(t["attached"], in.File.Name)}
	}
	html, err := page.HTML()
	if err != nil {
		return mail.Message{}, err
	}
	var txt strings.Builder
	txt.WriteString(lead + "\n\n")
	for _, k := range kpis {
		fmt.Fprintf(&txt, "%-32s %12s  (%s %s, %s)\n", k.Label, k.Value, t["previous.short"], k.Previous, k.Change)
	}
	if unanswered != "" {
		txt.WriteString("\n" + unanswered + "\n" + unansweredURL + "\n")
	}
	textPage := page
	textPage.Intro = nil
	msg := mail.Message{
		Kind: "digest", Subject: fmt.Sprintf(t["subject."+in.Frequency], in.Brand.Name, period),
		Text: textPage.Text(txt.String()), HTML: html,
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + in.UnsubscribeURL + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		Files: charts,
	}
	if in.File != nil {
		msg.Files = append(msg.Files, *in.File)
	}
	return msg, nil
}

// texts is the digest's wording in lang, from the catalogue (internal/locale, keys mail.digest.*),
// keyed without the prefix for the template.
func texts(lang string) map[string]string {
	t := map[string]string{}
	for _, k := range locale.Keys(locale.PT) {
		if name, ok := strings.CutPrefix(k, "mail.digest."); ok {
			t[name] = locale.Translate(lang, k)
		}
	}
	return t
}

func number(lang string, n int64) string {
	s := chartpng.FormatInt(n)
	if lang == "en" {
		return strings.ReplaceAll(s, ".", ",")
	}
	return s
}

func percent(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	s := fmt.Sprintf("%.1f%%", *x*100)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// signedPercent is a change as the dashboard writes it: "+12,5%", "−3,0%" (a minus sign, not a
// hyphen).
func signedPercent(lang string, c float64) string {
	s := strings.Replace(fmt.Sprintf("%+.1f%%", c), "-", "−", 1)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func duration(lang string, x *float64) string {
	if x == nil {
		return "—"
	}
	d := time.Duration(*x * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	if lang == "en" {
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
	return strings.Replace(fmt.Sprintf("%.1f dias", d.Hours()/24), ".", ",", 1)
}
