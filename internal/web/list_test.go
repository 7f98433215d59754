package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	idRE    = regexp.MustCompile(`<td class="id"><a href="[^"]*">#(\d+)</a>`)
	nextRE  = regexp.MustCompile(`<a class="button" rel="next" href="([^"]*)"`)
	prevRE  = regexp.MustCompile(`<a class="button" rel="prev" href="([^"]*)"`)
	rangeRE = regexp.MustCompile(`<span class="range">([^<]*)</span>`)
)

// TestListSortAndPages: under every sort, both directions, walking the list 7 at a time with
// "próxima" gives exactly the one-page list in the same order, "anterior" walks back through the
// same pages, and each page says where it is ("8–14 de 60").
func TestListSortAndPages(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	const week = "from=2026-11-23&to=2026-11-29"
	for _, sort := range []string{"", "created", "first_reply", "-first_reply", "first_human_reply", "-first_human_reply", "csat", "-csat", "stage", "-stage"} {
		base := "/conversations?" + week + "&sort=" + sort
		all := c.get(base + "&limit=200")
		expectStatus(t, all, http.StatusOK, "conversations")
		want := ids(all.body)
		total := between(all.body, `<strong class="total">`, "<")
		if len(want) < 15 || len(want) == 200 || fmt.Sprint(len(want)) != strings.ReplaceAll(total, ".", "") {
			t.Fatalf("sort %q: %d rows, total %s", sort, len(want), total)
		}
		var pages [][]string
		var got []string
		page := c.get(base + "&limit=7")
		for i := 0; ; i++ {
			rows := ids(page.body)
			pages = append(pages, rows)
			got = append(got, rows...)
			if r := link(t, rangeRE, page.body); r != fmt.Sprintf("%d–%d de %s", 7*i+1, 7*i+len(rows), total) {
				t.Errorf("sort %q page %d says %q", sort, i+1, r)
			}
			m := nextRE.FindStringSubmatch(page.body)
			if m == nil {
				break
			}
			page = c.get(html.UnescapeString(m[1]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("sort %q: pages give %v, one page %v", sort, got, want)
		}
		for i := len(pages) - 2; i >= 0; i-- {
			page = c.get(link(t, prevRE, page.body))
			if rows := ids(page.body); !slices.Equal(rows, pages[i]) {
				t.Errorf("sort %q: back to page %d gives %v, was %v", sort, i+1, rows, pages[i])
			}
		}
		if prevRE.MatchString(page.body) {
			t.Errorf("sort %q: the first page reached backwards still has a previous page", sort)
		}
	}
	// The order itself, against the table: slowest first reply first, none last, ties newest first.
	for sort, order := range map[string]string{
		"-first_reply": "first_reply_seconds DESC NULLS LAST",
		"csat":         "csat_rating ASC NULLS LAST",
		"-stage":       "(CASE WHEN is_converted THEN 3 WHEN is_visit THEN 2 WHEN is_lead THEN 1 ELSE 0 END) DESC",
	} {
		var want []string
		rows, err := h.super.Query(context.Background(), `SELECT display_id::text FROM analytics.conversations
			WHERE tenant_id = $1 AND created_day BETWEEN '2026-11-23' AND '2026-11-29' ORDER BY `+order+`, created_at DESC, conversation_id DESC`, a)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		rows.Close()
		if got := ids(c.get("/conversations?" + week + "&sort=" + sort + "&limit=200").body); !slices.Equal(got, want) {
			t.Errorf("sort %s lists %v, the table %v", sort, got, want)
		}
	}
	body := c.get("/conversations?" + week + "&sort=-first_reply&limit=200").body
	if !strings.Contains(body, `aria-sort="descending"`) {
		t.Error("the sorted column has no aria-sort")
	}
	expectStatus(t, c.get("/conversations?"+period+"&sort=name"), http.StatusBadRequest, "Ordem desconhecida")
	expectStatus(t, c.get("/conversations?"+period+"&before=garbage"), http.StatusBadRequest, "Posição de página")
}

func ids(body string) []string {
	var out []string
	for _, m := range idRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
