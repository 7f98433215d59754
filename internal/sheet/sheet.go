// Package sheet writes a table of typed columns as CSV, for machines, or as an .xlsx workbook,
// for people. A column says what it holds (free text, an identifier, a count, a rate, a
// duration, a day, an instant, a yes/no) and each format writes that its own way: the CSV keeps
// machine forms (codes, seconds, fractions, ISO 8601 times, 1/0), the .xlsx typed cells with
// number formats, names instead of codes, a header block saying what the file holds, a frozen
// header row and an auto-filter.
//
// No cell is ever a formula built from data: the .xlsx writes every text as a string cell
// formatted as text, and the CSV neutralises text that a spreadsheet would run (Neutralize).
// Both stream: the CSV row by row, the .xlsx through excelize's stream writer into a temporary
// file, so memory stays flat however many rows a table has.
package sheet

import (
	"errors"
	"io"
	"strconv"
	"time"
)

// Kind is what a column (or one cell) holds.
type Kind uint8

const (
	// Text is free text from users or Chatwoot (names, labels, messages).
	Text Kind = iota + 1
	// Code is an identifier or a phone number: text in both formats, never a number, so an id
	// keeps its digits and a phone its "+".
	Code
	// Count is an integer count.
	Count
	// Decimal is a measure with decimals.
	Decimal
	// Percent is a fraction (0.231 is 23.1%): the fraction in the CSV, 23.1% in the .xlsx.
	Percent
	// Duration is seconds: seconds in the CSV, [h]:mm:ss in the .xlsx.
	Duration
	// Date is a calendar day (the time's own year, month and day; no zone conversion).
	Date
	// DateTime is an instant, shown in the table's timezone.
	DateTime
	// YesNo is a flag: 1/0 in the CSV; a number shown as Sim/Não in the .xlsx, so it still sums.
	YesNo
)

// Column is one column of a table.
type Column struct {
	Key   string // the CSV header: a stable machine name ("conversa_id")
	Title string // the .xlsx header, for people ("ID da conversa"); Key when empty
	Kind  Kind
	// Width is the .xlsx column width in characters; 0 measures the title and the first rows.
	Width float64
	// CSVOnly is machine detail the .xlsx leaves out (an id next to its name).
	CSVOnly bool
}

// Field is one line of the .xlsx header block ("Período", "01/03/2026 a 30/03/2026").
type Field struct {
	Label string
	Value Value
}

// Table describes what a writer writes.
type Table struct {
	// Name is what the table is ("Conversas"): the .xlsx sheet's name and its title.
	Name string
	// About is the .xlsx header block above the table: tenant, period, active filters, when it
	// was made. The CSV has no header block (its first line is the column keys).
	About   []Field
	Columns []Column
	// Loc is the timezone DateTime values are written in (the tenant's); nil is UTC.
	Loc *time.Location
	// Locale is the .xlsx's words and date formats; the zero value is PtBR.
	Locale Locale
}

// Locale is what the .xlsx writes in the reader's language. Numbers carry no separators of
// their own: the spreadsheet shows them in its user's locale.
type Locale struct {
	Language       string // the workbook's language tag
	Yes, No        string
	DateFormat     string // an Excel number format for a Date
	DateTimeFormat string // and for a DateTime
	TimeLayout     string // a Go layout for instants written as text (the header block)
}

// PtBR and English are the two locales of the product.
var (
	PtBR    = Locale{Language: "pt-BR", Yes: "Sim", No: "Não", DateFormat: "dd/mm/yyyy", DateTimeFormat: "dd/mm/yyyy hh:mm", TimeLayout: "02/01/2006 15:04"}
	English = Locale{Language: "en", Yes: "Yes", No: "No", DateFormat: "yyyy-mm-dd", DateTimeFormat: "yyyy-mm-dd hh:mm", TimeLayout: "2006-01-02 15:04"}
)

// Format is a file format: CSV or XLSX.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat reads a format from a file extension or a parameter ("csv", ".xlsx").
func ParseFormat(s string) (Format, bool) {
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	switch Format(s) {
	case CSV, XLSX:
		return Format(s), true
	}
	return "", false
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the format's file extension, with its dot.
func (f Format) Ext() string { return "." + string(f) }

// Writer receives a table's rows, in the order of its columns (CSVOnly columns included).
type Writer interface {
	Row(vals ...Value) error
	// Close finishes the file: the CSV's buffered rows, or the whole .xlsx, go out now, and
	// temporary files are removed.
	Close() error
	// Abort releases what the writer holds without finishing the file (the .xlsx then wrote
	// nothing at all). It does nothing after Close; call it deferred.
	Abort()
}

// New starts a table in format f on w.
func New(w io.Writer, f Format, t Table) (Writer, error) {
	switch f {
	case CSV:
		return NewCSV(w, t)
	case XLSX:
		return NewXLSX(w, t)
	}
	return nil, errors.New("sheet: unknown format " + strconv.Quote(string(f)))
}

type vtype uint8

const (
	vNull vtype = iota
	vStr
	vNum
	vTime
)

// Value is one cell. Its column's Kind says how it is written, unless the value carries its
// own (As), as in a table of indicators where one column holds counts, rates and durations.
type Value struct {
	typ   vtype
	kind  Kind
	s     string // text, or the code of a labelled value
	label string // the .xlsx form of a labelled value
	f     float64
	t     time.Time
}

// Null is an empty cell.
var Null = Value{}

// Str is a text.
func Str(s string) Value { return Value{typ: vStr, s: s} }

// Labeled is a code with a name for people: the CSV writes the code ("Channel::Whatsapp", an
// inbox id), the .xlsx the label ("WhatsApp", the inbox's name).
func Labeled(code, label string) Value { return Value{typ: vStr, s: code, label: label} }

// Int is an integer (a count, or an id in a Code column).
func Int(n int64) Value { return Value{typ: vNum, f: float64(n)} }

// Num is a number: a measure, a fraction in a Percent column, seconds in a Duration column.
func Num(x float64) Value { return Value{typ: vNum, f: x} }

// NumPtr is Num, or Null for nil.
func NumPtr(x *float64) Value {
	if x == nil {
		return Null
	}
	return Num(*x)
}

// Bool is a flag for a YesNo column.
func Bool(b bool) Value {
	if b {
		return Value{typ: vNum, f: 1}
	}
	return Value{typ: vNum, f: 0}
}

// Time is a day (Date column) or an instant (DateTime column); the zero time is Null.
func Time(t time.Time) Value {
	if t.IsZero() {
		return Null
	}
	return Value{typ: vTime, t: t}
}

// As gives a value its own kind, overriding its column's.
func (v Value) As(k Kind) Value { v.kind = k; return v }

// IsNull reports whether the cell is empty.
func (v Value) IsNull() bool { return v.typ == vNull }

func (v Value) kindIn(c Column) Kind {
	if v.kind != 0 {
		return v.kind
	}
	return c.Kind
}

// Machine is the value as the CSV writes it for a column of kind k, before neutralisation:
// codes, integers, up to three decimals, fractions, seconds, ISO 8601 days and times in loc, 1/0.
func (v Value) Machine(k Kind, loc *time.Location) string {
	switch v.typ {
	case vStr:
		return v.s
	case vNum:
		return formatFloat(v.f)
	case vTime:
		if k == Date {
			return v.t.Format("2006-01-02")
		}
		if loc == nil {
			loc = time.UTC
		}
		return v.t.In(loc).Format(time.RFC3339)
	}
	return ""
}

// formatFloat writes integers without decimals and anything else with at most three.
func formatFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			if len(s)-i > 4 {
				return strconv.FormatFloat(x, 'f', 3, 64)
			}
			break
		}
	}
	return s
}
