package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestClientLogo: the logo a client admin saves is in the header of every tenant page (the
// dashboard, the list, a conversation, the queue, the settings, the e-mail and account pages)
// and of staff's view as the client, with the client's name as its text; each of those pages'
// Content-Security-Policy allows that one image address and nothing else outside the app. Only
// an https address of a raster image with a host name is accepted, refused in Portuguese
// otherwise; with no logo the header shows the name, and another client's pages never show it.
func TestClientLogo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a, b := pgtest.SeedAnalytics(t, h.env)
	h.user(a, "admin@a.test", "admin", pw)
	h.user(b, "client@b.test", "client", pw)
	h.user(h.platform(), "staff@geniai.test", "super_admin", pw)
	admin := h.browser()
	admin.mustLogin("admin@a.test", pw, "/dashboard")

	const logo = "https://cdn.academia-a.com.br/marca/logo-2026.png?v=3"
	const source = "https://cdn.academia-a.com.br/marca/logo-2026.png"
	brand := url.Values{"display_name": {"Academia Alfa"}, "primary_color": {"#0F766E"}, "secondary_color": {"#B45309"}, "default_period_days": {"30"}}
	save := func(logo string) response {
		form := url.Values{"logo_url": {logo}}
		for k, v := range brand {
			form[k] = v
		}
		return admin.post("/settings/branding", form)
	}
	// Refused, each with the rule in Portuguese, and nothing saved.
	for _, bad := range []string{
		"http://cdn.academia-a.com.br/logo.png",                 // not https
		"https://cdn.academia-a.com.br/logo.svg",                // SVG
		"https://cdn.academia-a.com.br/logo",                    // no image type
		"https://192.168.0.10/logo.png",                         // an IP address
		"https://localhost/logo.png",                            // no domain
		"https://cdn.academia-a.com.br/lo;go.png",               // a character a CSP source cannot carry
		"https://cdn.academia-a.com.br/logo.png#x",              // a fragment
		"javascript:alert(1)//x.png",                            // not a web address
		"https://x.com.br/" + strings.Repeat("a", 490) + ".png", // over 500 characters
	} {
		expectStatus(t, save(bad), http.StatusUnprocessableEntity, "use um endereço https")
	}
	if res := admin.get("/dashboard"); strings.Contains(res.body, "client-logo") || !strings.Contains(res.body, `<span class="client-name">`) {
		t.Fatalf("no logo yet: the header should show the name only")
	}
	expectRedirect(t, save(logo), "/settings?saved=1")

	img := regexp.MustCompile(`<img class="client-logo" src="([^"]*)" alt="([^"]*)"`)
	look := func(who string, c *browser, path string) {
		t.Helper()
		res := c.get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", who, path, res.StatusCode)
		}
		m := img.FindStringSubmatch(res.body)
		if m == nil || m[1] != logo || m[2] != "Academia Alfa" {
			t.Errorf("%s %s: logo in the header %q", who, path, m)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "img-src 'self' "+source+";") {
			t.Errorf("%s %s: CSP %q does not allow exactly the logo", who, path, csp)
		}
	}
	list := admin.get("/conversations?preset=365")
	detail := regexp.MustCompile(`href="(/conversations/\d+)[?"]`).FindStringSubmatch(list.body)
	if detail == nil {
		t.Fatal("no conversation in the list")
	}
	for _, p := range []string{"/dashboard", "/conversations", detail[1], "/queue", "/settings", "/settings/alerts", "/account/digests", "/account"} {
		look("admin", admin, p)
	}
	// Staff viewing as the client see the client's logo; their own panel has none.
	staff := h.browser()
	staff.mustLogin("staff@geniai.test", pw, "/admin")
	sa := "/admin/tenants/" + strconv.FormatInt(a, 10)
	for _, p := range []string{sa + "/dashboard", sa + "/conversations", sa + detail[1]} {
		look("staff", staff, p)
	}
	if res := staff.get("/admin"); strings.Contains(res.body, "client-logo") || strings.Contains(res.Header.Get("Content-Security-Policy"), "academia-a") {
		t.Errorf("the staff panel shows a client's logo")
	}
	// Another client sees its own name, never A's logo, and a CSP without it.
	other := h.browser()
	other.mustLogin("client@b.test", pw, "/dashboard")
	if res := other.get("/dashboard"); strings.Contains(res.body, "academia-a.com.br") || strings.Contains(res.Header.Get("Content-Security-Policy"), "academia-a") ||
		!strings.Contains(res.body, `<span class="client-name">academia-b</span>`) {
		t.Errorf("tenant B's header: %s", regexp.MustCompile(`(?s)<header.*?</header>`).FindString(res.body))
	}
	// Removing the logo brings the name back.
	expectRedirect(t, save(""), "/settings?saved=1")
	if res := admin.get("/dashboard"); strings.Contains(res.body, "client-logo") || !strings.Contains(res.body, `<span class="client-name">Academia Alfa</span>`) {
		t.Errorf("logo removed: the header should show the name")
	}
}

// TestLogoSource: what reaches the img-src of a page is the logo's scheme, host and path, and
// nothing that could widen or break the policy.
func TestLogoSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://cdn.x.com.br/a/logo.png?v=1": "https://cdn.x.com.br/a/logo.png",
		"https://x.com:8443/logo.webp":        "https://x.com:8443/logo.webp",
		"http://x.com/logo.png":               "",
		"https://x.com/":                      "",
		"https://x.com/a;b.png":               "",
		"https://x.com/a b.png":               "https://x.com/a%20b.png",
		"https://user@x.com/a.png":            "",
		"https://x.com/a.png; script-src *":   "",
		"https://x.com/a.png#f":               "",
		"https://x.com/a%20b.png":             "https://x.com/a%20b.png",
		"https://x.com/a'b.png":               "",
		"https://x.com,evil.com/a.png":        "",
	} {
		if got := logoSource(in); got != want {
			t.Errorf("logoSource(%q) = %q, want %q", in, got, want)
		}
	}
}
