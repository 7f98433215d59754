package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/config"
)

// BenchmarkPages measures the server's own cost of a signed-in page view, gzip included, with
// no network in between: the handler chain is called directly, so -cpuprofile shows where a
// request's CPU goes (templates, gzip, the database driver). /healthz runs beside the pages as
// the floor (middleware alone).
//
//	go test ./internal/web -run '^$' -bench BenchmarkPages -benchtime 2s -cpuprofile cpu.out
func BenchmarkPages(b *testing.B) {
	h := newHarness(b, func(c *config.Config) { c.DashboardCacheEntries, c.PageCacheMB = 2000, 32 }) // the production defaults
	ts := seedLoadTenants(b, h)
	lc, err := newLoadClient(h.ts.URL, http.DefaultTransport, &ts[0])
	if err != nil {
		b.Fatal(err)
	}
	u, _ := http.NewRequest("GET", h.ts.URL+"/", nil)
	var cookies []string
	for _, c := range lc.c.Jar.Cookies(u.URL) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	handler := h.srv.Handler()
	for _, path := range []string{"/dashboard", "/conversations", "/api/v1/dashboard/summary", "/healthz"} {
		b.Run(strings.TrimPrefix(strings.ReplaceAll(path, "/", "_"), "_"), func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Cookie", strings.Join(cookies, "; "))
				req.Header.Set("Accept-Encoding", "gzip")
				req.Header.Set("User-Agent", "load-test")
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
				}
				n, _ := io.Copy(io.Discard, rec.Body)
				bytes += n
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "gzip-B/op")
		})
	}
}
