package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestChatwootWebhook: deliveries for a mapped inbox notify that tenant's sync, whatever shape
// Chatwoot gives the inbox id; everything else changes nothing and is answered without a session
// or CSRF token; the secret is compared whole and never logged.
func TestChatwootWebhook(t *testing.T) {
	t.Parallel()
	const secret = "whsec_0123456789abcdefghijklmnopqrstuv"
	env := pgtest.New(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	var notified []int64
	cfg := testConfig()
	cfg.WebhookSecret = secret
	srv, err := New(Options{DB: env.DB, Config: cfg, Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &logs, mu: &mu}, nil)),
		Notify: func(id int64) { mu.Lock(); notified = append(notified, id); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	super := pgtest.Conn(t, env.SuperURL)
	var acme, beta int64
	for slug, id := range map[string]*int64{"acme": &acme, "beta": &beta} {
		if err := super.QueryRow(t.Context(), `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := super.Exec(t.Context(), `INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, 11), ($2, 22)`, acme, beta); err != nil {
		t.Fatal(err)
	}

	post := func(path, body string) int {
		t.Helper()
		res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	hook := "/hooks/chatwoot/" + secret
	for _, tc := range []struct {
		name, path, body string
		code             int
		tenant           int64 // notified, 0 for none
	}{
		{"message_created: inbox.id", hook, `{"event":"message_created","id":118,"inbox":{"id":11,"name":"A"},"conversation":{"id":10,"inbox_id":11}}`, 202, acme},
		{"message_updated: string ids", hook, `{"event":"message_updated","inbox":{"id":"22"}}`, 202, beta},
		{"conversation_status_changed: top-level inbox_id", hook, `{"event":"conversation_status_changed","id":10,"inbox_id":11,"status":"resolved"}`, 202, acme},
		{"conversation_created", hook, `{"event":"conversation_created","id":12,"inbox_id":22}`, 202, beta},
		{"conversation_updated: only conversation.inbox_id", hook, `{"event":"conversation_updated","conversation":{"inbox_id":11}}`, 202, acme},
		{"an event we do not use", hook, `{"event":"contact_created","id":5}`, 200, 0},
		{"an inbox no tenant maps", hook, `{"event":"message_created","inbox":{"id":99}}`, 200, 0},
		{"malformed JSON", hook, `{"event":`, 400, 0},
		{"no event", hook, `{"inbox_id":11}`, 400, 0},
		{"no inbox", hook, `{"event":"message_created"}`, 400, 0},
		{"a non-numeric id", hook, `{"event":"message_created","inbox":{"id":"x"}}`, 400, 0},
		// Larger than a form may be (64 KB): a conversation's payload carries its latest messages.
		{"a delivery of 200 KB", hook, `{"event":"message_created","inbox":{"id":11},"content":"` + strings.Repeat("a", 200<<10) + `"}`, 202, acme},
		{"a delivery over 1 MB", hook, `{"event":"message_created","inbox":{"id":11},"content":"` + strings.Repeat("a", 1<<20) + `"}`, 413, 0},
		{"a wrong secret", "/hooks/chatwoot/whsec_0123456789abcdefghijklmnopqrstuX", `{"event":"message_created","inbox":{"id":11}}`, 404, 0},
		{"a prefix of the secret", "/hooks/chatwoot/whsec_0123456789", `{"event":"message_created","inbox":{"id":11}}`, 404, 0},
	} {
		mu.Lock()
		before := len(notified)
		mu.Unlock()
		if code := post(tc.path, tc.body); code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.code)
		}
		mu.Lock()
		got := notified[before:]
		mu.Unlock()
		switch {
		case tc.tenant == 0 && len(got) > 0:
			t.Errorf("%s: notified %v, want nothing", tc.name, got)
		case tc.tenant != 0 && (len(got) != 1 || got[0] != tc.tenant):
			t.Errorf("%s: notified %v, want [%d]", tc.name, got, tc.tenant)
		}
	}
	// A newly mapped inbox is found at once (the map reloads on a miss, at most once a second).
	if _, err := super.Exec(t.Context(), `INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES ($1, 33)`, beta); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if code := post(hook, `{"event":"message_created","inbox":{"id":33}}`); code != 202 {
		t.Errorf("a newly mapped inbox: %d, want 202", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "whsec_0123456789") {
		t.Fatal("the webhook secret reached the logs")
	}
	if !strings.Contains(logs.String(), `"path":"/hooks/chatwoot/[secret]"`) || !strings.Contains(logs.String(), "inbox mapped to no tenant") {
		t.Fatalf("deliveries are not logged:\n%s", logs.String())
	}
	// The handler's own lines carry the request id of the request line they explain, and a wrong
	// secret (a Chatwoot webhook registered with an old one) has a line of its own.
	for _, msg := range []string{"webhook: inbox mapped to no tenant", "webhook: malformed body", "webhook: no inbox id", "webhook: wrong secret"} {
		found := false
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"msg":"`+msg) {
				found = true
				if !strings.Contains(line, `"request_id":"`) || strings.Contains(line, `"request_id":""`) {
					t.Errorf("%q logged without the request id: %s", msg, line)
				}
			}
		}
		if !found {
			t.Errorf("no %q line in the log:\n%s", msg, logs.String())
		}
	}
}

// TestChatwootWebhookOff: without WEBHOOK_SECRET the route does not exist.
func TestChatwootWebhookOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Post(h.ts.URL+"/hooks/chatwoot/anything-at-all-0123456789abcdef", "application/json", strings.NewReader(`{"event":"message_created","inbox_id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// The catch-all sends an anonymous visitor to sign in (or refuses the cross-origin POST).
	if res.StatusCode < 300 {
		t.Fatalf("webhook answered %d with no secret configured", res.StatusCode)
	}
}

type syncWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
