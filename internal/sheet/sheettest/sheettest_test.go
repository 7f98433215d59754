package sheettest_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/sheet"
	"github.com/geniai/analytics/internal/sheet/sheettest"
)

func write(t *testing.T, f sheet.Format, tbl sheet.Table, rows [][]sheet.Value) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := sheet.New(&buf, f, tbl)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, r := range rows {
		if err := w.Row(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The CSV and the .xlsx of the same rows hold the same values, kind by kind; a changed value
// is caught.
func TestSameAsCSV(t *testing.T) {
	t.Parallel()
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	cols := []sheet.Column{
		{Key: "id", Title: "ID", Kind: sheet.Code}, {Key: "caixa_id", Title: "Caixa", Kind: sheet.Code},
		{Key: "nome", Title: "Nome", Kind: sheet.Text}, {Key: "n", Title: "N", Kind: sheet.Count},
		{Key: "x", Title: "X", Kind: sheet.Decimal}, {Key: "taxa", Title: "Taxa", Kind: sheet.Percent},
		{Key: "espera_s", Title: "Espera", Kind: sheet.Duration}, {Key: "dia", Title: "Dia", Kind: sheet.Date},
		{Key: "em", Title: "Em", Kind: sheet.DateTime}, {Key: "ok", Title: "OK", Kind: sheet.YesNo},
		{Key: "valor", Title: "Valor", Kind: sheet.Decimal}, {Key: "interno", Kind: sheet.Code, CSVOnly: true},
	}
	var rows [][]sheet.Value
	for i, name := range []string{"Ana", "=HYPERLINK(\"http://x.test\")", " @SUM(1)", "\uFF1D1+1", "", "-5"} {
		at := time.Date(2026, 3, 1, 2, 30, 15, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour)
		v := sheet.Num(float64(i) / 7).As(sheet.Percent)
		if i%2 == 1 {
			v = sheet.Num(float64(i) * 1234.5).As(sheet.Duration)
		}
		rows = append(rows, []sheet.Value{sheet.Int(int64(100 + i)), sheet.Labeled(strconv.Itoa(i%2+1), []string{"WhatsApp", "Instagram"}[i%2]),
			sheet.Str(name), sheet.Int(int64(i * 1000)), sheet.Num(float64(i) / 3), sheet.Num(float64(i) / 9), sheet.Num(float64(i) * 3600.25),
			sheet.Time(at), sheet.Time(at), sheet.Bool(i%2 == 0), v, sheet.Str("x")})
	}
	rows = append(rows, []sheet.Value{sheet.Int(1), sheet.Labeled("1", "WhatsApp"), sheet.Null, sheet.Null, sheet.Null, sheet.Null,
		sheet.Null, sheet.Null, sheet.Null, sheet.Null, sheet.Null, sheet.Null})
	tbl := sheet.Table{Name: "Teste", About: []sheet.Field{{Label: "Cliente", Value: sheet.Str("Academia")}}, Columns: cols, Loc: sp}
	labels := sheettest.Labels{"caixa_id": func(code string) string { return map[string]string{"1": "WhatsApp", "2": "Instagram"}[code] }}
	csvData := write(t, sheet.CSV, tbl, rows)
	book := sheettest.Open(t, write(t, sheet.XLSX, tbl, rows))
	if book.Title != "Teste" || book.About["Cliente"] != "Academia" || book.Header != 4 || len(book.Rows) != len(rows) {
		t.Fatalf("book %q %v header %d, %d rows", book.Title, book.About, book.Header, len(book.Rows))
	}
	sheettest.SameAsCSV(t, book, csvData, cols, sp, labels, "valor")

	// The comparison fails when a value differs (checked against a recording test).
	rows[2][3] = sheet.Int(999)
	rec := &recorder{TB: t}
	sheettest.SameAsCSV(rec, book, write(t, sheet.CSV, tbl, rows), cols, sp, labels, "valor")
	if rec.errors != 1 {
		t.Errorf("a changed count gave %d errors, want 1", rec.errors)
	}
}

type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Errorf(string, ...any) { r.errors++ }
func (r *recorder) Helper()               {}
