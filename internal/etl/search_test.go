package etl

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
