package chartpng_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/geniai/analytics/internal/chartpng"
)

// The charts decode as PNG at twice their display size, and the bars are where the values say:
// the tallest bar reaches the top of the plot in the series colour, an empty day draws nothing.
func TestBarsDrawTheValues(t *testing.T) {
	t.Parallel()
	labels := []string{"01/12", "02/12", "03/12", "04/12"}
	c := chartpng.Bars{Title: "Conversas por dia", Labels: labels, Width: 400, Height: 200, Series: []chartpng.Series{
		{Name: "Conversas", Colour: "#0F766E", Values: []float64{10, 0, 40, 20}},
		{Name: "Leads", Colour: "#B45309", Values: []float64{5, 0, 10, 20}},
	}}
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 800 || h != 400 {
		t.Fatalf("size %dx%d, want 800x400", w, h)
	}
	// Count the bars crossing a row: runs of the first series' colour (the second is inset, so
	// the first shows at both edges of a bar).
	teal := [3]uint32{0x0F, 0x76, 0x6E}
	runs := func(y int) int {
		n, in := 0, false
		for x := 0; x < 800; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			is := [3]uint32{r >> 8, g >> 8, b >> 8} == teal
			if is && !in {
				n++
			}
			in = is
		}
		return n
	}
	bottom, top := 400-44, 30*2
	// Just above the axis: 3 bars (10, 40, 20; the empty day draws nothing), each showing teal at
	// both sides of its inset second-series bar: 6 runs.
	if got := runs(bottom - 4); got != 6 {
		t.Errorf("%d teal runs above the axis, want 6 (three bars)", got)
	}
	// 40 is the axis maximum: only the 40-bar reaches just below the top gridline, and it has no
	// inset bar there (its leads are 10): one run.
	if got := runs(top + 6); got != 1 {
		t.Errorf("%d teal runs at the top, want 1 (the tallest bar reaches the axis maximum)", got)
	}
	// Half-way (20 of 40): the 40-bar and the 20-bar's edges (the 20-bar is 20 leads inside 20).
	if got := runs(bottom - (bottom-top)/2 + 6); got != 3 {
		t.Errorf("%d teal runs half-way, want 3", got)
	}
	if dir := os.Getenv("TEST_ARTIFACTS"); dir != "" {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, "chartpng-bars.png"), b, 0o644)
	}
}

func TestHBarsAndFormat(t *testing.T) {
	t.Parallel()
	b, err := chartpng.HBars{Title: "Funil", Labels: []string{"Conversas", "Leads", "Visitas agendadas", "Matrículas"},
		Values: []float64{1200, 800, 300, 90}, Notes: []string{"", "67%", "38%", "30%"}, Colour: "#1D4ED8"}.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 1120 {
		t.Fatalf("decode: %v, %v", err, img.Bounds())
	}
	if dir := os.Getenv("TEST_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "chartpng-funnel.png"), b, 0o644)
	}
	for in, want := range map[int64]string{0: "0", 999: "999", 1234: "1.234", 1234567: "1.234.567", -5000: "-5.000"} {
		if got := chartpng.FormatInt(in); got != want {
			t.Errorf("FormatInt(%d) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkBarsPNG(b *testing.B) {
	labels := make([]string, 30)
	vals := make([]float64, 30)
	for i := range labels {
		labels[i] = "01/12"
		vals[i] = float64(i * 3)
	}
	c := chartpng.Bars{Title: "Conversas por dia", Labels: labels, Series: []chartpng.Series{{Name: "Conversas", Colour: "#0F766E", Values: vals}}}
	for b.Loop() {
		if _, err := c.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}
