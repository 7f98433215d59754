package web

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// repeatReader yields n copies of b without holding them.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return int(k), nil
}

// multipartBody is the review's reproduction: the branding form's fields and a file of size
// bytes, streamed (chunked, no Content-Length).
func multipartBody(size int64) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		// The server may refuse before reading: writes then fail, and the writer stops.
		write := func() error {
			for k, v := range map[string]string{"display_name": "x", "primary_color": "#0F766E",
				"secondary_color": "#B45309", "default_period_days": "30"} {
				if err := mw.WriteField(k, v); err != nil {
					return err
				}
			}
			f, err := mw.CreateFormFile("f", "200MB.bin")
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, &repeatReader{b: 'x', n: size}); err != nil {
				return err
			}
			return mw.Close()
		}
		_ = pw.CloseWithError(write())
	}()
	return pr, mw.FormDataContentType()
}

// TestBodyLimits: one limit for every request with a body, applied before anything else. A
// body over it gets 413 (multipart, which no route takes, 415), nothing is saved and nothing is
// left on disk, for each kind of route: anonymous form, signed-in form, multipart upload where
// none is expected (the review's 40 MB file on /settings/branding answered 303, saved, and left
// its temporary file behind), and a GET with a body.
func TestBodyLimits(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where net/http would spill a multipart file
	h := newHarness(t, nil)
	a := h.tenant("acme", "active", nil)
	h.user(a, "dona@acme.com.br", "admin", pw)
	admin := h.browser()
	admin.mustLogin("dona@acme.com.br", pw, "/dashboard")
	anon := h.browser()

	big := strings.Repeat("x", maxFormBytes+1)
	raw := func(b *browser, method, path, contentType string, body io.Reader, length int64) response {
		t.Helper()
		req, _ := http.NewRequest(method, h.ts.URL+path, body)
		req.ContentLength = length
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return b.do(req)
	}
	form := "application/x-www-form-urlencoded"
	for _, c := range []struct {
		name   string
		send   func() response
		status int
	}{
		{"anonymous form", func() response { return anon.post("/login", url.Values{"email": {big}, "password": {"x"}}) }, 413},
		{"anonymous form, chunked", func() response {
			return raw(anon, "POST", "/login", form, io.MultiReader(strings.NewReader("email="), &repeatReader{'a', 1 << 20}), -1)
		}, 413},
		{"signed-in form", func() response {
			return admin.post("/settings/branding", url.Values{"display_name": {big}, "primary_color": {"#0F766E"},
				"secondary_color": {"#B45309"}, "default_period_days": {"30"}})
		}, 413},
		{"signed-in form, chunked", func() response {
			return raw(admin, "POST", "/settings/funnel", form, io.MultiReader(strings.NewReader("lead_labels="), &repeatReader{'a', 1 << 20}), -1)
		}, 413},
		{"multipart where no upload is expected", func() response {
			body, ct := multipartBody(40 << 20)
			return raw(admin, "POST", "/settings/branding", ct, body, -1)
		}, 415},
		{"multipart, anonymous", func() response {
			body, ct := multipartBody(1 << 20)
			return raw(anon, "POST", "/login", ct, body, -1)
		}, 415},
		{"GET with a body", func() response {
			return raw(admin, "GET", "/api/v1/dashboard/summary", "application/json", &repeatReader{'{', 1 << 20}, 1<<20)
		}, 413},
	} {
		res := c.send()
		if res.StatusCode != c.status {
			t.Errorf("%s: %d, want %d (%.200s)", c.name, res.StatusCode, c.status, res.body)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("%s: %d files left in the temporary directory (%s…)", c.name, len(entries), entries[0].Name())
		}
	}
	var name string
	if err := h.super.QueryRow(context.Background(), `SELECT display_name FROM app.tenant_settings WHERE tenant_id = $1`, a).Scan(&name); err != nil || name == "x" || len(name) > 200 {
		t.Fatalf("a refused body was saved: %q %v", name, err)
	}
	// The refusals are pages in Portuguese (JSON on the API), and a form within the limit passes.
	expectStatus(t, anon.post("/login", url.Values{"email": {big}}), 413, "limite de 64 KB")
	res := raw(admin, "GET", "/api/v1/dashboard/summary", "application/json", &repeatReader{'{', 1 << 20}, 1<<20)
	if !strings.Contains(res.body, `"error"`) {
		t.Errorf("API refusal is not JSON: %.200s", res.body)
	}
	ok := admin.post("/settings/branding", url.Values{"display_name": {"Academia Acme"}, "logo_url": {"https://x.example/" + strings.Repeat("a", 400) + ".png"},
		"primary_color": {"#0F766E"}, "secondary_color": {"#B45309"}, "default_period_days": {"30"}, "pad": {strings.Repeat("p", maxFormBytes-2000)}})
	expectRedirect(t, ok, "/settings?saved=1")
}
