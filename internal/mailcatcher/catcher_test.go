package mailcatcher_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/mailcatcher"
)

// The catcher receives over real SMTP and shows the message on its page: list, message, the HTML
// part sandboxed with its inline image rewritten to the catcher's own URL, and the files.
func TestCatcherReceivesAndShows(t *testing.T) {
	t.Parallel()
	c, err := mailcatcher.Start(mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := mail.NewSMTP("smtp://" + c.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Send(context.Background(), []mail.Outgoing{{
		From: "GeniAI <noreply@geniai.test>", MessageID: "<abc@geniai.test>", To: "ana@a.test", Subject: "Convite — Academia <A>",
		Text: "olá", HTML: `<p>olá</p><img src="cid:c1"><script>alert(1)</script>`,
		Files: []mail.File{{Name: "g.png", ContentType: "image/png", ContentID: "c1", Data: []byte("\x89PNG")},
			{Name: "dados.xlsx", ContentType: "application/octet-stream", Data: []byte("PK")}},
	}})
	if err != nil || res[0] != nil {
		t.Fatalf("send: %v %v", err, res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if _, body := get("/"); !strings.Contains(body, "Convite — Academia &lt;A&gt;") || !strings.Contains(body, `href="/m/1"`) {
		t.Errorf("list page lacks the message:\n%s", body)
	}
	if _, body := get("/m/1"); !strings.Contains(body, "&lt;abc@geniai.test&gt;") || !strings.Contains(body, "dados.xlsx") || !strings.Contains(body, "olá") {
		t.Errorf("message page:\n%s", body)
	}
	resp, body := get("/m/1/html")
	if !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") || !strings.Contains(body, `src="/m/1/cid/c1"`) {
		t.Errorf("HTML part: CSP %q, body %s", resp.Header.Get("Content-Security-Policy"), body)
	}
	if resp, body := get("/m/1/cid/c1"); resp.StatusCode != 200 || body != "\x89PNG" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("inline image: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := get("/m/1/file/1"); !strings.Contains(resp.Header.Get("Content-Disposition"), "dados.xlsx") {
		t.Errorf("file download: %q", resp.Header.Get("Content-Disposition"))
	}
	if resp, _ := get("/m/9"); resp.StatusCode != 404 {
		t.Errorf("unknown message: %d", resp.StatusCode)
	}
}
