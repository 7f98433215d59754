package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestStaffPagesAcrossClients: every page staff read across clients answers, for four clients of
// different sizes, timezones and sync health, with each client's own figures, checked against
// plain SQL that reads one client at a time: the overview (counts and health flags), the
// comparison (page, API, CSV, .xlsx), user search, the audit log (page, filters, CSV and .xlsx),
// each client's page with its sync history and chart, its alert delivery log, its e-mail log, the
// invitations, and a client's dashboard seen by staff. `make test/citus` runs it on the cluster,
// where these reads join coordinator tables with tables distributed over the workers.
func TestStaffPagesAcrossClients(t *testing.T) {
	t.Parallel()
	h, a, b, _ := adminHarness(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC) // 29/11 in the Americas
	h.clock.mu.Lock()
	h.clock.t = now
	h.clock.mu.Unlock()
	c := pgtest.SeedClient(t, h.env, "academia-manaus", "America/Manaus", 5, 1001, 300)
	d := pgtest.SeedClient(t, h.env, "academia-vazia", "America/Sao_Paulo", 7, 0, 0)
	tenants := []int64{a, b, c, d}
	h.user(c, "admin@manaus.test", "admin", pw)
	h.user(c, "leitura@manaus.test", "client", pw)
	h.exec(`UPDATE app.users SET full_name = 'Carla Manaus' WHERE email = 'admin@manaus.test'`)

	// Sync health: A synced a minute ago, B's latest run failed, Manaus's last success is two
	// days old, the empty client never synced.
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, extracted, inserted, messages)
	        VALUES ($1, $3::timestamptz - interval '61 s', $3::timestamptz - interval '60 s', 'succeeded', 12, 7, 40),
	               ($2, $3::timestamptz - interval '3 h', $3::timestamptz - interval '3 h' + interval '2 s', 'succeeded', 5, 5, 9)`, a, b, now)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, error)
	        VALUES ($1, $2::timestamptz - interval '20 min', $2::timestamptz - interval '20 min' + interval '3 s', 'failed', 'Chatwoot fora do ar')`, b, now)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, extracted, inserted)
	        VALUES ($1, $2::timestamptz - interval '2 days', $2::timestamptz - interval '2 days' + interval '4 s', 'succeeded', 300, 300)`, c, now)
	h.exec(`INSERT INTO etl.watermarks (tenant_id, last_success_at, source_checked_at)
	        VALUES ($1, $4::timestamptz - interval '60 s', $4::timestamptz - interval '60 s'),
	               ($2, $4::timestamptz - interval '3 h', $4::timestamptz - interval '3 h'),
	               ($3, $4::timestamptz - interval '2 days', $4::timestamptz - interval '2 days')`, a, b, c, now)
	// Alerts and their deliveries for A and Manaus.
	for i, tid := range []int64{a, c} {
		conv := []int{1, 1001}[i]
		contact := []string{"Maria Alerta", "Joana Manaus"}[i]
		h.exec(`INSERT INTO analytics.alerts (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id, display_id, contact_name, wait_business_seconds)
		        VALUES ($1, $2, 'sla', $4, $4, 1, 1, $2, $3, 400)`, tid, conv, contact, now)
		h.exec(`INSERT INTO app.alert_deliveries (tenant_id, event_id, conversation_id, kind, channel, target, payload, status, attempts, last_http_status, last_error)
		        SELECT tenant_id, event_id, conversation_id, 'sla', 'webhook', 'https://93.184.216.34/geniai', '{}', 'queued', 2, 503, 'HTTP 503'
		        FROM analytics.alerts WHERE tenant_id = $1`, tid)
	}

	st := h.browser()
	st.mustLogin("staff@geniai.test", pw, "/admin")
	// Audit events by staff in two clients (suspend the empty one, rename Manaus's reader).
	if res := st.post("/admin/tenants/"+itoa(d)+"/status", url.Values{"status": {"suspended"}, "confirm": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %.300s", res.StatusCode, res.body)
	}
	var reader int64
	if err := h.super.QueryRow(ctx, `SELECT id FROM app.users WHERE email = 'leitura@manaus.test'`).Scan(&reader); err != nil {
		t.Fatal(err)
	}
	if res := st.post("/admin/users/"+itoa(reader), url.Values{"full_name": {"Lia Leitura"}, "role": {"client"}, "active": {"1"}}); res.StatusCode >= 400 {
		t.Fatalf("rename: %d %.300s", res.StatusCode, res.body)
	}

	// What each client holds, read one client at a time.
	type want struct {
		slug, name        string
		conv30, leads30   int64
		users, auditCount int
	}
	wants := map[int64]*want{}
	for _, id := range tenants {
		w := &want{}
		if err := h.super.QueryRow(ctx, `SELECT slug, name FROM app.tenants WHERE id = $1`, id).Scan(&w.slug, &w.name); err != nil {
			t.Fatal(err)
		}
		err := h.super.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE c.is_lead) FROM analytics.conversations c
			WHERE c.tenant_id = $1 AND c.created_day > ($2::timestamptz AT TIME ZONE $3::text)::date - 30
			  AND c.created_day <= ($2::timestamptz AT TIME ZONE $3::text)::date`, id, now, zoneOf(t, h, id)).Scan(&w.conv30, &w.leads30)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.super.QueryRow(ctx, `SELECT count(*) FROM app.users WHERE tenant_id = $1`, id).Scan(&w.users); err != nil {
			t.Fatal(err)
		}
		wants[id] = w
	}
	auditCounts := func() {
		t.Helper()
		for _, id := range tenants {
			if err := h.super.QueryRow(ctx, `SELECT count(*) FROM audit.events WHERE tenant_id = $1`, id).Scan(&wants[id].auditCount); err != nil {
				t.Fatal(err)
			}
		}
	}
	auditCounts()
	if wants[a].conv30 == 0 || wants[c].conv30 == 0 || wants[c].auditCount == 0 || wants[d].auditCount == 0 {
		t.Fatalf("fixture too thin: %+v %+v %+v", *wants[a], *wants[c], *wants[d])
	}

	for _, login := range []string{"staff@geniai.test", "suporte@geniai.test"} {
		br := h.browser()
		br.mustLogin(login, pw, "/admin")

		// The overview: every client, its 30-day counts and its health flag with the reason.
		ov := br.get("/admin")
		expectStatus(t, ov, http.StatusOK, wants[c].name)
		for _, id := range tenants {
			if !strings.Contains(ov.body, ">"+wants[id].name+"<") && !strings.Contains(ov.body, wants[id].name) {
				t.Errorf("%s: the overview lacks %s", login, wants[id].name)
			}
		}
		for _, s := range []string{"Chatwoot fora do ar", "a última execução falhou em", "última sincronização bem-sucedida em", "atrasada", "falhando"} {
			if !strings.Contains(ov.body, s) {
				t.Errorf("%s: the overview lacks %q", login, s)
			}
		}
		row := rowOf(ov.body, wants[c].name)
		if !strings.Contains(row, ">"+num(wants[c].conv30)+" ") {
			t.Errorf("%s: the overview's row of %s lacks its %d conversations: %.600s", login, wants[c].slug, wants[c].conv30, row)
		}

		// The comparison: API, CSV and spreadsheet agree with each client's own counts.
		var api struct {
			Clients []struct {
				ID      int64 `json:"tenant_id"`
				Metrics map[string]struct {
					Current *float64 `json:"current"`
				} `json:"metrics"`
			} `json:"clients"`
		}
		res := br.get("/api/v1/admin/clients?period=30d")
		expectStatus(t, res, http.StatusOK, `"clients"`)
		if err := json.Unmarshal([]byte(res.body), &api); err != nil {
			t.Fatal(err)
		}
		if len(api.Clients) != len(tenants) {
			t.Errorf("%s: %d clients in the API, want %d", login, len(api.Clients), len(tenants))
		}
		for _, cl := range api.Clients {
			w := wants[cl.ID]
			if w == nil {
				t.Errorf("%s: unknown client %d in the API", login, cl.ID)
				continue
			}
			conv, leads := cl.Metrics["conversations"].Current, cl.Metrics["leads"].Current
			if conv == nil || leads == nil || int64(*conv) != w.conv30 || int64(*leads) != w.leads30 {
				t.Errorf("%s, %s: the comparison's conversations %v and leads %v, want %d and %d", login, w.slug, val(conv), val(leads), w.conv30, w.leads30)
			}
		}
		page := br.get("/admin/clients?period=30d")
		expectStatus(t, page, http.StatusOK, wants[c].name)
		recs := readCSV(t, br.get("/admin/clients.csv?period=30d&sort=name"))
		if len(recs) != len(tenants)+1 {
			t.Errorf("%s: the comparison's CSV has %d rows, want %d clients and a header", login, len(recs)-1, len(tenants))
		}
		for _, r := range recs[1:] {
			for _, w := range wants {
				if r[1] == w.slug && !contains(r, strconv.FormatInt(w.conv30, 10)) {
					t.Errorf("%s: the CSV row of %s lacks its %d conversations: %v", login, w.slug, w.conv30, r)
				}
			}
		}
		expectStatus(t, br.get("/admin/clients.xlsx?period=90d"), http.StatusOK, "")
		expectStatus(t, br.get("/admin/clients?from=2026-10-01&to=2026-11-15"), http.StatusOK, wants[c].name)

		// User search across clients.
		users := br.get("/admin/users?q=manaus")
		expectStatus(t, users, http.StatusOK, "admin@manaus.test")
		if !strings.Contains(users.body, "leitura@manaus.test") || strings.Contains(users.body, "admin@a.test") {
			t.Errorf("%s: the search for manaus lists the wrong users", login)
		}
		all := br.get("/admin/users")
		for _, e := range []string{"admin@a.test", "cliente@b.test", "admin@manaus.test", "staff@geniai.test"} {
			if !strings.Contains(all.body, e) {
				t.Errorf("%s: the user list lacks %s", login, e)
			}
		}

		// The audit log: the page, a client's filter and the exports count each client's events.
		expectStatus(t, br.get("/admin/audit"), http.StatusOK, "Lia Leitura")
		expectStatus(t, br.get("/admin/audit?tenant="+itoa(c)+"&kind=user."), http.StatusOK, "Lia Leitura")
		if p := br.get("/admin/audit?tenant=" + itoa(a) + "&kind=user."); strings.Contains(p.body, "Lia Leitura") {
			t.Errorf("%s: A's audit filter shows Manaus's event", login)
		}
		auditCounts() // staff's visits to a client's dashboard are audited too
		perSlug := map[string]int{}
		for _, r := range readCSV(t, br.get("/admin/audit.csv"))[1:] {
			perSlug[r[3]]++
		}
		for _, id := range tenants {
			if w := wants[id]; perSlug[w.slug] != w.auditCount {
				t.Errorf("%s: the audit CSV has %d events of %s, the table %d", login, perSlug[w.slug], w.slug, w.auditCount)
			}
		}
		if got := len(readCSV(t, br.get("/admin/audit.csv?tenant="+itoa(c)))) - 1; got != wants[c].auditCount {
			t.Errorf("%s: the audit CSV filtered to Manaus has %d events, want %d", login, got, wants[c].auditCount)
		}
		expectStatus(t, br.get("/admin/audit.xlsx?tenant="+itoa(c)), http.StatusOK, "")

		// Each client's page (latest runs, sync chart), sync page, alerts, e-mail log, dashboard.
		for _, id := range tenants {
			p := "/admin/tenants/" + itoa(id)
			expectStatus(t, br.get(p), http.StatusOK, wants[id].name)
			expectStatus(t, br.get(p+"/sync"), http.StatusOK, "")
			expectStatus(t, br.get(p+"/mail"), http.StatusOK, "")
			expectStatus(t, br.get(p+"/dashboard?period=30d"), http.StatusOK, "")
			al := br.get(p + "/alerts")
			expectStatus(t, al, http.StatusOK, "")
			for tid, contact := range map[int64]string{a: "Maria Alerta", c: "Joana Manaus"} {
				if got := strings.Contains(al.body, contact); got != (tid == id) {
					t.Errorf("%s: the alert log of %s shows %s: %v", login, wants[id].slug, contact, got)
				}
			}
		}
		if p := br.get("/admin/tenants/" + itoa(b)); !strings.Contains(p.body, "Chatwoot fora do ar") || !strings.Contains(p.body, "Sincronização nas últimas 24 horas") {
			t.Errorf("%s: B's page lacks its failed run or its sync chart", login)
		}
		expectStatus(t, br.get("/admin/invitations"), http.StatusOK, "")
	}
}

func zoneOf(t *testing.T, h *harness, id int64) string {
	t.Helper()
	var z string
	if err := h.super.QueryRow(t.Context(), `SELECT timezone FROM app.tenants WHERE id = $1`, id).Scan(&z); err != nil {
		t.Fatal(err)
	}
	return z
}

// rowOf is the table row of a page that names s.
func rowOf(body, s string) string {
	i := strings.Index(body, s)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	if start < 0 || end < 0 {
		return ""
	}
	return body[start : i+end]
}

// num is n as the pages write it (pt-BR thousands).
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return s
}

func readCSV(t *testing.T, res response) [][]string {
	t.Helper()
	expectStatus(t, res, http.StatusOK, "")
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("CSV: %v: %.300s", err, res.body)
	}
	return recs
}

func val(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}
