package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

// queueHarness is dashHarness with part of tenant A's open conversations awaiting a person at
// the tenant's sync time (some past the SLA, some with a WhatsApp window closing or closed).
func queueHarness(t *testing.T) (h *harness, a, b int64, synced time.Time) {
	h, a, b = dashHarness(t)
	synced = time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	// Computed in a SELECT first: Citus refuses an UPDATE of a distributed table that calls a
	// STABLE function (timestamptz + interval) on its columns; on one node it is the same update.
	h.exec(`WITH v AS MATERIALIZED (
		SELECT tenant_id, conversation_id, created_at,
		       created_at + CASE WHEN conversation_id % 3 = 0 THEN interval '100 days' ELSE interval '5 minutes' END AS due_at,
		       CASE WHEN channel_type = 'Channel::Whatsapp' THEN $2::timestamptz - interval '3 hours' + (conversation_id % 4) * interval '2 hours' END AS closes_at
		FROM analytics.conversations
		WHERE tenant_id IN ($1, $3) AND status = 0 AND conversation_id % 2 = 0)
		UPDATE analytics.conversations c SET waiting_since = v.created_at, waiting_due_at = v.due_at,
			last_contact_at = v.created_at, window_closes_at = v.closes_at
		FROM v WHERE c.tenant_id = v.tenant_id AND c.conversation_id = v.conversation_id`, a, synced, b)
	h.exec(`INSERT INTO etl.watermarks (tenant_id, source_checked_at, last_success_at) VALUES ($1, $2, $2), ($3, $2, $2)`, a, synced, b)
	return h, a, b, synced
}

// rawKey is a catalogue key shown untranslated.
var rawKey = regexp.MustCompile(`[^a-z/_.-](kpi|queue|filter|flag|metric|settings|sla|dashboard)\.[a-z_.]+[a-z]`)

type queueJSON struct {
	Tenant   string           `json:"tenant"`
	SyncedAt *time.Time       `json:"synced_at"`
	Counts   map[string]int64 `json:"counts"`
	Items    []struct {
		ConversationID int32   `json:"conversation_id"`
		WaitingSince   string  `json:"waiting_since"`
		PastSLA        bool    `json:"past_sla"`
		WindowState    *string `json:"window_state"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// TestQueuePageAndAPI: the queue page and /api/v1/queue list the same conversations, oldest wait
// first, page after page, with the counts a plain SQL count gives; the dashboard's headline links
// to it; staff see it (audited) under the tenant's path; bad input is a clear 400.
func TestQueuePageAndAPI(t *testing.T) {
	t.Parallel()
	h, a, _, synced := queueHarness(t)
	su := pgtest.Conn(t, h.env.SuperURL)
	var awaiting, pastSLA int64
	if err := su.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE waiting_due_at < $2)
		FROM analytics.conversations WHERE tenant_id = $1 AND waiting_since IS NOT NULL`, a, synced).Scan(&awaiting, &pastSLA); err != nil {
		t.Fatal(err)
	}
	if awaiting < 20 || pastSLA == 0 || pastSLA == awaiting {
		t.Fatalf("fixture: %d awaiting, %d past the SLA", awaiting, pastSLA)
	}
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")

	// Every page of the API, 7 at a time: the SQL order, each conversation once.
	var got []int32
	next := ""
	for i := 0; ; i++ {
		res := c.get("/api/v1/queue?limit=7" + next)
		expectStatus(t, res, http.StatusOK, `"items"`)
		var q queueJSON
		if err := json.Unmarshal([]byte(res.body), &q); err != nil {
			t.Fatal(err)
		}
		if q.Counts["awaiting"] != awaiting || q.Counts["past_sla"] != pastSLA || q.SyncedAt == nil || !q.SyncedAt.Equal(synced) {
			t.Fatalf("counts %v synced %v, want %d awaiting, %d past the SLA at %v", q.Counts, q.SyncedAt, awaiting, pastSLA, synced)
		}
		for _, it := range q.Items {
			got = append(got, it.ConversationID)
		}
		if q.NextCursor == nil {
			break
		}
		next = "&after=" + *q.NextCursor
		if i > 100 {
			t.Fatal("pagination does not end")
		}
	}
	rows, err := su.Query(context.Background(), `SELECT conversation_id FROM analytics.conversations
		WHERE tenant_id = $1 AND waiting_since IS NOT NULL ORDER BY waiting_since, conversation_id`, a)
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for rows.Next() {
		var id int32
		_ = rows.Scan(&id)
		want = append(want, id)
	}
	rows.Close()
	if len(got) != len(want) {
		t.Fatalf("API listed %d conversations, SQL %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d: API %d, SQL %d", i, got[i], want[i])
		}
	}

	// The page: the first 50 rows, the state chips with their counts, a next-page link.
	page := c.get("/queue")
	expectStatus(t, page, http.StatusOK, "Aguardando atendimento")
	for _, want := range []string{"Passou do SLA <strong>" + strconv.FormatInt(pastSLA, 10) + "</strong>", "janela encerrada", "fecha em",
		"SLA: 5 min em horário de atendimento", "Espera (em horário de atendimento)", "Todas <strong>",
		"/conversations/" + strconv.Itoa(int(want[0])), "pager.next"} {
		if want == "pager.next" {
			want = "Próxima"
		}
		if !strings.Contains(page.body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}
	if n := strings.Count(page.body, `<tr class="`); n != 50 {
		t.Errorf("queue page shows %d rows, want 50", n)
	}
	past := c.get("/queue?state=past_sla&limit=200")
	expectStatus(t, past, http.StatusOK, "")
	if n := strings.Count(past.body, `<tr class="past-sla">`); int64(n) != pastSLA {
		t.Errorf("past-SLA filter shows %d rows, want %d", n, pastSLA)
	}
	dash := c.get("/dashboard?hours=business&" + period)
	expectStatus(t, dash, http.StatusOK, `class="kpi queue-headline" href="/queue"`)
	// Every word of the new pages comes from the catalogue: no key is shown as is.
	for _, p := range []response{page, past, dash, c.get("/conversations?flag=sla_missed&hours=business&" + period)} {
		if k := rawKey.FindString(p.body); k != "" {
			t.Errorf("a page shows the catalogue key %q", k)
		}
	}

	// Bad input: a clear 400 in Portuguese, JSON on the API.
	expectStatus(t, c.get("/queue?state=atrasado"), http.StatusBadRequest, "Situação da fila desconhecida")
	expectStatus(t, c.get("/api/v1/queue?inbox=999999"), http.StatusBadRequest, `"error"`)
	expectStatus(t, c.get("/api/v1/queue?after=nope"), http.StatusBadRequest, "Posição de página inválida")
	// A keyed position whose key is not a number (found by fuzzing: it used to panic).
	for _, path := range []string{"/api/v1/queue?after=__", "/api/v1/conversations?after=x_1_2", "/conversations?after=__"} {
		expectStatus(t, c.get(path), http.StatusBadRequest, "Posição de página inválida")
	}

	// A tenant user cannot reach another tenant's queue, nor the staff path.
	expectStatus(t, c.get("/admin/tenants/"+strconv.FormatInt(a, 10)+"/queue"), http.StatusNotFound, "")
	other := h.browser()
	other.mustLogin("cliente@b.test", pw, "/dashboard")
	res := other.get("/api/v1/queue?limit=200")
	expectStatus(t, res, http.StatusOK, "")
	var qb queueJSON
	_ = json.Unmarshal([]byte(res.body), &qb)
	for _, it := range qb.Items {
		for _, id := range want {
			if it.ConversationID == id {
				t.Fatalf("tenant B's queue lists tenant A's conversation %d", id)
			}
		}
	}

	// Staff: the tenant's queue, read-only, each view audited.
	staff := h.browser()
	staff.mustLogin("suporte@geniai.test", pw, "/admin")
	before := h.auditCount("tenant.view_as", 0)
	expectStatus(t, staff.get("/admin/tenants/"+strconv.FormatInt(a, 10)+"/queue"), http.StatusOK, "Aguardando atendimento")
	expectStatus(t, staff.get("/api/v1/tenants/"+strconv.FormatInt(a, 10)+"/queue"), http.StatusOK, `"awaiting": `+strconv.FormatInt(awaiting, 10))
	if after := h.auditCount("tenant.view_as", 0); after != before+2 {
		t.Errorf("staff views audited %d times, want 2", after-before)
	}
}
