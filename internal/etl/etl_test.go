package etl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot/oracle"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// ---------------------------------------------------------------- fixtures

type fixture struct {
	t        *testing.T
	env      *pgtest.Env
	super    *pgx.Conn // analytics DB, superuser
	src      *pgx.Conn // source DB, superuser
	srcURL   string
	tenantA  int64
	tenantB  int64
	runner   *Runner
	nextID   map[string]int
	rng      *mrand.Rand
	baseTime time.Time
	pass     bool // run: a pass over every tenant (RunAll), not RunTenant
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newSource creates an empty Chatwoot database and returns its URL and a superuser connection.
func newSource(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	name := "cw_" + randHex()
	admin := pgtest.Conn(t, pgtest.URLFor(t, "", "", "postgres"))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := pgx.Connect(ctx, pgtest.URLFor(t, "", "", "postgres"))
		if err == nil {
			_, _ = a.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close(ctx)
		}
	})
	url := pgtest.URLFor(t, "", "", name)
	c := pgtest.Conn(t, url)
	ddl, err := os.ReadFile("../chatwoot/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, string(ddl)); err != nil {
		t.Fatalf("source schema: %v", err)
	}
	return url, c
}

// newFixture: analytics DB with tenants A (inboxes 1, 2) and B (inbox 4); inbox 3 is unmapped.
func newFixture(t *testing.T, srcURL string, src *pgx.Conn) *fixture {
	t.Helper()
	ctx := context.Background()
	env := pgtest.New(t)
	f := &fixture{t: t, env: env, super: pgtest.Conn(t, env.SuperURL), src: src, srcURL: srcURL,
		nextID: map[string]int{}, rng: mrand.New(mrand.NewPCG(7, 11)),
		baseTime: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	f.tenantA = f.mkTenant("academia-a", 1, 2)
	f.tenantB = f.mkTenant("academia-b", 4)
	f.runner = &Runner{DB: env.DB, SourceURL: srcURL, ChunkSize: 7}
	_ = ctx
	return f
}

func (f *fixture) mkTenant(slug string, inboxes ...int) int64 {
	ctx := context.Background()
	var id int64
	if err := f.super.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id", slug).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	for _, i := range inboxes {
		f.exec(f.super, "INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, $2)", id, i)
	}
	return id
}

func (f *fixture) exec(c *pgx.Conn, sql string, args ...any) {
	f.t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) id(table string) int {
	f.nextID[table]++
	return f.nextID[table]
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedCatalog: account 1, inboxes 1..4, tags.
func (f *fixture) seedCatalog() {
	now := f.baseTime
	f.exec(f.src, "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Gym', $1, $1)", now)
	for i, ch := range []string{"Channel::Whatsapp", "Channel::Api", "Channel::Whatsapp", "Channel::WebWidget"} {
		f.exec(f.src, "INSERT INTO inboxes (id, account_id, channel_id, name, channel_type, created_at, updated_at) VALUES ($1, 1, $1, $2, $3, $4, $4)",
			i+1, fmt.Sprintf("inbox %d", i+1), ch, now)
	}
	for i, tag := range []string{"lead", "visita-agendada", "matriculado", "duvida"} {
		f.exec(f.src, "INSERT INTO tags (id, name) VALUES ($1, $2)", i+1, tag)
	}
	// Opening hours (docs/metrics.md): inbox 1 in the tenant's timezone, Monday to Friday 8-18,
	// Saturday 9-13, Sunday closed; inbox 2 in New York (not the tenant's timezone), a 23:59
	// close, Sunday open all day, no Wednesday row, a Thursday closing before it opens; inbox 4
	// with an empty timezone (the tenant's applies), Monday to Friday 9-17. Inbox 3 has rows but
	// working hours disabled.
	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = true, timezone = 'America/Sao_Paulo' WHERE id = 1")
	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = true, timezone = 'America/New_York' WHERE id = 2")
	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = false WHERE id = 3")
	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = true, timezone = '' WHERE id = 4")
	hours := func(inbox, day int, closed, openAll bool, oh, om, ch, cm any) {
		f.exec(f.src, `INSERT INTO working_hours (id, inbox_id, account_id, day_of_week, closed_all_day, open_all_day, open_hour, open_minutes, close_hour, close_minutes, created_at, updated_at)
			VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $10)`, f.id("working_hours"), inbox, day, closed, openAll, oh, om, ch, cm, now)
	}
	for _, inbox := range []int{1, 3} {
		hours(inbox, 0, true, false, nil, nil, nil, nil)
		for day := 1; day <= 5; day++ {
			hours(inbox, day, false, false, 8, 0, 18, 0)
		}
		hours(inbox, 6, false, false, 9, 0, 13, 0)
	}
	hours(2, 0, false, true, nil, nil, nil, nil)
	hours(2, 1, false, false, 9, 0, 23, 59)
	hours(2, 2, false, false, 9, 30, 23, 59)
	hours(2, 4, false, false, 18, 0, 9, 0)
	hours(2, 5, false, false, 9, 0, 17, 45)
	hours(2, 6, true, false, nil, nil, nil, nil)
	for day := 1; day <= 5; day++ {
		hours(4, day, false, false, 9, 0, 17, 0)
	}
}

// handoff records the bot's request for a person (a conversation_bot_handoff reporting event).
func (f *fixture) handoff(conv, inbox int, at time.Time) {
	f.exec(f.src, `INSERT INTO reporting_events (id, name, value, account_id, inbox_id, conversation_id, created_at, updated_at, event_start_time, event_end_time)
		VALUES ($1, 'conversation_bot_handoff', 1, 1, $2, $3, $4, $4, $4, $4)`, f.id("events"), inbox, conv, at)
}

type msg struct {
	at      time.Time
	typ     int
	private bool
	sender  string // "" NULL
	content string
	deleted bool
}

// conv inserts a conversation with its messages; returns its id.
func (f *fixture) conv(inbox, status int, created time.Time, msgs []msg, tags []int, csat []int, resolvedEvents []time.Time) int {
	id := f.id("conversations")
	contact := f.id("contacts")
	f.exec(f.src, "INSERT INTO contacts (id, account_id, name, phone_number, created_at, updated_at) VALUES ($1, 1, $2, $3, $4, $4)",
		contact, fmt.Sprintf("Contato %d", contact), fmt.Sprintf("+55119%08d", contact), created)
	last := created
	for _, m := range msgs {
		if m.at.After(last) {
			last = m.at
		}
	}
	var prio any
	if id%3 == 0 {
		prio = id % 4
	}
	f.exec(f.src, `INSERT INTO conversations (id, account_id, inbox_id, status, created_at, updated_at, contact_id, display_id, last_activity_at, priority)
		VALUES ($1, 1, $2, $3, $4, $5, $6, $1, $5, $7)`, id, inbox, status, created, last, contact, prio)
	for _, m := range msgs {
		var st any
		if m.sender != "" {
			st = m.sender
		}
		ca := "{}"
		if m.deleted {
			ca = `{"deleted": true}`
		}
		f.exec(f.src, `INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type, content_attributes)
			VALUES ($1, $2, 1, $3, $4, $5, $6, $6, $7, $8, $9::json)`, f.id("messages"), m.content, inbox, id, m.typ, m.at, m.private, st, ca)
	}
	for _, tg := range tags {
		f.exec(f.src, "INSERT INTO taggings (id, tag_id, taggable_type, taggable_id, context, created_at) VALUES ($1, $2, 'Conversation', $3, 'labels', $4)",
			f.id("taggings"), tg, id, created)
	}
	for i, r := range csat {
		mid := f.id("csatmsg") + 1000000
		// Two answers may share created_at: the later id wins.
		at := created.Add(time.Duration(i/2) * time.Hour)
		f.exec(f.src, `INSERT INTO csat_survey_responses (id, account_id, conversation_id, message_id, rating, contact_id, created_at, updated_at)
			VALUES ($1, 1, $2, $3, $4, $5, $6, $6)`, f.id("csat"), id, mid, r, contact, at)
	}
	for _, e := range resolvedEvents {
		f.exec(f.src, `INSERT INTO reporting_events (id, name, value, account_id, inbox_id, conversation_id, created_at, updated_at, event_start_time, event_end_time)
			VALUES ($1, 'conversation_resolved', 1, 1, $2, $3, $4, $4, $5, $4)`, f.id("events"), inbox, id, e, created)
	}
	return id
}

// seedEdgeCases adds the constructed edge cases; all in inbox 1 (tenant A) unless noted.
func (f *fixture) seedEdgeCases() {
	d := utc("2025-03-10 12:00:00")
	s := func(sec float64) time.Time { return d.Add(time.Duration(sec * float64(time.Second))) }
	// no contact message, only a bot greeting
	f.conv(1, 0, d, []msg{{s(1), 1, false, "AgentBot", "Olá! Sou o bot", false}}, nil, nil, nil)
	// bot-only, resolved by the bot, fractional first reply 2.5 s
	f.conv(1, 1, d, []msg{{s(0.25), 0, false, "Contact", "quero saber o preço", false}, {s(2.75), 1, false, "AgentBot", "R$ 99", false}}, nil, []int{5}, []time.Time{s(100)})
	// notes-only
	f.conv(1, 2, d, []msg{{s(3), 1, true, "User", "nota interna", false}, {s(4), 1, true, "User", "outra nota", false}}, nil, nil, nil)
	// deleted messages still count
	f.conv(1, 0, d, []msg{{s(5), 0, false, "Contact", "This message was deleted", true}, {s(65.5), 1, false, "User", "oi", true}}, []int{1}, nil, nil)
	// reopened: resolve events but open now; handoff bot then human
	f.conv(2, 0, d, []msg{{s(1), 0, false, "Contact", "Quero AGENDAR uma visita", false}, {s(2), 1, false, "Captain::Assistant", "claro", false},
		{s(400), 1, false, "User", "sou a Ana", false}, {s(500), 2, false, "", "Conversa resolvida", false}}, []int{2}, []int{3}, []time.Time{s(500)})
	// multiple CSAT answers (same created_at for the last two: id decides), resolved without events
	f.conv(2, 1, d, []msg{{s(0), 0, false, "Contact", "oi", false}, {s(0), 1, false, "User", "same instant: not a reply", false},
		{s(30000), 1, false, "User", "resposta", false}}, []int{3}, []int{1, 4, 2}, nil)
	// created 01:30 UTC = previous day (22:30) in São Paulo; labels with NULL cached_label_list
	f.conv(1, 1, utc("2025-03-11 01:30:00"), []msg{{utc("2025-03-11 01:30:10"), 0, false, "Contact", "matrícula", false},
		{utc("2025-03-11 03:00:00"), 1, false, "Bot", "other sender type: counts for none", false}}, []int{2, 3}, nil, []time.Time{utc("2025-03-11 04:00:00"), utc("2025-03-11 05:00:00.5")})
	// unmapped inbox 3: must never load
	f.conv(3, 0, d, []msg{{s(1), 0, false, "Contact", "secret", false}}, nil, nil, nil)
	// tenant B
	f.conv(4, 0, d, []msg{{s(1), 0, false, "Contact", "oi B", false}, {s(90000), 1, false, "User", "tarde", false}}, nil, nil, nil)
	// first replies exactly on bucket boundaries (60 s, 300 s, 24 h)
	for _, sec := range []float64{60, 300, 86400} {
		f.conv(1, 0, d, []msg{{s(10), 0, false, "Contact", "oi", false}, {s(10 + sec), 1, false, "AgentBot", "olá", false}}, nil, nil, nil)
	}
	// a contact message from a template and activity: counts for none
	f.conv(1, 3, d, []msg{{s(1), 3, false, "", "template", false}, {s(2), 0, false, "Contact", "ok", false}, {s(2), 0, false, "Contact", "ok2", false}}, nil, []int{4}, nil)
	// a message filed under another inbox than its conversation's (docs/chatwoot.md: filter messages
	// by inbox): counts for none and is not in the transcript
	// Waiting for a person (d is Monday 09:00 in São Paulo): a handoff answered later; one never
	// answered (in the queue since the handoff); a human reply at the handoff instant; a
	// conversation answered, then reopened by the contact (in the queue again, since that
	// message); no bot at all (the wait starts at the first contact message), answered the next
	// morning; a handoff recorded in another inbox (does not count); one asked outside opening
	// hours (Saturday 22:00) and answered on Monday.
	h1 := f.conv(1, 0, d, []msg{{s(0), 0, false, "Contact", "quero falar com alguém", false}, {s(1), 1, false, "AgentBot", "vou te transferir", false},
		{s(400), 1, false, "User", "oi, sou a Ana", false}}, nil, nil, nil)
	f.handoff(h1, 1, s(10))
	h2 := f.conv(1, 0, d, []msg{{s(0), 0, false, "Contact", "atendente por favor", false}, {s(1), 1, false, "AgentBot", "vou te transferir", false},
		{s(50), 0, false, "Contact", "alô?", false}}, nil, nil, nil)
	f.handoff(h2, 1, s(2))
	h3 := f.conv(2, 0, d, []msg{{s(0), 0, false, "Contact", "oi", false}, {s(1), 1, false, "AgentBot", "um momento", false},
		{s(30), 1, false, "User", "pronto", false}}, nil, nil, nil)
	f.handoff(h3, 2, s(30))
	h4 := f.conv(1, 0, d, []msg{{s(0), 0, false, "Contact", "oi", false}, {s(1), 1, false, "AgentBot", "transferindo", false},
		{s(200), 1, false, "User", "olá", false}, {s(300), 2, false, "", "Conversa resolvida", false},
		{s(90000), 0, false, "Contact", "voltei, preciso de ajuda", false}, {s(90010), 0, false, "Contact", "alguém?", false}}, nil, nil, nil)
	f.handoff(h4, 1, s(5))
	f.conv(4, 1, d, []msg{{s(36000), 0, false, "Contact", "boa noite", false}, {s(36000 + 43200), 1, false, "User", "bom dia!", false}}, nil, nil, []time.Time{s(200000)})
	h6 := f.conv(1, 0, d, []msg{{s(0), 0, false, "Contact", "oi", false}, {s(1), 1, false, "AgentBot", "olá", false}}, nil, nil, nil)
	f.handoff(h6, 2, s(3))
	sat := utc("2025-03-16 01:00:00") // Saturday 22:00 in São Paulo
	h7 := f.conv(1, 0, sat, []msg{{sat, 0, false, "Contact", "ainda estão abertos?", false}, {sat.Add(time.Second), 1, false, "AgentBot", "vou chamar alguém", false},
		{utc("2025-03-17 11:05:00"), 1, false, "User", "bom dia, estamos abertos sim", false}}, nil, nil, nil)
	f.handoff(h7, 1, sat.Add(2*time.Second))
	stray := f.conv(1, 0, d, []msg{{s(5), 0, false, "Contact", "oi", false}}, nil, nil, nil)
	f.exec(f.src, `INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type)
		VALUES ($1, 'mensagem de outra caixa', 1, 4, $2, 1, $3, $3, false, 'User')`, f.id("messages"), stray, s(1))
}

// seedRandom adds n random conversations over 20 days in inboxes 1..4.
func (f *fixture) seedRandom(n int) {
	senders := []string{"Contact", "AgentBot", "User", "Captain::Assistant", ""}
	texts := []string{"oi", "qual o preço do plano?", "quero agendar uma aula experimental", "horários?", "obrigado", "Posso visitar amanhã?"}
	for i := 0; i < n; i++ {
		r := f.rng
		created := f.baseTime.Add(time.Duration(r.Int64N(int64(20 * 24 * time.Hour)))).Truncate(time.Microsecond)
		var msgs []msg
		at := created
		for k := r.IntN(8); k > 0; k-- {
			at = at.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
			if r.IntN(10) == 0 {
				at = at.Add(20 * time.Hour)
			}
			snd := senders[r.IntN(len(senders))]
			typ := 1
			switch snd {
			case "Contact":
				typ = 0
			case "":
				typ = 2 + r.IntN(2)
			}
			msgs = append(msgs, msg{at, typ, typ == 1 && r.IntN(6) == 0, snd, texts[r.IntN(len(texts))], r.IntN(12) == 0})
		}
		var tags []int
		for tg := 1; tg <= 4; tg++ {
			if r.IntN(4) == 0 {
				tags = append(tags, tg)
			}
		}
		var csat []int
		for k := r.IntN(3); k > 0; k-- {
			csat = append(csat, 1+r.IntN(5))
		}
		var events []time.Time
		for k := r.IntN(3); k > 0; k-- {
			events = append(events, at.Add(time.Duration(r.Int64N(int64(time.Hour)))))
		}
		inbox := 1 + r.IntN(4)
		id := f.conv(inbox, r.IntN(4), created, msgs, tags, csat, events)
		if len(msgs) > 0 && r.IntN(3) == 0 {
			f.handoff(id, inbox, msgs[r.IntN(len(msgs))].at)
		}
	}
	// A few conversations have a cached_label_list, most NULL (taggings are the truth).
	f.exec(f.src, "UPDATE conversations SET cached_label_list = 'stale' WHERE id % 5 = 0")
}

// ---------------------------------------------------------------- oracle

// expConv is the oracle's per-conversation result (internal/chatwoot/oracle), also the shape
// loaded reads analytics.conversations into.
type expConv = oracle.Conversation

type rules = oracle.Rules

func defaultRules() rules { return oracle.DefaultRules() }

// oracle computes every metric from the source tables directly, in plain Go.
func (f *fixture) oracle(inboxes []int, tz string, ru rules) map[int]expConv {
	f.t.Helper()
	out, err := oracle.Compute(context.Background(), f.src, inboxes, tz, ru)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// loaded reads analytics.conversations of a tenant in the oracle's shape.
func (f *fixture) loaded(tenant int64) map[int]expConv {
	ctx := context.Background()
	rows, err := f.super.Query(ctx, `SELECT conversation_id, inbox_id, status, array_to_string(labels, ','), contact_messages, bot_messages,
		human_messages, private_notes, first_contact_at, first_reply_at, first_human_reply_at, last_message_at,
		first_reply_seconds, first_human_reply_seconds, resolution_seconds, unanswered, resolved, handoff, bot_resolved,
		csat_rating, is_lead, is_visit, is_converted, created_day::text, created_hour, created_dow,
		first_reply_business_seconds, first_human_reply_business_seconds, resolution_business_seconds, resolved_at,
		handoff_requested_at, last_contact_at, last_human_at, human_wait_from, human_wait_reply_at, human_wait_seconds,
		human_wait_business_seconds, human_wait_due_at, waiting_since, waiting_due_at, window_closes_at
		FROM analytics.conversations WHERE tenant_id = $1`, tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[int]expConv{}
	for rows.Next() {
		var id int
		var e expConv
		var csat *int16
		var hour, dow int16
		var st int16
		if err := rows.Scan(&id, &e.Inbox, &st, &e.Labels, &e.Contact, &e.Bot, &e.Human, &e.Notes, &e.FirstContact, &e.FirstReply,
			&e.FirstHuman, &e.LastMsg, &e.FirstReplyS, &e.FirstHumanS, &e.ResolutionS, &e.Unanswered, &e.Resolved, &e.Handoff,
			&e.BotResolved, &csat, &e.Lead, &e.Visit, &e.Converted, &e.Day, &hour, &dow,
			&e.FirstReplyB, &e.FirstHumanB, &e.ResolutionB, &e.ResolvedAt, &e.HandoffRequested, &e.LastContact, &e.LastHuman,
			&e.WaitFrom, &e.WaitReply, &e.WaitS, &e.WaitB, &e.WaitDue, &e.WaitingSince, &e.WaitingDue, &e.WindowCloses); err != nil {
			f.t.Fatal(err)
		}
		e.Status, e.Hour, e.Dow = int(st), int(hour), int(dow)
		if csat != nil {
			v := int(*csat)
			e.Csat = &v
		}
		out[id] = e
	}
	if rows.Err() != nil {
		f.t.Fatal(rows.Err())
	}
	return out
}

func eqTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func eqF(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-6
}

func eqI(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (f *fixture) checkOracle(tenant int64, inboxes []int, tz string, ru rules) map[int]expConv {
	f.t.Helper()
	want := f.oracle(inboxes, tz, ru)
	got := f.loaded(tenant)
	if len(got) != len(want) {
		f.t.Errorf("tenant %d: %d conversations loaded, oracle has %d", tenant, len(got), len(want))
	}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			f.t.Errorf("conversation %d missing", id)
			continue
		}
		same := g.Inbox == w.Inbox && g.Status == w.Status && g.Labels == w.Labels && g.Contact == w.Contact && g.Bot == w.Bot &&
			g.Human == w.Human && g.Notes == w.Notes && eqTime(g.FirstContact, w.FirstContact) && eqTime(g.FirstReply, w.FirstReply) &&
			eqTime(g.FirstHuman, w.FirstHuman) && eqTime(g.LastMsg, w.LastMsg) && eqF(g.FirstReplyS, w.FirstReplyS) &&
			eqF(g.FirstHumanS, w.FirstHumanS) && eqF(g.ResolutionS, w.ResolutionS) && g.Unanswered == w.Unanswered &&
			g.Resolved == w.Resolved && g.Handoff == w.Handoff && g.BotResolved == w.BotResolved && eqI(g.Csat, w.Csat) &&
			g.Lead == w.Lead && g.Visit == w.Visit && g.Converted == w.Converted && g.Day == w.Day && g.Hour == w.Hour && g.Dow == w.Dow &&
			sameSpeed(g, w)
		if !same && bad < 5 {
			bad++
			f.t.Errorf("conversation %d:\n got %s\nwant %s", id, dump(g), dump(w))
		}
	}
	f.checkDaily(tenant, want, ru.SLASeconds)
	f.checkTranscripts(tenant)
	return want
}

// checkTranscripts: every loaded conversation has one transcript, and it is the conversation's
// public messages in the source (those filed under its inbox), oldest first (created_at, then
// id), each with its sender and deletion read here independently of the ETL's SQL.
func (f *fixture) checkTranscripts(tenant int64) {
	f.t.Helper()
	ctx := context.Background()
	line := func(id int32, at time.Time, sender string, typ int16, content string, deleted bool) string {
		return fmt.Sprintf("%d %s %s %d %t %q", id, at.UTC().Format(time.RFC3339Nano), sender, typ, deleted, content)
	}
	want := map[int32][]string{}
	rows, err := f.src.Query(ctx, `SELECT m.conversation_id, m.id, m.created_at, m.message_type, coalesce(m.sender_type, ''),
			coalesce(m.content, ''), coalesce(m.content_attributes::text, '{}')
		FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.inbox_id = m.inbox_id
		WHERE NOT m.private ORDER BY m.created_at, m.id`)
	if err != nil {
		f.t.Fatal(err)
	}
	for rows.Next() {
		var conv, id int32
		var at time.Time
		var typ int16
		var senderType, content, attrs string
		if err := rows.Scan(&conv, &id, &at, &typ, &senderType, &content, &attrs); err != nil {
			f.t.Fatal(err)
		}
		sender := "system"
		switch {
		case typ == 0:
			sender = "contact"
		case typ == 1 && (senderType == "AgentBot" || senderType == "Captain::Assistant"):
			sender = "bot"
		case typ == 1 && senderType == "User":
			sender = "human"
		}
		var a map[string]any
		_ = json.Unmarshal([]byte(attrs), &a)
		v, ok := a["deleted"]
		deleted := ok && v != nil && slices.Contains([]string{"true", "t", "1"}, strings.ToLower(fmt.Sprint(v)))
		want[conv] = append(want[conv], line(id, at, sender, typ, content, deleted))
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	got := map[int32][]string{}
	var convs, transcripts int
	if err := f.super.QueryRow(ctx, `SELECT (SELECT count(*) FROM analytics.conversations WHERE tenant_id = $1),
		(SELECT count(*) FROM analytics.transcripts tr WHERE tr.tenant_id = $1
		   AND EXISTS (SELECT FROM analytics.conversations c WHERE c.tenant_id = tr.tenant_id AND c.conversation_id = tr.conversation_id))`,
		tenant).Scan(&convs, &transcripts); err != nil {
		f.t.Fatal(err)
	}
	if convs != transcripts {
		f.t.Errorf("tenant %d: %d conversations, %d of them with a transcript", tenant, convs, transcripts)
	}
	rows, err = f.super.Query(ctx, `SELECT tr.conversation_id, m.id, m.created_at, m.sender, m.message_type, m.content, m.deleted
		FROM analytics.transcripts tr,
		     unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types, tr.message_contents,
		            tr.message_deleted) WITH ORDINALITY AS m(id, created_at, sender, message_type, content, deleted, n)
		WHERE tr.tenant_id = $1 ORDER BY tr.conversation_id, m.n`, tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	for rows.Next() {
		var conv, id int32
		var at time.Time
		var sender, content string
		var typ int16
		var deleted bool
		if err := rows.Scan(&conv, &id, &at, &sender, &typ, &content, &deleted); err != nil {
			f.t.Fatal(err)
		}
		got[conv] = append(got[conv], line(id, at, sender, typ, content, deleted))
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	var loaded []int32
	if err := f.super.QueryRow(ctx, `SELECT coalesce(array_agg(conversation_id), '{}') FROM analytics.conversations WHERE tenant_id = $1`,
		tenant).Scan(&loaded); err != nil {
		f.t.Fatal(err)
	}
	bad := 0
	for _, conv := range loaded {
		if g, w := got[conv], want[conv]; !slices.Equal(g, w) && bad < 3 {
			bad++
			f.t.Errorf("conversation %d transcript:\n got %s\nwant %s", conv, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
		}
	}
}

// sameSpeed compares the speed-to-lead metrics (business time, waits, queue, window).
func sameSpeed(g, w expConv) bool {
	return eqF(g.FirstReplyB, w.FirstReplyB) && eqF(g.FirstHumanB, w.FirstHumanB) && eqF(g.ResolutionB, w.ResolutionB) &&
		eqTime(g.ResolvedAt, w.ResolvedAt) && eqTime(g.HandoffRequested, w.HandoffRequested) &&
		eqTime(g.LastContact, w.LastContact) && eqTime(g.LastHuman, w.LastHuman) && eqTime(g.WaitFrom, w.WaitFrom) &&
		eqTime(g.WaitReply, w.WaitReply) && eqF(g.WaitS, w.WaitS) && eqF(g.WaitB, w.WaitB) && eqTime(g.WaitDue, w.WaitDue) &&
		eqTime(g.WaitingSince, w.WaitingSince) && eqTime(g.WaitingDue, w.WaitingDue) && eqTime(g.WindowCloses, w.WindowCloses)
}

func dump(e expConv) string {
	p := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.UTC().Format("15:04:05.000000")
	}
	pf := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	c := "nil"
	if e.Csat != nil {
		c = fmt.Sprint(*e.Csat)
	}
	return fmt.Sprintf("inbox=%d st=%d labels=%q c/b/h/n=%d/%d/%d/%d fc=%s fr=%s fh=%s last=%s frs=%s fhs=%s res=%s un=%v rs=%v ho=%v br=%v csat=%s funnel=%v/%v/%v day=%s %d %d"+
		" | biz fr=%s fh=%s res=%s resAt=%s handoff=%s lastC=%s lastH=%s wait=%s..%s %s/%s due=%s queue=%s due=%s window=%s",
		e.Inbox, e.Status, e.Labels, e.Contact, e.Bot, e.Human, e.Notes, p(e.FirstContact), p(e.FirstReply), p(e.FirstHuman), p(e.LastMsg),
		pf(e.FirstReplyS), pf(e.FirstHumanS), pf(e.ResolutionS), e.Unanswered, e.Resolved, e.Handoff, e.BotResolved, c,
		e.Lead, e.Visit, e.Converted, e.Day, e.Hour, e.Dow,
		pf(e.FirstReplyB), pf(e.FirstHumanB), pf(e.ResolutionB), p(e.ResolvedAt), p(e.HandoffRequested), p(e.LastContact), p(e.LastHuman),
		p(e.WaitFrom), p(e.WaitReply), pf(e.WaitS), pf(e.WaitB), p(e.WaitDue), p(e.WaitingSince), p(e.WaitingDue), p(e.WindowCloses))
}

// checkDaily compares analytics.daily_stats with rollups of the oracle's conversations.
func (f *fixture) checkDaily(tenant int64, want map[int]expConv, sla float64) {
	f.t.Helper()
	type key struct {
		day   string
		inbox int
	}
	exp := map[key][]float64{}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, e := range want {
		k := key{e.Day, e.Inbox}
		v := exp[k]
		if v == nil {
			v = make([]float64, 46)
		}
		add := []float64{1, b(e.Lead), b(e.Visit), b(e.Converted), b(e.Unanswered), b(e.Unanswered && e.Lead), b(e.Resolved),
			b(e.BotResolved), b(e.Handoff), b(e.Bot > 0)}
		fr := make([]float64, 9)
		if e.FirstReplyS != nil {
			s := *e.FirstReplyS
			fr[0], fr[1] = 1, s
			bounds := []float64{60, 300, 900, 3600, 14400, 86400}
			i := sort.SearchFloat64s(bounds, s)
			if i < len(bounds) && bounds[i] == s {
				i++
			}
			fr[2+i] = 1
		}
		add = append(add, fr...)
		hm := []float64{0, 0, 0, 0}
		if e.FirstHumanS != nil {
			hm[0], hm[1] = 1, *e.FirstHumanS
		}
		if e.ResolutionS != nil {
			hm[2], hm[3] = 1, *e.ResolutionS
		}
		add = append(add, hm...)
		cs := make([]float64, 7)
		if e.Csat != nil {
			cs[0] = 1
			cs[1] = b(*e.Csat >= 4)
			cs[1+*e.Csat] = 1
		}
		add = append(add, cs...)
		// speed to lead: business-time sums and first-reply buckets, requests for a person,
		// answered first waits and the SLA
		biz := make([]float64, 16)
		if e.FirstReplyB != nil {
			s := *e.FirstReplyB
			biz[0] = s
			bounds := []float64{60, 300, 900, 3600, 14400, 86400}
			i := sort.SearchFloat64s(bounds, s)
			if i < len(bounds) && bounds[i] == s {
				i++
			}
			biz[1+i] = 1
		}
		if e.FirstHumanB != nil {
			biz[8] = *e.FirstHumanB
		}
		if e.ResolutionB != nil {
			biz[9] = *e.ResolutionB
		}
		biz[10] = b(e.HandoffRequested != nil)
		if e.WaitS != nil {
			biz[11], biz[12], biz[13] = 1, *e.WaitS, *e.WaitB
			biz[14], biz[15] = b(*e.WaitB <= sla), b(*e.WaitB > sla)
		}
		add = append(add, biz...)
		for i := range add {
			v[i] += add[i]
		}
		exp[k] = v
	}
	rows, err := f.super.Query(context.Background(), `SELECT day::text, inbox_id, conversations, leads, visits, conversions, unanswered,
		unanswered_leads, resolved, bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
		first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h, first_reply_4h_24h, first_reply_gt_24h,
		first_human_reply_count, first_human_reply_sum, resolution_count, resolution_sum, csat_responses, csat_satisfied,
		csat_1, csat_2, csat_3, csat_4, csat_5, first_reply_business_sum, first_reply_business_lt_1m,
		first_reply_business_1m_5m, first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
		first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum, resolution_business_sum,
		handoff_requests, human_wait_count, human_wait_sum, human_wait_business_sum, sla_within, sla_late
		FROM analytics.daily_stats WHERE tenant_id = $1`, tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	got := map[key][]float64{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			f.t.Fatal(err)
		}
		k := key{vals[0].(string), int(vals[1].(int32))}
		v := make([]float64, 46)
		for i, x := range vals[2:] {
			switch x := x.(type) {
			case int32:
				v[i] = float64(x)
			case float64:
				v[i] = x
			}
		}
		got[k] = v
	}
	if len(got) != len(exp) {
		f.t.Errorf("daily_stats: %d rows, oracle %d", len(got), len(exp))
	}
	for k, e := range exp {
		g, ok := got[k]
		if !ok {
			f.t.Errorf("daily_stats %v missing", k)
			continue
		}
		for i := 0; i < 46; i++ {
			if math.Abs(g[i]-e[i]) > 1e-6 {
				f.t.Errorf("daily_stats %v column %d: got %v want %v", k, i, g[i], e[i])
			}
		}
	}
}

// checksum of everything the ETL writes for a tenant, minus load times.
func (f *fixture) checksum(tenant int64) string {
	var s string
	err := f.super.QueryRow(context.Background(), `SELECT
		(SELECT md5(coalesce(string_agg((to_jsonb(c) - 'loaded_at')::text, '' ORDER BY c.conversation_id), '')) FROM analytics.conversations c WHERE c.tenant_id = $1) ||
		(SELECT md5(coalesce(string_agg(tr::text, '' ORDER BY tr.conversation_id), '')) FROM analytics.transcripts tr WHERE tr.tenant_id = $1) ||
		(SELECT md5(coalesce(string_agg(d::text, '' ORDER BY d.day, d.inbox_id), '')) FROM analytics.daily_stats d WHERE d.tenant_id = $1)`, tenant).Scan(&s)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// seeded is a fixture over a fresh source holding the catalog, the edge cases and random
// conversations (none when random is 0).
func seeded(t *testing.T, random int) *fixture {
	url, src := newSource(t)
	f := newFixture(t, url, src)
	f.seedCatalog()
	f.seedEdgeCases()
	if random > 0 {
		f.seedRandom(random)
	}
	return f
}

func (f *fixture) run(tenant int64, full bool) Result {
	f.t.Helper()
	if f.pass {
		results, err := f.runner.RunAll(context.Background(), full)
		if err != nil {
			f.t.Fatalf("pass over every tenant: %v", err)
		}
		for _, res := range results {
			if res.Err != nil {
				f.t.Fatalf("pass over every tenant, tenant %d: %v", res.TenantID, res.Err)
			}
		}
		for _, res := range results {
			if res.TenantID == tenant {
				return res
			}
		}
		f.t.Fatalf("pass over every tenant did not run tenant %d", tenant)
	}
	res, err := f.runner.RunTenant(context.Background(), tenant, full)
	if err != nil {
		f.t.Fatalf("run tenant %d: %v", tenant, err)
	}
	return res
}

func (f *fixture) stagingEmpty() {
	f.t.Helper()
	var n int
	_ = f.super.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM etl.stage_ids) + (SELECT count(*) FROM etl.stage_conversations) + (SELECT count(*) FROM etl.stage_days)").Scan(&n)
	if n != 0 {
		f.t.Errorf("staging holds %d committed rows", n)
	}
	// No foreign key keeps a transcript with its conversation (015): the merge must.
	_ = f.super.QueryRow(context.Background(), `SELECT count(*) FROM analytics.transcripts tr
		WHERE NOT EXISTS (SELECT FROM analytics.conversations c WHERE c.tenant_id = tr.tenant_id AND c.conversation_id = tr.conversation_id)`).Scan(&n)
	if n != 0 {
		f.t.Errorf("%d transcripts without their conversation", n)
	}
}

func (f *fixture) watermark(tenant int64) *time.Time {
	var w *time.Time
	err := f.super.QueryRow(context.Background(), "SELECT source_updated_at FROM etl.watermarks WHERE tenant_id = $1", tenant).Scan(&w)
	if err != nil && err != pgx.ErrNoRows {
		f.t.Fatal(err)
	}
	return w
}

// ---------------------------------------------------------------- tests

func TestOracleIdempotenceIncremental(t *testing.T) {
	t.Parallel()
	f := seeded(t, 150)

	res := f.run(f.tenantA, false)
	if res.Inserted == 0 || res.Updated != 0 || res.Deleted != 0 {
		t.Fatalf("first run: %+v", res)
	}
	f.run(f.tenantB, false)
	f.checkOracle(f.tenantA, []int{1, 2}, "America/Sao_Paulo", defaultRules())
	f.checkOracle(f.tenantB, []int{4}, "America/Sao_Paulo", defaultRules())
	f.stagingEmpty()
	var stray int
	_ = f.super.QueryRow(context.Background(), "SELECT count(*) FROM analytics.transcripts WHERE 'mensagem de outra caixa' = ANY (message_contents)").Scan(&stray)
	if stray != 0 {
		t.Error("a message filed under another inbox reached a transcript")
	}

	// The 01:30 UTC conversation belongs to the previous day in São Paulo.
	var day string
	_ = f.super.QueryRow(context.Background(), "SELECT created_day::text FROM analytics.conversations WHERE created_at = '2025-03-11 01:30:00+00'").Scan(&day)
	if day != "2025-03-10" {
		t.Errorf("01:30 UTC conversation day = %q, want 2025-03-10", day)
	}

	// Idempotence: nothing written, identical checksum.
	sum := f.checksum(f.tenantA)
	res = f.run(f.tenantA, false)
	if res.Inserted != 0 || res.Updated != 0 || res.Deleted != 0 || res.Messages != 0 {
		t.Errorf("second run changed something: %+v", res)
	}
	if !res.Unchanged || res.Extracted != 0 {
		t.Errorf("second run read the source although its fingerprint is unchanged: %+v", res)
	}
	var held int
	// pg_locks is cluster-wide: parallel tests' databases have tenants with the same ids.
	if err := f.super.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1 AND objid = $2
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, lockClass, f.tenantA).Scan(&held); err != nil || held != 0 {
		t.Errorf("the tenant's lock is still held after an unchanged run (%d, %v)", held, err)
	}
	res = f.run(f.tenantA, true)
	if res.Inserted != 0 || res.Updated != 0 || res.Extracted == 0 {
		t.Errorf("full rerun: %+v", res)
	}
	if got := f.checksum(f.tenantA); got != sum {
		t.Errorf("checksum moved on a no-change run")
	}

	// Incremental: new message, new conversation, status and label change, deletion.
	later := utc("2025-03-25 10:00:00")
	f.exec(f.src, `INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, sender_type)
		VALUES (9000001, 'quero me matricular', 1, 1, 1, 0, $1, $1, 'Contact')`, later)
	f.exec(f.src, "UPDATE conversations SET updated_at = $1 WHERE id = 1", later)
	f.conv(2, 0, later, []msg{{later.Add(time.Second), 0, false, "Contact", "nova", false}}, nil, nil, nil)
	f.exec(f.src, "UPDATE conversations SET status = 1, updated_at = $1 WHERE id = 2", later.Add(time.Minute))
	f.exec(f.src, "INSERT INTO taggings (id, tag_id, taggable_type, taggable_id, context) VALUES (9000001, 3, 'Conversation', 4, 'labels')")
	f.exec(f.src, "UPDATE conversations SET updated_at = $1 WHERE id = 4", later.Add(2*time.Minute))
	f.exec(f.src, "DELETE FROM conversations WHERE id = 6")
	res = f.run(f.tenantA, false)
	if res.Inserted != 1 || res.Deleted != 1 || res.Updated != 3 {
		t.Errorf("incremental: %+v (want 1 inserted, 3 updated, 1 deleted)", res)
	}
	f.checkOracle(f.tenantA, []int{1, 2}, "America/Sao_Paulo", defaultRules())

	// Funnel rules and timezone change: re-applied to all history without reading Chatwoot.
	f.exec(f.super, `UPDATE app.tenant_settings SET visit_regex = 'agendar|visitar', lead_any_message = false, lead_labels = '{duvida}' WHERE tenant_id = $1`, f.tenantA)
	f.exec(f.super, `UPDATE app.tenants SET timezone = 'Asia/Tokyo' WHERE id = $1`, f.tenantA)
	res = f.run(f.tenantA, false)
	ru := defaultRules()
	ru.LeadAnyMessage, ru.LeadLabels, ru.VisitRe = false, []string{"duvida"}, regexp.MustCompile(`(?i)agendar|visitar`)
	f.checkOracle(f.tenantA, []int{1, 2}, "Asia/Tokyo", ru)
	sum = f.checksum(f.tenantA)
	if res = f.run(f.tenantA, false); res.Updated != 0 || f.checksum(f.tenantA) != sum {
		t.Errorf("run after rule change is not idempotent: %+v", res)
	}
	// Under a regular-expression rule an incremental run stages the contact's texts: a new
	// contact message matching the rule moves its conversation to "visit".
	later = later.Add(time.Hour)
	f.exec(f.src, `INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, sender_type)
		VALUES (9000002, 'posso agendar amanhã?', 1, 1, 1, 0, $1, $1, 'Contact')`, later)
	f.exec(f.src, "UPDATE conversations SET updated_at = $1 WHERE id = 1", later)
	if res = f.run(f.tenantA, false); res.Updated != 1 {
		t.Errorf("incremental run under a regex rule: %+v (want 1 updated)", res)
	}
	f.checkOracle(f.tenantA, []int{1, 2}, "Asia/Tokyo", ru)
	var visit bool
	if err := f.super.QueryRow(context.Background(), "SELECT is_visit FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id = 1", f.tenantA).Scan(&visit); err != nil || !visit {
		t.Errorf("conversation 1 after a message matching the visit rule: visit %v, %v", visit, err)
	}

	// Inbox remapping: inbox 2 moves from A to B.
	f.exec(f.super, "DELETE FROM app.tenant_inboxes WHERE inbox_id = 2")
	f.exec(f.super, "INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, 2)", f.tenantB)
	f.run(f.tenantA, false)
	f.run(f.tenantB, false)
	f.checkOracle(f.tenantA, []int{1}, "Asia/Tokyo", ru)
	f.checkOracle(f.tenantB, []int{2, 4}, "America/Sao_Paulo", defaultRules())
	f.stagingEmpty()
}

// TestStoredRowsWithoutWatermarkRebuild: a tenant whose rows are stored but whose watermark is
// gone (so nobody knows which timezone and rules the rows used) has its history rebuilt by the
// next run, even when that run rewrites none of its rows; the decision counts the rows the run
// wrote against the ids it staged.
func TestStoredRowsWithoutWatermarkRebuild(t *testing.T) {
	t.Parallel()
	f := seeded(t, 40)
	if res := f.run(f.tenantA, false); res.Inserted == 0 {
		t.Fatalf("first run: %+v", res)
	}
	f.exec(f.super, `DELETE FROM etl.watermarks WHERE tenant_id = $1`, f.tenantA)
	f.exec(f.super, `UPDATE app.tenants SET timezone = 'Asia/Tokyo' WHERE id = $1`, f.tenantA)
	res := f.run(f.tenantA, false)
	if res.Err != nil || res.Inserted != 0 || res.Updated != 0 {
		t.Fatalf("run without a watermark rewrote rows itself: %+v", res)
	}
	f.checkOracle(f.tenantA, []int{1, 2}, "Asia/Tokyo", defaultRules())
	f.stagingEmpty()
}

func TestInterruptionThenRerunMatchesUninterrupted(t *testing.T) {
	t.Parallel()
	url, src := newSource(t)
	ref := newFixture(t, url, src)
	ref.seedCatalog()
	ref.seedEdgeCases()
	ref.seedRandom(60)
	ref.run(ref.tenantA, false)
	want := ref.checksum(ref.tenantA)

	for _, stage := range []string{"ids", "extract", "copy", "merge"} {
		t.Run(stage, func(t *testing.T) {
			f := newFixture(t, url, src)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.runner.hook = func(_ context.Context, s string) error {
				if s == stage {
					cancel()
				}
				return nil
			}
			if _, err := f.runner.RunTenant(ctx, f.tenantA, false); err == nil {
				t.Fatal("interrupted run succeeded")
			}
			var status, msg string
			_ = f.super.QueryRow(context.Background(), "SELECT status, coalesce(error, '') FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantA).Scan(&status, &msg)
			if status != "failed" || msg == "" {
				t.Errorf("run status %q error %q, want failed with a message", status, msg)
			}
			if f.watermark(f.tenantA) != nil {
				t.Error("watermark moved on a failed run")
			}
			var n int
			_ = f.super.QueryRow(context.Background(), "SELECT count(*) FROM analytics.conversations").Scan(&n)
			if n != 0 {
				t.Errorf("%d rows partially applied", n)
			}
			f.stagingEmpty()
			f.runner.hook = nil
			f.run(f.tenantA, false)
			if got := f.checksum(f.tenantA); got != want {
				t.Error("rerun after interruption differs from an uninterrupted run")
			}
		})
	}

	// A process killed mid-run leaves a running row: the next run marks it stale.
	f := newFixture(t, url, src)
	f.exec(f.super, "INSERT INTO etl.runs (tenant_id) VALUES ($1)", f.tenantA)
	f.run(f.tenantA, false)
	var stale int
	_ = f.super.QueryRow(context.Background(), "SELECT count(*) FROM etl.runs WHERE status = 'stale' AND error IS NOT NULL").Scan(&stale)
	if stale != 1 || f.checksum(f.tenantA) != want {
		t.Errorf("stale runs = %d; checksum equal = %v", stale, f.checksum(f.tenantA) == want)
	}
}

func TestConcurrentRunnersOneSkips(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.runner.hook = func(_ context.Context, s string) error {
		if s == "ids" {
			once.Do(func() { close(inside); <-release })
		}
		return nil
	}
	var wg sync.WaitGroup
	var first Result
	var firstErr error
	wg.Add(1)
	go func() { defer wg.Done(); first, firstErr = f.runner.RunTenant(context.Background(), f.tenantA, false) }()
	// AfterRun (serve fires alerts there) follows every successful run, loaded or unchanged, and
	// never a skipped one.
	var after atomic.Int32
	f.runner.AfterRun = func(_ context.Context, tenantID int64) error {
		if tenantID == f.tenantA {
			after.Add(1)
		}
		return errors.New("logged, not failing the run")
	}
	<-inside
	other := &Runner{DB: f.env.DB, SourceURL: f.srcURL, AfterRun: f.runner.AfterRun}
	second, err := other.RunTenant(context.Background(), f.tenantA, false)
	close(release)
	wg.Wait()
	if err != nil || !second.Skipped || second.RunID != 0 {
		t.Errorf("second runner: %+v %v, want skipped without a run", second, err)
	}
	if firstErr != nil || first.Skipped || first.Inserted == 0 {
		t.Errorf("first runner: %+v %v", first, firstErr)
	}
	var runs int
	_ = f.super.QueryRow(context.Background(), "SELECT count(*) FROM etl.runs").Scan(&runs)
	if runs != 1 {
		t.Errorf("%d runs recorded, want 1", runs)
	}
	// The lock was released: a new run proceeds.
	if res := f.run(f.tenantA, false); res.Skipped {
		t.Error("lock leaked")
	}
	if n := after.Load(); n != 2 {
		t.Errorf("AfterRun called %d times, want 2 (the loaded run and the unchanged one)", n)
	}
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	resA := f.run(f.tenantA, false)
	ctx := context.Background()

	// merge_run of tenant A's run under tenant B's context is refused.
	f.exec(f.super, "UPDATE etl.runs SET status = 'running', finished_at = NULL WHERE id = $1", resA.RunID)
	err := f.env.DB.InTx(ctx, pg.ETL(f.tenantB), func(tx pg.Tx) error { return tx.EtlMergeRun(ctx, resA.RunID) })
	if err == nil {
		t.Error("merge of another tenant's run succeeded")
	}
	f.exec(f.super, "UPDATE etl.runs SET status = 'succeeded', finished_at = now() WHERE id = $1", resA.RunID)

	// The loader cannot write a row of A under B's context.
	err = f.env.DB.InTx(ctx, pg.ETL(f.tenantB), func(tx pg.Tx) error {
		_, err := tx.Raw.Exec(ctx, `UPDATE analytics.conversations SET contact_name = 'x' WHERE tenant_id = $1`, f.tenantA)
		if err != nil {
			return err
		}
		_, err = tx.Raw.Exec(ctx, `INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, status,
			created_at, source_updated_at, last_activity_at, created_day, created_hour, created_dow)
			VALUES ($1, 999999, 1, 1, 1, 0, now(), now(), now(), current_date, 0, 0)`, f.tenantA)
		return err
	})
	if err == nil {
		t.Error("tenant B's loader wrote a row of tenant A")
	}
	var names int
	_ = f.super.QueryRow(ctx, "SELECT count(*) FROM analytics.conversations WHERE contact_name = 'x'").Scan(&names)
	if names != 0 {
		t.Error("tenant A's rows were updated under tenant B")
	}

	// Staging is unreadable by tenant and staff roles.
	for _, p := range []pg.Principal{pg.User(f.tenantA, 0, pg.AppAdmin, "", ""), pg.System("test"), pg.Anon("", "")} {
		for _, table := range []string{"etl.stage_ids", "etl.stage_conversations", "etl.stage_days"} {
			err := f.env.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
				_, err := tx.Raw.Exec(ctx, "SELECT * FROM "+table)
				return err
			})
			if err == nil {
				t.Errorf("%s can read %s", p.Role, table)
			}
		}
	}
	// A tenant reads only its own rows.
	var n int
	err = f.env.DB.InReadTx(ctx, pg.User(f.tenantB, 0, pg.AppClient, "", ""), func(tx pg.Tx) error {
		return tx.Raw.QueryRow(ctx, "SELECT count(*) FROM analytics.daily_stats WHERE tenant_id <> $1", f.tenantB).Scan(&n)
	})
	if err != nil || n != 0 {
		t.Errorf("tenant B sees %d daily rows of others (%v)", n, err)
	}
}

// TestSourceGrantMissing: a Chatwoot reader role that lacks a grant on a table the sync reads is
// told so, by column, instead of being taken for an older Chatwoot (information_schema hides the
// columns a role may not read, and an operator was sent looking for a Chatwoot upgrade).
func TestSourceGrantMissing(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	ctx := context.Background()
	role, pw := "cwr_"+randHex(), "reader-"+randHex()
	f.exec(f.src, "CREATE ROLE "+role+" LOGIN PASSWORD '"+pw+"'")
	t.Cleanup(func() {
		_, _ = f.src.Exec(ctx, "DROP OWNED BY "+role)
		_, _ = f.src.Exec(ctx, "DROP ROLE "+role)
	})
	f.exec(f.src, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+role)
	f.exec(f.src, "REVOKE SELECT ON contacts FROM "+role)
	src, err := pgx.ParseConfig(f.srcURL)
	if err != nil {
		t.Fatal(err)
	}
	reader := &Runner{DB: f.env.DB, SourceURL: pgtest.URLFor(t, role, pw, src.Database), ChunkSize: 7}
	_, err = reader.RunTenant(ctx, f.tenantA, false)
	if apperr.KeyOf(err) != "err.etl.source_column_denied" || !strings.Contains(apperr.Message(err, locale.EN), "contacts.phone_number") {
		t.Fatalf("a reader without SELECT on contacts: %v (key %q), want err.etl.source_column_denied naming contacts.phone_number", err, apperr.KeyOf(err))
	}
	f.exec(f.src, "GRANT SELECT ON contacts TO "+role)
	if _, err := reader.RunTenant(ctx, f.tenantA, false); err != nil {
		t.Fatalf("the same reader with the grant: %v", err)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	f.run(f.tenantA, false)
	wm := f.watermark(f.tenantA)
	sum := f.checksum(f.tenantA)
	ctx := context.Background()

	f.exec(f.src, "ALTER TABLE messages DROP COLUMN content_attributes")
	f.exec(f.src, "UPDATE conversations SET status = 1, updated_at = updated_at + interval '1 day'")
	_, err := f.runner.RunTenant(ctx, f.tenantA, false)
	if err == nil {
		t.Fatal("run against a source without messages.content_attributes succeeded")
	}
	var status, msg string
	_ = f.super.QueryRow(ctx, "SELECT status, error FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantA).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "messages.content_attributes") {
		t.Errorf("status %q error %q: want failed naming messages.content_attributes", status, msg)
	}
	if w := f.watermark(f.tenantA); !eqTime(w, wm) || f.checksum(f.tenantA) != sum {
		t.Error("a failed run moved the watermark or the data")
	}

	// Unreachable source.
	bad := &Runner{DB: f.env.DB, SourceURL: "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=2"}
	if _, err := bad.RunTenant(ctx, f.tenantA, false); err == nil {
		t.Fatal("unreachable source succeeded")
	}
	_ = f.super.QueryRow(ctx, "SELECT status, error FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantA).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "Chatwoot") {
		t.Errorf("unreachable: status %q error %q", status, msg)
	}

	// A source failure at the run's first source query (the fingerprint, read in the transaction
	// that records the run) is recorded as the run's failure too, and changes nothing.
	f.exec(f.src, "ALTER TABLE conversations RENAME COLUMN updated_at TO updated_at_old")
	if _, err := f.runner.RunTenant(ctx, f.tenantA, false); err == nil {
		t.Fatal("run against a source without conversations.updated_at succeeded")
	}
	f.exec(f.src, "ALTER TABLE conversations RENAME COLUMN updated_at_old TO updated_at")
	_ = f.super.QueryRow(ctx, "SELECT status, error FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantA).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "updated_at") {
		t.Errorf("fingerprint failure: status %q error %q: want failed naming updated_at", status, msg)
	}
	if w := f.watermark(f.tenantA); !eqTime(w, wm) || f.checksum(f.tenantA) != sum {
		t.Error("a run failed at the fingerprint moved the watermark or the data")
	}
	var running int
	_ = f.super.QueryRow(ctx, "SELECT count(*) FROM etl.runs WHERE tenant_id = $1 AND status = 'running'", f.tenantA).Scan(&running)
	if running != 0 {
		t.Errorf("%d runs left running", running)
	}

	// Statement timeout on the source.
	f.exec(f.src, "ALTER TABLE messages ADD COLUMN content_attributes json DEFAULT '{}'")
	slow := &Runner{DB: f.env.DB, SourceURL: f.srcURL, SourceTimeout: time.Millisecond}
	_, err = slow.RunTenant(ctx, f.tenantA, true)
	_ = f.super.QueryRow(ctx, "SELECT status, error FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantA).Scan(&status, &msg)
	if err != nil && !strings.Contains(msg, "statement_timeout") && !strings.Contains(msg, "tempo") {
		t.Logf("timeout run error: %s", msg) // a 1 ms timeout may hit any statement; only report
	}
	if w := f.watermark(f.tenantA); err != nil && !eqTime(w, wm) {
		t.Error("a timed-out run moved the watermark")
	}

	// RunAll and Status report per tenant.
	results, err := f.runner.RunAll(ctx, false)
	if err != nil || len(results) != 2 {
		t.Fatalf("RunAll: %v %v", results, err)
	}
	st, err := f.runner.Status(ctx)
	if err != nil || len(st) != 2 || st[0].LastSuccessAt == nil || st[0].LastStatus != "succeeded" {
		t.Errorf("Status: %+v %v", st, err)
	}

	// A failure of our own database in the transaction that records the run (here: the tenant's
	// settings are gone) still leaves a failed run row, and no lock.
	f.exec(f.super, "DELETE FROM app.tenant_settings WHERE tenant_id = $1", f.tenantB)
	res, err := f.runner.RunTenant(ctx, f.tenantB, false)
	if err == nil {
		t.Fatal("run of a tenant without settings succeeded")
	}
	var id int64
	_ = f.super.QueryRow(ctx, "SELECT id, status, error FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1", f.tenantB).Scan(&id, &status, &msg)
	if id != res.RunID || status != "failed" || msg == "" {
		t.Errorf("run %d: last run %d %q %q, want it failed with a reason", res.RunID, id, status, msg)
	}
	var held int
	_ = f.super.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, lockClass, f.tenantB).Scan(&held)
	if held != 0 {
		t.Error("a failed run left the tenant's lock held")
	}
}

func TestSchedulerBacksOffAndSurvives(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	super := pgtest.Conn(t, env.SuperURL)
	if _, err := super.Exec(context.Background(), "INSERT INTO app.tenants (slug, name) VALUES ('x', 'x')"); err != nil {
		t.Fatal(err)
	}
	s := &Scheduler{Runner: &Runner{DB: env.DB, SourceURL: "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=1"},
		Interval: time.Hour}
	s.Pass(context.Background())
	s.Pass(context.Background()) // in backoff: no second run
	var runs int
	_ = super.QueryRow(context.Background(), "SELECT count(*) FROM etl.runs WHERE status = 'failed'").Scan(&runs)
	if runs != 1 {
		t.Errorf("%d failed runs, want 1 (second pass must back off)", runs)
	}
}

// TestRunAllWorkersMatchesSerial: tenants loaded by parallel workers end exactly as when loaded
// one after the other, and RunAll reports them in tenant order.
func TestRunAllWorkersMatchesSerial(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	ctx := context.Background()
	serial, err := f.runner.RunAll(ctx, false)
	if err != nil || len(serial) != 2 {
		t.Fatalf("serial RunAll: %+v %v", serial, err)
	}
	want := map[int64]string{f.tenantA: f.checksum(f.tenantA), f.tenantB: f.checksum(f.tenantB)}
	parallel := &Runner{DB: f.env.DB, SourceURL: f.srcURL, ChunkSize: 7, Workers: 4}
	got, err := parallel.RunAll(ctx, true)
	if err != nil || len(got) != 2 {
		t.Fatalf("parallel RunAll: %+v %v", got, err)
	}
	for i, res := range got {
		if res.Err != nil || res.Skipped || res.Slug != serial[i].Slug || res.Extracted != serial[i].Extracted {
			t.Errorf("parallel result %d: %+v, serial %+v", i, res, serial[i])
		}
		if sum := f.checksum(res.TenantID); sum != want[res.TenantID] {
			t.Errorf("tenant %s: parallel full load differs from the serial load", res.Slug)
		}
	}
	var running int
	_ = f.super.QueryRow(ctx, "SELECT count(*) FROM etl.runs WHERE status <> 'succeeded'").Scan(&running)
	if running != 0 {
		t.Errorf("%d runs not succeeded", running)
	}
}

// TestFingerprintSeesEveryChange: a run whose source fingerprint is unchanged reads nothing, and
// each kind of change that can hide from a watermark makes the next run read again: a change
// stamped earlier than the newest one (commit order ≠ timestamp order), a deletion, a conversation
// changed inside the overlap window, and an inbox mapped to the tenant.
// TestFingerprintSeesEveryChange runs tenant by tenant (each asks the source for its own
// fingerprint) and as passes over every tenant (one read of every inbox's fingerprint, summed).
func TestFingerprintSeesEveryChange(t *testing.T) {
	t.Parallel()
	for _, pass := range []bool{false, true} {
		t.Run(map[bool]string{false: "tenant", true: "pass"}[pass], func(t *testing.T) {
			t.Parallel()
			fingerprintSeesEveryChange(t, pass)
		})
	}
}

func fingerprintSeesEveryChange(t *testing.T, pass bool) {
	f := seeded(t, 40)
	f.pass = pass
	f.run(f.tenantA, false)
	// The data version (what cached dashboards are keyed on) moves with every run that merged and
	// with no run that found the source unchanged.
	version := func() (v int64) {
		t.Helper()
		_ = f.super.QueryRow(context.Background(), "SELECT data_version FROM etl.watermarks WHERE tenant_id = $1", f.tenantA).Scan(&v)
		return v
	}
	steady := func(what string) {
		t.Helper()
		before := version()
		if res := f.run(f.tenantA, false); !res.Unchanged || res.Extracted != 0 {
			t.Errorf("%s: run not skipped on an unchanged source: %+v", what, res)
		}
		if version() != before {
			t.Errorf("%s: an unchanged run moved the data version", what)
		}
	}
	if version() == 0 {
		t.Error("the first load did not move the data version")
	}
	steady("after the first load")
	merged := version()
	var lastSuccess, checked time.Time
	_ = f.super.QueryRow(context.Background(), "SELECT last_success_at, source_checked_at FROM etl.watermarks WHERE tenant_id = $1", f.tenantA).Scan(&lastSuccess, &checked)
	steady("second pass")
	var lastSuccess2, checked2 time.Time
	_ = f.super.QueryRow(context.Background(), "SELECT last_success_at, source_checked_at FROM etl.watermarks WHERE tenant_id = $1", f.tenantA).Scan(&lastSuccess2, &checked2)
	if !lastSuccess2.After(lastSuccess) || !checked2.After(checked) {
		t.Errorf("an unchanged run did not record its success: %v→%v, %v→%v", lastSuccess, lastSuccess2, checked, checked2)
	}

	// Older stamp than the watermark: only the id-set comparison can see it.
	f.exec(f.src, "UPDATE conversations SET status = 2, updated_at = updated_at - interval '1 second' WHERE id = 3")
	if res := f.run(f.tenantA, false); res.Unchanged || res.Updated != 1 {
		t.Errorf("change stamped in the past: %+v, want 1 updated", res)
	}
	if version() <= merged {
		t.Error("a run that updated a conversation did not move the data version")
	}
	steady("after the past-stamped change")

	f.exec(f.src, "DELETE FROM conversations WHERE id = 5")
	if res := f.run(f.tenantA, false); res.Unchanged || res.Deleted != 1 {
		t.Errorf("deletion: %+v, want 1 deleted", res)
	}
	steady("after the deletion")

	// Changed just now: re-read by every run until the overlap window has passed.
	f.exec(f.src, "UPDATE conversations SET updated_at = now() AT TIME ZONE 'UTC' WHERE id = 7")
	for i := range 2 {
		if res := f.run(f.tenantA, false); res.Unchanged || res.Extracted != 1 {
			t.Errorf("run %d after a change inside the overlap window: %+v, want it re-read", i+1, res)
		}
	}

	// An inbox mapped to the tenant brings its conversations.
	f.exec(f.src, "UPDATE conversations SET updated_at = updated_at - interval '1 hour' WHERE id = 7")
	f.run(f.tenantA, false)
	f.exec(f.super, "DELETE FROM app.tenant_inboxes WHERE inbox_id = 4")
	f.exec(f.super, "INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, 4)", f.tenantA)
	if res := f.run(f.tenantA, false); res.Unchanged || res.Inserted == 0 {
		t.Errorf("newly mapped inbox: %+v, want its conversations inserted", res)
	}
	f.checkOracle(f.tenantA, []int{1, 2, 4}, "America/Sao_Paulo", defaultRules())
	steady("after the mapping change")
}

// TestFingerprintsSumToTenants: a tenant's fingerprint summed from the one-pass per-inbox
// fingerprints equals the one its own query computes, whatever the inbox set.
func TestFingerprintsSumToTenants(t *testing.T) {
	t.Parallel()
	f := seeded(t, 60)
	ctx := context.Background()
	s, err := f.runner.openSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(ctx)
	fps, err := readFingerprints(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(fps.byInbox) < 2 {
		t.Fatalf("fixture has %d inboxes with conversations", len(fps.byInbox))
	}
	for _, inboxes := range [][]int32{{}, {1}, {2}, {1, 2}, {1, 2, 4}, {4, 2, 1, 99}, {99}} {
		want, err := s.q.ExtractFingerprint(ctx, inboxes)
		if err != nil {
			t.Fatal(err)
		}
		got := fps.of(inboxes)
		if got.Conversations != want.Conversations || hashMod(0, got.Hash) != hashMod(0, want.Hash) ||
			got.MaxUpdatedAt != want.MaxUpdatedAt {
			t.Errorf("inboxes %v: summed %+v, asked %+v", inboxes, got, want)
		}
	}
	for _, c := range [][3]int64{{0, 0, 0}, {-1, 0, fingerprintPrime - 1}, {fingerprintPrime - 1, 1, 0},
		{-(fingerprintPrime - 1), fingerprintPrime - 1, 0}, {math.MaxInt64, math.MaxInt64, 48}, {math.MinInt64, 0, fingerprintPrime - 25}} {
		if got := hashMod(c[0], c[1]); got != c[2] {
			t.Errorf("hashMod(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// TestRegexRuleAddedDuringFirstLoad: a regular-expression rule saved while a tenant's first load
// runs still applies to every loaded conversation: a first load has no stored rules for
// etl.merge_run to compare with, so each chunk's merge must read the rule as it is then and match
// it against the staged transcript.
func TestRegexRuleAddedDuringFirstLoad(t *testing.T) {
	t.Parallel()
	f := seeded(t, 60)
	f.runner.hook = func(_ context.Context, stage string) error {
		if stage == "ids" {
			f.exec(f.super, `UPDATE app.tenant_settings SET visit_regex = 'agendar|visitar', lead_any_message = false, lead_labels = '{duvida}' WHERE tenant_id = $1`, f.tenantA)
		}
		return nil
	}
	f.run(f.tenantA, false)
	f.runner.hook = nil
	ru := defaultRules()
	ru.LeadAnyMessage, ru.LeadLabels, ru.VisitRe = false, []string{"duvida"}, regexp.MustCompile(`(?i)agendar|visitar`)
	f.checkOracle(f.tenantA, []int{1, 2}, "America/Sao_Paulo", ru)
}

// TestUnchangedRunsFold: checks that find the source unchanged are one row per quiet stretch,
// counted; a change, a failure or a full load starts a new row, so the history keeps each of them.
func TestUnchangedRunsFold(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	ctx := context.Background()
	type row struct {
		id        int64
		status    string
		unchanged bool
		checks    int
		last      *time.Time
	}
	rows := func() []row {
		t.Helper()
		rs, err := f.super.Query(ctx, `SELECT id, status, unchanged, checks, last_check_at FROM etl.runs WHERE tenant_id = $1 ORDER BY id`, f.tenantA)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.id, &r.status, &r.unchanged, &r.checks, &r.last); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	load := f.run(f.tenantA, false)
	first := f.run(f.tenantA, false)
	if !first.Unchanged || first.RunID == load.RunID {
		t.Fatalf("first check: %+v", first)
	}
	var prevLast time.Time
	for i := 2; i <= 4; i++ {
		res := f.run(f.tenantA, false)
		if !res.Unchanged || res.RunID != first.RunID {
			t.Fatalf("check %d: %+v, want folded into run %d", i, res, first.RunID)
		}
		rs := rows()
		if len(rs) != 2 || rs[1].checks != i || !rs[1].unchanged || rs[1].last == nil || !rs[1].last.After(prevLast) {
			t.Fatalf("after check %d: %+v, want the load and one row of %d checks", i, rs, i)
		}
		prevLast = *rs[1].last
	}
	var wm int64
	_ = f.super.QueryRow(ctx, `SELECT last_run_id FROM etl.watermarks WHERE tenant_id = $1`, f.tenantA).Scan(&wm)
	if wm != first.RunID {
		t.Errorf("watermark names run %d, want the folded row %d", wm, first.RunID)
	}

	// A change is a row of its own; the next quiet check starts a new stretch.
	f.exec(f.src, "UPDATE conversations SET status = 2, updated_at = updated_at - interval '1 second' WHERE id = 3")
	changed := f.run(f.tenantA, false)
	after := f.run(f.tenantA, false)
	if changed.Unchanged || !after.Unchanged || after.RunID <= changed.RunID {
		t.Fatalf("change then check: %+v, %+v", changed, after)
	}
	// A failure too.
	f.exec(f.super, "INSERT INTO etl.runs (tenant_id, status, finished_at, error) VALUES ($1, 'failed', now(), 'x')", f.tenantA)
	again := f.run(f.tenantA, false)
	if !again.Unchanged || again.RunID == after.RunID {
		t.Fatalf("check after a failure folded across it: %+v", again)
	}
	rs := rows()
	var checks []int
	for _, r := range rs {
		checks = append(checks, r.checks)
	}
	if fmt.Sprint(checks) != "[1 4 1 1 1 1]" {
		t.Errorf("checks per row %v, want [1 4 1 1 1 1] (load, 4 checks, change, check, failure, check)", checks)
	}
	// Tenant B's runs are its own stretches.
	if b := f.run(f.tenantB, false); b.RunID == again.RunID {
		t.Errorf("tenant B folded into A's row")
	}
}
