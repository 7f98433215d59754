package chatwoot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
)

// Options shapes the demo data. Zero fields take the defaults noted on each.
type Options struct {
	Accounts          int   // gyms (Chatwoot accounts); default 3
	InboxesPerAccount int   // inboxes per gym; default 2 (5 gives every gym every channel type)
	Conversations     int   // conversations over all accounts; default 3000
	Days              int   // days of history ending at Now, in São Paulo time; default 90
	Seed              int64 // pseudo-random seed; default (and 0) means 1

	// Now is the end of the history: nothing happens after it, and conversations
	// still in progress at Now are open, pending or snoozed. It is stored with
	// microsecond precision, in UTC. Default: the current time, which makes the data
	// differ between runs; set it for reproducible data.
	Now time.Time
}

// Limits of Options, far above demo needs. The generator's random draws are
// hashint8extended(key, seed), which hashes only 32 bits of the key (hi XOR lo of the
// bigint), so every key must be below 2^32 to be unique: a conversation's key is its
// rank 1..Conversations, and its largest derived key, rank × 128 + step, stays below
// 2^32 for maxConversations (TestKeysFitHash checks it).
const (
	maxAccounts          = 10_000
	maxInboxesPerAccount = 20
	maxConversations     = 20_000_000
	maxDays              = 3650
)

// Validate reports whether the options are within the limits (after the defaults).
func (o Options) Validate() error {
	_, err := o.normalize()
	return err
}

// normalize applies the defaults and checks the limits.
func (o Options) normalize() (Options, error) {
	if o.Accounts == 0 {
		o.Accounts = 3
	}
	if o.InboxesPerAccount == 0 {
		o.InboxesPerAccount = 2
	}
	if o.Conversations == 0 {
		o.Conversations = 3000
	}
	if o.Days == 0 {
		o.Days = 90
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// PostgreSQL keeps microseconds; truncating here makes Now exactly what is stored.
	o.Now = o.Now.UTC().Truncate(time.Microsecond)

	switch {
	case o.Accounts < 0 || o.Accounts > maxAccounts:
		return o, fmt.Errorf("chatwoot: Accounts %d outside 1..%d", o.Accounts, maxAccounts)
	case o.InboxesPerAccount < 0 || o.InboxesPerAccount > maxInboxesPerAccount:
		return o, fmt.Errorf("chatwoot: InboxesPerAccount %d outside 1..%d", o.InboxesPerAccount, maxInboxesPerAccount)
	case o.Conversations < 0 || o.Conversations > maxConversations:
		return o, fmt.Errorf("chatwoot: Conversations %d outside 1..%d", o.Conversations, maxConversations)
	case o.Days < 0 || o.Days > maxDays:
		return o, fmt.Errorf("chatwoot: Days %d outside 1..%d", o.Days, maxDays)
	}
	return o, nil
}

// Summary counts the rows of a Chatwoot database's main tables.
type Summary struct {
	Accounts        int64
	Inboxes         int64
	Users           int64
	Contacts        int64
	Conversations   int64
	Messages        int64
	ReportingEvents int64
	CSATResponses   int64
	Taggings        int64
}

// ErrNotEmpty is returned by Generate when the database already has accounts: the
// generator assigns ids itself and only fills an empty schema.
var ErrNotEmpty = errors.New("chatwoot: the database already holds Chatwoot accounts")

// Generate fills an empty Chatwoot schema (see CreateSchema) with demo data: gyms,
// their WhatsApp/Instagram/site inboxes, agents, teams, labels, contacts,
// conversations with their messages, reporting events, CSAT answers and labels.
// The same Options (Now included) always produce byte-identical rows, ids included.
// It runs in one transaction and returns the row counts. For large volumes on a
// fresh database, CreateDemo is faster.
func Generate(ctx context.Context, conn *pgx.Conn, o Options) (Summary, error) {
	o, err := o.normalize()
	if err != nil {
		return Summary{}, err
	}
	var sum Summary
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		sum, err = generate(ctx, tx, o)
		return err
	})
	return sum, err
}

// generate runs the generator's queries in tx, in dependency order: the catalogue
// first, then everything that hangs off conversations (one statement), then the
// serial sequences.
func generate(ctx context.Context, tx pgx.Tx, o Options) (Summary, error) {
	q := cwsqlc.New(tx)
	if err := q.DemoSessionTune(ctx); err != nil {
		return Summary{}, fmt.Errorf("chatwoot: tune session: %w", err)
	}
	n, err := q.DemoAccountCount(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("chatwoot: count accounts: %w", err)
	}
	if n > 0 {
		return Summary{}, ErrNotEmpty
	}

	now := pgtype.Timestamp{Time: o.Now, Valid: true}
	steps := []struct {
		what string
		run  func() error
	}{
		{"accounts", func() error {
			_, err := q.DemoInsertAccounts(ctx, cwsqlc.DemoInsertAccountsParams{
				Now: now, Days: int32(o.Days), Accounts: int32(o.Accounts),
			})
			return err
		}},
		{"inboxes", func() error {
			_, err := q.DemoInsertInboxes(ctx, int32(o.InboxesPerAccount))
			return err
		}},
		{"working hours", func() error { _, err := q.DemoInsertWorkingHours(ctx); return err }},
		{"agents", func() error {
			_, err := q.DemoInsertAgents(ctx, cwsqlc.DemoInsertAgentsParams{
				Now: now, Days: int32(o.Days), Seed: o.Seed,
			})
			return err
		}},
		{"teams", func() error { _, err := q.DemoInsertTeams(ctx); return err }},
		{"labels", func() error { _, err := q.DemoInsertLabels(ctx); return err }},
		{"conversations", func() error {
			return q.DemoInsertConversations(ctx, cwsqlc.DemoInsertConversationsParams{
				Seed: o.Seed, Now: now, Days: int32(o.Days), Conversations: int32(o.Conversations),
			})
		}},
		{"sequences", func() error { return q.DemoSequencesSync(ctx) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return Summary{}, fmt.Errorf("chatwoot: generate %s: %w", s.what, err)
		}
	}
	return summarize(ctx, q)
}

// Summarize counts the rows of the main Chatwoot tables through db (a connection,
// pool or transaction), e.g. to report what Generate produced or to size a source.
func Summarize(ctx context.Context, db cwsqlc.DBTX) (Summary, error) {
	return summarize(ctx, cwsqlc.New(db))
}

func summarize(ctx context.Context, q *cwsqlc.Queries) (Summary, error) {
	c, err := q.SourceCounts(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("chatwoot: count rows: %w", err)
	}
	return Summary{
		Accounts:        c.Accounts,
		Inboxes:         c.Inboxes,
		Users:           c.Users,
		Contacts:        c.Contacts,
		Conversations:   c.Conversations,
		Messages:        c.Messages,
		ReportingEvents: c.ReportingEvents,
		CSATResponses:   c.CsatSurveyResponses,
		Taggings:        c.Taggings,
	}, nil
}

// analyze refreshes the planner statistics after a bulk load.
func analyze(ctx context.Context, conn *pgx.Conn) error {
	if err := cwsqlc.New(conn).DemoAnalyze(ctx); err != nil {
		return fmt.Errorf("chatwoot: analyze: %w", err)
	}
	return nil
}
