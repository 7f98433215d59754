package web

import (
	"compress/gzip"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCompress(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("<p>Conversas por dia</p>\n", 200)
	h := compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, big)
		case "/small":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "2")
			_, _ = io.WriteString(w, "{}")
		case "/xlsx":
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			_, _ = io.WriteString(w, big)
		case "/csv": // streamed in pieces with flushes, like the exports
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			for i := 0; i < 3; i++ {
				_, _ = io.WriteString(w, big)
				http.NewResponseController(w).Flush()
			}
		case "/notmodified":
			w.Header().Set("Content-Type", "text/css")
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	get := func(path, accept string) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	body := func(res *http.Response) string {
		var r io.Reader = res.Body
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		path, accept string
		gzipped      bool
		want         string
	}{
		{"/page", "gzip, deflate, br", true, big},
		{"/page", "br;q=1.0, gzip;q=0.8", true, big},
		{"/page", "", false, big},
		{"/page", "gzip;q=0", false, big},
		{"/page", "deflate", false, big},
		{"/small", "gzip", false, "{}"},
		{"/xlsx", "gzip", false, big},
		{"/csv", "gzip", true, big + big + big},
		{"/notmodified", "gzip", false, ""},
	} {
		res := get(c.path, c.accept)
		if got := res.Header.Get("Content-Encoding") == "gzip"; got != c.gzipped {
			t.Errorf("%s (%q): gzipped %v, want %v", c.path, c.accept, got, c.gzipped)
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", c.path)
		}
		if got := body(res); got != c.want {
			t.Errorf("%s (%q): body of %d bytes, want %d", c.path, c.accept, len(got), len(c.want))
		}
	}
	if res := get("/page", "gzip"); res.Header.Get("Content-Length") != "" {
		t.Errorf("a gzipped body kept the identity Content-Length %s", res.Header.Get("Content-Length"))
	}
}

// TestPagesCompressedAndFavicon: a browser that accepts gzip gets the dashboard, the JSON API and
// the CSV export compressed (and the same bytes once inflated); the favicon answers at both
// addresses.
func TestPagesCompressedAndFavicon(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	for _, path := range []string{"/dashboard?" + period, "/api/v1/dashboard/summary?" + period, "/conversations/export.csv?" + period} {
		plain := c.get(path)
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res := c.do(req)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: status %d, Content-Encoding %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
			continue
		}
		zr, err := gzip.NewReader(strings.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		inflated, _ := io.ReadAll(zr)
		// Inflated, the answer is the plain one (give or take the freshness line).
		if len(inflated) < len(plain.body)*9/10 || len(res.body)*3 > len(inflated) {
			t.Errorf("%s: %d bytes gzipped, %d inflated, %d plain", path, len(res.body), len(inflated), len(plain.body))
		}
		t.Logf("%s: %d bytes → %d gzipped", strings.SplitN(path, "?", 2)[0], len(inflated), len(res.body))
	}
	ico := c.get("/favicon.ico")
	if img, err := png.Decode(strings.NewReader(ico.body)); err != nil || img.Bounds().Dx() != 32 || ico.Header.Get("Content-Type") != "image/png" {
		t.Errorf("favicon.ico: %v %s", err, ico.Header.Get("Content-Type"))
	}
	expectStatus(t, c.get("/static/favicon.svg"), http.StatusOK, "<svg")
}
