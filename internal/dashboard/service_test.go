package dashboard_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

func fixture(t *testing.T, env *pgtest.Env) (a, b int64) { return pgtest.SeedAnalytics(t, env) }

func parse(t *testing.T, q string) dashboard.Filter {
	t.Helper()
	v, _ := url.ParseQuery(q)
	f, err := dashboard.Parse(v, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 30, []int32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestDrillDownMatchesKPIs: the list behind every KPI, bar, cell and row has exactly as many
// conversations as the number it drills down from.
func TestDrillDownMatchesKPIs(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	svc := &dashboard.Service{DB: env.DB}
	p := pg.User(a, 0, pg.AppClient, "", "")
	for _, q := range []string{"period=30d", "period=90d&inbox=1", "period=90d&channel=Channel::Instagram", "period=90d&label=lead", "period=7d&stage=lead",
		"period=30d&hours=business", "period=90d&label=lead&hours=business"} {
		f := parse(t, q)
		d, err := svc.Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		count := func(g dashboard.Filter) int64 {
			t.Helper()
			page, err := svc.List(ctx, p, a, g)
			if err != nil {
				t.Fatal(err)
			}
			return page.Total
		}
		k := d.KPIs
		for kpi, want := range map[string]*float64{
			"conversations": k.Conversations.Cur, "leads": k.Leads.Cur, "visits": k.Visits.Cur,
			"conversions": k.Conversions.Cur, "unanswered_leads": k.UnansweredLeads.Cur,
			"first_reply": k.Replied.Cur, "first_human_reply": k.HumanReplied.Cur, "resolved": k.Resolved.Cur,
			"bot_resolved": k.BotResolved.Cur, "with_bot": k.WithBot.Cur, "handoff": k.Handoffs.Cur,
			"csat": k.CSATResponses.Cur, "satisfied": k.CSATSatisfied.Cur,
			"handoff_requests": k.HandoffRequests.Cur, "human_wait": k.HumanWaits.Cur,
			"sla_within": k.SLAWithin.Cur, "sla_missed": k.SLAMissed.Cur,
			"sla": dashboard.Num(*k.SLAWithin.Cur + *k.SLAMissed.Cur),
		} {
			if *want == 0 && strings.HasPrefix(kpi, "sla") && !strings.HasPrefix(q, "period=7d") {
				t.Errorf("%s: KPI %s is 0: the fixture does not test its drill-down", q, kpi)
			}
			if got := count(f.DrillKPI(kpi)); float64(got) != *want {
				t.Errorf("%s: KPI %s = %v, drill-down lists %d", q, kpi, *want, got)
			}
		}
		for _, day := range d.DailySeries() {
			if day.Conversations > 0 {
				if got := count(f.DrillDay(day.Day)); got != day.Conversations {
					t.Errorf("%s: day %s = %d, drill-down lists %d", q, day.Day.Format("2006-01-02"), day.Conversations, got)
				}
			}
		}
		for _, grain := range []string{"week", "month"} {
			for _, b := range d.Series(grain) {
				if got := count(f.DrillRange(b.From, b.To)); got != b.Conversations {
					t.Errorf("%s: %s %s–%s = %d, drill-down lists %d", q, grain, b.From.Format("2006-01-02"), b.To.Format("2006-01-02"), b.Conversations, got)
				}
			}
		}
		for i, n := range d.FRTCounts() {
			if got := count(f.DrillFRT(i)); got != n {
				t.Errorf("%s: first-reply bucket %d = %d, drill-down lists %d", q, i, n, got)
			}
		}
		grid, _ := d.HeatmapGrid()
		for dow := range grid {
			for h := range grid[dow] {
				if n := grid[dow][h]; n > 0 {
					if got := count(f.DrillCell(dow, h)); got != n {
						t.Errorf("%s: cell %d/%d = %d, drill-down lists %d", q, dow, h, n, got)
					}
				}
			}
		}
		for _, r := range d.ByInbox {
			if got := count(f.DrillInbox(r.InboxID)); got != r.Conversations {
				t.Errorf("%s: inbox %d = %d, drill-down lists %d", q, r.InboxID, r.Conversations, got)
			}
		}
		for _, r := range d.ByLabel {
			if got := count(f.DrillLabel(r.Label)); got != r.Conversations {
				t.Errorf("%s: label %s = %d, drill-down lists %d", q, r.Label, r.Conversations, got)
			}
		}
		for i, n := range d.CSATCounts() {
			if got := count(f.DrillCSAT(i + 1)); got != n {
				t.Errorf("%s: CSAT %d = %d, drill-down lists %d", q, i+1, n, got)
			}
		}
	}
}

// TestSummaryMatchesPlainComputation recomputes the KPIs in Go from the raw rows.
func TestSummaryMatchesPlainComputation(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	f := parse(t, "period=30d")
	d, err := (&dashboard.Service{DB: env.DB}).Load(ctx, pg.User(a, 0, pg.AppClient, "", ""), a, f)
	if err != nil {
		t.Fatal(err)
	}
	su := pgtest.Conn(t, env.SuperURL)
	rows, err := su.Query(ctx, `SELECT is_lead, unanswered, first_reply_seconds, csat_rating FROM analytics.conversations
		WHERE tenant_id = $1 AND created_day BETWEEN $2 AND $3`, a, f.From, f.To)
	if err != nil {
		t.Fatal(err)
	}
	var n, leads, unansweredLeads, csat, satisfied int
	var frt []float64
	for rows.Next() {
		var lead, unanswered bool
		var fr *float64
		var rating *int16
		if err := rows.Scan(&lead, &unanswered, &fr, &rating); err != nil {
			t.Fatal(err)
		}
		n++
		if lead {
			leads++
		}
		if lead && unanswered {
			unansweredLeads++
		}
		if fr != nil {
			frt = append(frt, *fr)
		}
		if rating != nil {
			csat++
			if *rating >= 4 {
				satisfied++
			}
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	sort.Float64s(frt)
	k := d.KPIs
	check := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || abs(*got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("conversations", k.Conversations.Cur, float64(n))
	check("leads", k.Leads.Cur, float64(leads))
	check("unanswered leads", k.UnansweredLeads.Cur, float64(unansweredLeads))
	check("first reply p50", k.FirstReplyP50.Cur, percentile(frt, 0.5))
	check("first reply p90", k.FirstReplyP90.Cur, percentile(frt, 0.9))
	check("csat satisfaction", k.CSATSatisfaction.Cur, float64(satisfied)/float64(csat))
	if n == 0 || k.Conversations.Prev == nil {
		t.Fatal("fixture produced no conversations in the period or no previous period")
	}
}

// percentile is PostgreSQL's percentile_cont: linear interpolation between closest ranks.
func percentile(sorted []float64, p float64) float64 {
	pos := p * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestIsolation: a tenant user naming another tenant's id or conversation sees nothing.
func TestIsolation(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, b := fixture(t, env)
	ctx := context.Background()
	svc := &dashboard.Service{DB: env.DB}
	pa := pg.User(a, 0, pg.AppClient, "", "")
	f := parse(t, "period=365d")
	d, err := svc.Load(ctx, pa, b, f) // tenant A asking for tenant B's dashboard
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || len(d.Inboxes) != 0 || len(d.ByLabel) != 0 {
		t.Fatalf("tenant A saw tenant B's data: %+v", d.KPIs.Conversations)
	}
	page, err := svc.List(ctx, pa, b, f)
	if err != nil || page.Total != 0 || len(page.Rows) != 0 {
		t.Fatalf("tenant A listed tenant B's conversations: %v %d", err, page.Total)
	}
	// Conversation 700 belongs to B.
	if _, err := svc.Detail(ctx, pa, a, 700); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B's conversation under A's id: %v, want NotFound", err)
	}
	if _, err := svc.Detail(ctx, pa, b, 700); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B's conversation under B's id as A: %v, want NotFound", err)
	}
	n := 0
	err = svc.Each(ctx, pa, b, f, func(r pgxRow) error { n++; return nil })
	if err != nil || n != 0 {
		t.Fatalf("export of B as A: %v, %d rows", err, n)
	}
}

type pgxRow = dbsqlc.ConversationPageRow

// TestDetailTranscript: the conversation page shows the stored transcript message by message,
// in its order, each field from its own array; a conversation without messages shows none.
func TestDetailTranscript(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	var conv, empty int32
	if err := su.QueryRow(ctx, `SELECT min(conversation_id), max(conversation_id) FROM analytics.conversations WHERE tenant_id = $1`, a).Scan(&conv, &empty); err != nil {
		t.Fatal(err)
	}
	// Ids against time on purpose: the page keeps the stored order, it does not sort by id.
	if _, err := su.Exec(ctx, `INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at,
			message_senders, message_types, message_contents, message_deleted)
		VALUES ($1, $2, '{30,20,10}', ARRAY[timestamptz '2026-11-01 10:00Z', '2026-11-01 10:01Z', '2026-11-01 10:02Z'],
		        '{contact,bot,human}', '{0,1,1}', '{Oi,"Olá! Como posso ajudar?","Aqui é a Ana"}', '{f,t,f}'),
		       ($1, $3, '{}', '{}', '{}', '{}', '{}', '{}')`, a, conv, empty); err != nil {
		t.Fatal(err)
	}
	svc := &dashboard.Service{DB: env.DB}
	pa := pg.User(a, 0, pg.AppClient, "", "")
	d, err := svc.Detail(ctx, pa, a, conv)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range d.Messages {
		got = append(got, fmt.Sprintf("%d %s %s %d %q %t", m.MessageID, m.CreatedAt.UTC().Format("15:04"), m.Sender, m.MessageType, m.Content, m.Deleted))
	}
	want := []string{`30 10:00 contact 0 "Oi" false`, `20 10:01 bot 1 "Olá! Como posso ajudar?" true`, `10 10:02 human 1 "Aqui é a Ana" false`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d, err = svc.Detail(ctx, pa, a, empty); err != nil || len(d.Messages) != 0 {
		t.Errorf("empty transcript: %v, %d messages", err, len(d.Messages))
	}
}
