// Package chart lays out simple server-rendered SVG charts: it computes geometry (bars, axes,
// ticks) in Go, and the templates draw it, so pages need no JavaScript and every value stays
// escaped by html/template.
package chart

import (
	"math"
	"strconv"
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

// XLabel is an x-axis label.
type XLabel struct {
	X     float64
	Label string
}

// Bars is a bar chart ready to draw.
type Bars struct {
	Width, Height float64
	PlotLeft      float64
	PlotBottom    float64
	Bars          []Bar
	Ticks         []Tick
	XLabels       []XLabel
	Max           int64
}

// Item is one category of input: one value per series (stacked when more than one).
type Item struct {
	Label  string
	Title  string
	Href   string
	Values []int64
}

// Layout computes a bar chart of width×height for items; every n-th category gets an x label so
// they never overlap.
func Layout(items []Item, width, height float64, format func(int64) string) Bars {
	const left, bottom, top = 48.0, 28.0, 8.0
	b := Bars{Width: width, Height: height, PlotLeft: left, PlotBottom: height - bottom}
	for _, it := range items {
		var sum int64
		for _, v := range it.Values {
			sum += v
		}
		if sum > b.Max {
			b.Max = sum
		}
	}
	max := niceMax(b.Max)
	plotH := height - bottom - top
	n := len(items)
	if n == 0 {
		return b
	}
	slot := (width - left - 4) / float64(n)
	gap := math.Min(slot*0.2, 6)
	every := int(math.Ceil(float64(n) * 56 / (width - left)))
	if every < 1 {
		every = 1
	}
	for i, it := range items {
		x := left + float64(i)*slot + gap/2
		y := height - bottom
		for s, v := range it.Values {
			h := 0.0
			if max > 0 {
				h = float64(v) / float64(max) * plotH
			}
			if v > 0 && h < 1 {
				h = 1
			}
			y -= h
			b.Bars = append(b.Bars, Bar{X: round(x), Y: round(y), W: round(slot - gap), H: round(h), Value: v,
				Label: it.Label, Title: it.Title, Href: it.Href, Series: s})
		}
		if i%every == 0 {
			b.XLabels = append(b.XLabels, XLabel{X: round(x + (slot-gap)/2), Label: it.Label})
		}
	}
	for i := 0; i <= 4; i++ {
		v := max * int64(i) / 4
		y := height - bottom - float64(i)/4*plotH
		b.Ticks = append(b.Ticks, Tick{Y: round(y), Label: format(v)})
	}
	return b
}

// niceMax rounds up to 1, 2 or 5 × 10^k (and to a multiple of 4 so ticks are whole numbers).
func niceMax(v int64) int64 {
	if v <= 4 {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(v))))
	for _, m := range []float64{1, 2, 5, 10} {
		if c := int64(m * p); c >= v && c%4 == 0 {
			return c
		}
	}
	return (v + 3) / 4 * 4
}

func round(x float64) float64 { return math.Round(x*10) / 10 }

// Shade is a heatmap intensity class 0-5 for value against max.
func Shade(value, max int64) string {
	if value == 0 || max == 0 {
		return "0"
	}
	return strconv.Itoa(1 + int(math.Min(4, math.Floor(float64(value)/float64(max)*5))))
}
