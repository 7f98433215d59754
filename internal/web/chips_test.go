package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	chipRE   = regexp.MustCompile(`<span class="filter-chip">([^<]*) <a href="([^"]*)" class="chip-x"`)
	clearRE  = regexp.MustCompile(`<a class="clear-all" href="([^"]*)"`)
	tabRE    = regexp.MustCompile(`<nav class="tabs"><a (?:class="active" aria-current="page" )?href="([^"]*)">Painel</a> <a (?:class="active" aria-current="page" )?href="([^"]*)">Conversas</a>`)
	langRE   = regexp.MustCompile(`<a class="lang" href="([^"]*)"`)
	detailRE = regexp.MustCompile(`<td class="id"><a href="([^"]*)">#`)
)

// chips reads the filter chips of a page: label → removal link.
func chips(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range chipRE.FindAllStringSubmatch(body, -1) {
		out[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// link is the first match of re's group n (default 1) in body.
func link(t *testing.T, re *regexp.Regexp, body string, n ...int) string {
	t.Helper()
	g := 1
	if len(n) > 0 {
		g = n[0]
	}
	if m := re.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[g])
	}
	t.Fatalf("no link %s in %.300s", re, body)
	return ""
}

// TestFilterChipsRoundTrip: a heatmap drill-down's filters show as chips in plain words on the
// list, the dashboard, the conversation page's way back and in English; each chip removes its
// filter alone; "Limpar tudo" keeps only the period; a typed label finds the tenant's label
// whatever its case; parameters no page reads are reported, not silently kept.
func TestFilterChipsRoundTrip(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	// A Monday hour with conversations (the fixture spreads them over 1h-12h).
	var list response
	hour := ""
	for hr := 12; hr >= 1 && hour == ""; hr-- {
		list = c.get("/conversations?" + period + "&dow=1&hour=" + strconv.Itoa(hr) + "&q=contato&frt=4")
		if n := between(list.body, `<strong class="total">`, "<"); n != "" && n != "0" {
			hour = strconv.Itoa(hr)
		}
	}
	want := map[string]bool{"Segunda, " + hour + "h": true, "1ª resposta: 1–4 h": true, "Busca: contato": true}
	expectStatus(t, list, http.StatusOK, "filter-chip")
	check := func(where, body string) {
		t.Helper()
		got := chips(t, body)
		for label := range want {
			if _, ok := got[label]; !ok {
				t.Errorf("%s: no chip %q (chips %v)", where, label, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: chips %v, want %v", where, got, want)
		}
	}
	check("list", list.body)
	// List → dashboard → list: the same filters, shown.
	dash := c.get(link(t, tabRE, list.body))
	check("dashboard", dash.body)
	back := c.get(link(t, tabRE, dash.body, 2))
	check("list again", back.body)
	if a, b := between(list.body, `<strong class="total">`, "<"), between(back.body, `<strong class="total">`, "<"); a != b || a == "" {
		t.Errorf("the round trip lists %q conversations, first %q", b, a)
	}
	// Detail → back to the list keeps them too.
	if m := detailRE.FindStringSubmatch(back.body); m != nil {
		detail := c.get(html.UnescapeString(m[1]))
		check("list from the conversation page", c.get(link(t, regexp.MustCompile(`<nav class="tabs"><a href="([^"]*)">«`), detail.body)).body)
	} else {
		t.Error("the filtered list has no conversation")
	}
	// English keeps every filter.
	en := c.get(link(t, langRE, dash.body))
	u, _ := url.Parse(link(t, langRE, dash.body))
	if q := u.Query(); q.Get("dow") != "1" || q.Get("hour") != hour || q.Get("frt") != "4" || q.Get("q") != "contato" || q.Get("lang") != "en" {
		t.Errorf("English link %s", u)
	}
	if got := chips(t, en.body); len(got) != len(want) || got["Monday, "+hour+"h"] == "" {
		t.Errorf("English chips %v", got)
	}
	c.get("/dashboard?lang=pt-BR") // the session remembers the language: back to Portuguese
	// Each chip removes its own filter only.
	for label, remove := range chips(t, dash.body) {
		after := chips(t, c.get(remove).body)
		if _, still := after[label]; still || len(after) != len(want)-1 {
			t.Errorf("removing %q leaves %v", label, after)
		}
	}
	cleared := c.get(link(t, clearRE, dash.body))
	if got := chips(t, cleared.body); len(got) != 0 || !strings.Contains(cleared.body, "Período: 01/10/2026") {
		t.Errorf("Limpar tudo leaves %v", got)
	}
	// A label typed in another case is the tenant's label, applied exactly.
	lbl := c.get("/conversations?" + period + "&label=VISITA-Agendada")
	if got := chips(t, lbl.body); got["Etiqueta: visita-agendada"] == "" {
		t.Errorf("typed label: chips %v", got)
	}
	exact := c.get("/conversations?" + period + "&label=visita-agendada")
	if a, b := between(lbl.body, `<strong class="total">`, "<"), between(exact.body, `<strong class="total">`, "<"); a != b {
		t.Errorf("typed label lists %s, the exact label %s", a, b)
	}
	none := c.get("/dashboard?" + period + "&label=nao-existe")
	expectStatus(t, none, http.StatusOK, "Nenhuma etiqueta corresponde")
	// A parameter no page reads is named on the page.
	odd := c.get("/dashboard?" + period + "&lable=lead")
	expectStatus(t, odd, http.StatusOK, "<code>lable</code>")
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}
