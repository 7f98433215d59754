package staff

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/geniai/analytics/internal/pg"
)

// slugMax is the longest identifier tenants_slug_format accepts; a suggestion never exceeds it.
const slugMax = 40

// SlugFromName is the identifier a client's name suggests: accents stripped ("Ação" → "acao"),
// lower case, every run of other characters one hyphen, none at either end, at most 40
// characters. A suggestion only: whether a slug is acceptable is the database's rule
// (tenants_slug_format), asked through CheckSlug.
func SlugFromName(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range Fold(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case r == 'ß':
			b.WriteString("ss")
		case r == 'æ':
			b.WriteString("ae")
		case r == 'ø':
			b.WriteByte('o')
		default:
			hyphen = true
		}
		if b.Len() >= slugMax {
			break
		}
	}
	return trimSlug(b.String(), slugMax)
}

// Fold is text as a search compares it: accents stripped and lower case ("Recepção" → "recepcao").
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	plain, _, err := transform.String(t, s)
	if err != nil {
		plain = s
	}
	return strings.ToLower(plain)
}

func trimSlug(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Trim(s, "-")
}

// SlugCheck is the live check of an identifier: the slug checked (the suggestion when none was
// typed), whether a new client may take it, and if not, why, as a message key.
type SlugCheck struct {
	Slug      string
	Free      bool
	Reason    string // err.constraint.tenants_slug_format or err.constraint.tenants_slug_unique
	Suggested bool   // Slug was derived from the name
}

// slugReasons maps app.tenant_slug_refusal's answers to the constraints' own messages.
var slugReasons = map[string]string{
	"format": "err.constraint.tenants_slug_format",
	"taken":  "err.constraint.tenants_slug_unique",
}

// CheckSlug checks slug as a new client's identifier, read-only (app.tenant_slug_refusal: the
// format constraint and the existing tenants). With no slug it suggests one from name: the first
// free of "name", "name-2", … "name-20".
func (s *Service) CheckSlug(ctx context.Context, p pg.Principal, slug, name string) (SlugCheck, error) {
	slug = strings.TrimSpace(slug)
	out := SlugCheck{Slug: slug}
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		if slug != "" {
			why, err := tx.TenantSlugRefusal(ctx, slug)
			out.Free, out.Reason = why == "", slugReasons[why]
			return err
		}
		base := SlugFromName(name)
		if base == "" {
			out.Reason = slugReasons["format"]
			return nil
		}
		out.Suggested = true
		for i := 1; i <= 20; i++ {
			cand := base
			if i > 1 {
				suffix := "-" + strconv.Itoa(i)
				cand = trimSlug(base, slugMax-len(suffix)) + suffix
			}
			why, err := tx.TenantSlugRefusal(ctx, cand)
			if err != nil {
				return err
			}
			out.Slug, out.Free, out.Reason = cand, why == "", slugReasons[why]
			if why != "taken" {
				return nil
			}
		}
		return nil
	})
	return out, err
}
