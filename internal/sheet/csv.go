package sheet

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// csvWriter writes RFC 4180 CSV: comma, decimal point, UTF-8 without a byte-order mark, a
// first line of column keys, machine forms of every value.
type csvWriter struct {
	t    Table
	b    *bufio.Writer
	w    *csv.Writer
	rec  []string
	done bool
}

// NewCSV starts a CSV table on w and writes its header line (buffered: nothing reaches w
// before 64 KiB of rows or Close, so a failure early on can still answer with an error page).
func NewCSV(w io.Writer, t Table) (Writer, error) {
	b := bufio.NewWriterSize(w, 64<<10)
	c := &csvWriter{t: t, b: b, w: csv.NewWriter(b), rec: make([]string, len(t.Columns))}
	for i, col := range t.Columns {
		c.rec[i] = col.Key
	}
	if err := c.w.Write(c.rec); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *csvWriter) Row(vals ...Value) error {
	if len(vals) != len(c.t.Columns) {
		return fmt.Errorf("sheet: a row has %d values for %d columns", len(vals), len(c.t.Columns))
	}
	for i, v := range vals {
		s := v.Machine(v.kindIn(c.t.Columns[i]), c.t.Loc)
		if v.typ == vStr {
			s = Neutralize(s)
		}
		c.rec[i] = s
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Close() error {
	if c.done {
		return nil
	}
	c.done = true
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.b.Flush()
}

// Abort drops the buffered rows (what already reached the output stays there).
func (c *csvWriter) Abort() { c.done = true }

// Neutralize makes a text safe to open in a spreadsheet. A text that starts with a character
// a spreadsheet takes as the start of a formula gets a leading apostrophe, which spreadsheets
// read as "this is text" and do not show. Leading whitespace, control and invisible format
// characters are skipped first, because importers that trim them would otherwise run
// " =HYPERLINK(...)"; the signs count in their ASCII, full-width (＝＋－＠) and small (﹦﹢﹣﹫)
// forms, and a leading tab or carriage return counts too. A plain signed number ("-12.5",
// "+5511987654321") stays as it is: it cannot run anything.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	rest := strings.TrimLeftFunc(s, ignorable)
	if rest == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if !formulaStart(r) || plainNumber(rest) {
		return s
	}
	return "'" + s
}

// ignorable is what an importer may drop before a cell's first visible character.
func ignorable(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

func formulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@',
		'\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', // full-width ＝ ＋ － ＠
		'\uFE66', '\uFE62', '\uFE63', '\uFE6B', // small ﹦ ﹢ ﹣ ﹫
		'\u2212': // minus sign −
		return true
	}
	return false
}

// plainNumber reports whether s is an optionally signed decimal number in ASCII digits.
func plainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && !dot && digits > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
