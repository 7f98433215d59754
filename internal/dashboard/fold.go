package dashboard

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold is text as the label picker compares it: lower case, accents removed, spaces trimmed
// ("Preço " and "PRECO" both fold to "preco").
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
