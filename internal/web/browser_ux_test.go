package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/geniai/analytics/internal/pgtest"
)

// axeSource is axe-core, the accessibility checker `make deps` installs with npm.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		wd, _ := os.Getwd()
		path = filepath.Join(wd, "..", "..", ".data", "tools", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core not found (%v): `make deps` installs it", err)
	}
	return string(b)
}

// overflowJS lists what sticks out of the viewport horizontally (nothing, when the page fits):
// elements whose right edge passes the window, unless a scrolling box of their own holds them.
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return "";
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) continue;
    let p = el.parentElement, boxed = false;
    for (; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { boxed = true; break; }
    }
    if (!boxed) out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(r.right));
    if (out.length >= 6) break;
  }
  return "page " + document.documentElement.scrollWidth + " px wide for a " + w + " px window: " + out.join(", ");
})()`

// axeJS runs axe-core on the page and returns its violations as JSON.
const axeJS = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))`

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// TestBrowserLayoutAndAccessibility: at 1440×900 and 390×844 the dashboard, the list, a
// conversation, the settings and the staff panel never scroll sideways and axe-core finds no
// violation (its colour-contrast rule over a light yellow brand included); a heatmap drill-down's filters come back as chips on the dashboard. Screenshots of
// every page at both sizes go to the test artifacts.
// swatchJS is the height left for the colour inside the brand colour field.
const swatchJS = `(() => { const e = document.querySelector("input[name=primary_color]"), s = getComputedStyle(e);
	return e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom) })()`

func TestBrowserLayoutAndAccessibility(t *testing.T) {
	h := newHarness(t, nil)
	a, _ := pgtest.SeedAnalytics(t, h.env)
	h.user(a, "admin@a.test", "admin", pw)
	// A light yellow brand: axe's colour-contrast rule checks the text chosen on it and from it.
	h.exec(`UPDATE app.tenant_settings SET primary_color = '#FFEB3B', secondary_color = '#FFF59D' WHERE tenant_id = $1`, a)
	h.user(h.platform(), "staff@geniai.test", "super_admin", pw)
	// The client's logo, served over https from its own host name (Chromium resolves it to a
	// local TLS server and trusts its test certificate).
	logoSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/marca/logo.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(testLogo())
	}))
	t.Cleanup(logoSrv.Close)
	h.exec(`UPDATE app.tenant_settings SET display_name = 'Academia Alfa', logo_url = 'https://logo.academia-a.test/marca/logo.png' WHERE tenant_id = $1`, a)
	b := chrome(t, chromedp.Flag("host-resolver-rules", fmt.Sprintf("MAP logo.academia-a.test 127.0.0.1:%d", logoSrv.Listener.Addr().(*net.TCPAddr).Port)),
		chromedp.Flag("ignore-certificate-errors", true))
	logo := func(name, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			got, err := chromedp.Evaluate[string](logoJS)(ctx, tg)
			if err == nil && got != want {
				t.Errorf("%s: header logo %q, want %q", name, got, want)
			}
			return err
		})
	}
	const shown, nameOnly = "logo:Academia Alfa", "name:Academia Alfa"
	axe := axeSource(t)
	base := h.ts.URL
	check := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			over, err := chromedp.Evaluate[string](overflowJS)(ctx, tg)
			if err != nil {
				return err
			}
			if over != "" {
				t.Errorf("%s: %s", name, over)
			}
			if _, err := chromedp.Evaluate[any](axe+";0")(ctx, tg); err != nil {
				return err
			}
			res, err := chromedp.Evaluate[string](axeJS, chromedp.EvalAwaitPromise)(ctx, tg)
			if err != nil {
				return err
			}
			var vs []axeViolation
			if err := json.Unmarshal([]byte(res), &vs); err != nil {
				return err
			}
			for _, v := range vs {
				t.Errorf("%s: axe %s (%s): %s at %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
			}
			_, err = b.shot(name)(ctx, tg)
			return err
		})
	}
	var detail chromedp.AttributeResult
	var chipsText string
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"desktop", 1440, 900}, {"phone", 390, 844}} {
		p := func(s string) string { return vp.name + "-" + s }
		b.do(p("sign in"), chromedp.EmulateViewport(vp.w, vp.h), signIn(base, "admin@a.test", pw, `.kpis`))
		b.do(p("dashboard"), chromedp.Navigate(base+"/dashboard?"+period),
			chromedp.WaitVisible(`.kpis`),
			logo(p("dashboard"), shown),
			check(p("1-dashboard")))
		b.do(p("list"), chromedp.Navigate(base+"/conversations?"+period),
			chromedp.WaitVisible(`.total`),
			logo(p("list"), shown),
			check(p("2-list")),
			into(&detail, chromedp.AttributeValue(`td.id a`, "href")))
		b.do(p("conversation"), chromedp.Navigate(base+detail.Value),
			chromedp.WaitVisible(`h1`),
			logo(p("conversation"), shown),
			check(p("3-conversation")))
		var swatch float64
		b.do(p("settings"), chromedp.Navigate(base+"/settings"),
			chromedp.WaitVisible(`form`),
			logo(p("settings"), shown),
			check(p("4-settings")),
			into(&swatch, chromedp.Evaluate[float64](swatchJS)))
		if swatch < 16 {
			t.Errorf("%s: the brand colour's swatch is %.0f px high: the current colour cannot be seen", vp.name, swatch)
		}
		// A heatmap cell → its conversations → back to the dashboard: the cell's weekday and
		// hour are chips there, not a hidden filter.
		b.do(p("heatmap drill-down and back"), chromedp.Navigate(base+"/dashboard?"+period),
			chromedp.WaitVisible(`.kpis`),
			loads(chromedp.Click(`table.heatmap tbody tr:nth-child(2) td:not(.h0) a`), `.total`),
			loads(chromedp.Click(`nav.tabs a[href^="/dashboard"]`), `.kpis`),
			into(&chipsText, chromedp.Text(`.chips`)),
			check(p("5-dashboard-drilled")))
		b.do(p("sign out"), loads(chromedp.Click(`form[action="/logout"] button`), `input[name=email]`))
		b.do(p("staff panel"), signIn(base, "staff@geniai.test", pw, `.admin-tabs`),
			logo(p("admin"), "none"),
			check(p("6-admin")))
		b.do(p("staff views as the client"), chromedp.Navigate(fmt.Sprintf("%s/admin/tenants/%d/dashboard?%s", base, a, period)),
			chromedp.WaitVisible(`.kpis`),
			logo(p("view as client"), shown),
			check(p("7-view-as-client")))
		b.do(p("staff signs out"), loads(chromedp.Click(`form[action="/logout"] button`), `input[name=email]`))
		if !strings.Contains(chipsText, "Segunda, ") || !strings.Contains(chipsText, "Limpar tudo") {
			t.Errorf("%s: after a Monday heatmap cell the dashboard's chips read %q", vp.name, chipsText)
		}
	}
	// A logo address that no longer answers: the header shows the client's name.
	h.exec(`UPDATE app.tenant_settings SET logo_url = 'https://logo.academia-a.test/marca/gone.png' WHERE tenant_id = $1`, a)
	b.do("broken logo", chromedp.EmulateViewport(390, 844), signIn(base, "admin@a.test", pw, `.kpis`),
		chromedp.Sleep(300*time.Millisecond),
		logo("broken logo", nameOnly),
		check("phone-8-broken-logo"))
	fmt.Fprintln(os.Stderr, "screenshots in", b.dir)
}

// logoJS reads the header: the client's logo when it loaded (with its text alternative), its
// name when there is none or it failed, or "none".
const logoJS = `(() => {
  const img = document.querySelector("header img.client-logo");
  if (img) return img.complete && img.naturalWidth > 0 ? "logo:" + img.alt : "broken";
  const n = document.querySelector("header .client-name");
  return n ? "name:" + n.textContent : "none";
})()`

// testLogo is a 160×48 PNG: a gym's logo as far as the page can tell.
func testLogo() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 160; x++ {
			c := color.RGBA{0x1d, 0x4e, 0xd8, 0xff}
			if (x/16+y/16)%2 == 0 {
				c = color.RGBA{0xf5, 0x9e, 0x0b, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
