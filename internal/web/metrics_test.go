package web

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pg"
)

// TestMetricsNeedTheToken: /metrics is not served without METRICS_TOKEN, and with one it answers
// only to that bearer token, counting requests by route pattern (never by raw path).
func TestMetricsNeedTheToken(t *testing.T) {
	t.Parallel()
	const token = "a-metrics-token-of-at-least-32-characters"
	h := newHarness(t, func(c *config.Config) { c.MetricsToken = token })
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.test", pg.AppAdmin, "senha-muito-boa-123")
	b := h.browser()
	b.mustLogin("ana@acme.test", "senha-muito-boa-123", "/dashboard")
	expectStatus(t, b.get("/dashboard"), http.StatusOK, "")
	expectStatus(t, b.get("/conversations/999999"), http.StatusNotFound, "")
	expectStatus(t, b.get("/healthz"), http.StatusOK, "")

	scrape := func(base, auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, _ := scrape(h.ts.URL, ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token: %d, want 401", code)
	}
	if code, _ := scrape(h.ts.URL, "Bearer wrong-token-wrong-token-wrong-token"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d, want 401", code)
	}
	code, body := scrape(h.ts.URL, "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	for _, want := range []string{
		`geniai_http_requests_total{code="200",method="GET",route="GET /dashboard"} 1`,
		`geniai_http_requests_total{code="404",method="GET",route="GET /conversations/{id}"} 1`,
		`geniai_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="+Inf"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "/conversations/999999") {
		t.Error("/metrics labels a raw path")
	}

	// Without a token the main listener has no /metrics: an anonymous visitor is sent to sign in.
	plain := newHarness(t, nil)
	res := plain.browser().get("/metrics")
	if res.StatusCode == http.StatusOK || strings.Contains(res.body, "geniai_http") {
		t.Fatalf("/metrics is public without METRICS_TOKEN: %d", res.StatusCode)
	}
}
