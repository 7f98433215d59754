package etl

import (
	"context"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestSearchWordsMatchSQL: the words the ETL stages for a conversation are exactly the lexemes
// of analytics.search_document over the same texts, so the backfilled documents, the loaded ones
// and analytics.search_query all fold and split alike.
func TestSearchWordsMatchSQL(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	cases := []struct {
		name  string
		texts []string
		types []int16 // 0 the contact, 1 the bot or an agent, 2 activity, 3 template
	}{
		{"João Conceição", []string{"Olá! Quero saber os PREÇOS do plano — R$ 119,90/mês", "Vocês têm aula experimental amanhã?"}, []int16{0, 1}},
		{"MARIA ÂNGELA", []string{"AÇÃO àéîõü Ñandu", "visita-agendada às 18h", "tab\there\nnew line"}, []int16{1, 0, 2}},
		{"", []string{"emoji 😀oi🏋️‍♀️treino", "(11) 98765-4321", "e-mail: maria.silva@academia.com.br", "www.academia.com.br/planos?x=1"}, []int16{3, 0, 1, 0}},
		{"Zé", []string{strings.Repeat("a", 150) + " curta", "über straße", "", "   "}, []int16{0, 0, 1, 1}},
		{"", nil, nil},
		{"Horário", []string{"1 - Horários 2 - Preços", "horario de sabado?", "Sábado das 8h às 12h"}, []int16{1, 0, 1}},
		{"ÁGUA", []string{strings.Repeat("palavra", 1) + " " + bigText(), "quero agua"}, []int16{1, 0}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var lexemes []string
			err := su.QueryRow(context.Background(),
				`SELECT coalesce(array_agg(l ORDER BY l COLLATE "C"), '{}') FROM unnest(tsvector_to_array(analytics.search_document($1, $2, $3))) l`,
				c.name, c.texts, c.types).Scan(&lexemes)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(searchWords(c.name, c.texts, c.types)))
			if strings.Join(got, "|") != strings.Join(lexemes, "|") {
				t.Errorf("Go words %q\nSQL lexemes %q", got, lexemes)
			}
		})
	}
	// A word is found by its folded prefix through analytics.search_query.
	var hit bool
	if err := su.QueryRow(context.Background(),
		`SELECT array_to_tsvector($1::text[]) @@ analytics.search_query('preco EXPERIM acao')`,
		searchWords("", []string{"Preços da aula experimental", "Ação"}, []int16{0, 0})).Scan(&hit); err != nil || !hit {
		t.Errorf("search_query does not find folded prefixes: %v %v", hit, err)
	}
	// The bot's words are found only when the search includes them; the contact's always.
	doc := searchWords("Ana", []string{"Escolha: 1 Horários 2 Preços", "quero agendar"}, []int16{1, 0})
	for q, want := range map[string][2]bool{"horario": {false, true}, "agend": {true, true}, "ana preco": {false, true}, "xyz": {false, false}} {
		var plain, all bool
		if err := su.QueryRow(context.Background(),
			`SELECT array_to_tsvector($1::text[]) @@ analytics.search_query($2), array_to_tsvector($1::text[]) @@ analytics.search_query_all($2)`,
			doc, q).Scan(&plain, &all); err != nil || [2]bool{plain, all} != want {
			t.Errorf("%q in %q: contact only %v, every message %v, want %v (%v)", q, doc, plain, all, want, err)
		}
	}
}

// bigText holds more distinct words than one document keeps (the 256 kB budget).
func bigText() string {
	var b strings.Builder
	for i := range 40000 {
		fmt.Fprintf(&b, "w%07d ", i)
	}
	return b.String()
}

// searchWordsReference is searchWords written the plain way (rune by rune, a map for the
// accents); the byte path for ASCII must not change a single word.
func searchWordsReference(name string, texts []string, types []int16) []string {
	fold := map[rune]rune{}
	p := []rune(plain)
	for i, r := range []rune(accented) {
		fold[r] = p[i]
	}
	words := func(ss []string) map[string]bool {
		seen := map[string]bool{}
		for _, s := range ss {
			for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				var b strings.Builder
				for _, r := range w {
					r = unicode.ToLower(r)
					if f, ok := fold[r]; ok {
						r = f
					}
					b.WriteRune(r)
				}
				if utf8.RuneCountInString(w) <= maxWordRunes {
					seen[b.String()] = true
				}
			}
		}
		return seen
	}
	mine, theirs := []string{name}, []string{}
	for i, t := range texts {
		if types[i] == 0 {
			mine = append(mine, t)
		} else {
			theirs = append(theirs, t)
		}
	}
	contact := words(mine)
	out := slices.Sorted(maps.Keys(contact))
	var other []string
	for w := range words(theirs) {
		if !contact[w] {
			other = append(other, "~"+w)
		}
	}
	slices.Sort(other)
	out = append(out, other...)
	used := 0
	for i, w := range out {
		if used += len(w) + 1; used > wordBudget {
			return out[:i]
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func TestSearchWordsMatchReference(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "Z", "0", "9", " ", "-", "_", "@", ".", "é", "É", "ç", "Ç", "ñ", "ÿ", "Ÿ", "ß", "ø", "Ω", "ж",
		"😀", "\u200d", "\xff", "\xc3", "\t", "Olá", "PREÇO", "aula", "x" + strings.Repeat("y", 99), "x" + strings.Repeat("é", 100)}
	rng := mrand.New(mrand.NewPCG(1, 2))
	var ws wordSets
	for i := range 3000 {
		texts := make([]string, rng.IntN(4))
		types := make([]int16, len(texts))
		for k := range texts {
			types[k] = int16(rng.IntN(4))
			var b strings.Builder
			for range rng.IntN(40) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			texts[k] = b.String()
		}
		name := pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))]
		// One wordSets for every case, as groupChunk keeps one per chunk: nothing of a case may
		// leak into the next. Order is free below the budget (array_to_tsvector sorts).
		got, want := ws.words(name, texts, types), searchWordsReference(name, texts, types)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Fatalf("case %d %q %q:\n got %q\nwant %q", i, name, texts, got, want)
		}
	}
}
