package web

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSearchConversationNumber: "#37" in the list's search finds conversation 37 and nothing
// else, named "Conversa nº 37" in its chip (and in English); a bare "37" finds conversation 37
// among the others it matches (names, phones, words), with a chip that says so; the dashboard
// keeps the search as the same chip.
func TestSearchConversationNumber(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	ids := regexp.MustCompile(`<td class="id"><a href="[^"]*">#(\d+)<`)
	found := func(body string) []string {
		var out []string
		for _, m := range ids.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	list := c.get("/conversations?" + period + "&q=" + url.QueryEscape("#37"))
	if got := found(list.body); len(got) != 1 || got[0] != "37" || between(list.body, `<strong class="total">`, "<") != "1" {
		t.Errorf("#37 found %v (total %s), want conversation 37 only", got, between(list.body, `<strong class="total">`, "<"))
	}
	if !regexp.MustCompile(`<strong class="total">1</strong> conversa\s+·`).MatchString(list.body) {
		t.Errorf("#37: the count does not read \"1 conversa\"")
	}
	if _, ok := chips(t, list.body)["Conversa nº 37"]; !ok {
		t.Errorf("#37: chips %v", chips(t, list.body))
	}
	bare := c.get("/conversations?" + period + "&q=37&limit=100")
	got := found(bare.body)
	if len(got) < 2 || !contains(got, "37") || !contains(got, "137") {
		t.Errorf("bare 37 found %v, want conversation 37 and the contacts named with 37", got)
	}
	// The conversation numbered 37 comes first, above the list of everything else that matches.
	first, table := strings.Index(bare.body, `class="card number-match"`), strings.Index(bare.body, `<table class="data conversations"`)
	if first < 0 || table < 0 || first > table || !strings.Contains(bare.body[first:table], ">#37</a>") {
		t.Errorf("bare 37: no 'Conversa com este número' box with #37 above the list")
	}
	if strings.Contains(list.body, "number-match") {
		t.Errorf("#37 lists that conversation only: no separate number box")
	}
	if _, ok := chips(t, bare.body)["Busca: 37 (nº da conversa, telefone ou palavras)"]; !ok {
		t.Errorf("bare 37: chips %v", chips(t, bare.body))
	}
	dash := c.get("/dashboard?" + period + "&q=" + url.QueryEscape("#37"))
	if _, ok := chips(t, dash.body)["Conversa nº 37"]; !ok {
		t.Errorf("dashboard: chips %v", chips(t, dash.body))
	}
	if none := c.get("/conversations?" + period + "&q=" + url.QueryEscape("#99999")); len(found(none.body)) != 0 {
		t.Errorf("#99999 found %v", found(none.body))
	}
	// The API's list carries the same box: a bare 37 names conversation 37 in "numbered", above
	// its list; "#37" is that conversation only, with nothing in "numbered".
	type apiList struct {
		Total    int64
		Numbered []struct {
			DisplayID int32 `json:"display_id"`
		}
	}
	var api, apiOnly apiList
	if err := json.Unmarshal([]byte(c.get("/api/v1/conversations?"+period+"&q=37").body), &api); err != nil {
		t.Fatal(err)
	}
	if len(api.Numbered) != 1 || api.Numbered[0].DisplayID != 37 || api.Total < 2 {
		t.Errorf("API, bare 37: numbered %+v, total %d; want conversation 37 named and the other matches listed", api.Numbered, api.Total)
	}
	onlyBody := c.get("/api/v1/conversations?" + period + "&q=" + url.QueryEscape("#37")).body
	if err := json.Unmarshal([]byte(onlyBody), &apiOnly); err != nil {
		t.Fatal(err)
	}
	if apiOnly.Numbered == nil || len(apiOnly.Numbered) != 0 || apiOnly.Total != 1 {
		t.Errorf("API, #37: numbered %+v (want an empty array), total %d", apiOnly.Numbered, apiOnly.Total)
	}
	if en := c.get("/conversations?" + period + "&lang=en&q=" + url.QueryEscape("# 37")); !strings.Contains(strings.Join(keys(chips(t, en.body)), "|"), "Conversation #37") {
		t.Errorf("English chip: %v", chips(t, en.body))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSearchAllMessagesOption: the list's "Incluir bot e atendentes" box is kept in the links and
// shown as its own chip; an unknown value is refused in Portuguese.
func TestSearchAllMessagesOption(t *testing.T) {
	t.Parallel()
	h, _, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	list := c.get("/conversations?" + period + "&q=contato&qall=1")
	if !strings.Contains(list.body, `name="qall" value="1" checked`) {
		t.Errorf("the box is not ticked")
	}
	ch := chips(t, list.body)
	rm, ok := ch["Inclui mensagens do bot e dos atendentes"]
	if !ok || strings.Contains(rm, "qall") || !strings.Contains(rm, "q=contato") {
		t.Errorf("chips %v", ch)
	}
	if dash := c.get("/dashboard?" + period + "&q=contato&qall=1"); !strings.Contains(dash.body, `name="qall" value="1"`) {
		t.Errorf("the dashboard's form drops the option")
	}
	expectStatus(t, c.get("/conversations?"+period+"&q=contato&qall=sim"), 400, "Opção de busca desconhecida")
}
