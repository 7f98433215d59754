package dashboard_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/chatwoot/oracle"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

const oracleTZ = "America/Sao_Paulo"

// oracleNow ends the demo history at 02:30 UTC, which is still the previous day (23:30) in São
// Paulo: "today" for the presets is 2026-03-15, not the UTC date.
var oracleNow = time.Date(2026, 3, 16, 2, 30, 0, 0, time.UTC)

// TestDashboardMatchesOracle: every number of Service.Load, for several filters, equals a plain Go
// computation over the oracle's per-conversation metrics, which are read straight from the
// generated Chatwoot source (internal/chatwoot/oracle), never from our tables.
func TestDashboardMatchesOracle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcURL := oracleSource(t, chatwoot.Options{Accounts: 3, InboxesPerAccount: 2, Conversations: 1500, Days: 60, Seed: 20260316, Now: oracleNow})
	src := pgtest.Conn(t, srcURL)

	// The tenant owns both inboxes of the first account whose two inboxes differ in channel,
	// plus the first inbox of another account.
	type inbox struct {
		id, account       int32
		name, channelType string
	}
	var all []inbox
	rows, err := src.Query(ctx, "SELECT id, account_id, name, coalesce(channel_type, '') FROM inboxes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ib inbox
		if err := rows.Scan(&ib.id, &ib.account, &ib.name, &ib.channelType); err != nil {
			t.Fatal(err)
		}
		all = append(all, ib)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	var mapped []inbox
	for i := 0; i+1 < len(all) && mapped == nil; i++ {
		if all[i].account == all[i+1].account && all[i].channelType != all[i+1].channelType {
			mapped = []inbox{all[i], all[i+1]}
		}
	}
	for _, ib := range all {
		if len(mapped) == 2 && ib.account != mapped[0].account {
			mapped = append(mapped, ib)
			break
		}
	}
	if len(mapped) != 3 {
		t.Fatalf("demo inboxes %+v: no account with two channel types", all)
	}

	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	var tid int64
	if err := su.QueryRow(ctx, "INSERT INTO app.tenants (slug, name, timezone) VALUES ('academia-oraculo', 'Academia Oráculo', $1) RETURNING id", oracleTZ).Scan(&tid); err != nil {
		t.Fatal(err)
	}
	var ids []int
	var ids32 []int32
	for _, ib := range mapped {
		if _, err := su.Exec(ctx, "INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, account_id, inbox_name, channel_type) VALUES ($1, $2, $3, $4, $5)",
			tid, ib.id, ib.account, ib.name, ib.channelType); err != nil {
			t.Fatal(err)
		}
		ids, ids32 = append(ids, int(ib.id)), append(ids32, ib.id)
	}
	if res, err := (&etl.Runner{DB: env.DB, SourceURL: srcURL}).RunTenant(ctx, tid, true); err != nil || res.Inserted == 0 {
		t.Fatalf("ETL: %+v %v", res, err)
	}

	want, err := oracle.Compute(ctx, src, ids, oracleTZ, oracle.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 500 {
		t.Fatalf("oracle sees only %d conversations of inboxes %v", len(want), ids)
	}
	convs := make([]oracle.Conversation, 0, len(want))
	for _, c := range want {
		convs = append(convs, c)
	}

	loc, _ := time.LoadLocation(oracleTZ)
	local := oracleNow.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }

	// A label that some but not all conversations carry, the most frequent one.
	labelCount := map[string]int{}
	for _, c := range convs {
		for _, l := range oracleLabels(c) {
			labelCount[l]++
		}
	}
	label := ""
	for l, n := range labelCount {
		if n < len(convs) && (label == "" || n > labelCount[label] || n == labelCount[label] && l < label) {
			label = l
		}
	}
	if label == "" {
		t.Fatal("the demo conversations carry no label")
	}

	// A São Paulo day holding conversations created after 21:00 local (the next day in UTC).
	crossing := ""
	for d := -29; d <= 0 && crossing == ""; d++ {
		for _, c := range convs {
			if c.Day == day(d) && c.CreatedAt.UTC().Format("2006-01-02") != c.Day {
				crossing = c.Day
				break
			}
		}
	}
	if crossing == "" {
		t.Fatal("no conversation created between 21:00 and midnight São Paulo in the last 30 days")
	}
	byUTC, byLocal := 0, 0
	for _, c := range convs {
		if c.CreatedAt.UTC().Format("2006-01-02") == crossing {
			byUTC++
		}
		if c.Day == crossing {
			byLocal++
		}
	}
	t.Logf("%d conversations; label %q; crossing day %s: %d by São Paulo day, %d by UTC day", len(convs), label, crossing, byLocal, byUTC)

	svc := &dashboard.Service{DB: env.DB}
	p := pg.User(tid, 0, pg.AppClient, "", "")
	clock := oracleClock{sla: 300}
	if err := su.QueryRow(ctx, "SELECT source_checked_at FROM etl.watermarks WHERE tenant_id = $1", tid).Scan(&clock.synced); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"period=30d",
		"period=30d&stack=inbox",
		"period=7d",
		fmt.Sprintf("from=%s&to=%s", day(-50), day(-21)),
		fmt.Sprintf("period=90d&inbox=%d", mapped[0].id),
		"period=30d&channel=" + url.QueryEscape(mapped[1].channelType),
		"period=30d&label=" + url.QueryEscape(label),
		fmt.Sprintf("period=30d&inbox=%d&inbox=%d&label=%s", mapped[0].id, mapped[2].id, url.QueryEscape(label)),
		fmt.Sprintf("from=%s&to=%s", crossing, crossing),
		"period=today",
		"period=30d&hours=business",
		fmt.Sprintf("period=90d&inbox=%d&hours=business", mapped[0].id),
	} {
		t.Run(q, func(t *testing.T) {
			v, _ := url.ParseQuery(q)
			f, err := dashboard.Parse(v, today, 30, ids32)
			if err != nil {
				t.Fatal(err)
			}
			d, err := svc.Load(ctx, p, tid, f)
			if err != nil {
				t.Fatal(err)
			}
			cur, prev := oracleSelect(t, convs, f), oracleSelect(t, convs, f.Previous())
			if len(cur) == 0 {
				t.Fatalf("the oracle has no conversation for %s: the filter tests nothing", q)
			}
			checkAgainstOracle(t, d, f, cur, prev, clock, func(id int32) string {
				for _, ib := range mapped {
					if ib.id == id {
						return ib.channelType
					}
				}
				return "?"
			})
			if len(d.Inboxes) != len(mapped) || d.LastSyncAt == nil || d.Empty() {
				t.Errorf("inboxes %+v, last sync %v, empty %v", d.Inboxes, d.LastSyncAt, d.Empty())
			}
		})
	}

	// Search: the explorer finds exactly the conversations whose contact name or public messages
	// in the source hold every typed word as a word prefix (case and accents ignored), or whose
	// name contains the text, or whose phone contains its digits.
	docs := searchDocs(t, src, ids32)
	counts := map[string]int{}
	for _, q := range []string{"experimental", "PRECO", "horário sáb", "agend", "Oi", "xyzzy", "19 9", "%", "quero   aula", "a", "AÇÃO", "horario"} {
		for _, all := range []bool{false, true} {
			name := "search " + q
			if all {
				name += " (every message)"
			}
			t.Run(name, func(t *testing.T) {
				v := url.Values{"period": {"90d"}, "q": {q}}
				if all {
					v.Set("qall", "1")
				}
				f, err := dashboard.Parse(v, today, 30, ids32)
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				if err := svc.Each(ctx, p, tid, f, func(r dbsqlc.ConversationPageRow) error {
					got = append(got, int(r.ConversationID))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				var wantIDs []int
				from, to := f.From.Format("2006-01-02"), f.To.Format("2006-01-02")
				for id, c := range want {
					if c.Day >= from && c.Day <= to && docs[id].matches(q, all) {
						wantIDs = append(wantIDs, id)
					}
				}
				sort.Ints(got)
				sort.Ints(wantIDs)
				t.Logf("search %q: %d of %d conversations", q, len(wantIDs), len(want))
				if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
					t.Errorf("search %q: %d conversations, the source says %d", q, len(got), len(wantIDs))
				}
				if q == "experimental" && (len(wantIDs) == 0 || len(wantIDs) == len(convs)) {
					t.Errorf("search %q selects %d of %d conversations: the test tests nothing", q, len(wantIDs), len(convs))
				}
				counts[name] = len(wantIDs)
			})
		}
	}
	// The bot's menu says "horário" in nearly every conversation: searched by default it finds
	// only the contacts who wrote it.
	if n, all := counts["search horario"], counts["search horario (every message)"]; n >= all {
		t.Errorf("horario: %d conversations from the contact's words, %d from every message: the author makes no difference", n, all)
	}
}

// searchDoc is a source conversation as search sees it.
type searchDoc struct {
	name, phone string
	words       map[string]bool // folded words of the name and the public messages
	contact     map[string]bool // folded words of the name and the contact's own messages
}

// searchFold lowers and strips the accents of Portuguese text.
func searchFold(s string) string {
	return strings.NewReplacer("á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "é", "e", "è", "e", "ê", "e", "ë", "e",
		"í", "i", "ì", "i", "î", "i", "ï", "i", "ó", "o", "ò", "o", "ô", "o", "õ", "o", "ö", "o",
		"ú", "u", "ù", "u", "û", "u", "ü", "u", "ç", "c", "ñ", "n").Replace(strings.ToLower(s))
}

func searchWords(s string) []string {
	return strings.FieldsFunc(searchFold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func (d searchDoc) matches(q string, all bool) bool {
	if strings.Contains(strings.ToLower(d.name), strings.ToLower(q)) {
		return true
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	if len(digits) >= 3 && strings.Contains(d.phone, digits) {
		return true
	}
	var qw []string // words of two or more characters: single letters are not searched
	for _, w := range searchWords(q) {
		if len([]rune(w)) >= 2 {
			qw = append(qw, w)
		}
	}
	if len(qw) == 0 {
		return false
	}
	words := d.contact
	if all {
		words = d.words
	}
	for _, w := range qw {
		found := false
		for dw := range words {
			found = found || strings.HasPrefix(dw, w)
		}
		if !found {
			return false
		}
	}
	return true
}

// searchDocs reads, straight from the Chatwoot source, each conversation's contact and public
// messages (those in the conversation's own inbox, as the transcript).
func searchDocs(t *testing.T, src *pgx.Conn, inboxes []int32) map[int]searchDoc {
	t.Helper()
	ctx := context.Background()
	docs := map[int]searchDoc{}
	rows, err := src.Query(ctx, `
		SELECT c.id, coalesce(ct.name, ''), coalesce(ct.phone_number, ''), coalesce(m.content, ''), coalesce(m.message_type, 0)
		FROM conversations c
		LEFT JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN messages m ON m.conversation_id = c.id AND m.inbox_id = c.inbox_id AND NOT m.private
		WHERE c.inbox_id = ANY ($1)`, inboxes)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var name, phone, content string
		var kind int
		if err := rows.Scan(&id, &name, &phone, &content, &kind); err != nil {
			t.Fatal(err)
		}
		d, ok := docs[id]
		if !ok {
			d = searchDoc{name: name, phone: phone, words: map[string]bool{}, contact: map[string]bool{}}
			for _, w := range searchWords(name) {
				d.words[w], d.contact[w] = true, true
			}
		}
		for _, w := range searchWords(content) {
			d.words[w] = true
			if kind == 0 { // incoming: the contact wrote it
				d.contact[w] = true
			}
		}
		docs[id] = d
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return docs
}

// oracleSource creates a Chatwoot demo database for the test and returns its URL.
func oracleSource(t *testing.T, o chatwoot.Options) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "cw_oracle_" + hex.EncodeToString(b)
	admin := pgtest.Conn(t, pgtest.URLFor(t, "", "", "postgres"))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u := pgtest.URLFor(t, "", "", name)
	if _, err := chatwoot.CreateDemo(ctx, pgtest.Conn(t, u), o); err != nil {
		t.Fatal(err)
	}
	return u
}

func oracleLabels(c oracle.Conversation) []string {
	if c.Labels == "" {
		return nil
	}
	return strings.Split(c.Labels, ",")
}

// oracleSelect applies a filter to the oracle's conversations, in Go.
func oracleSelect(t *testing.T, all []oracle.Conversation, f dashboard.Filter) []oracle.Conversation {
	t.Helper()
	if f.Flag != "" || f.FRT != nil || f.DOW != nil || f.Hour != nil || f.CSAT != nil || f.Search != "" || f.Stage != "" || f.Status != "" {
		t.Fatalf("oracleSelect does not implement every filter of %+v", f)
	}
	from, to := f.From.Format("2006-01-02"), f.To.Format("2006-01-02")
	var out []oracle.Conversation
	for _, c := range all {
		if c.Day < from || c.Day > to {
			continue
		}
		if len(f.Inboxes) > 0 {
			in := false
			for _, id := range f.Inboxes {
				in = in || int(id) == c.Inbox
			}
			if !in {
				continue
			}
		}
		if f.Channel != "" && c.ChannelType != f.Channel {
			continue
		}
		if f.Label != "" {
			has := false
			for _, l := range oracleLabels(c) {
				has = has || l == f.Label
			}
			if !has {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// oraclePercentile is PostgreSQL's percentile_cont: linear interpolation between the closest ranks;
// nil for no values.
func oraclePercentile(values []float64, p float64) *float64 {
	if len(values) == 0 {
		return nil
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	pos := p * float64(len(s)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	v := s[int(lo)]
	if hi != lo {
		v += (pos - lo) * (s[int(hi)] - s[int(lo)])
	}
	return &v
}

// oracleFRTBucket: <60 s, <300, <900, <3600, <14400, <86400, else (docs/metrics.md, first-reply distribution).
func oracleFRTBucket(s float64) int {
	for i, edge := range []float64{60, 300, 900, 3600, 14400, 86400} {
		if s < edge {
			return i
		}
	}
	return 6
}

// oracleSummary is every KPI of a set of conversations, computed in Go.
type oracleSummary struct {
	conversations, leads, visits, conversions, unansweredLeads float64
	replied, humanReplied, resolved, botResolved, withBot      float64
	handoffs, csatResponses, csatSatisfied                     float64
	handoffRequests, humanWaits, slaWithin, slaMissed          float64
	frP50, frP90, fhrP50, fhrP90, resP50, waitP50, waitP90     *float64
	slaWithinShare                                             *float64
	leadToVisit, visitToConversion, resolutionRate             *float64
	botResolvedShare, handoffRate, csatSatisfaction            *float64
}

func oracleRatio(n, d float64) *float64 {
	if d == 0 {
		return nil
	}
	r := n / d
	return &r
}

// oracleClock is what speed-to-lead figures depend on beside the conversations: the business-hours
// switch, the SLA target and the sync time.
type oracleClock struct {
	business bool
	sla      float64
	synced   time.Time
}

// pick is a duration or its business-time twin.
func (k oracleClock) pick(plain, business *float64) *float64 {
	if k.business {
		return business
	}
	return plain
}

func oracleSummarize(cs []oracle.Conversation, k oracleClock) oracleSummary {
	var s oracleSummary
	var fr, fhr, res, wait []float64
	for _, c := range cs {
		s.conversations++
		if c.Lead {
			s.leads++
		}
		if c.Visit {
			s.visits++
		}
		if c.Converted {
			s.conversions++
		}
		if c.Unanswered && c.Lead {
			s.unansweredLeads++
		}
		if c.FirstReplyS != nil {
			s.replied++
			fr = append(fr, *k.pick(c.FirstReplyS, c.FirstReplyB))
		}
		if c.FirstHumanS != nil {
			s.humanReplied++
			fhr = append(fhr, *k.pick(c.FirstHumanS, c.FirstHumanB))
		}
		if c.Resolved {
			s.resolved++
		}
		if c.ResolutionS != nil {
			res = append(res, *k.pick(c.ResolutionS, c.ResolutionB))
		}
		if c.HandoffRequested != nil {
			s.handoffRequests++
		}
		if c.WaitS != nil {
			s.humanWaits++
			wait = append(wait, *k.pick(c.WaitS, c.WaitB))
			if *c.WaitB <= k.sla {
				s.slaWithin++
			} else {
				s.slaMissed++
			}
		} else if c.WaitFrom != nil && c.WaitDue != nil && c.WaitDue.Before(k.synced) {
			s.slaMissed++
		}
		if c.BotResolved {
			s.botResolved++
		}
		if c.Bot > 0 {
			s.withBot++
		}
		if c.Handoff {
			s.handoffs++
		}
		if c.Csat != nil {
			s.csatResponses++
			if *c.Csat >= 4 {
				s.csatSatisfied++
			}
		}
	}
	s.frP50, s.frP90 = oraclePercentile(fr, 0.5), oraclePercentile(fr, 0.9)
	s.fhrP50, s.fhrP90 = oraclePercentile(fhr, 0.5), oraclePercentile(fhr, 0.9)
	s.resP50 = oraclePercentile(res, 0.5)
	s.waitP50, s.waitP90 = oraclePercentile(wait, 0.5), oraclePercentile(wait, 0.9)
	s.slaWithinShare = oracleRatio(s.slaWithin, s.slaWithin+s.slaMissed)
	s.leadToVisit = oracleRatio(s.visits, s.leads)
	s.visitToConversion = oracleRatio(s.conversions, s.visits)
	s.resolutionRate = oracleRatio(s.resolved, s.conversations)
	s.botResolvedShare = oracleRatio(s.botResolved, s.resolved)
	s.handoffRate = oracleRatio(s.handoffs, s.withBot)
	s.csatSatisfaction = oracleRatio(s.csatSatisfied, s.csatResponses)
	return s
}

func oracleF(x float64) *float64 { return &x }

func oracleSame(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-6
}

func oracleShow(a *float64) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprint(*a)
}

// checkAgainstOracle compares every number of d with the oracle's conversations of the period
// (cur) and of the previous period (prev).
func checkAgainstOracle(t *testing.T, d *dashboard.Dashboard, f dashboard.Filter, cur, prev []oracle.Conversation, clock oracleClock, channelOf func(int32) string) {
	clock.business = f.Business
	c, p := oracleSummarize(cur, clock), oracleSummarize(prev, clock)
	k := d.KPIs
	for _, m := range []struct {
		name      string
		got       dashboard.Value
		cur, prev *float64
	}{
		{"conversations", k.Conversations, oracleF(c.conversations), oracleF(p.conversations)},
		{"leads", k.Leads, oracleF(c.leads), oracleF(p.leads)},
		{"visits", k.Visits, oracleF(c.visits), oracleF(p.visits)},
		{"conversions", k.Conversions, oracleF(c.conversions), oracleF(p.conversions)},
		{"lead_to_visit", k.LeadToVisit, c.leadToVisit, p.leadToVisit},
		{"visit_to_conversion", k.VisitToConversion, c.visitToConversion, p.visitToConversion},
		{"unanswered_leads", k.UnansweredLeads, oracleF(c.unansweredLeads), oracleF(p.unansweredLeads)},
		{"first_reply_p50", k.FirstReplyP50, c.frP50, p.frP50},
		{"first_reply_p90", k.FirstReplyP90, c.frP90, p.frP90},
		{"first_human_reply_p50", k.FirstHumanReplyP50, c.fhrP50, p.fhrP50},
		{"first_human_reply_p90", k.FirstHumanReplyP90, c.fhrP90, p.fhrP90},
		{"resolution_rate", k.ResolutionRate, c.resolutionRate, p.resolutionRate},
		{"resolution_p50", k.ResolutionP50, c.resP50, p.resP50},
		{"bot_resolved_share", k.BotResolvedShare, c.botResolvedShare, p.botResolvedShare},
		{"handoff_rate", k.HandoffRate, c.handoffRate, p.handoffRate},
		{"csat_satisfaction", k.CSATSatisfaction, c.csatSatisfaction, p.csatSatisfaction},
		{"csat_responses", k.CSATResponses, oracleF(c.csatResponses), oracleF(p.csatResponses)},
		{"replied", k.Replied, oracleF(c.replied), oracleF(p.replied)},
		{"human_replied", k.HumanReplied, oracleF(c.humanReplied), oracleF(p.humanReplied)},
		{"resolved", k.Resolved, oracleF(c.resolved), oracleF(p.resolved)},
		{"with_bot", k.WithBot, oracleF(c.withBot), oracleF(p.withBot)},
		{"handoffs", k.Handoffs, oracleF(c.handoffs), oracleF(p.handoffs)},
		{"bot_resolved", k.BotResolved, oracleF(c.botResolved), oracleF(p.botResolved)},
		{"csat_satisfied", k.CSATSatisfied, oracleF(c.csatSatisfied), oracleF(p.csatSatisfied)},
		{"handoff_requests", k.HandoffRequests, oracleF(c.handoffRequests), oracleF(p.handoffRequests)},
		{"human_waits", k.HumanWaits, oracleF(c.humanWaits), oracleF(p.humanWaits)},
		{"human_wait_p50", k.HumanWaitP50, c.waitP50, p.waitP50},
		{"human_wait_p90", k.HumanWaitP90, c.waitP90, p.waitP90},
		{"sla_within", k.SLAWithin, oracleF(c.slaWithin), oracleF(p.slaWithin)},
		{"sla_missed", k.SLAMissed, oracleF(c.slaMissed), oracleF(p.slaMissed)},
		{"sla_within_share", k.SLAWithinShare, c.slaWithinShare, p.slaWithinShare},
	} {
		if !oracleSame(m.got.Cur, m.cur) {
			t.Errorf("KPI %s: dashboard %s, oracle %s", m.name, oracleShow(m.got.Cur), oracleShow(m.cur))
		}
		if !oracleSame(m.got.Prev, m.prev) {
			t.Errorf("KPI %s previous period: dashboard %s, oracle %s", m.name, oracleShow(m.got.Prev), oracleShow(m.prev))
		}
		var change *float64
		if m.cur != nil && m.prev != nil && *m.prev != 0 {
			change = oracleF((*m.cur - *m.prev) / math.Abs(*m.prev) * 100)
		}
		if !oracleSame(m.got.Change(), change) {
			t.Errorf("KPI %s change: dashboard %s%%, oracle %s%%", m.name, oracleShow(m.got.Change()), oracleShow(change))
		}
	}

	// Daily series: every day of the period, by inbox too.
	type dayWant struct {
		conversations, leads int64
		byInbox              map[int32]int64
	}
	days := map[string]*dayWant{}
	for _, x := range cur {
		w := days[x.Day]
		if w == nil {
			w = &dayWant{byInbox: map[int32]int64{}}
			days[x.Day] = w
		}
		w.conversations++
		if x.Lead {
			w.leads++
		}
		w.byInbox[int32(x.Inbox)]++
	}
	series := d.DailySeries()
	if len(series) != f.Days() {
		t.Errorf("daily series has %d days, the period %d", len(series), f.Days())
	}
	for i, pt := range series {
		key := pt.Day.Format("2006-01-02")
		if wantDay := f.From.AddDate(0, 0, i).Format("2006-01-02"); key != wantDay {
			t.Errorf("daily point %d is %s, want %s", i, key, wantDay)
		}
		w := days[key]
		if w == nil {
			w = &dayWant{byInbox: map[int32]int64{}}
		}
		delete(days, key)
		if pt.Conversations != w.conversations || pt.Leads != w.leads {
			t.Errorf("day %s: dashboard %d conversations / %d leads, oracle %d / %d", key, pt.Conversations, pt.Leads, w.conversations, w.leads)
		}
		if !f.Stacked {
			// The series per inbox is read only for a chart stacked by inbox.
			if len(pt.ByInbox) != 0 {
				t.Errorf("day %s: unstacked series has a per-inbox split %v", key, pt.ByInbox)
			}
			continue
		}
		for id, n := range w.byInbox {
			if pt.ByInbox[id] != n {
				t.Errorf("day %s inbox %d: dashboard %d, oracle %d", key, id, pt.ByInbox[id], n)
			}
		}
		for id, n := range pt.ByInbox {
			if w.byInbox[id] == 0 && n != 0 {
				t.Errorf("day %s inbox %d: dashboard %d, oracle 0", key, id, n)
			}
		}
	}
	if len(days) != 0 {
		t.Errorf("oracle days outside the series: %v", days)
	}

	// First-reply distribution, heatmap, CSAT distribution.
	var frt [7]int64
	var grid [7][24]int64
	var csat [5]int64
	for _, x := range cur {
		if x.FirstReplyS != nil {
			frt[oracleFRTBucket(*clock.pick(x.FirstReplyS, x.FirstReplyB))]++
		}
		grid[x.Dow][x.Hour]++
		if x.Csat != nil {
			csat[*x.Csat-1]++
		}
	}
	if got := d.FRTCounts(); got != frt {
		t.Errorf("first-reply buckets: dashboard %v, oracle %v", got, frt)
	}
	var max int64
	for dow := range grid {
		for h := range grid[dow] {
			if grid[dow][h] > max {
				max = grid[dow][h]
			}
		}
	}
	if got, gotMax := d.HeatmapGrid(); got != grid || gotMax != max {
		for dow := range grid {
			if got[dow] != grid[dow] {
				t.Errorf("heatmap %s: dashboard %v, oracle %v", dashboard.Weekdays[dow], got[dow], grid[dow])
			}
		}
		if gotMax != max {
			t.Errorf("heatmap max: dashboard %d, oracle %d", gotMax, max)
		}
	}
	if got := d.CSATCounts(); got != csat {
		t.Errorf("CSAT distribution: dashboard %v, oracle %v", got, csat)
	}

	// Per-inbox table, in its order (conversations desc, then inbox id).
	type inboxWant struct {
		id                                                         int32
		conversations, leads, visits, conversions, unansweredLeads int64
		fr                                                         []float64
	}
	inboxes := map[int32]*inboxWant{}
	for _, x := range cur {
		w := inboxes[int32(x.Inbox)]
		if w == nil {
			w = &inboxWant{id: int32(x.Inbox)}
			inboxes[w.id] = w
		}
		w.conversations++
		if x.Lead {
			w.leads++
		}
		if x.Visit {
			w.visits++
		}
		if x.Converted {
			w.conversions++
		}
		if x.Unanswered && x.Lead {
			w.unansweredLeads++
		}
		if x.FirstReplyS != nil {
			w.fr = append(w.fr, *clock.pick(x.FirstReplyS, x.FirstReplyB))
		}
	}
	var byInbox []*inboxWant
	for _, w := range inboxes {
		byInbox = append(byInbox, w)
	}
	sort.Slice(byInbox, func(i, j int) bool {
		a, b := byInbox[i], byInbox[j]
		return a.conversations > b.conversations || a.conversations == b.conversations && a.id < b.id
	})
	if len(d.ByInbox) != len(byInbox) {
		t.Errorf("per-inbox table: dashboard %d rows, oracle %d", len(d.ByInbox), len(byInbox))
	}
	for i := 0; i < len(d.ByInbox) && i < len(byInbox); i++ {
		g, w := d.ByInbox[i], byInbox[i]
		var gotP50 *float64
		if !math.IsNaN(g.FirstReplyP50) {
			gotP50 = oracleF(g.FirstReplyP50)
		}
		if g.InboxID != w.id || g.ChannelType != channelOf(w.id) || g.Conversations != w.conversations || g.Leads != w.leads ||
			g.Visits != w.visits || g.Conversions != w.conversions || g.UnansweredLeads != w.unansweredLeads || !oracleSame(gotP50, oraclePercentile(w.fr, 0.5)) {
			t.Errorf("per-inbox row %d: dashboard %+v, oracle inbox %d %s %d/%d/%d/%d unanswered leads %d p50 %s", i, g, w.id, channelOf(w.id),
				w.conversations, w.leads, w.visits, w.conversions, w.unansweredLeads, oracleShow(oraclePercentile(w.fr, 0.5)))
		}
	}

	// Per-label table: a conversation counts under each of its labels.
	type labelWant struct{ conversations, leads, conversions int64 }
	labels := map[string]*labelWant{}
	for _, x := range cur {
		for _, l := range oracleLabels(x) {
			w := labels[l]
			if w == nil {
				w = &labelWant{}
				labels[l] = w
			}
			w.conversations++
			if x.Lead {
				w.leads++
			}
			if x.Converted {
				w.conversions++
			}
		}
	}
	if len(d.ByLabel) != len(labels) {
		t.Errorf("per-label table: dashboard %d rows, oracle %d", len(d.ByLabel), len(labels))
	}
	for i, g := range d.ByLabel {
		w := labels[g.Label]
		if w == nil {
			t.Errorf("per-label row %q: not in the oracle", g.Label)
			continue
		}
		if g.Conversations != w.conversations || g.Leads != w.leads || g.Conversions != w.conversions {
			t.Errorf("label %q: dashboard %d/%d/%d, oracle %d/%d/%d", g.Label, g.Conversations, g.Leads, g.Conversions, w.conversations, w.leads, w.conversions)
		}
		// Ordered by conversations, most first (ties by label, in the database's collation).
		if i > 0 && d.ByLabel[i-1].Conversations < g.Conversations {
			t.Errorf("per-label table out of order at %q", g.Label)
		}
	}
}
