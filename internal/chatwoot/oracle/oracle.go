// Package oracle computes every per-conversation metric of docs/metrics.md in plain Go, straight
// from the rows of a Chatwoot source database, without any of GeniAI's SQL (no extract query,
// no merge function, no rollup). Tests compare what the ETL loads and what the dashboard shows
// with it; a bug must be made twice, independently, to go unnoticed.
//
// It reads whole tables and keeps them in memory: fine for test fixtures and demo databases
// of a few thousand conversations, not for production volumes.
package oracle

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rules are a tenant's funnel rules (docs/metrics.md, funnel): each stage is reached by any of its labels or
// by its regular expression matching a contact message (never a bot or agent message). A nil
// regular expression never matches; callers compile tenant regexes case-insensitively ("(?i)").
type Rules struct {
	LeadAnyMessage  bool // lead = the contact wrote at least one message
	LeadLabels      []string
	VisitLabels     []string
	ConvertedLabels []string
	LeadRe          *regexp.Regexp
	VisitRe         *regexp.Regexp
	ConvertedRe     *regexp.Regexp
	// ExcludedLabels: a conversation with any of them is in no stage at all.
	ExcludedLabels []string
	// SLASeconds is the target for the first wait for a person, in business seconds.
	SLASeconds float64
}

// DefaultRules are the rules of a new tenant: lead = the contact wrote; visit and conversion
// by the labels visita-agendada and matriculado.
func DefaultRules() Rules {
	return Rules{LeadAnyMessage: true, VisitLabels: []string{"visita-agendada"}, ConvertedLabels: []string{"matriculado"}, SLASeconds: 300}
}

// Conversation is one Chatwoot conversation with every metric of docs/metrics.md. Durations are in
// seconds with their fractions; pointers are nil when the metric does not apply.
type Conversation struct {
	Inbox       int
	Status      int    // Chatwoot status: 0 open, 1 resolved, 2 pending, 3 snoozed
	ChannelType string // the inbox's channel_type ("" when NULL)
	CreatedAt   time.Time
	Labels      string // label names of its taggings (context 'labels'), sorted, comma-separated

	// Public message counts by kind; Notes counts private notes of any type.
	Contact, Bot, Human, Notes int

	FirstContact *time.Time // first contact message
	FirstReply   *time.Time // first bot or human message strictly after FirstContact
	FirstHuman   *time.Time // first human message strictly after FirstContact
	LastMsg      *time.Time // last contact, bot or human public message

	FirstReplyS *float64 // FirstReply − FirstContact
	FirstHumanS *float64 // FirstHuman − FirstContact
	ResolutionS *float64 // resolved only: latest conversation_resolved event_end_time (else last_activity_at) − created_at, never negative

	Unanswered  bool // has a contact message and no reply after the first one
	Resolved    bool // current status is resolved
	Handoff     bool // a bot message, then a later human message
	BotResolved bool // resolved, ≥1 bot message, no human message

	Csat *int // latest CSAT rating (by created_at, then id)

	Lead, Visit, Converted bool // cumulative funnel stages

	Day  string // creation date in the tenant timezone, YYYY-MM-DD
	Hour int    // creation hour in the tenant timezone
	Dow  int    // creation weekday in the tenant timezone, 0 = Sunday

	// Speed to lead (docs/metrics.md). Business-time twins are measured over the same two
	// instants as their plain durations, inside the inbox's opening hours.
	FirstReplyB, FirstHumanB, ResolutionB *float64
	ResolvedAt                            *time.Time // resolved only: the end of ResolutionS
	HandoffRequested                      *time.Time // latest conversation_bot_handoff event_end_time
	LastContact, LastHuman                *time.Time
	WaitFrom                              *time.Time // start of the first wait for a person
	WaitReply                             *time.Time // first human message at or after WaitFrom
	WaitS, WaitB                          *float64   // answered first waits only
	WaitDue                               *time.Time // unanswered first waits: when the SLA is missed
	WaitingSince                          *time.Time // awaiting a person now (the queue)
	WaitingDue                            *time.Time // awaiting: when the current wait misses the SLA
	WindowCloses                          *time.Time // WhatsApp only: last contact message + 24 h
}

// knownZone mirrors which inbox timezones count as known: an IANA Area/Location name (or UTC)
// that loads; anything else (empty, abbreviations, offsets) falls back to the tenant's.
var zoneName = regexp.MustCompile(`^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$`)

func knownZone(name string) (*time.Location, bool) {
	if name != "UTC" && !zoneName.MatchString(name) {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// Senders of bot messages (outgoing, public).
func isBotSender(s string) bool { return s == "AgentBot" || s == "Captain::Assistant" }

// Compute reads the conversations of the given inboxes from the Chatwoot database behind src,
// with their messages, labels, CSAT answers and resolution events, and returns every metric per
// conversation id. tz is the tenant's IANA timezone (days, hours and weekdays); r the funnel rules.
//
// Definitions (docs/metrics.md): contact message = incoming (type 0) public; bot message = outgoing
// (type 1) public by AgentBot or Captain::Assistant; human message = outgoing public by User;
// other types and senders count for none. Deleted messages count. "After" is strictly later.
func Compute(ctx context.Context, src *pgx.Conn, inboxes []int, tz string, r Rules) (map[int]Conversation, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("oracle: timezone %q: %w", tz, err)
	}
	type cw struct {
		inbox, status         int
		channel               string
		created, lastActivity time.Time
	}
	convs := map[int]*cw{}
	ids := []int{}
	if err := each(ctx, src, `SELECT c.id, c.inbox_id, c.status, coalesce(i.channel_type, ''), c.created_at, c.last_activity_at
		FROM conversations c LEFT JOIN inboxes i ON i.id = c.inbox_id WHERE c.inbox_id = ANY($1)`, []any{inboxes},
		func(rows pgx.Rows) error {
			var id int
			c := &cw{}
			if err := rows.Scan(&id, &c.inbox, &c.status, &c.channel, &c.created, &c.lastActivity); err != nil {
				return err
			}
			convs[id] = c
			ids = append(ids, id)
			return nil
		}); err != nil {
		return nil, err
	}

	// Opening hours per inbox (nil: open around the clock), in the inbox's timezone or, when
	// that is empty or unknown, the tenant's.
	hours := map[int]*Hours{}
	type ibx struct {
		tz      string
		enabled bool
	}
	ibxs := map[int]ibx{}
	if err := each(ctx, src, `SELECT id, coalesce(timezone, ''), coalesce(working_hours_enabled, false) FROM inboxes WHERE id = ANY($1)`,
		[]any{inboxes}, func(rows pgx.Rows) error {
			var id int
			var x ibx
			if err := rows.Scan(&id, &x.tz, &x.enabled); err != nil {
				return err
			}
			ibxs[id] = x
			return nil
		}); err != nil {
		return nil, err
	}
	whRows := map[int][]WorkingHour{}
	if err := each(ctx, src, `SELECT inbox_id, id, day_of_week, closed_all_day, open_all_day, open_hour, open_minutes, close_hour, close_minutes
		FROM working_hours WHERE inbox_id = ANY($1)`, []any{inboxes}, func(rows pgx.Rows) error {
		var inbox int
		var w WorkingHour
		if err := rows.Scan(&inbox, &w.ID, &w.Day, &w.ClosedAllDay, &w.OpenAllDay, &w.OpenHour, &w.OpenMinutes, &w.CloseHour, &w.CloseMins); err != nil {
			return err
		}
		whRows[inbox] = append(whRows[inbox], w)
		return nil
	}); err != nil {
		return nil, err
	}
	inboxLoc := map[int]*time.Location{}
	for id, x := range ibxs {
		iloc, ok := knownZone(x.tz)
		if !ok {
			iloc = loc
		}
		inboxLoc[id] = iloc
		if x.enabled {
			hours[id] = NewHours(iloc, whRows[id])
		}
	}

	type msg struct {
		typ     int
		private bool
		sender  string
		at      time.Time
		content string
	}
	msgs := map[int][]msg{}
	// A message counts only in its conversation's inbox (docs/chatwoot.md: filter messages by inbox).
	if err := each(ctx, src, `SELECT m.conversation_id, m.message_type, m.private, coalesce(m.sender_type, ''), m.created_at, coalesce(m.content, '')
		FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.inbox_id = m.inbox_id
		WHERE m.conversation_id = ANY($1) ORDER BY m.created_at, m.id`, []any{ids},
		func(rows pgx.Rows) error {
			var conv int
			var x msg
			if err := rows.Scan(&conv, &x.typ, &x.private, &x.sender, &x.at, &x.content); err != nil {
				return err
			}
			msgs[conv] = append(msgs[conv], x)
			return nil
		}); err != nil {
		return nil, err
	}

	labels := map[int][]string{}
	if err := each(ctx, src, `SELECT tg.taggable_id, t.name FROM taggings tg JOIN tags t ON t.id = tg.tag_id
		WHERE tg.taggable_type = 'Conversation' AND tg.context = 'labels' AND tg.taggable_id = ANY($1)`, []any{ids},
		func(rows pgx.Rows) error {
			var id int
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			labels[id] = append(labels[id], n)
			return nil
		}); err != nil {
		return nil, err
	}

	type csat struct {
		id     int64
		rating int
		at     time.Time
	}
	csats := map[int][]csat{}
	if err := each(ctx, src, `SELECT id, conversation_id, rating, created_at FROM csat_survey_responses WHERE conversation_id = ANY($1)`, []any{ids},
		func(rows pgx.Rows) error {
			var x csat
			var conv int
			if err := rows.Scan(&x.id, &conv, &x.rating, &x.at); err != nil {
				return err
			}
			csats[conv] = append(csats[conv], x)
			return nil
		}); err != nil {
		return nil, err
	}

	// The latest bot handoff of the conversation's own inbox.
	handoffAt := map[int]time.Time{}
	if err := each(ctx, src, `SELECT re.conversation_id, re.event_end_time FROM reporting_events re
		JOIN conversations c ON c.id = re.conversation_id AND c.inbox_id = re.inbox_id
		WHERE re.name = 'conversation_bot_handoff' AND re.event_end_time IS NOT NULL AND re.conversation_id = ANY($1)`, []any{ids},
		func(rows pgx.Rows) error {
			var conv int
			var at time.Time
			if err := rows.Scan(&conv, &at); err != nil {
				return err
			}
			if prev, ok := handoffAt[conv]; !ok || at.After(prev) {
				handoffAt[conv] = at
			}
			return nil
		}); err != nil {
		return nil, err
	}

	resolvedAt := map[int]time.Time{}
	if err := each(ctx, src, `SELECT conversation_id, event_end_time FROM reporting_events
		WHERE name = 'conversation_resolved' AND event_end_time IS NOT NULL AND conversation_id = ANY($1)`, []any{ids},
		func(rows pgx.Rows) error {
			var conv int
			var at time.Time
			if err := rows.Scan(&conv, &at); err != nil {
				return err
			}
			if prev, ok := resolvedAt[conv]; !ok || at.After(prev) {
				resolvedAt[conv] = at
			}
			return nil
		}); err != nil {
		return nil, err
	}

	anyLabel := func(ls, rule []string) bool {
		for _, l := range ls {
			for _, x := range rule {
				if l == x {
					return true
				}
			}
		}
		return false
	}
	secs := func(a, b time.Time) *float64 { v := a.Sub(b).Seconds(); return &v }

	out := make(map[int]Conversation, len(convs))
	for id, c := range convs {
		e := Conversation{Inbox: c.inbox, Status: c.status, ChannelType: c.channel, CreatedAt: c.created}
		ls := labels[id]
		sort.Strings(ls)
		e.Labels = strings.Join(ls, ",")
		var contactTexts []string
		var firstBot, lastHuman *time.Time
		for _, x := range msgs[id] {
			at := x.at
			if x.private {
				e.Notes++
				continue
			}
			isBot := x.typ == 1 && isBotSender(x.sender)
			isHuman := x.typ == 1 && x.sender == "User"
			switch {
			case x.typ == 0:
				e.Contact++
				contactTexts = append(contactTexts, x.content)
				if e.FirstContact == nil {
					e.FirstContact = &at
				}
			case isBot:
				e.Bot++
				if firstBot == nil {
					firstBot = &at
				}
			case isHuman:
				e.Human++
				lastHuman = &at
			}
			if x.typ == 0 || isBot || isHuman {
				e.LastMsg = &at
			}
		}
		if e.FirstContact != nil {
			for _, x := range msgs[id] {
				at := x.at
				if x.private || x.typ != 1 || !at.After(*e.FirstContact) {
					continue
				}
				if (isBotSender(x.sender) || x.sender == "User") && e.FirstReply == nil {
					e.FirstReply = &at
					e.FirstReplyS = secs(at, *e.FirstContact)
				}
				if x.sender == "User" && e.FirstHuman == nil {
					e.FirstHuman = &at
					e.FirstHumanS = secs(at, *e.FirstContact)
				}
			}
		}
		e.Unanswered = e.Contact > 0 && e.FirstReply == nil
		e.Resolved = c.status == 1
		e.Handoff = firstBot != nil && lastHuman != nil && lastHuman.After(*firstBot)
		e.BotResolved = e.Resolved && e.Bot > 0 && e.Human == 0
		if e.Resolved {
			end := c.lastActivity
			if at, ok := resolvedAt[id]; ok {
				end = at
			}
			e.ResolvedAt = &end
			e.ResolutionS = secs(end, c.created)
			if *e.ResolutionS < 0 {
				*e.ResolutionS = 0
			}
		}
		// Speed to lead: the first wait for a person, the queue, the window, business time.
		h := hours[c.inbox]
		bsecs := func(a, b *time.Time) *float64 {
			if a == nil || b == nil {
				return nil
			}
			v := h.Seconds(*a, *b)
			return &v
		}
		e.FirstReplyB, e.FirstHumanB = bsecs(e.FirstContact, e.FirstReply), bsecs(e.FirstContact, e.FirstHuman)
		if e.Resolved {
			e.ResolutionB = bsecs(&c.created, e.ResolvedAt)
		}
		if at, ok := handoffAt[id]; ok {
			e.HandoffRequested = &at
		}
		for _, x := range msgs[id] {
			at := x.at
			switch {
			case x.private:
			case x.typ == 0:
				e.LastContact = &at
			case x.typ == 1 && x.sender == "User":
				e.LastHuman = &at
			}
		}
		switch {
		case e.HandoffRequested != nil:
			e.WaitFrom = e.HandoffRequested
		case e.Bot == 0 && e.FirstContact != nil:
			e.WaitFrom = e.FirstContact
		}
		if e.WaitFrom != nil {
			for _, x := range msgs[id] {
				if !x.private && x.typ == 1 && x.sender == "User" && !x.at.Before(*e.WaitFrom) {
					at := x.at
					e.WaitReply = &at
					break
				}
			}
			if e.WaitReply != nil {
				e.WaitS = secs(*e.WaitReply, *e.WaitFrom)
				e.WaitB = bsecs(e.WaitFrom, e.WaitReply)
			} else {
				e.WaitDue = h.Due(*e.WaitFrom, r.SLASeconds)
			}
		}
		if c.status == 0 && e.LastContact != nil && (e.LastHuman == nil || e.LastContact.After(*e.LastHuman)) {
			// the first contact message after the latest human message
			for _, x := range msgs[id] {
				if !x.private && x.typ == 0 && (e.LastHuman == nil || x.at.After(*e.LastHuman)) {
					at := x.at
					e.WaitingSince = &at
					break
				}
			}
			if hr := e.HandoffRequested; hr != nil && (e.LastHuman == nil || hr.After(*e.LastHuman)) && hr.After(*e.WaitingSince) {
				e.WaitingSince = hr
			}
			e.WaitingDue = h.Due(*e.WaitingSince, r.SLASeconds)
		}
		if c.channel == "Channel::Whatsapp" && e.LastContact != nil {
			w := e.LastContact.Add(24 * time.Hour)
			e.WindowCloses = &w
		}
		if list := csats[id]; len(list) > 0 {
			best := list[0]
			for _, x := range list[1:] {
				if x.at.After(best.at) || (x.at.Equal(best.at) && x.id > best.id) {
					best = x
				}
			}
			rating := best.rating
			e.Csat = &rating
		}
		match := func(re *regexp.Regexp) bool {
			if re == nil {
				return false
			}
			for _, s := range contactTexts {
				if re.MatchString(s) {
					return true
				}
			}
			return false
		}
		if !anyLabel(ls, r.ExcludedLabels) {
			e.Converted = anyLabel(ls, r.ConvertedLabels) || match(r.ConvertedRe)
			e.Visit = e.Converted || anyLabel(ls, r.VisitLabels) || match(r.VisitRe)
			e.Lead = e.Visit || (r.LeadAnyMessage && e.Contact > 0) || anyLabel(ls, r.LeadLabels) || match(r.LeadRe)
		}
		local := c.created.In(loc)
		e.Day, e.Hour, e.Dow = local.Format("2006-01-02"), local.Hour(), int(local.Weekday())
		out[id] = e
	}
	return out, nil
}

// each runs a query and calls fn for every row.
func each(ctx context.Context, src *pgx.Conn, sql string, args []any, fn func(pgx.Rows) error) error {
	rows, err := src.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("oracle: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("oracle: %w", err)
	}
	return nil
}
