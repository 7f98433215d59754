// Package dashboard turns a tenant's analytics into the numbers, series and lists of the client
// dashboard, the conversation explorer, the exports and the JSON API. The filter is parsed once
// from URL parameters (shareable URLs) and every query selects from the same SQL filter function,
// so a KPI and the list it drills down to always count the same conversations.
package dashboard

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// Limits on filter input.
const (
	MaxRangeDays    = 731 // two years
	MaxSearchChars  = 200
	MaxLabelChars   = 100
	DefaultPageSize = 50
	MaxPageSize     = 200
	dateLayout      = "2006-01-02"
)

// Presets are the period shortcuts, in days (today is 1).
var Presets = []struct {
	Key  string
	Days int
}{{"today", 1}, {"7d", 7}, {"30d", 30}, {"90d", 90}, {"365d", 365}}

// Statuses maps URL values to Chatwoot status codes.
var Statuses = map[string]int16{"open": 0, "resolved": 1, "pending": 2, "snoozed": 3}

// Stages are the funnel stages a list can be filtered to ("none": not a lead).
var Stages = []string{"lead", "visit", "converted", "none"}

// Flags are the per-conversation metric conditions a KPI can drill down to.
var Flags = []string{"unanswered", "unanswered_lead", "replied", "human_replied", "resolved",
	"bot_resolved", "with_bot", "handoff", "csat", "satisfied",
	// speed to lead: the bot asked for a person; a first wait for a person was answered; it was
	// judged against the SLA; within it; missed it
	"handoff_requested", "human_wait", "sla", "sla_within", "sla_missed"}

// Filter is a parsed, validated dashboard or explorer filter.
type Filter struct {
	Preset   string    // one of Presets' keys, or "" for a custom range
	From, To time.Time // inclusive days, in the tenant's timezone (dates at UTC midnight)
	Inboxes  []int32
	Channel  string
	Label    string
	Status   string
	Stage    string
	Flag     string
	FRT      *int16 // first-reply bucket 0-6
	DOW      *int16 // weekday 0 (Sunday) - 6
	Hour     *int16 // 0-23
	CSAT     *int16 // 1-5
	Search   string
	// SearchAll searches the bot's and agents' messages too (qall=1); by default the search reads
	// the contact's name and messages only.
	SearchAll bool
	Stacked   bool   // daily chart by inbox
	Business  bool   // durations in business time (hours=business)
	Grain     string // volume chart bars: "day", "week", "month", or "" for the period's default
	PageSize  int
	Sort      string  // list order: a Sorts key, "-" first for descending; "" is newest first
	After     *Cursor // the list page after this position
	Before    *Cursor // the list page before this position ("anterior")
}

// Sorts are the list's sortable columns (URL sort=first_reply, or sort=-first_reply descending).
var Sorts = []string{"created", "first_reply", "first_human_reply", "csat", "stage"}

// SortKey and Descending read Sort: the column and its direction (newest first by default).
func (f Filter) SortKey() string {
	if k := strings.TrimPrefix(f.Sort, "-"); k != "" {
		return k
	}
	return "created"
}

// Descending reports a descending sort (the default, newest first, included).
func (f Filter) Descending() bool { return f.Sort == "" || strings.HasPrefix(f.Sort, "-") }

// DefaultSort reports the list's default order (newest first), the one an index serves.
func (f Filter) DefaultSort() bool { return f.Sort == "" || f.Sort == "-created" }

// Cursor is a keyset position of the list: the row's sort key (nil under the default order,
// newest first), creation time and id.
type Cursor struct {
	Key       *int64
	CreatedAt time.Time
	ID        int32
}

func (c Cursor) String() string {
	s := strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "_" + strconv.FormatInt(int64(c.ID), 10)
	if c.Key != nil {
		s = strconv.FormatInt(*c.Key, 10) + "_" + s
	}
	return s
}

// ParseCursor reads a Cursor written by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	bad := apperr.New(apperr.Invalid, "err.filter.cursor")
	parts := strings.Split(s, "_")
	if len(parts) != 2 && len(parts) != 3 {
		return Cursor{}, bad
	}
	var key *int64
	if len(parts) == 3 {
		k, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return Cursor{}, bad
		}
		key, parts = &k, parts[1:]
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	n, err2 := strconv.ParseInt(parts[1], 10, 32)
	if err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, bad
	}
	return Cursor{Key: key, CreatedAt: time.UnixMicro(us).UTC(), ID: int32(n)}, nil
}

// Days is the number of days in the period.
func (f Filter) Days() int { return int(f.To.Sub(f.From).Hours()/24) + 1 }

// Previous is the same filter over the period of equal length just before this one.
func (f Filter) Previous() Filter {
	p := f
	p.Preset = ""
	p.To = f.From.AddDate(0, 0, -1)
	p.From = p.To.AddDate(0, 0, -(f.Days() - 1))
	return p
}

var channelRE = regexp.MustCompile(`^Channel::[A-Za-z]{1,40}$`)

// Parse reads a filter from URL parameters. today is the current date in the tenant's timezone,
// defaultDays the tenant's default period, inboxes the tenant's inbox ids (an unknown inbox is an
// error, never a way to look at another tenant's data). Every error is an apperr.Invalid.
func Parse(v url.Values, today time.Time, defaultDays int, inboxes []int32) (Filter, error) {
	f := Filter{PageSize: DefaultPageSize}
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	for k, vs := range v {
		if len(vs) > 1 && k != "inbox" {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.repeated", k)
		}
	}
	from, to := strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	preset := v.Get("period")
	// A bad or half-filled period is a DateError: pages answer it beside the date fields and
	// show the preset (or the default period) meanwhile; the API and exports refuse it.
	var dateErr error
	if from != "" || to != "" {
		switch {
		case from == "" || to == "":
			dateErr = apperr.New(apperr.Invalid, "err.filter.dates_required")
		default:
			var err1, err2 error
			f.From, err1 = parseDate(from)
			f.To, err2 = parseDate(to)
			switch {
			case err1 != nil:
				dateErr = apperr.New(apperr.Invalid, "err.filter.from", clip(from))
			case err2 != nil:
				dateErr = apperr.New(apperr.Invalid, "err.filter.to", clip(to))
			case f.From.After(f.To):
				dateErr = apperr.New(apperr.Invalid, "err.filter.date_order", f.From.Format("02/01/2006"), f.To.Format("02/01/2006"))
			case f.Days() > MaxRangeDays:
				dateErr = apperr.New(apperr.Invalid, "err.filter.range_too_long", MaxRangeDays, f.Days())
			}
		}
	}
	if from == "" && to == "" || dateErr != nil {
		days := 0
		if preset == "" {
			days = defaultDays
			preset = presetKey(days)
		} else {
			for _, p := range Presets {
				if p.Key == preset {
					days = p.Days
				}
			}
		}
		if days <= 0 {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.period", clip(preset))
		}
		f.Preset = preset
		f.To = today
		f.From = today.AddDate(0, 0, -(days - 1))
	}

	known := make(map[int32]bool, len(inboxes))
	for _, id := range inboxes {
		known[id] = true
	}
	seen := map[int32]bool{}
	for _, s := range v["inbox"] {
		if s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 32)
		if err != nil || !known[int32(id)] {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.inbox", clip(s))
		}
		if !seen[int32(id)] {
			seen[int32(id)] = true
			f.Inboxes = append(f.Inboxes, int32(id))
		}
	}
	sort.Slice(f.Inboxes, func(i, j int) bool { return f.Inboxes[i] < f.Inboxes[j] })

	if f.Channel = v.Get("channel"); f.Channel != "" && !channelRE.MatchString(f.Channel) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.channel", clip(f.Channel))
	}
	if f.Label = strings.TrimSpace(v.Get("label")); utf8.RuneCountInString(f.Label) > MaxLabelChars || !utf8.ValidString(f.Label) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.label")
	}
	if f.Status = v.Get("status"); f.Status != "" {
		if _, ok := Statuses[f.Status]; !ok {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.status", clip(f.Status))
		}
	}
	if f.Stage = v.Get("stage"); f.Stage != "" && !contains(Stages, f.Stage) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.stage", clip(f.Stage))
	}
	if f.Flag = v.Get("flag"); f.Flag != "" && !contains(Flags, f.Flag) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.flag", clip(f.Flag))
	}
	var ok bool
	if f.FRT, ok = smallParam(v, "frt", 0, 6); !ok {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.frt", clip(v.Get("frt")), 0, 6)
	}
	if f.DOW, ok = smallParam(v, "dow", 0, 6); !ok {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.dow", clip(v.Get("dow")), 0, 6)
	}
	if f.Hour, ok = smallParam(v, "hour", 0, 23); !ok {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.hour", clip(v.Get("hour")), 0, 23)
	}
	if f.CSAT, ok = smallParam(v, "csat", 1, 5); !ok {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.csat", clip(v.Get("csat")), 1, 5)
	}
	f.Search = strings.TrimSpace(v.Get("q"))
	if !utf8.ValidString(f.Search) || strings.ContainsRune(f.Search, 0) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.search_chars")
	}
	if utf8.RuneCountInString(f.Search) > MaxSearchChars {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.search_too_long", MaxSearchChars)
	}
	switch v.Get("qall") {
	case "":
	case "1":
		f.SearchAll = f.Search != ""
	default:
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.search_all", clip(v.Get("qall")))
	}
	f.Stacked = v.Get("stack") == "inbox"
	switch v.Get("hours") {
	case "":
	case "business":
		f.Business = true
	default:
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.hours", clip(v.Get("hours")))
	}
	if f.Grain = v.Get("group"); f.Grain != "" && !contains(Grains, f.Grain) {
		return Filter{}, apperr.New(apperr.Invalid, "err.filter.grain", clip(f.Grain))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.page_size", MaxPageSize)
		}
		f.PageSize = n
	}
	if s := v.Get("after"); s != "" {
		c, err := ParseCursor(s)
		if err != nil {
			return Filter{}, err
		}
		f.After = &c
	}
	if s := v.Get("before"); s != "" {
		c, err := ParseCursor(s)
		if err != nil {
			return Filter{}, err
		}
		f.Before, f.After = &c, nil
	}
	if s := v.Get("sort"); s != "" {
		if !contains(Sorts, strings.TrimPrefix(s, "-")) {
			return Filter{}, apperr.New(apperr.Invalid, "err.filter.sort", clip(s))
		}
		if s != "-created" {
			f.Sort = s
		}
	}
	if dateErr != nil {
		return f, &DateError{Err: dateErr, Fallback: f}
	}
	return f, nil
}

// DateError is a period that cannot be read (a bad date, only one of the two, an inverted or too
// long range); Fallback is the rest of the filter over the preset or default period.
type DateError struct {
	Err      error
	Fallback Filter
}

func (e *DateError) Error() string { return e.Err.Error() }

// Unwrap lets apperr see the Invalid error (a 400 where the period is not answered in place).
func (e *DateError) Unwrap() error { return e.Err }

func presetKey(days int) string {
	for _, p := range Presets {
		if p.Days == days {
			return p.Key
		}
	}
	return ""
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		return t, nil
	}
	return time.Parse("02/01/2006", s)
}

// smallParam reads an optional small integer in [lo, hi]; ok is false for anything else.
func smallParam(v url.Values, name string, lo, hi int) (x *int16, ok bool) {
	s := v.Get(name)
	if s == "" {
		return nil, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return nil, false
	}
	y := int16(n)
	return &y, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens user input quoted back in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "?")
	}
	return s
}

// Query returns the filter as URL parameters (for links, exports and drill-down); the period is
// always written as explicit dates so a shared link means the same days tomorrow... unless it
// came from a preset, which stays relative on purpose.
func (f Filter) Query() url.Values {
	v := url.Values{}
	if f.Preset != "" {
		v.Set("period", f.Preset)
	} else {
		v.Set("from", f.From.Format(dateLayout))
		v.Set("to", f.To.Format(dateLayout))
	}
	for _, id := range f.Inboxes {
		v.Add("inbox", strconv.Itoa(int(id)))
	}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("channel", f.Channel)
	set("label", f.Label)
	set("status", f.Status)
	set("stage", f.Stage)
	set("flag", f.Flag)
	setN := func(k string, n *int16) {
		if n != nil {
			v.Set(k, strconv.Itoa(int(*n)))
		}
	}
	setN("frt", f.FRT)
	setN("dow", f.DOW)
	setN("hour", f.Hour)
	setN("csat", f.CSAT)
	set("q", f.Search)
	if f.SearchAll {
		v.Set("qall", "1")
	}
	if f.Stacked {
		v.Set("stack", "inbox")
	}
	if f.Business {
		v.Set("hours", "business")
	}
	set("group", f.Grain)
	set("sort", f.Sort)
	if f.PageSize != DefaultPageSize && f.PageSize != 0 {
		v.Set("limit", strconv.Itoa(f.PageSize))
	}
	return v
}

// ChartGrain is the volume chart's grain: the one asked for, or the period's default.
func (f Filter) ChartGrain() string {
	if f.Grain != "" {
		return f.Grain
	}
	return DefaultGrain(f.Days())
}

// With returns a copy of the filter changed by fn (for drill-down links).
func (f Filter) With(fn func(*Filter)) Filter {
	g := f
	g.Inboxes = append([]int32(nil), f.Inboxes...)
	g.After, g.Before = nil, nil
	fn(&g)
	return g
}

// params is the sqlc argument shared by every dashboard query.
func (f Filter) params(tenantID int64) dbsqlc.DashboardSummaryParams {
	p := dbsqlc.DashboardSummaryParams{
		TenantID: tenantID, FromDay: f.From, ToDay: f.To,
		Channel: optStr(f.Channel), Label: optStr(f.Label), Stage: optStr(f.Stage), Flag: optStr(f.Flag),
		FrtBucket: f.FRT, Dow: f.DOW, Hour: f.Hour, Csat: f.CSAT, Search: optStr(f.Search),
	}
	if len(f.Inboxes) > 0 {
		p.Inboxes = f.Inboxes
	}
	if f.Status != "" {
		s := Statuses[f.Status]
		p.Status = &s
	}
	p.Business = f.Business
	p.SearchAll = f.SearchAll
	return p
}

// listParams is params in the field order of the queries that name @business last (sqlc orders
// parameters by first use, and the summary's durations use it first).
func (f Filter) listParams(tenantID int64) dbsqlc.DashboardDailyParams {
	p := f.params(tenantID)
	return dbsqlc.DashboardDailyParams{TenantID: p.TenantID, FromDay: p.FromDay, ToDay: p.ToDay, Inboxes: p.Inboxes,
		Channel: p.Channel, Label: p.Label, Status: p.Status, Stage: p.Stage, Flag: p.Flag, FrtBucket: p.FrtBucket,
		Dow: p.Dow, Hour: p.Hour, Csat: p.Csat, Search: p.Search, Business: p.Business, SearchAll: p.SearchAll}
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// String describes the period for headings: "01/09/2026 a 30/09/2026".
func (f Filter) String() string {
	if f.From.Equal(f.To) {
		return f.From.Format("02/01/2006")
	}
	return fmt.Sprintf("%s a %s", f.From.Format("02/01/2006"), f.To.Format("02/01/2006"))
}

// conversationNumber is a search for a conversation number: "#1374" (that conversation only) or
// a bare "1374" (that conversation, phones and words). analytics.conversation_matches does the
// matching; this names the search for its chip.
var conversationNumber = regexp.MustCompile(`^(#\s*)?([0-9]{1,9})$`)

// ConversationNumber reports the conversation number a search names ("" when it names none) and
// whether it names that conversation only (it starts with #).
func ConversationNumber(search string) (n string, only bool) {
	m := conversationNumber.FindStringSubmatch(search)
	if m == nil {
		return "", false
	}
	return m[2], m[1] != ""
}
