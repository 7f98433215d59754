package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSlugSuggestedAndChecked: the wizard's identifier is suggested from the name (accents
// stripped, the first free one) and checked live with the database's own reasons; a blank slug
// on the form (no JavaScript) takes the suggestion; only staff may ask.
func TestSlugSuggestedAndChecked(t *testing.T) {
	t.Parallel()
	h, _, _, _ := adminHarness(t)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	ask := func(q url.Values) SlugAnswer {
		t.Helper()
		res := c.get("/admin/tenants/slug?" + q.Encode())
		var a SlugAnswer
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.body), &a) != nil {
			t.Fatalf("%v: %d %.300s", q, res.StatusCode, res.body)
		}
		return a
	}
	for _, tc := range []struct {
		q         url.Values
		slug      string
		free      bool
		message   string
		suggested bool
	}{
		{url.Values{"name": {"  Academia Ação & Força — Zona Sul! "}}, "academia-acao-forca-zona-sul", true, "Disponível", true},
		{url.Values{"name": {"academia   A"}}, "academia-a-2", true, "Disponível", true}, // academia-a is taken
		{url.Values{"name": {"!!!"}}, "", false, "Identificador (slug) inválido", false},
		{url.Values{"slug": {"academia-a"}, "name": {"whatever"}}, "academia-a", false, "Já existe um cliente com esse identificador", false},
		{url.Values{"slug": {"Academia_A"}}, "Academia_A", false, "Identificador (slug) inválido", false},
		{url.Values{"slug": {"-a"}}, "-a", false, "Identificador (slug) inválido", false},
		{url.Values{"slug": {strings.Repeat("a", 41)}}, strings.Repeat("a", 41), false, "Identificador (slug) inválido", false},
		{url.Values{"slug": {"academia-c"}}, "academia-c", true, "Disponível", false},
	} {
		a := ask(tc.q)
		if a.Slug != tc.slug || a.Free != tc.free || a.Suggested != tc.suggested || !strings.Contains(a.Message, tc.message) {
			t.Errorf("%v: got %+v, want slug %q free %v suggested %v %q", tc.q, a, tc.slug, tc.free, tc.suggested, tc.message)
		}
	}
	// A long name's suggestion fits the 40 characters, with room for the number when taken.
	long := strings.Repeat("Escola de Natação ", 5)
	if a := ask(url.Values{"name": {long}}); len(a.Slug) > 40 || !a.Free || strings.HasSuffix(a.Slug, "-") {
		t.Errorf("long name: %+v", a)
	}
	// In English.
	if a := ask(url.Values{"slug": {"academia-a"}, "lang": {"en"}}); !strings.Contains(a.Message, "already exists") {
		t.Errorf("English: %+v", a)
	}
	// No JavaScript: the slug left blank is the name's suggestion.
	res := c.post("/admin/tenants", url.Values{"name": {"Academia Ação"}, "slug": {""}, "timezone": {"America/Sao_Paulo"}, "inbox": {"9"}, "admin_email": {"dono@acao.test"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("onboarding with a blank slug: %d %.300s", res.StatusCode, res.body)
	}
	var n int
	_ = h.super.QueryRow(context.Background(), `SELECT count(*) FROM app.tenants WHERE slug = 'academia-acao' AND name = 'Academia Ação'`).Scan(&n)
	if n != 1 {
		t.Error("the blank slug did not become the name's suggestion")
	}
	if a := ask(url.Values{"name": {"Academia Ação"}}); a.Slug != "academia-acao-2" {
		t.Errorf("after onboarding, the suggestion moves on: %+v", a)
	}
	// Tenant users never reach it.
	cl := h.browser()
	cl.mustLogin("admin@a.test", pw, "/dashboard")
	if res := cl.get("/admin/tenants/slug?slug=x"); res.StatusCode != http.StatusNotFound {
		t.Errorf("tenant admin: %d", res.StatusCode)
	}
}

// TestInboxesGroupedAndFiltered: the wizard and the mapping page list Chatwoot's inboxes by
// account (name and id), another client's marked and not selectable, and filter them by text
// without JavaScript (accents and case ignored), keeping what was typed and chosen.
func TestInboxesGroupedAndFiltered(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	checkbox := regexp.MustCompile(`<input type="checkbox" name="inbox" value="(\d+)"\s*(disabled)?`)
	boxes := func(body string) (ids []string, disabled map[string]bool) {
		disabled = map[string]bool{}
		for _, m := range checkbox.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
			disabled[m[1]] = m[2] != ""
		}
		return ids, disabled
	}
	res := c.get("/admin/tenants/new")
	expectStatus(t, res, http.StatusOK, "<legend>Academia A")
	ids, disabled := boxes(res.body)
	if got := strings.Join(ids, ","); got != "1,3,10,9" { // by account name, then inbox name
		t.Errorf("inbox order %s", got)
	}
	if !disabled["1"] || !disabled["3"] || disabled["9"] || disabled["10"] {
		t.Errorf("taken inboxes must be disabled, free ones not: %v", disabled)
	}
	for _, want := range []string{"conta #1", "conta #3 · 2 livres", "já vinculada a academia-a", "já vinculada a academia-b", `formaction="/admin/tenants/new"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("wizard lacks %q", want)
		}
	}
	if strings.Index(res.body, "<legend>Academia A") > strings.Index(res.body, "<legend>Academia Nova") {
		t.Error("accounts not in name order")
	}
	// No JavaScript: the filter is a GET of the whole form; what was typed and chosen stays.
	res = c.get("/admin/tenants/new?" + url.Values{"q": {"INSTAGRAM nova"}, "name": {"Academia Nova"}, "admin_email": {"dono@nova.test"}, "inbox": {"9"}}.Encode())
	ids, _ = boxes(res.body)
	if strings.Join(ids, ",") != "10" || !strings.Contains(res.body, `<input type="hidden" name="inbox" value="9">`) ||
		!strings.Contains(res.body, `value="Academia Nova"`) || !strings.Contains(res.body, `value="dono@nova.test"`) {
		t.Errorf("filtered wizard: boxes %v\n%.2000s", ids, res.body)
	}
	if res = c.get("/admin/tenants/new?q=recepcao"); !reflect.DeepEqual(first(boxes(res.body)), []string{"1"}) {
		t.Errorf("accents ignored: %v", first(boxes(res.body)))
	}
	res = c.get("/admin/tenants/new?q=nada-disso")
	if ids, _ := boxes(res.body); len(ids) != 0 || !strings.Contains(res.body, "Nenhuma caixa encontrada.</p>") || strings.Contains(res.body, "data-filter-empty hidden") {
		t.Errorf("no match: %v", ids)
	}
	// The mapping page: this client's own inboxes are listed above, not offered; another
	// client's are shown as taken and cannot be chosen.
	ta := "/admin/tenants/" + strconv.FormatInt(a, 10)
	res = c.get(ta)
	option := regexp.MustCompile(`<option value="(\d+)" data-filter-item data-text="[^"]*"\s*(disabled)?>`)
	var opts []string
	for _, m := range option.FindAllStringSubmatch(res.body, -1) {
		opts = append(opts, m[1]+m[2])
	}
	if strings.Join(opts, ",") != "3disabled,10,9" || !strings.Contains(res.body, `<optgroup label="Academia Nova · conta #3"`) {
		t.Errorf("mapping page options %v", opts)
	}
	res = c.get(ta + "?q=whatsapp")
	opts = opts[:0]
	for _, m := range option.FindAllStringSubmatch(res.body, -1) {
		opts = append(opts, m[1])
	}
	if strings.Join(opts, ",") != "3,9" {
		t.Errorf("filtered mapping page options %v", opts)
	}
	// Mapping a taken inbox is still refused by the database, whatever the page offered.
	if res = c.post(ta+"/inboxes", url.Values{"inbox_id": {"3"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("mapping a taken inbox: %d", res.StatusCode)
	}
}

func first[A, B any](a A, _ B) A { return a }

// TestOverviewExplainsHealthFlags: the overview says what each health flag means, with the
// stale threshold (three sync intervals) as a duration.
func TestOverviewExplainsHealthFlags(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("suporte@geniai.test", pw, "/admin")
	res := c.get("/admin")
	expectStatus(t, res, http.StatusOK, `id="health-legend"`)
	for _, want := range []string{"três intervalos de sincronização", "a última execução terminou com erro", "nenhuma sincronização terminou ainda"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("overview legend lacks %q", want)
		}
	}
	if strings.Contains(res.body, "%!") {
		t.Error("a format verb left in the legend")
	}
}
