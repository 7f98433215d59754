package etl

import (
	"sort"
	"strings"
	"unicode"

	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
)

// Search words (docs/adr/007-message-search.md): the ETL folds and splits a conversation's texts
// here, in the reader goroutine, so the merge only turns a word array into a tsvector. The rules
// are those of analytics.search_fold and analytics.search_document in SQL (migration 011; a test
// holds them equal): lower case, the accents of this table removed, words are runs of letters and
// digits, each kept once.

const (
	// accented and plain are analytics.search_fold's table (there in both cases: lower() does not
	// fold non-ASCII letters under LC_CTYPE=C; here the rune is lowered first).
	accented = "áàâãäéèêëíìîïóòôõöúùûüçñ"
	plain    = "aaaaaeeeeiiiiooooouuuucn"
	// maxWordRunes drops longer "words" (base64 blobs, URLs without separators): nobody searches them.
	maxWordRunes = 100
	// wordBudget caps one document (a tsvector holds at most 1 MB): the words, in byte order,
	// while their bytes plus one each fit, exactly as analytics.search_document.
	wordBudget = 262144
)

var unaccent = func() map[rune]rune {
	m := map[rune]rune{}
	p := []rune(plain)
	for i, r := range []rune(accented) {
		m[r] = p[i]
	}
	return m
}()

// foldRune is one character of analytics.search_fold.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	if p, ok := unaccent[r]; ok {
		return p
	}
	return r
}

// searchWords is the sorted set of folded words of a contact name and texts.
func searchWords(name string, texts []string) []string {
	seen := map[string]struct{}{}
	var b strings.Builder
	add := func() {
		if b.Len() > 0 {
			if w := b.String(); len([]rune(w)) <= maxWordRunes {
				seen[w] = struct{}{}
			}
		}
		b.Reset()
	}
	split := func(s string) {
		for _, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(foldRune(r))
			} else {
				add()
			}
		}
		add()
	}
	split(name)
	for _, t := range texts {
		split(t)
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	used := 0
	for i, w := range out {
		if used += len(w) + 1; used > wordBudget {
			return out[:i]
		}
	}
	return out
}

// grouped is what the merge needs of a conversation's messages, grouped by the ETL.
type grouped struct {
	words        []string // search words (searchWords)
	contactTexts []string // texts of the contact's public messages, for funnel regular expressions
}

// groupChunk computes, for every conversation of a chunk, its search words (contact name and
// public messages) and, when contactTexts, its contact's texts (else empty: no regex rule reads them).
func groupChunk(convs []cwsqlc.ExtractConversationsRow, msgs []cwsqlc.ExtractMessagesRow, contactTexts bool) map[int32]grouped {
	texts := make(map[int32][]string, len(convs))
	contact := make(map[int32][]string, len(convs))
	for _, m := range msgs {
		texts[m.ConversationID] = append(texts[m.ConversationID], m.Content)
		if contactTexts && m.Sender == "contact" {
			contact[m.ConversationID] = append(contact[m.ConversationID], m.Content)
		}
	}
	out := make(map[int32]grouped, len(convs))
	for _, c := range convs {
		ct := contact[c.ConversationID]
		if ct == nil {
			ct = []string{}
		}
		out[c.ConversationID] = grouped{words: searchWords(c.ContactName, texts[c.ConversationID]), contactTexts: ct}
	}
	return out
}
