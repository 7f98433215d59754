package etl

import (
	"cmp"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

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

// unaccent maps the lower-case accented letters of the table to plain ones; they all lie in
// U+00E0..U+00FF, so a 32-entry array indexed from U+00E0 (0: no mapping).
var unaccent = func() (t [32]rune) {
	p := []rune(plain)
	for i, r := range []rune(accented) {
		t[r-0xE0] = p[i]
	}
	return t
}()

// foldRune is one character of analytics.search_fold.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	if r >= 0xE0 && r <= 0xFF {
		if p := unaccent[r-0xE0]; p != 0 {
			return p
		}
	}
	return r
}

// splitter collects the distinct folded words of texts. It runs on every message of a load, so
// ASCII (most of any text) takes a byte path; every other rune is decoded and folded.
type splitter struct {
	seen  map[string]struct{}
	word  []byte
	runes int // runes in word
}

func (w *splitter) split(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				w.word = append(w.word, c)
				w.runes++
			case 'A' <= c && c <= 'Z':
				w.word = append(w.word, c+'a'-'A')
				w.runes++
			default:
				w.end()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			w.word = utf8.AppendRune(w.word, foldRune(r))
			w.runes++
		} else {
			w.end()
		}
	}
	w.end()
}

// end closes the current word: kept once, unless longer than maxWordRunes.
func (w *splitter) end() {
	if len(w.word) > 0 && w.runes <= maxWordRunes {
		if _, ok := w.seen[string(w.word)]; !ok {
			w.seen[string(w.word)] = struct{}{}
		}
	}
	w.word, w.runes = w.word[:0], 0
}

// searchWords is the sorted set of folded words of a contact name and texts.
func searchWords(name string, texts []string) []string {
	w := splitter{seen: make(map[string]struct{}, 64)}
	w.split(name)
	for _, t := range texts {
		w.split(t)
	}
	out := make([]string, 0, len(w.seen))
	for word := range w.seen {
		out = append(out, word)
	}
	slices.Sort(out)
	used := 0
	for i, word := range out {
		if used += len(word) + 1; used > wordBudget {
			return out[:i]
		}
	}
	return out
}

// grouped is a conversation's public messages as the merge takes them: its transcript as
// parallel arrays, oldest first (created_at, then message id), and its search words.
type grouped struct {
	ids       []int32
	createdAt []time.Time
	senders   []string
	types     []int16
	contents  []string
	deleted   []bool
	words     []string // search words (searchWords)
}

// groupChunk orders every conversation's transcript of a chunk oldest first (created_at, then
// message id: the source sends it in no particular order) and computes its search words
// (contact name and messages).
func groupChunk(convs []cwsqlc.ExtractConversationsRow) map[int32]*grouped {
	out := make(map[int32]*grouped, len(convs))
	for _, c := range convs {
		order := make([]int, len(c.MessageIds))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return cmp.Or(c.MessageCreatedAt[a].Time.Compare(c.MessageCreatedAt[b].Time), cmp.Compare(c.MessageIds[a], c.MessageIds[b]))
		})
		g := &grouped{ids: make([]int32, len(order)), createdAt: make([]time.Time, len(order)), senders: make([]string, len(order)),
			types: make([]int16, len(order)), contents: make([]string, len(order)), deleted: make([]bool, len(order))}
		for i, k := range order {
			g.ids[i], g.createdAt[i], g.senders[i] = c.MessageIds[k], c.MessageCreatedAt[k].Time, c.MessageSenders[k]
			g.types[i], g.contents[i], g.deleted[i] = c.MessageTypes[k], c.MessageContents[k], c.MessageDeleted[k]
		}
		g.words = searchWords(c.ContactName, g.contents)
		out[c.ConversationID] = g
	}
	return out
}
