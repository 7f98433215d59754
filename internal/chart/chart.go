// Package chart lays out simple server-rendered SVG charts: it computes geometry (bars, axes,
// ticks) in Go, and the templates draw it, so pages need no JavaScript and every value stays
// escaped by html/template.
package chart

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bar is one bar (or one stacked segment) with its place in the SVG.
type Bar struct {
	X, Y, W, H float64
	Value      int64
	Label      string // category label (x axis)
	Title      string // tooltip / accessible text
	Href       string // drill-down link
	Series     int    // stack index, for the colour class
}

// Tick is a y-axis gridline.
type Tick struct {
	Y     float64
	Label string
}

// XLabel is an x-axis label: one or two lines, centred on X.
type XLabel struct {
	X     float64
	Lines []string
}

// Label is the label on one line (tests, tooltips).
func (l XLabel) Label() string { return strings.Join(l.Lines, " ") }

// Bars is a bar chart ready to draw.
type Bars struct {
	Width, Height float64
	PlotLeft      float64
	PlotBottom    float64
	Bars          []Bar
	Ticks         []Tick
	XLabels       []XLabel
	Max           int64 // the largest category total
	Top           int64 // the y axis' maximum: a round number at or just above Max
}

// Item is one category of input: one value per series (stacked when more than one).
type Item struct {
	Label  string
	Title  string
	Href   string
	Values []int64
}

// Text metrics of the 11 px axis labels (system-ui): an average glyph is about 0.6 em wide. The
// estimate errs wide, so labels judged to fit really do.
const (
	fontSize  = 11.0
	charWidth = fontSize * 0.62
	labelGap  = 8.0 // at least this much space between two x labels
	lineSpace = 13.0
)

// TextWidth estimates the width in pixels of s drawn as an axis label.
func TextWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// Layout computes a bar chart of width×height for items. The y axis runs to a round number just
// above the tallest bar; x labels never overlap: every label is shown when it fits its bar,
// category labels that do not fit are broken onto two lines at a space, and long series (days)
// show every n-th label.
func Layout(items []Item, width, height float64, format func(int64) string) Bars {
	const left, top = 48.0, 8.0
	b := Bars{Width: width, Height: height, PlotLeft: left}
	for _, it := range items {
		var sum int64
		for _, v := range it.Values {
			sum += v
		}
		if sum > b.Max {
			b.Max = sum
		}
	}
	n := len(items)
	slot := 0.0
	if n > 0 {
		slot = (width - left - 4) / float64(n)
	}
	labels, lines := placeLabels(items, slot)
	bottom := 10 + lineSpace*float64(lines)
	b.PlotBottom = height - bottom
	plotH := height - bottom - top
	axisTop, step := Scale(b.Max)
	b.Top = axisTop
	for v := int64(0); v <= axisTop; v += step {
		y := height - bottom - float64(v)/float64(axisTop)*plotH
		b.Ticks = append(b.Ticks, Tick{Y: round(y), Label: format(v)})
	}
	if n == 0 {
		return b
	}
	gap := math.Min(slot*0.2, 6)
	for i, it := range items {
		x := left + float64(i)*slot + gap/2
		y := height - bottom
		for s, v := range it.Values {
			h := float64(v) / float64(axisTop) * plotH
			if v > 0 && h < 1 {
				h = 1
			}
			y -= h
			b.Bars = append(b.Bars, Bar{X: round(x), Y: round(y), W: round(slot - gap), H: round(h), Value: v,
				Label: it.Label, Title: it.Title, Href: it.Href, Series: s})
		}
		if l, ok := labels[i]; ok {
			b.XLabels = append(b.XLabels, XLabel{X: round(x + (slot-gap)/2), Lines: l})
		}
	}
	return b
}

// placeLabels decides which categories get a label and on how many lines (1 or 2).
func placeLabels(items []Item, slot float64) (map[int][]string, int) {
	out := map[int][]string{}
	if len(items) == 0 {
		return out, 1
	}
	widest := 0.0
	for _, it := range items {
		widest = math.Max(widest, TextWidth(it.Label))
	}
	if widest+labelGap <= slot {
		for i, it := range items {
			out[i] = []string{it.Label}
		}
		return out, 1
	}
	// Categories (a handful of bars) keep every label, broken at the space nearest the middle.
	if len(items) <= 12 {
		split, fits := make([][]string, len(items)), true
		for i, it := range items {
			split[i] = breakLabel(it.Label)
			for _, l := range split[i] {
				if TextWidth(l)+labelGap > slot {
					fits = false
				}
			}
		}
		if fits {
			for i := range items {
				out[i] = split[i]
			}
			return out, 2
		}
	}
	// A series (days, weeks): every n-th label, n the smallest that leaves room for the widest.
	every := int(math.Ceil((widest + labelGap) / slot))
	for i := 0; i < len(items); i += every {
		out[i] = []string{items[i].Label}
	}
	return out, 1
}

// breakLabel splits a label at the space nearest its middle ("15–60 min" → "15–60", "min").
func breakLabel(s string) []string {
	best, bestD := -1, 1<<30
	mid := len(s) / 2
	for i, r := range s {
		if r == ' ' {
			d := i - mid
			if d < 0 {
				d = -d
			}
			if d < bestD {
				best, bestD = i, d
			}
		}
	}
	if best < 0 {
		return []string{s}
	}
	return []string{s[:best], s[best+1:]}
}

// Scale is the y axis of a chart whose tallest bar is max: a round top (1, 2, 2.5 or 5 × 10^k
// steps, at most 6 of them) at or just above max, and the step between gridlines. Counts are
// whole numbers, so steps are too.
func Scale(max int64) (top, step int64) {
	if max <= 0 {
		return 4, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{10, 20, 25, 50} {
			s := m * p / 10
			if s == 0 || m == 25 && p == 1 {
				continue
			}
			if k := (max + s - 1) / s; k <= 6 {
				return k * s, s
			}
		}
	}
}

func round(x float64) float64 { return math.Round(x*10) / 10 }

// Shade is a heatmap intensity class 0-5 for value against max.
func Shade(value, max int64) string {
	if value == 0 || max == 0 {
		return "0"
	}
	return strconv.Itoa(1 + int(math.Min(4, math.Floor(float64(value)/float64(max)*5))))
}
