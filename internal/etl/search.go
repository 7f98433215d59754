package etl

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Search words (docs/adr/007-message-search.md): the ETL folds and splits a conversation's texts
// here, in the reader goroutine, so the merge only turns a word array into a tsvector. The rules
// are those of analytics.search_fold and analytics.search_document in SQL (migration 011; a test
// holds them equal): lower case, the accents of this table removed, words are runs of letters and
// digits, each kept once; a word only the bot or an agent wrote carries otherMark.

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

// otherMark starts a word that only the bot, an agent or an activity wrote (ADR 027): the
// contact's own words (name and incoming messages) are stored plain and found by default; a
// search that includes the bot's and agents' messages also looks for the marked words. A word
// both wrote is stored once, plain. The mark is no letter or digit, so no typed word holds it.
const otherMark = "~"

// incoming is Chatwoot's message_type of a message the contact wrote.
const incoming = 0

// searchWords is a conversation's search document: the folded words of the contact's name and
// messages (types[i] == incoming), then the words only the other messages hold, each with
// otherMark. When they all fit the budget they come in no particular order (array_to_tsvector
// sorts them anyway, and sorting here was a tenth of the loader's own CPU); otherwise each group
// is sorted and cut while the budget lasts, the contact's words kept first, exactly as
// analytics.search_document cuts.
func searchWords(name string, texts []string, types []int16) []string {
	var ws wordSets
	return ws.words(name, texts, types)
}

// wordSets are searchWords' two sets of words, kept from one conversation to the next of a chunk
// so that their maps are allocated once.
type wordSets struct{ contact, other splitter }

func (ws *wordSets) words(name string, texts []string, types []int16) []string {
	contact, other := &ws.contact, &ws.other
	if contact.seen == nil {
		contact.seen, other.seen = make(map[string]struct{}, 64), make(map[string]struct{}, 64)
	}
	clear(contact.seen)
	clear(other.seen)
	contact.split(name)
	for i, t := range texts {
		if types[i] == incoming {
			contact.split(t)
		}
	}
	for i, t := range texts {
		if types[i] != incoming {
			other.split(t)
		}
	}
	out := make([]string, 0, len(contact.seen)+len(other.seen))
	size := 0
	for word := range contact.seen {
		out = append(out, word)
		size += len(word) + 1
	}
	n := len(out)
	for word := range other.seen {
		if _, ok := contact.seen[word]; !ok {
			out = append(out, otherMark+word)
			size += len(otherMark) + len(word) + 1
		}
	}
	if size <= wordBudget {
		return out
	}
	slices.Sort(out[:n])
	slices.Sort(out[n:])
	used := 0
	for i, word := range out {
		if used += len(word) + 1; used > wordBudget {
			return out[:i]
		}
	}
	return out
}
