package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// plainQueue recomputes the queue at sync time synced with plain SQL over the stored
// transcripts (not the ETL's queue columns): open conversations whose contact wrote after the
// latest human message, waiting since the first such message or a later request for a person,
// their wait in business seconds, whether it exceeds the SLA target, and the WhatsApp window.
const plainQueue = `
WITH m AS (
    SELECT tr.conversation_id, u.sender, u.at
    FROM analytics.transcripts tr, unnest(tr.message_senders, tr.message_created_at) AS u(sender, at)
    WHERE tr.tenant_id = $1
), last AS (
    SELECT m.conversation_id, max(m.at) FILTER (WHERE m.sender = 'human') AS human, max(m.at) FILTER (WHERE m.sender = 'contact') AS contact
    FROM m GROUP BY m.conversation_id
), q AS (
    SELECT c.conversation_id, c.inbox_id, c.channel_type, last.contact AS last_contact,
           greatest((SELECT min(m.at) FROM m WHERE m.conversation_id = c.conversation_id AND m.sender = 'contact'
                       AND (last.human IS NULL OR m.at > last.human)),
                    CASE WHEN last.human IS NULL OR c.handoff_requested_at > last.human THEN c.handoff_requested_at END) AS since,
           coalesce(ib.timezone, tn.timezone) AS tz, ib.week
    FROM analytics.conversations c
    JOIN last ON last.conversation_id = c.conversation_id
    JOIN app.tenants tn ON tn.id = c.tenant_id
    LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
    WHERE c.tenant_id = $1 AND c.status = 0 AND last.contact IS NOT NULL AND (last.human IS NULL OR last.contact > last.human)
)
SELECT q.conversation_id, q.inbox_id, q.since,
       analytics.business_seconds(q.since, $2, q.tz, q.week) AS wait,
       analytics.business_seconds(q.since, $2, q.tz, q.week) > ts.sla_seconds AS past_sla,
       CASE WHEN q.channel_type = 'Channel::Whatsapp' THEN q.last_contact + interval '24 hours' END AS window_end
FROM q JOIN app.tenant_settings ts ON ts.tenant_id = $1
ORDER BY q.since, q.conversation_id`

type plainRow struct {
	id, inbox int32
	since     time.Time
	wait      float64
	pastSLA   bool
	window    *time.Time
}

// TestQueueMatchesPlainSQL: the queue page (every page, every filter) and its counts equal a
// plain SQL recomputation of who awaits a person, since when, for how long in business time,
// past the SLA or not, and with how much of the WhatsApp window left.
func TestQueueMatchesPlainSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcURL := oracleSource(t, chatwoot.Options{Accounts: 2, InboxesPerAccount: 3, Conversations: 1200, Days: 30, Seed: 7, Now: oracleNow})
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	var tid int64
	if err := su.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ('fila', 'Fila') RETURNING id").Scan(&tid); err != nil {
		t.Fatal(err)
	}
	var inboxes []int32
	src := pgtest.Conn(t, srcURL)
	rows, err := src.Query(ctx, "SELECT id FROM inboxes WHERE account_id = 1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		_ = rows.Scan(&id)
		inboxes = append(inboxes, id)
	}
	rows.Close()
	for _, id := range inboxes {
		if _, err := su.Exec(ctx, "INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, $2)", tid, id); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := (&etl.Runner{DB: env.DB, SourceURL: srcURL}).RunTenant(ctx, tid, false); err != nil || res.Inserted == 0 {
		t.Fatalf("ETL: %+v %v", res, err)
	}
	svc := &dashboard.Service{DB: env.DB}
	p := pg.User(tid, 0, pg.AppClient, "", "")

	// Sync times within the generated history's last day: waits short and long, windows open,
	// closing and closed, in and out of opening hours.
	// closing: an hour before the window of the newest awaiting WhatsApp contact message closes.
	var closing time.Time
	if err := su.QueryRow(ctx, `SELECT max(window_closes_at) - interval '1 hour' FROM analytics.conversations
		WHERE tenant_id = $1 AND waiting_since IS NOT NULL AND window_closes_at IS NOT NULL`, tid).Scan(&closing); err != nil {
		t.Fatal(err)
	}
	for _, synced := range []time.Time{oracleNow.Add(-20 * time.Hour), oracleNow.Add(-90 * time.Minute), oracleNow.Add(30 * time.Minute), closing} {
		if _, err := su.Exec(ctx, "UPDATE etl.watermarks SET source_checked_at = $2 WHERE tenant_id = $1", tid, synced); err != nil {
			t.Fatal(err)
		}
		var want []plainRow
		rows, err := su.Query(ctx, plainQueue, tid, synced)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r plainRow
			if err := rows.Scan(&r.id, &r.inbox, &r.since, &r.wait, &r.pastSLA, &r.window); err != nil {
				t.Fatal(err)
			}
			want = append(want, r)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		state := func(r plainRow) map[string]bool {
			return map[string]bool{"": true, "past_sla": r.pastSLA,
				"window_closing": r.window != nil && r.window.After(synced) && !r.window.After(synced.Add(2*time.Hour)),
				"window_closed":  r.window != nil && !r.window.After(synced)}
		}
		seen := map[string]int{}
		for _, r := range want {
			for k, v := range state(r) {
				if v {
					seen[k]++
				}
			}
		}
		t.Logf("synced %s: %d awaiting, %d past SLA, %d window closing, %d closed", synced.Format(time.RFC3339), seen[""], seen["past_sla"], seen["window_closing"], seen["window_closed"])
		if seen[""] < 10 || seen["past_sla"] == 0 || (!synced.Equal(closing) && seen["past_sla"] == seen[""]) {
			t.Fatalf("%v: the fixture does not test every state", seen)
		}
		if synced.Equal(closing) && seen["window_closing"] == 0 {
			t.Fatal("no window closing an hour before the newest window closes")
		}
		for _, q := range []string{"", "state=past_sla", "state=window_closing", "state=window_closed", fmt.Sprintf("inbox=%d", inboxes[0]),
			fmt.Sprintf("inbox=%d&inbox=%d&state=past_sla", inboxes[0], inboxes[1])} {
			v, _ := url.ParseQuery(q + "&limit=7")
			f, err := dashboard.ParseQueue(v, inboxes)
			if err != nil {
				t.Fatal(err)
			}
			var exp []plainRow
			var counts dashboard.QueueCounts
			for _, r := range want {
				if len(f.Inboxes) > 0 && !containsID(f.Inboxes, r.inbox) {
					continue
				}
				st := state(r)
				counts.Awaiting++
				counts.PastSLA += b2i(st["past_sla"])
				counts.WindowClosing += b2i(st["window_closing"])
				counts.WindowClosed += b2i(st["window_closed"])
				if st[f.State] {
					exp = append(exp, r)
				}
			}
			// The dashboard's headline counts the same queue, at the sync check (not the last
			// successful run, which this loop leaves where it was).
			if f.State == "" {
				dv := url.Values{}
				for _, id := range f.Inboxes {
					dv.Add("inbox", fmt.Sprint(id))
				}
				df, err := dashboard.Parse(dv, oracleNow, 30, inboxes)
				if err != nil {
					t.Fatal(err)
				}
				d, err := svc.Load(ctx, p, tid, df)
				if err != nil {
					t.Fatal(err)
				}
				if d.Awaiting != counts.Awaiting || d.AwaitingPastSLA != counts.PastSLA {
					t.Errorf("%s: dashboard headline %d awaiting, %d past the SLA; queue %d, %d", q, d.Awaiting, d.AwaitingPastSLA, counts.Awaiting, counts.PastSLA)
				}
			}
			var got []plainRow
			for page := 0; ; page++ {
				qu, err := svc.Queue(ctx, p, tid, f)
				if err != nil {
					t.Fatal(err)
				}
				if qu.SyncedAt == nil || !qu.SyncedAt.Equal(synced) {
					t.Fatalf("%s: synced at %v, want %v", q, qu.SyncedAt, synced)
				}
				if qu.Counts != counts {
					t.Errorf("%s: counts %+v, want %+v", q, qu.Counts, counts)
				}
				for _, r := range qu.Rows {
					got = append(got, plainRow{id: r.ConversationID, inbox: r.InboxID, since: r.WaitingSince, wait: r.WaitBusinessSeconds,
						pastSLA: r.PastSla, window: r.WindowClosesAt})
					if left := qu.WindowLeft(r); (left == nil) != (r.WindowClosesAt == nil) {
						t.Errorf("%s: conversation %d window left %v for window end %v", q, r.ConversationID, left, r.WindowClosesAt)
					}
				}
				if qu.Next == nil {
					break
				}
				if page > 1000 {
					t.Fatal("pagination does not end")
				}
				f.After = qu.Next
			}
			if len(got) != len(exp) {
				t.Errorf("%s: %d rows, want %d", q, len(got), len(exp))
				continue
			}
			for i := range exp {
				g, w := got[i], exp[i]
				if g.id != w.id || !g.since.Equal(w.since) || math.Abs(g.wait-w.wait) > 1e-6 || g.pastSLA != w.pastSLA ||
					(g.window == nil) != (w.window == nil) || (g.window != nil && !g.window.Equal(*w.window)) {
					t.Errorf("%s: row %d = %+v, want %+v", q, i, g, w)
					break
				}
			}
		}
	}

	// Bad input is refused with a message, never passed on.
	for _, q := range []string{"state=late", "inbox=999999", "limit=0", "limit=201", "after=x", "state=past_sla&state=window_closed"} {
		v, _ := url.ParseQuery(q)
		if _, err := dashboard.ParseQueue(v, inboxes); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
