package sheet

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// BenchmarkWrite writes 10,000 rows of a conversation-like table of 24 columns in each format.
func BenchmarkWrite(b *testing.B) {
	kinds := []Kind{Code, Code, Code, Text, Text, Text, Code, Text, DateTime, DateTime, Count, Count, Count,
		Duration, Duration, Duration, YesNo, YesNo, YesNo, YesNo, Count, YesNo, YesNo, YesNo}
	cols := make([]Column, len(kinds))
	for i, k := range kinds {
		cols[i] = Column{Key: "c" + strconv.Itoa(i), Title: "Coluna " + strconv.Itoa(i), Kind: k}
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	row := func(i int) []Value {
		return []Value{Int(int64(i)), Int(int64(i)), Labeled("2", "WhatsApp Recepção"), Labeled("Channel::Whatsapp", "WhatsApp"),
			Labeled("aberta", "Aberta"), Str("Contato " + strconv.Itoa(i)), Str("+5511987654321"), Str("lead, visita-agendada"),
			Time(at), Time(at), Int(3), Int(2), Int(1), Num(180.5), Num(3600.25), Null, Bool(true), Bool(false), Bool(true),
			Bool(false), Int(5), Bool(true), Bool(false), Bool(false)}
	}
	for _, f := range []Format{CSV, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			for range b.N {
				w, err := New(io.Discard, f, Table{Name: "Conversas", Columns: cols})
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < 10000; i++ {
					if err := w.Row(row(i)...); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
