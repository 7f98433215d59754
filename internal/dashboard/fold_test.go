package dashboard

import (
	"errors"
	"net/url"
	"testing"
)

func TestFoldAndResolveLabel(t *testing.T) {
	t.Parallel()
	if got := Fold("  Preço À Vista "); got != "preco a vista" {
		t.Errorf("Fold = %q", got)
	}
	tn := &Tenant{Labels: []string{"preço", "visita-agendada", "Lead", "lead"}}
	for _, tc := range []struct {
		typed, want string
		ok          bool
		cands       int
	}{
		{"PRECO", "preço", true, 0},
		{"Visita-Agendada", "visita-agendada", true, 0},
		{"lead", "lead", true, 0}, // the exact label wins over its case-folded twin
		{"LEAD", "", false, 2},    // two labels fold alike: the page asks which
		{"nao-existe", "", false, 0},
		{"visita", "visita-agendada", true, 0}, // a piece of one label's name is that label
		{" AGEND ", "visita-agendada", true, 0},
		{"e", "", false, 4}, // a piece of several: the page lists them
	} {
		got, cands, ok := tn.ResolveLabel(tc.typed)
		if got != tc.want || ok != tc.ok || len(cands) != tc.cands {
			t.Errorf("ResolveLabel(%q) = %q %v %v", tc.typed, got, cands, ok)
		}
	}
}

// A bad or partial period is a DateError whose fallback keeps the other filters over the preset.
func TestParseDateErrorFallback(t *testing.T) {
	t.Parallel()
	v, _ := url.ParseQuery("from=2026-03-01&period=7d&status=open")
	_, err := Parse(v, today, 30, []int32{1, 2})
	var de *DateError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a DateError", err)
	}
	if f := de.Fallback; f.Preset != "7d" || f.Days() != 7 || f.Status != "open" {
		t.Errorf("fallback %+v", f)
	}
}
