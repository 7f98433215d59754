package sheet

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"
)

// measureRows is how many first rows the .xlsx holds back to size its columns: widths must be
// set before the stream's first row, and a chart's table is all in them.
const measureRows = 200

// maxWidth caps a measured column (in characters); longer texts are cut off on screen, not in
// the cell.
const maxWidth = 50

// ErrTooManyRows is a table longer than a sheet can hold (1,048,576 rows with the header).
var ErrTooManyRows = errors.New("sheet: more rows than an .xlsx sheet holds")

// excelEpoch is day 0 of Excel's 1900 date system (valid from 1 March 1900 on).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// xlsxWriter writes one sheet: a title and the About block, a blank row, the header row
// (frozen, with an auto-filter through an Excel table) and the rows, streamed.
type xlsxWriter struct {
	out    io.Writer
	t      Table
	shown  []int // the table's columns the .xlsx shows (all but CSVOnly), in order
	f      *excelize.File
	sw     *excelize.StreamWriter
	sheet  string
	kind   [YesNo + 1]int // cell style per kind
	head   int            // header row style
	label  int            // About labels
	title  int            // the title line
	width  []float64      // measured widths of the shown columns
	held   [][]any        // the first rows, until the widths are known
	row    int            // the last row written
	header int            // the header row's number
	cells  []any
	open   bool // the stream has started
	done   bool
}

// NewXLSX starts an .xlsx workbook of one sheet. Nothing reaches w before Close: the rows go
// to a temporary file (past 16 MiB; below that, memory) and Close writes the zip straight to w.
func NewXLSX(w io.Writer, t Table) (Writer, error) {
	if t.Loc == nil {
		t.Loc = time.UTC
	}
	if t.Locale.Yes == "" {
		t.Locale = PtBR
	}
	if t.Locale.TimeLayout == "" {
		t.Locale.TimeLayout = PtBR.TimeLayout
	}
	x := &xlsxWriter{out: w, t: t, f: excelize.NewFile()}
	for i, c := range t.Columns {
		if !c.CSVOnly {
			x.shown = append(x.shown, i)
		}
	}
	if len(x.shown) == 0 {
		return nil, fmt.Errorf("sheet: a table with no columns")
	}
	if err := x.setup(); err != nil {
		x.Abort()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) setup() error {
	x.sheet = sheetName(x.t.Name)
	if x.sheet != "Sheet1" {
		if err := x.f.SetSheetName("Sheet1", x.sheet); err != nil {
			return err
		}
	}
	if err := x.f.SetDocProps(&excelize.DocProperties{Title: x.t.Name, Language: x.t.Locale.Language}); err != nil {
		return err
	}
	text := 49 // "@": a cell formatted as text stays text even when someone edits it
	formats := [YesNo + 1]excelize.Style{
		Text:     {NumFmt: text},
		Code:     {NumFmt: text},
		Count:    {NumFmt: 3}, // #,##0
		Decimal:  {NumFmt: 4}, // #,##0.00
		Percent:  {CustomNumFmt: ptr("0.0%")},
		Duration: {CustomNumFmt: ptr("[h]:mm:ss")},
		Date:     {CustomNumFmt: ptr(x.t.Locale.DateFormat)},
		DateTime: {CustomNumFmt: ptr(x.t.Locale.DateTimeFormat)},
		YesNo: {CustomNumFmt: ptr(quote(x.t.Locale.Yes) + ";" + quote(x.t.Locale.Yes) + ";" + quote(x.t.Locale.No)),
			Alignment: &excelize.Alignment{Horizontal: "center"}},
	}
	var err error
	for k := Text; k <= YesNo; k++ {
		if x.kind[k], err = x.f.NewStyle(&formats[k]); err != nil {
			return err
		}
	}
	if x.head, err = x.f.NewStyle(&excelize.Style{NumFmt: text, Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "7F9DB9", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"}}); err != nil {
		return err
	}
	if x.label, err = x.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if x.title, err = x.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
		return err
	}
	x.width = make([]float64, len(x.shown))
	for j, i := range x.shown {
		c := x.t.Columns[i]
		x.width[j] = math.Max(minWidth(c.Kind, x.t.Locale), float64(utf8.RuneCountInString(c.title()))+3) // + the filter button
	}
	x.cells = make([]any, len(x.shown))
	x.header = 1
	if x.t.Name != "" || len(x.t.About) > 0 {
		x.header = 1 + len(x.t.About) + 2 // title, About, a blank row
	}
	return nil
}

func (c Column) title() string {
	if c.Title != "" {
		return c.Title
	}
	return c.Key
}

func (x *xlsxWriter) Row(vals ...Value) error {
	if x.done {
		return fmt.Errorf("sheet: row after Close")
	}
	if len(vals) != len(x.t.Columns) {
		return fmt.Errorf("sheet: a row has %d values for %d columns", len(vals), len(x.t.Columns))
	}
	if !x.open {
		cells := make([]any, len(x.shown))
		for j, i := range x.shown {
			var w float64
			cells[j], w = x.cell(vals[i], x.t.Columns[i])
			x.width[j] = math.Max(x.width[j], w)
		}
		x.held = append(x.held, cells)
		if len(x.held) < measureRows {
			return nil
		}
		return x.start()
	}
	if x.row >= excelize.TotalRows {
		return ErrTooManyRows
	}
	for j, i := range x.shown {
		x.cells[j] = x.value(vals[i], x.t.Columns[i])
	}
	x.row++
	return x.sw.SetRow(cellName(1, x.row), x.cells)
}

// value is a value as an excelize cell, once the columns are sized.
func (x *xlsxWriter) value(v Value, c Column) any {
	if v.typ == vStr {
		s := v.s
		if v.label != "" {
			s = v.label
		}
		style := x.kind[Text]
		if k := v.kindIn(c); k == Code {
			style = x.kind[Code]
		}
		return excelize.Cell{StyleID: style, Value: s}
	}
	cell, _ := x.cell(v, c)
	return cell
}

// cell is a value as an excelize cell, and the width it needs on screen.
func (x *xlsxWriter) cell(v Value, c Column) (any, float64) {
	k := v.kindIn(c)
	style := x.kind[k]
	switch v.typ {
	case vStr:
		s := v.s
		if v.label != "" {
			s = v.label
		}
		if k != Text && k != Code {
			style = x.kind[Text]
		}
		return excelize.Cell{StyleID: style, Value: s}, textWidth(s)
	case vNum:
		switch k {
		case Text, Code:
			s := formatFloat(v.f)
			return excelize.Cell{StyleID: style, Value: s}, textWidth(s)
		case Duration:
			return excelize.Cell{StyleID: style, Value: v.f / 86400}, float64(len(strconv.FormatInt(int64(v.f/3600), 10))) + 7
		case YesNo:
			n := 0
			if v.f != 0 {
				n = 1
			}
			return excelize.Cell{StyleID: style, Value: n}, 0
		case Percent:
			return excelize.Cell{StyleID: style, Value: v.f}, 8
		case Date, DateTime:
			return excelize.Cell{StyleID: style, Value: v.f}, 0
		}
		digits := len(strconv.FormatInt(int64(math.Abs(v.f)), 10))
		w := float64(digits + (digits-1)/3 + 2)
		if k == Decimal {
			w += 3
		}
		return excelize.Cell{StyleID: style, Value: v.f}, w
	case vTime:
		if k == Date {
			y, m, d := v.t.Date()
			return excelize.Cell{StyleID: style, Value: serial(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))}, 0
		}
		if k != DateTime {
			style = x.kind[DateTime]
		}
		return excelize.Cell{StyleID: style, Value: serial(v.t.In(x.t.Loc))}, 0
	}
	return nil, 0
}

// serial is an Excel date: days since its epoch, of t's wall clock.
func serial(t time.Time) float64 {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return float64(wall.Sub(excelEpoch)) / float64(24*time.Hour)
}

// start sizes the columns, freezes the panes, writes the title, the About block, the header row
// and the rows held so far.
func (x *xlsxWriter) start() error {
	x.open = true
	var err error
	if x.sw, err = x.f.NewStreamWriter(x.sheet); err != nil {
		return err
	}
	if len(x.t.About) > 0 {
		lw := 0.0
		for _, a := range x.t.About {
			lw = math.Max(lw, textWidth(a.Label)+1)
		}
		x.width[0] = math.Max(x.width[0], lw)
	}
	for j, i := range x.shown {
		w := x.width[j]
		if c := x.t.Columns[i]; c.Width > 0 {
			w = c.Width
		}
		if err := x.sw.SetColWidth(j+1, j+1, math.Min(w, maxWidth)); err != nil {
			return err
		}
	}
	below := cellName(1, x.header+1)
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: x.header, TopLeftCell: below, ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: below, ActiveCell: below, Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	if x.header > 1 {
		if err := x.sw.SetRow("A1", []any{excelize.Cell{StyleID: x.title, Value: x.t.Name}}, excelize.RowOpts{Height: 21}); err != nil {
			return err
		}
		for i, a := range x.t.About {
			val := a.Value
			if val.typ == vTime {
				val = Str(val.t.In(x.t.Loc).Format(x.t.Locale.TimeLayout))
			}
			v, _ := x.cell(val, Column{Kind: Text})
			if err := x.sw.SetRow(cellName(1, 2+i), []any{excelize.Cell{StyleID: x.label, Value: a.Label}, v}); err != nil {
				return err
			}
		}
	}
	head := make([]any, len(x.shown))
	for j, i := range x.shown {
		head[j] = excelize.Cell{StyleID: x.head, Value: x.t.Columns[i].title()}
	}
	x.row = x.header
	if err := x.sw.SetRow(cellName(1, x.row), head, excelize.RowOpts{Height: 18}); err != nil {
		return err
	}
	for _, cells := range x.held {
		x.row++
		if err := x.sw.SetRow(cellName(1, x.row), cells); err != nil {
			return err
		}
	}
	x.held = nil
	return nil
}

// Close writes the workbook to the output: the table (auto-filter over the header row and
// every row), then the zip, streamed from the temporary file.
func (x *xlsxWriter) Close() error {
	if x.done {
		return nil
	}
	defer x.Abort()
	if !x.open {
		if err := x.start(); err != nil {
			return err
		}
	}
	last := max(x.row, x.header+1) // a table has at least one row under its header
	if err := x.sw.AddTable(&excelize.Table{Range: cellName(1, x.header) + ":" + cellName(len(x.shown), last),
		Name: tableName(x.t.Name), StyleName: "TableStyleLight1"}); err != nil {
		return err
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	x.done = true
	// excelize assembles a workbook in a bytes.Buffer before copying it out; a zip writer of
	// our own (its documented hook) sends it to the output as it is compressed instead.
	// The fastest deflate level: about three times faster than the default for sheet XML, for
	// a file about a quarter larger.
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(x.out)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
		return zw
	})
	return x.f.Write(io.Discard)
}

// Abort removes the temporary file; the output got nothing unless Close got that far.
func (x *xlsxWriter) Abort() {
	x.done = true
	if x.f != nil {
		_ = x.f.Close()
		x.f = nil
	}
}

func minWidth(k Kind, l Locale) float64 {
	switch k {
	case Date:
		return float64(len(l.DateFormat)) + 2
	case DateTime:
		return float64(len(l.DateTimeFormat)) + 2
	case Duration:
		return 10
	case YesNo:
		return math.Max(textWidth(l.Yes), textWidth(l.No)) + 2
	case Code:
		return 8
	}
	return 6
}

// textWidth approximates a text's width in characters of the default font: East Asian wide
// characters take two.
func textWidth(s string) float64 {
	n := 0
	for _, r := range s {
		n++
		if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) ||
			unicode.Is(unicode.Katakana, r) || (r >= 0xFF00 && r <= 0xFF60) {
			n++
		}
		if n > maxWidth {
			break
		}
	}
	return float64(n) + 1
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// sheetName is a name Excel accepts: at most 31 characters, none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Trim(strings.TrimSpace(s), "'")
	if r := []rune(s); len(r) > 31 {
		s = strings.TrimSpace(string(r[:31]))
	}
	if s == "" {
		return "Sheet1"
	}
	return s
}

// tableName is the name of the sheet's Excel table (formulas use it: =SUM(Conversas[Leads])):
// letters, digits and underscores, starting with a letter.
func tableName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) { // "1ª Matrícula" becomes 1a_Matricula
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	name := strings.TrimRight(b.String(), "_")
	if name == "" || !unicode.IsLetter(rune(name[0])) || looksLikeCell(name) {
		name = "Tabela_" + name
	}
	return strings.TrimRight(name, "_")
}

// looksLikeCell reports whether a name reads as a cell reference (A1, XFD99, R1C1), which
// Excel refuses as a table name.
func looksLikeCell(s string) bool {
	u := strings.ToUpper(s)
	if u == "R" || u == "C" {
		return true
	}
	i := 0
	for i < len(u) && u[i] >= 'A' && u[i] <= 'Z' {
		i++
	}
	if i == 0 || i == len(u) {
		return false
	}
	for j := i; j < len(u); j++ {
		if u[j] < '0' || u[j] > '9' {
			return u[0] == 'R' && strings.Contains(u, "C")
		}
	}
	return i <= 3
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func ptr[T any](v T) *T { return &v }
