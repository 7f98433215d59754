package staff

import "testing"

func TestSlugFromName(t *testing.T) {
	for in, want := range map[string]string{
		"Academia Exemplo":            "academia-exemplo",
		"  Ação Fitness — São João! ": "acao-fitness-sao-joao",
		"CrossFit 24h":                "crossfit-24h",
		"Çà et là":                    "ca-et-la",
		"Straße":                      "strasse",
		"---":                         "",
		"":                            "",
		"Escola de Natação Escola de Natação Escola": "escola-de-natacao-escola-de-natacao-esco",
	} {
		if got := SlugFromName(in); got != want {
			t.Errorf("SlugFromName(%q) = %q, want %q", in, got, want)
		}
	}
}
