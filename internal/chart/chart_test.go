package chart

import (
	"math"
	"strconv"
	"testing"
)

func TestScaleIsRoundAndClose(t *testing.T) {
	t.Parallel()
	cases := []struct{ max, top, step int64 }{
		{0, 4, 1}, {1, 1, 1}, {3, 3, 1}, {6, 6, 1}, {7, 8, 2}, {26, 30, 5}, {100, 100, 20},
		{101, 120, 20}, {230, 250, 50}, {422, 500, 100}, {457, 500, 100}, {1376, 1500, 250}, {9_999, 10_000, 2_000},
	}
	for _, c := range cases {
		top, step := Scale(c.max)
		if top != c.top || step != c.step {
			t.Errorf("Scale(%d) = %d step %d, want %d step %d", c.max, top, step, c.top, c.step)
		}
	}
	// Whatever the maximum, the axis covers it with at most 6 whole steps and never runs past
	// twice the tallest bar (the daily chart once ran to 100 for a busiest day of 26).
	for max := int64(1); max < 200_000; max = max*11/10 + 1 {
		top, step := Scale(max)
		if top < max || top%step != 0 || top/step > 6 || step < 1 || (max > 6 && top >= 2*max) {
			t.Fatalf("Scale(%d) = %d step %d", max, top, step)
		}
	}
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

// overlaps reports two x labels whose estimated boxes touch.
func overlaps(b Bars) string {
	for i := 1; i < len(b.XLabels); i++ {
		a, c := b.XLabels[i-1], b.XLabels[i]
		wa, wc := 0.0, 0.0
		for _, l := range a.Lines {
			wa = max(wa, TextWidth(l))
		}
		for _, l := range c.Lines {
			wc = max(wc, TextWidth(l))
		}
		if a.X+wa/2 > c.X-wc/2 {
			return a.Label() + " / " + c.Label()
		}
	}
	return ""
}

func TestLabelsNeverOverlap(t *testing.T) {
	t.Parallel()
	frt := []string{"< 1 min", "1–5 min", "5–15 min", "15–60 min", "1–4 h", "4–24 h", "> 24 h"}
	var items []Item
	for i, l := range frt {
		items = append(items, Item{Label: l, Values: []int64{int64(i)}})
	}
	for _, w := range []float64{440, 360, 320} {
		b := Layout(items, w, 220, num)
		if o := overlaps(b); o != "" {
			t.Errorf("width %v: %s overlap", w, o)
		}
		if w >= 360 && len(b.XLabels) != len(frt) {
			t.Errorf("width %v: %d of %d category labels shown", w, len(b.XLabels), len(frt))
		}
	}
	// At 360 px "15–60 min" no longer fits its bar: it is broken onto two lines, not dropped.
	b := Layout(items, 360, 220, num)
	if got := b.XLabels[3].Lines; len(got) != 2 || got[0] != "15–60" || got[1] != "min" {
		t.Errorf("broken label = %q", got)
	}
	// A year of days: some labels, none overlapping, the first always.
	items = items[:0]
	for i := 0; i < 365; i++ {
		items = append(items, Item{Label: "01/" + strconv.Itoa(10+i%3), Values: []int64{int64(i % 30)}})
	}
	for _, w := range []float64{900, 360} {
		b := Layout(items, w, 240, num)
		if o := overlaps(b); o != "" || len(b.XLabels) < 3 || b.XLabels[0].Label() != items[0].Label {
			t.Errorf("width %v: %d labels, overlap %q", w, len(b.XLabels), o)
		}
	}
}

func TestLayoutGeometry(t *testing.T) {
	t.Parallel()
	b := Layout([]Item{{Label: "a", Values: []int64{26}}, {Label: "b", Values: []int64{10, 3}}}, 400, 200, num)
	if b.Max != 26 || b.Top != 30 || len(b.Ticks) != 7 || b.Ticks[6].Label != "30" {
		t.Fatalf("max %d top %d ticks %+v", b.Max, b.Top, b.Ticks)
	}
	// The tallest bar is 26/30 of the plot; the stacked segments sit on each other.
	plotH := b.PlotBottom - 8
	if h := b.Bars[0].H; h < plotH*26/30-0.2 || h > plotH*26/30+0.2 {
		t.Errorf("bar height %v, plot %v", h, plotH)
	}
	if s0, s1 := b.Bars[1], b.Bars[2]; s1.Series != 1 || math.Abs(s1.Y+s1.H-s0.Y) > 0.11 {
		t.Errorf("stack %+v %+v", s0, s1)
	}
	if o := overlaps(b); o != "" {
		t.Errorf("labels %s overlap", o)
	}
}
