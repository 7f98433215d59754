package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
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
