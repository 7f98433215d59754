// Package locale is the one message catalogue of the product: page text and error messages, in
// pt-BR (the default) and English, one JSON file per language (pt-BR.json, en.json). Code never
// holds a sentence for a person: pages call Translate with a key, errors carry a key and
// arguments (package apperr) and are translated when rendered, in the request's language (the
// CLI prints pt-BR). Both files hold the same keys with the same fmt verbs; the tests fail
// otherwise, and when code uses a key that is not in them.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The languages of the product.
const (
	PT = "pt-BR" // the default
	EN = "en"
)

// Languages lists the supported languages, the default first.
var Languages = []string{PT, EN}

//go:embed pt-BR.json en.json
var files embed.FS

// catalogue maps language → key → text; loaded once at start-up.
var catalogue = func() map[string]map[string]string {
	c := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("locale: %s.json: %v", lang, err))
		}
		c[lang] = m
	}
	return c
}()

// Translate returns the text of key in lang (pt-BR for an unknown language), formatted with args
// like fmt.Sprintf. A key missing from lang falls back to pt-BR, then to the key itself; the
// tests keep both from happening.
func Translate(lang, key string, args ...any) string {
	text, ok := catalogue[Normalize(lang)][key]
	if !ok {
		if text, ok = catalogue[PT][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// Has reports whether key is in the catalogue of lang.
func Has(lang, key string) bool {
	_, ok := catalogue[lang][key]
	return ok
}

// Keys lists the keys of lang, sorted.
func Keys(lang string) []string {
	keys := make([]string, 0, len(catalogue[lang]))
	for k := range catalogue[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Normalize maps a language tag to a supported language: "pt", "pt-BR", "pt_br" → pt-BR; "en",
// "en-US", "en-GB" → en; anything else → pt-BR.
func Normalize(tag string) string {
	if l, ok := Match(tag); ok {
		return l
	}
	return PT
}

// Match maps a language tag to a supported language; ok is false for any other language.
func Match(tag string) (lang string, ok bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	base, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	switch base {
	case "pt":
		return PT, true
	case "en":
		return EN, true
	}
	return "", false
}

// FromAcceptLanguage picks the first supported language of an Accept-Language header, in the
// client's order of preference (q-values of 0 excluded); ok is false when none is supported.
func FromAcceptLanguage(header string) (lang string, ok bool) {
	type choice struct {
		lang string
		q    float64
	}
	var choices []choice
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		if l, ok := Match(tag); ok && q > 0 {
			choices = append(choices, choice{l, q})
		}
	}
	if len(choices) == 0 {
		return "", false
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	return choices[0].lang, true
}
