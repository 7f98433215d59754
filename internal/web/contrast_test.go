package web

import "testing"

// TestContrastRule: text on any client colour, and any client colour as text on white, reads at
// WCAG AA; a dark colour keeps white text and stays itself as text.
func TestContrastRule(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"#FFEB3B", "#ffffff", "#000000", "#0F766E", "#B45309", "#777777", "#00ff00", "#ff0000", "#0000ff", "#808080", "#767676"} {
		if on := onColor(c); contrast(c, on) < aaText {
			t.Errorf("%s: text %s at %.2f:1", c, on, contrast(c, on))
		}
		if tc := textColor(c); contrast(tc, "#ffffff") < aaText {
			t.Errorf("%s as text: %s at %.2f:1 on white", c, tc, contrast(tc, "#ffffff"))
		}
	}
	if onColor("#FFEB3B") != inkDark || onColor("#0F766E") != inkLight || textColor("#0F766E") != "#0f766e" {
		t.Errorf("yellow → %s, teal → %s / %s", onColor("#FFEB3B"), onColor("#0F766E"), textColor("#0F766E"))
	}
	if r := contrast("#000000", "#ffffff"); r < 20.9 || r > 21.1 {
		t.Errorf("black on white %.2f", r)
	}
}
