package chatwoot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
)

// testNow is a fixed end of history: the tests' data never depends on the clock.
var testNow = time.Date(2025, time.June, 2, 15, 30, 0, 0, time.UTC)

// newDB creates a fresh, empty database for one test and drops it at cleanup. It needs
// TEST_DATABASE_URL, a superuser URL (CREATE DATABASE); the tests fail without it
// rather than skip, so a missing database is never mistaken for a pass.
func newDB(t testing.TB) *pgx.Conn {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Fatal("TEST_DATABASE_URL is not set: point it at a PostgreSQL superuser, " +
			`e.g. source .data/dev/env && TEST_DATABASE_URL="$PGSUPER_URL" go test ./internal/chatwoot/`)
	}
	ctx := context.Background()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "cw_test_" + hex.EncodeToString(b) // hex: safe to splice as an identifier

	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn.Close(ctx)
		admin, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return conn
}

// generated returns a new database with the schema and Generate's data for o.
func generated(t *testing.T, o Options) (*pgx.Conn, Summary) {
	t.Helper()
	ctx := context.Background()
	conn := newDB(t)
	if err := CreateSchema(ctx, conn); err != nil {
		t.Fatal(err)
	}
	sum, err := Generate(ctx, conn, o)
	if err != nil {
		t.Fatal(err)
	}
	return conn, sum
}

func checksum(t *testing.T, conn *pgx.Conn) cwsqlc.DemoChecksumRow {
	t.Helper()
	sum, err := cwsqlc.New(conn).DemoChecksum(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := Options{Accounts: 2, InboxesPerAccount: 5, Conversations: 400, Days: 20, Seed: 42, Now: testNow}

	a, sumA := generated(t, o)
	b, sumB := generated(t, o)
	if sumA != sumB {
		t.Errorf("summaries differ:\n%+v\n%+v", sumA, sumB)
	}
	if ca, cb := checksum(t, a), checksum(t, b); ca != cb {
		t.Errorf("same options, different data:\n%+v\n%+v", ca, cb)
	}

	// CreateDemo builds the indexes after the load: same rows as CreateSchema+Generate.
	c := newDB(t)
	if _, err := CreateDemo(ctx, c, o); err != nil {
		t.Fatal(err)
	}
	if ca, cc := checksum(t, a), checksum(t, c); ca != cc {
		t.Errorf("CreateDemo differs from CreateSchema+Generate:\n%+v\n%+v", ca, cc)
	}

	// The checksum does see the seed (a test that cannot fail proves nothing).
	o.Seed = 43
	d, _ := generated(t, o)
	if ca, cd := checksum(t, a), checksum(t, d); ca.Messages == cd.Messages || ca.Conversations == cd.Conversations {
		t.Errorf("seeds 42 and 43 gave the same conversations or messages")
	}
}

func TestGenerateLooksLikeChatwoot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := Options{Accounts: 3, InboxesPerAccount: 5, Conversations: 2500, Days: 45, Seed: 7, Now: testNow}
	conn, sum := generated(t, o)
	q := cwsqlc.New(conn)

	if sum.Accounts != 3 || sum.Inboxes != 15 || sum.Conversations != 2500 {
		t.Errorf("summary %+v: want 3 accounts, 15 inboxes, 2500 conversations", sum)
	}
	if sum.Messages < 5*sum.Conversations || sum.Contacts == 0 || sum.ReportingEvents == 0 ||
		sum.CSATResponses == 0 || sum.Taggings == 0 {
		t.Errorf("summary %+v: too few rows", sum)
	}
	if again, err := Summarize(ctx, conn); err != nil || again != sum {
		t.Errorf("Summarize = %+v, %v; want %+v", again, err, sum)
	}

	inv, err := q.DemoInvariants(ctx, pgtype.Timestamp{Time: testNow, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("invariants: %+v", inv)
	bad := map[string]int64{
		"message inbox/account differs from its conversation's":         inv.BadMessageOwner,
		"conversation updated_at/last_activity_at != its messages'":     inv.BadConversationTimes,
		"first_reply_created_at != first human reply":                   inv.BadFirstReply,
		"more than one conversation_bot_handoff per conversation":       inv.BadHandoffDupes,
		"reporting event inconsistent with its conversation or times":   inv.BadEvents,
		"value_in_business_hours NULL, > value, or set without hours":   inv.BadBusinessHours,
		"first_response event missing or not at first_reply_created_at": inv.BadFirstResponseEvents,
		"CSAT response rating/message inconsistent":                     inv.BadCsat,
		"tagging with a label outside the account's catalogue":          inv.BadTaggings,
		"cached_label_list differs from taggings":                       inv.BadCachedLabels,
		"snoozed_until set iff snoozed violated":                        inv.BadSnooze,
		"rows after Now":                                                inv.BadFuture,
	}
	for what, n := range bad {
		if n != 0 {
			t.Errorf("%d × %s", n, what)
		}
	}
	present := map[string]int64{
		"open conversations":                          inv.StatusOpen,
		"resolved conversations":                      inv.StatusResolved,
		"pending conversations":                       inv.StatusPending,
		"snoozed conversations":                       inv.StatusSnoozed,
		"NULL cached_label_list despite labels":       inv.NullLabelCacheWithLabels,
		"conversations with several labels":           inv.MultiLabelConversations,
		"deleted messages":                            inv.DeletedMessages,
		"private notes":                               inv.PrivateNotes,
		"activity messages":                           inv.ActivityMessages,
		"CSAT survey messages":                        inv.CsatSurveyMessages,
		"Captain::Assistant messages":                 inv.CaptainMessages,
		"reopened conversations, open again":          inv.ReopenedOpen,
		"conversations resolved twice":                inv.ResolvedTwice,
		"conversations with two CSAT answers":         inv.CsatTwice,
		"conversations without a contact message":     inv.NoContactMessage,
		"bot-only conversations":                      inv.BotOnly,
		"notes-only conversations":                    inv.NotesOnly,
		"conversation_bot_resolved events":            inv.BotResolvedEvents,
		"events with business-hours time":             inv.BusinessHoursEvents,
		"contacts with a +55 mobile number":           inv.BrazilianMobiles,
		"bot greetings (Olá! Sou a assistente ...)":   inv.BotGreetings,
		"contact messages asking for prices":          inv.PriceQuestions,
		"human replies after a bot handoff (handoff)": inv.HandoffReplies,
	}
	for what, n := range present {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	if inv.PerWeekday < 1.5*inv.PerSunday {
		t.Errorf("weekday seasonality too flat: %.1f conversations per weekday, %.1f per Sunday", inv.PerWeekday, inv.PerSunday)
	}
	if inv.BusinessHoursShare < 0.8 {
		t.Errorf("only %.0f%% of conversations start between 7 and 22 h", 100*inv.BusinessHoursShare)
	}

	// The generator refuses to run twice: its ids would collide.
	if _, err := Generate(ctx, conn, o); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second Generate: %v, want ErrNotEmpty", err)
	}
}

// TestGenerateLongHistories is the regression test for long histories: with hourly
// keys (hour × 2^20 + n), two slots exactly 4096 hours (~171 days) apart folded to the
// same 32-bit hashint8extended input, so their conversations shared every draw, uuid
// included, and CreateDemo failed building index_conversations_on_uuid. Each case is
// dense enough (several conversations per busy hour) for that to happen; CreateDemo
// builds every unique index of schema.sql after the load, and DemoUniqueness also
// checks what no index enforces.
func TestGenerateLongHistories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ days, conversations int }{
		{180, 3000},
		{400, 6000},
		{maxDays, 12000},
	} {
		t.Run(strconv.Itoa(tc.days)+"days", func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			o := Options{Accounts: 3, InboxesPerAccount: 3, Conversations: tc.conversations, Days: tc.days, Seed: 11, Now: testNow}
			conn := newDB(t)
			sum, err := CreateDemo(ctx, conn, o)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Conversations != int64(tc.conversations) {
				t.Errorf("%d conversations, want %d", sum.Conversations, tc.conversations)
			}
			u, err := cwsqlc.New(conn).DemoUniqueness(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if u != (cwsqlc.DemoUniquenessRow{}) {
				t.Errorf("uniqueness broken: %+v", u)
			}
		})
	}
}

// TestKeysFitHash checks the limit that keeps the generator's keys unique:
// hashint8extended hashes 32 bits of its key, and the largest key is
// conversation rank × 128 + step (step < 128).
func TestKeysFitHash(t *testing.T) {
	t.Parallel()
	if int64(maxConversations)*128+127 >= 1<<32 {
		t.Errorf("maxConversations %d: keys up to %d do not fit in 32 bits", maxConversations, int64(maxConversations)*128+127)
	}
}

func TestSourceQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, sum := generated(t, Options{Accounts: 2, InboxesPerAccount: 4, Conversations: 300, Days: 10, Now: testNow})
	q := cwsqlc.New(conn)

	inboxes, err := q.InboxList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(inboxes)) != sum.Inboxes {
		t.Fatalf("InboxList: %d inboxes, want %d", len(inboxes), sum.Inboxes)
	}
	var ids []int32
	types := map[string]bool{}
	for _, in := range inboxes {
		ids = append(ids, in.ID)
		if in.AccountName == "" || in.Name == "" || in.ChannelType == nil {
			t.Errorf("InboxList row %+v lacks a name or channel type", in)
			continue
		}
		types[*in.ChannelType] = true
	}
	for _, want := range []string{"Channel::Whatsapp", "Channel::Instagram", "Channel::WebWidget", "Channel::Api"} {
		if !types[want] {
			t.Errorf("no %s inbox among %v", want, types)
		}
	}
}

func TestOptionsNormalize(t *testing.T) {
	t.Parallel()
	o, err := Options{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if o.Accounts != 3 || o.InboxesPerAccount != 2 || o.Conversations != 3000 || o.Days != 90 || o.Seed != 1 {
		t.Errorf("defaults: %+v", o)
	}
	if o.Now.IsZero() || o.Now.Location() != time.UTC || o.Now.Nanosecond()%1000 != 0 {
		t.Errorf("default Now %v: want the current time in UTC, in microseconds", o.Now)
	}
	for _, bad := range []Options{
		{Accounts: -1}, {Accounts: maxAccounts + 1},
		{InboxesPerAccount: -1}, {Conversations: -5}, {Days: maxDays + 1},
	} {
		if _, err := bad.normalize(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// BenchmarkGenerate runs the two ways of building a demo database side by side on the
// same options: CreateDemo (indexes built after the load) and CreateSchema followed by
// Generate (indexes maintained row by row). CHATWOOT_BENCH_CONVERSATIONS sets the size
// (default 20000), e.g. 100000 with -benchtime 1x for the README figure.
func BenchmarkGenerate(b *testing.B) {
	n := 20000
	if v := os.Getenv("CHATWOOT_BENCH_CONVERSATIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("CHATWOOT_BENCH_CONVERSATIONS=%q: %v", v, err)
		}
	}
	o := Options{Conversations: n, Now: testNow}
	ctx := context.Background()
	run := func(b *testing.B, build func(*pgx.Conn) (Summary, error)) {
		var sum Summary
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			conn := newDB(b)
			b.StartTimer()
			var err error
			if sum, err = build(conn); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(sum.Conversations), "conversations/op")
		b.ReportMetric(float64(sum.Messages), "messages/op")
	}
	b.Run("CreateDemo", func(b *testing.B) {
		run(b, func(conn *pgx.Conn) (Summary, error) { return CreateDemo(ctx, conn, o) })
	})
	b.Run("CreateSchema+Generate", func(b *testing.B) {
		run(b, func(conn *pgx.Conn) (Summary, error) {
			if err := CreateSchema(ctx, conn); err != nil {
				return Summary{}, err
			}
			return Generate(ctx, conn, o)
		})
	})
}
