package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/locale"
)

// FuzzLoginForm posts arbitrary bodies to /login: no input may produce a 500, and a session is
// only ever started by the right password.
func FuzzLoginForm(f *testing.F) {
	h := newHarness(f, nil)
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "ana@acme.com.br", "client", pw)
	f.Add("email=ana%40acme.com.br&password=wrong", "application/x-www-form-urlencoded")
	f.Add("email=&password=", "application/x-www-form-urlencoded")
	f.Add("email=%ff%fe&password=%00", "application/x-www-form-urlencoded")
	f.Add("email="+strings.Repeat("a", 5000)+"&password=x", "application/x-www-form-urlencoded")
	f.Add("%%%&&&==;", "application/x-www-form-urlencoded")
	f.Add("--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.c\r\n--x--", "multipart/form-data; boundary=x")
	f.Add("{\"email\":\"a\"}", "application/json")
	f.Add("email=ana%40acme.com.br&password="+strings.Repeat("p", 20000), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q (%s): %s", rec.Code, body, contentType, rec.Body.String())
		}
		if rec.Code == http.StatusSeeOther {
			form, _ := url.ParseQuery(body)
			if form.Get("password") != pw {
				t.Fatalf("signed in without the password: %q", body)
			}
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Fatal("no CSP on the login response")
		}
	})
}

// FuzzErrorWrapper renders arbitrary errors: the status follows the code, the message is escaped,
// internal details never show, and the page always renders (no fallback).
func FuzzErrorWrapper(f *testing.F) {
	h := newHarness(f, nil)
	f.Add(uint8(0), "<script>alert(1)</script>")
	f.Add(uint8(1), "Não encontrado.")
	f.Add(uint8(7), "segredo interno: senha=123")
	f.Add(uint8(5), "")
	f.Add(uint8(8), "\x00\xff")
	codes := []apperr.Code{apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.Unauthorized,
		apperr.Forbidden, apperr.TooMany, apperr.Unavailable, apperr.Internal}
	f.Fuzz(func(t *testing.T, c uint8, msg string) {
		var err error
		// Internal causes carry a marker, so "did it leak?" is not fooled by a short message that
		// happens to appear elsewhere on the page (a digit of the request id, say).
		const marker = "CAUSA-INTERNA:"
		// Shown messages are framed, so "is it escaped?" looks at this message and not at the
		// page's own markup (a bare "<" is in every HTML page).
		shown := "MSG[" + msg + "]MSG"
		if int(c) < len(codes) {
			err = apperr.New(codes[c], "err.db.bad_url", shown) // a message with an argument shows it
		} else if c%2 == 0 {
			err = errors.New(marker + msg)
		} else {
			err = &auth.ThrottledError{RetryAfter: 0}
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/x", nil) // a form post: bad input is 422 (a GET filter gets 400)
		h.srv.handle(func(http.ResponseWriter, *http.Request) error { return err }).ServeHTTP(rec, req)
		if rec.Code != statusOf(err) {
			t.Fatalf("status %d, want %d", rec.Code, statusOf(err))
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("fallback page used: %q", rec.Body.String())
		}
		body := rec.Body.String()
		if strings.Contains(body, marker) || codes[min(int(c), len(codes)-1)] == apperr.Internal && len(msg) > 12 && strings.Contains(body, msg) && !strings.Contains(catalogText(), msg) {
			t.Fatalf("internal message leaked: %q", msg)
		}
		if strings.ContainsAny(msg, "<>&\"'") && strings.Contains(body, shown) {
			t.Fatalf("message not escaped: %q", msg)
		}
	})
}

func catalogText() string {
	var b strings.Builder
	for _, lang := range locale.Languages {
		for _, k := range locale.Keys(lang) {
			b.WriteString(k + locale.Translate(lang, k))
		}
	}
	return b.String() + "<!doctype html>500 · Algo deu errado Código do pedido Voltar ao início GeniAI Analytics"
}
