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
	}{
		{"João Conceição", []string{"Olá! Quero saber os PREÇOS do plano — R$ 119,90/mês", "Vocês têm aula experimental amanhã?"}},
		{"MARIA ÂNGELA", []string{"AÇÃO àéîõü Ñandu", "visita-agendada às 18h", "tab\there\nnew line"}},
		{"", []string{"emoji 😀oi🏋️‍♀️treino", "(11) 98765-4321", "e-mail: maria.silva@academia.com.br", "www.academia.com.br/planos?x=1"}},
		{"Zé", []string{strings.Repeat("a", 150) + " curta", "über straße", "", "   "}},
		{"", nil},
		{"ÁGUA", []string{strings.Repeat("palavra", 1) + " " + bigText()}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var lexemes []string
			err := su.QueryRow(context.Background(),
				`SELECT coalesce(array_agg(l ORDER BY l), '{}') FROM unnest(tsvector_to_array(analytics.search_document($1, $2))) l`,
				c.name, c.texts).Scan(&lexemes)
			if err != nil {
				t.Fatal(err)
			}
			got := searchWords(c.name, c.texts)
			if strings.Join(got, "|") != strings.Join(lexemes, "|") {
				t.Errorf("Go words %q\nSQL lexemes %q", got, lexemes)
			}
		})
	}
	// A word is found by its folded prefix through analytics.search_query.
	var hit bool
	if err := su.QueryRow(context.Background(),
		`SELECT array_to_tsvector($1::text[]) @@ analytics.search_query('preco EXPERIM acao')`,
		searchWords("", []string{"Preços da aula experimental", "Ação"})).Scan(&hit); err != nil || !hit {
		t.Errorf("search_query does not find folded prefixes: %v %v", hit, err)
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
func searchWordsReference(name string, texts []string) []string {
	fold := map[rune]rune{}
	p := []rune(plain)
	for i, r := range []rune(accented) {
		fold[r] = p[i]
	}
	seen := map[string]bool{}
	for _, s := range append([]string{name}, texts...) {
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
	out := slices.Sorted(maps.Keys(seen))
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
	for i := range 3000 {
		texts := make([]string, rng.IntN(4))
		for k := range texts {
			var b strings.Builder
			for range rng.IntN(40) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			texts[k] = b.String()
		}
		name := pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))]
		got, want := searchWords(name, texts), searchWordsReference(name, texts)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d %q %q:\n got %q\nwant %q", i, name, texts, got, want)
		}
	}
}
