// Package sheettest reads exports back in tests: an .xlsx's header block, header row, frozen
// pane, auto-filter and typed cells, and whether it holds the same values as the CSV of the same
// table. Any export built on package sheet can be checked with it.
package sheettest

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/geniai/analytics/internal/sheet"
)

// Book is an .xlsx export read back.
type Book struct {
	F      *excelize.File
	Sheet  string
	Title  string            // the first line, when there is a header block
	About  map[string]string // header block: label → value as shown
	Header int               // the header row's number
	Titles []string          // the header row
	Rows   []Row             // every row under the header
}

// Row is one row of cells under the header.
type Row []Cell

// Cell is one cell: its raw value, its value as shown, its type, and the kind its number format
// says it holds (0 for an empty cell).
type Cell struct {
	Raw, Shown string
	Type       excelize.CellType
	Kind       sheet.Kind
	Formula    string
}

// Open parses an .xlsx export and checks what every export promises: one sheet, a header row
// that is frozen and carries an auto-filter (an Excel table) over every row, no formula
// anywhere.
func Open(t testing.TB, data []byte) *Book {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an .xlsx: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %v, want one", sheets)
	}
	b := &Book{F: f, Sheet: sheets[0], About: map[string]string{}}
	rows, err := f.GetRows(b.Sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	// A header block is a title line, label/value lines and a blank line; without one the
	// header is row 1.
	b.Header = 1
	for i, r := range rows {
		if len(r) == 0 || strings.Join(r, "") == "" {
			b.Header = i + 2
			break
		}
	}
	if b.Header > 1 {
		b.Title = cellText(t, f, b.Sheet, 1, 1)
		for r := 2; r < b.Header-1; r++ {
			b.About[cellText(t, f, b.Sheet, 1, r)] = cellText(t, f, b.Sheet, 2, r)
		}
	}
	if len(rows) < b.Header {
		t.Fatalf("no header row (%d rows)", len(rows))
	}
	b.Titles = rows[b.Header-1]
	styles := map[int]sheet.Kind{}
	for r := b.Header + 1; r <= len(rows); r++ {
		row := make(Row, len(b.Titles))
		for c := range row {
			row[c] = readCell(t, f, b.Sheet, c+1, r, styles)
		}
		b.Rows = append(b.Rows, row)
	}

	panes, err := f.GetPanes(b.Sheet)
	if err != nil || !panes.Freeze || panes.YSplit != b.Header {
		t.Errorf("panes %+v (%v): want frozen under row %d", panes, err, b.Header)
	}
	tables, err := f.GetTables(b.Sheet)
	last := max(b.Header+len(b.Rows), b.Header+1)
	want := cell(1, b.Header) + ":" + cell(len(b.Titles), last)
	if err != nil || len(tables) != 1 || tables[0].Range != want {
		t.Errorf("tables %+v (%v): want one over %s", tables, err, want)
	}
	parts := unzip(t, data)
	if !bytes.Contains(parts["xl/tables/table1.xml"], []byte(`<autoFilter ref="`+want+`"`)) {
		t.Errorf("no auto-filter over %s", want)
	}
	for name, p := range parts {
		if strings.HasPrefix(name, "xl/worksheets/") && (bytes.Contains(p, []byte("<f>")) || bytes.Contains(p, []byte("<f "))) {
			t.Errorf("%s holds a formula", name)
		}
	}
	return b
}

// Column is the index of the column titled title, or -1.
func (b *Book) Column(title string) int {
	for i, s := range b.Titles {
		if s == title {
			return i
		}
	}
	return -1
}

func cellText(t testing.TB, f *excelize.File, sh string, col, row int) string {
	t.Helper()
	v, err := f.GetCellValue(sh, cell(col, row))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readCell(t testing.TB, f *excelize.File, sh string, col, row int, styles map[int]sheet.Kind) Cell {
	t.Helper()
	name := cell(col, row)
	var c Cell
	var err error
	if c.Raw, err = f.GetCellValue(sh, name, excelize.Options{RawCellValue: true}); err != nil {
		t.Fatal(err)
	}
	c.Shown, _ = f.GetCellValue(sh, name)
	c.Type, _ = f.GetCellType(sh, name)
	c.Formula, _ = f.GetCellFormula(sh, name)
	if c.Raw == "" {
		return c
	}
	id, _ := f.GetCellStyle(sh, name)
	k, ok := styles[id]
	if !ok {
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		k = kindOf(st)
		styles[id] = k
	}
	c.Kind = k
	return c
}

// kindOf is the kind a cell style's number format shows.
func kindOf(st *excelize.Style) sheet.Kind {
	custom := ""
	if st.CustomNumFmt != nil {
		custom = *st.CustomNumFmt
	}
	switch {
	case st.NumFmt == 49:
		return sheet.Text
	case st.NumFmt == 3:
		return sheet.Count
	case st.NumFmt == 4:
		return sheet.Decimal
	case custom == "0.0%":
		return sheet.Percent
	case custom == "[h]:mm:ss":
		return sheet.Duration
	case strings.HasPrefix(custom, `"`) && strings.Count(custom, ";") == 2:
		return sheet.YesNo
	case strings.Contains(custom, "hh:mm"):
		return sheet.DateTime
	case strings.Contains(custom, "yyyy"):
		return sheet.Date
	}
	return 0
}

// Labels turn a CSV code into the name the .xlsx shows, by column key (an inbox id into its
// name, "Channel::Whatsapp" into WhatsApp).
type Labels map[string]func(code string) string

// SameAsCSV checks that the .xlsx holds the CSV's rows: the same number, in the same order,
// every cell equal to its CSV field through its kind (a count is the same number, a duration in
// days is the CSV's seconds, an instant is the CSV's RFC 3339 time in loc, a yes/no is 1/0, a text
// is the CSV's text without the apostrophe that neutralised it). Cells must be typed as their
// column says; a column in mixed may hold cells of any numeric kind (a table of indicators).
func SameAsCSV(t testing.TB, b *Book, csvData []byte, cols []sheet.Column, loc *time.Location, labels Labels, mixed ...string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	var keys []string
	for _, c := range cols {
		keys = append(keys, c.Key)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(keys, ",") {
		t.Fatalf("CSV header %q, want %q", recs[0], keys)
	}
	if len(recs)-1 != len(b.Rows) {
		t.Fatalf("CSV has %d rows, .xlsx %d", len(recs)-1, len(b.Rows))
	}
	errs := 0
	for i, rec := range recs[1:] {
		j := 0
		for k, c := range cols {
			if c.CSVOnly {
				continue
			}
			if b.Titles[j] != c.Title {
				t.Fatalf("column %d is %q, want %q", j, b.Titles[j], c.Title)
			}
			x := b.Rows[i][j]
			j++
			if msg := same(c, rec[k], x, loc, labels[c.Key], contains(mixed, c.Key)); msg != "" && errs < 20 {
				errs++
				t.Errorf("row %d, %s: CSV %q, .xlsx %q (%s)", i+1, c.Key, rec[k], x.Raw, msg)
			}
		}
	}
}

func same(c sheet.Column, field string, x Cell, loc *time.Location, label func(string) string, mixed bool) string {
	if x.Formula != "" {
		return "a formula"
	}
	if field == "" {
		if x.Raw != "" {
			return "not empty"
		}
		return ""
	}
	kind := c.Kind
	if mixed && x.Kind != 0 {
		kind = x.Kind
	}
	if want := kind; x.Kind != want && !(want == sheet.Code && x.Kind == sheet.Text) { // a code is formatted as text
		return "shown as kind " + strconv.Itoa(int(x.Kind)) + ", column kind " + strconv.Itoa(int(kind))
	}
	switch kind {
	case sheet.Text, sheet.Code:
		if x.Type != excelize.CellTypeInlineString && x.Type != excelize.CellTypeSharedString {
			return "not a string cell"
		}
		if label != nil {
			if label(field) != x.Raw {
				return "not the code's name"
			}
		} else if field != sheet.Neutralize(x.Raw) {
			return "different text"
		}
		return ""
	}
	if x.Type != excelize.CellTypeUnset && x.Type != excelize.CellTypeNumber {
		return "not a number cell"
	}
	v, err := strconv.ParseFloat(x.Raw, 64)
	if err != nil {
		return "not a number"
	}
	switch kind {
	case sheet.Date:
		if excelDate(v).Format("2006-01-02") != field {
			return "another day"
		}
		return ""
	case sheet.DateTime:
		at, err := time.Parse(time.RFC3339, field)
		if err != nil || math.Abs(excelDate(v).Sub(wall(at.In(loc))).Seconds()) > 0.5 {
			return "another time"
		}
		return ""
	case sheet.Duration:
		v *= 86400
	}
	n, err := strconv.ParseFloat(field, 64)
	if err != nil || math.Abs(n-v) > 0.0005+1e-9*math.Abs(n) {
		return "another number"
	}
	return ""
}

var epoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

func excelDate(v float64) time.Time { return epoch.Add(time.Duration(math.Round(v * 86400e9))) }

func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

func unzip(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}
