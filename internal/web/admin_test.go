package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/staff"
)

// adminHarness is dashHarness with a Chatwoot inbox list and a sync recorder plugged in.
func adminHarness(t *testing.T) (h *harness, a, b int64, synced func() []int64) {
	h, a, b = dashHarness(t)
	var mu sync.Mutex
	var calls []int64
	srv, err := New(Options{
		DB: h.env.DB, Config: testConfig(), Now: h.clock.Now, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		Inboxes: func(context.Context) ([]staff.SourceInbox, error) {
			return []staff.SourceInbox{
				{ID: 1, AccountID: 1, AccountName: "Academia A", Name: "WhatsApp Recepção", ChannelType: "Channel::Whatsapp"},
				{ID: 3, AccountID: 2, AccountName: "Academia B", Name: "WhatsApp B", ChannelType: "Channel::Whatsapp"},
				{ID: 9, AccountID: 3, AccountName: "Academia Nova", Name: "WhatsApp Nova", ChannelType: "Channel::Whatsapp"},
				{ID: 10, AccountID: 3, AccountName: "Academia Nova", Name: "Instagram Nova", ChannelType: "Channel::Instagram"},
			}, nil
		},
		Sync: func(_ context.Context, id int64, _ bool) error {
			mu.Lock()
			calls = append(calls, id)
			mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { h.ts.Close(); srv.Close() })
	return h, a, b, func() []int64 {
		// Syncs start in the background: wait for the one the request started (the bound is
		// generous for a loaded CI machine; it is only reached when no sync starts).
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			mu.Lock()
			n := len(calls)
			mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]int64(nil), calls...)
	}
}

// TestAdminRoleMatrix: every admin route for every role — allowed, or refused with no side effect.
func TestAdminRoleMatrix(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	h.user(a, "admin2@a.test", "admin", pw)
	ta := strconv.FormatInt(a, 10)
	var userID int64
	_ = h.super.QueryRow(context.Background(), `SELECT id FROM app.users WHERE email = 'admin2@a.test'`).Scan(&userID)
	uid := strconv.FormatInt(userID, 10)
	gets := []string{"/admin", "/admin/tenants/" + ta, "/admin/tenants/" + ta + "/dashboard?" + period, "/admin/tenants/" + ta + "/conversations?" + period,
		"/admin/tenants/" + ta + "/sync", "/admin/users", "/admin/audit", "/admin/audit.csv", "/api/v1/tenants/" + ta + "/dashboard/summary?" + period}
	writes := []struct {
		path string
		form url.Values
	}{
		{"/admin/tenants", url.Values{"name": {"X"}, "slug": {"x-matrix"}, "timezone": {"UTC"}, "inbox": {"9"}, "admin_email": {"m@x.test"}}},
		{"/admin/tenants/" + ta, url.Values{"name": {"Renamed"}, "status": {"active"}, "plan": {"pro"}, "timezone": {"UTC"}}},
		{"/admin/tenants/" + ta + "/status", url.Values{"status": {"suspended"}, "confirm": {"1"}}},
		{"/admin/tenants/" + ta + "/inboxes", url.Values{"inbox_id": {"10"}}},
		{"/admin/tenants/" + ta + "/inboxes/1/delete", url.Values{"confirm": {"1"}}},
		{"/admin/tenants/" + ta + "/branding", url.Values{"display_name": {"Z"}, "primary_color": {"#000000"}, "secondary_color": {"#1D4ED8"}, "default_period_days": {"7"}}},
		{"/admin/tenants/" + ta + "/funnel", url.Values{"lead_any_message": {"1"}}},
		{"/admin/tenants/" + ta + "/sync", nil},
		{"/admin/sync", nil},
		{"/admin/users", url.Values{"tenant": {"academia-a"}, "email": {"new@a.test"}, "role": {"client"}}},
		{"/admin/users/" + uid, url.Values{"full_name": {"N"}, "role": {"client"}, "confirm": {"1"}}},
		{"/admin/users/" + uid + "/unlock", nil},
		{"/admin/users/" + uid + "/reset-password", url.Values{"confirm": {"1"}}},
	}
	snapshot := func() string {
		var s string
		_ = h.super.QueryRow(context.Background(), `SELECT md5(
			(SELECT string_agg(t::text, '|' ORDER BY id) FROM app.tenants t) ||
			(SELECT string_agg(u::text, '|' ORDER BY id) FROM app.users u) ||
			(SELECT string_agg(i::text, '|' ORDER BY inbox_id) FROM app.tenant_inboxes i) ||
			(SELECT string_agg(s::text, '|' ORDER BY tenant_id) FROM app.tenant_settings s))`).Scan(&s)
		return s
	}
	for _, who := range []struct{ email, home string }{{"cliente@a.test", "/dashboard"}, {"admin@a.test", "/dashboard"}, {"suporte@geniai.test", "/admin"}} {
		c := h.browser()
		c.mustLogin(who.email, pw, who.home)
		staff := who.home == "/admin"
		for _, p := range gets {
			res := c.get(p)
			if staff && res.StatusCode != http.StatusOK || !staff && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s GET %s: %d", who.email, p, res.StatusCode)
			}
		}
		before := snapshot()
		for _, wr := range writes {
			if res := c.post(wr.path, wr.form); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s POST %s: %d, want 404", who.email, wr.path, res.StatusCode)
			}
		}
		if after := snapshot(); after != before {
			t.Errorf("%s: refused writes changed data", who.email)
		}
		if staff {
			page := c.get("/admin/tenants/" + ta)
			if strings.Contains(page.body, "Sincronizar agora") || strings.Contains(page.body, ">Salvar<") {
				t.Errorf("support sees write buttons")
			}
		}
	}
	// super_admin: every write works and leaves an audit event with old and new values.
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	for _, wr := range writes {
		res := c.post(wr.path, wr.form)
		if res.StatusCode >= 400 {
			t.Errorf("super_admin POST %s: %d %.300s", wr.path, res.StatusCode, res.body)
		}
	}
	for _, action := range []string{"tenants.insert", "tenants.update", "tenant_inboxes.insert", "tenant_inboxes.delete", "tenant_settings.update", "users.insert", "users.update", "etl.sync_requested"} {
		var n int
		var withValues bool
		_ = h.super.QueryRow(context.Background(), `SELECT count(*), bool_or(new_values IS NOT NULL OR old_values IS NOT NULL) FROM audit.events e JOIN app.users u ON u.id = e.actor_user_id WHERE u.email = 'staff@geniai.test' AND action = $1`, action).Scan(&n, &withValues)
		if n == 0 || !withValues && !strings.HasPrefix(action, "etl.") {
			t.Errorf("no audit event %s with values by super_admin (%d)", action, n)
		}
	}
}

func TestOnboardingBadInput(t *testing.T) {
	t.Parallel()
	h, _, _, synced := adminHarness(t)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	count := func() (n int) {
		_ = h.super.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM app.tenants) + (SELECT count(*) FROM app.users) + (SELECT count(*) FROM app.tenant_inboxes)`).Scan(&n)
		return n
	}
	before := count()
	good := url.Values{"name": {"Academia Nova"}, "slug": {"academia-nova"}, "timezone": {"America/Sao_Paulo"}, "inbox": {"9"}, "admin_email": {"dono@nova.test"}}
	for _, tc := range []struct {
		change func(url.Values)
		status int
		want   string
	}{
		{func(v url.Values) { v.Set("slug", "academia-a") }, http.StatusConflict, "Já existe um cliente com esse identificador"},
		{func(v url.Values) { v.Set("inbox", "3") }, http.StatusConflict, "já está vinculada"},
		{func(v url.Values) { v.Set("timezone", "Mars/Olympus") }, http.StatusUnprocessableEntity, "Fuso horário"},
		{func(v url.Values) { v.Set("name", "  ") }, http.StatusUnprocessableEntity, "Informe um nome"},
		{func(v url.Values) { v.Set("slug", "Academia Nova!") }, http.StatusUnprocessableEntity, "slug"},
		{func(v url.Values) { v.Del("inbox") }, http.StatusUnprocessableEntity, "ao menos uma caixa"},
		{func(v url.Values) { v.Set("inbox", "77") }, http.StatusUnprocessableEntity, "não existe no Chatwoot"},
		{func(v url.Values) { v.Set("admin_email", "cliente@a.test") }, http.StatusConflict, "Já existe um usuário com esse e-mail"},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = append([]string(nil), v...)
		}
		tc.change(form)
		res := c.post("/admin/tenants", form)
		if res.StatusCode != tc.status || !strings.Contains(res.body, tc.want) {
			t.Errorf("want %d %q, got %d: %.300s", tc.status, tc.want, res.StatusCode, res.body)
		}
	}
	if count() != before {
		t.Fatal("refused onboarding wrote something")
	}
	res := c.post("/admin/tenants", good)
	var id int64
	_ = h.super.QueryRow(context.Background(), `SELECT id FROM app.tenants WHERE slug = 'academia-nova'`).Scan(&id)
	welcome := "/admin/tenants/" + strconv.FormatInt(id, 10) + "/welcome"
	expectRedirect(t, res, welcome) // post/redirect/get: F5 never resubmits
	if n := len(synced()); count() != before+3 || n != 1 {
		t.Fatalf("onboarding: %d rows, %d syncs", count()-before, n)
	}
	res = c.get(welcome)
	expectStatus(t, res, http.StatusOK, "dono@nova.test")
	if !strings.Contains(res.body, `<code class="secret">`) || !strings.Contains(res.body, "Iniciando a primeira sincronização") {
		t.Errorf("welcome page: %.600s", res.body)
	}
	// F5: the password is gone (shown once), the page still follows the first sync.
	res = c.get(welcome)
	expectStatus(t, res, http.StatusOK, "já foi mostrada")
	if strings.Contains(res.body, `<code class="secret">`) {
		t.Error("the password is shown again on F5")
	}
	// The first sync's own result, not a later no-op run's.
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, full_load, extracted, inserted, messages)
	        VALUES ($1, now() - interval '1 minute', now() - interval '58 seconds', 'succeeded', true, 671, 671, 5120)`, id)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, unchanged, checks, last_check_at)
	        VALUES ($1, now() - interval '30 seconds', now() - interval '29 seconds', 'succeeded', true, 2, now())`, id)
	res = c.get(welcome)
	expectStatus(t, res, http.StatusOK, "671 conversas, 5.120 mensagens")
	if !strings.Contains(res.body, "/dashboard") {
		t.Error("no way into the dashboard after the first sync")
	}
	// Invalid colour on an existing tenant: a clear message, nothing written.
	res = c.post("/admin/tenants/"+strconv.FormatInt(id, 10)+"/branding", url.Values{"display_name": {"N"}, "primary_color": {"red"}, "secondary_color": {"#1D4ED8"}, "default_period_days": {"30"}})
	expectStatus(t, res, http.StatusUnprocessableEntity, "Cor principal inválida")
	_ = pgtest.Env{}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) { l.t.Log(string(b)); return len(b), nil }
