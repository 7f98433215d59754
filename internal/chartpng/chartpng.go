// Package chartpng draws the few charts an e-mail digest carries as PNG images, in pure Go (the
// Go fonts, no headless browser): mail clients show inline images, not SVG or scripts. Images are
// drawn at twice their display size so they stay sharp on high-density screens.
package chartpng

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Scale is how many pixels a display pixel has.
const Scale = 2

// Series is one set of bars; Values align with the chart's labels.
type Series struct {
	Name   string
	Colour string // #RRGGBB
	Values []float64
}

// Bars is a vertical bar chart. With two series the second is drawn inside the first (leads
// inside conversations), so the second must never exceed the first.
type Bars struct {
	Title  string
	Labels []string // one per bar; long lists show every n-th
	Series []Series
	Width  int // display pixels (default 560)
	Height int // display pixels (default 220)
	// Format writes a value for the axis and bar labels (default: the integer).
	Format func(float64) string
}

// HBars is a horizontal bar chart (a funnel): one bar per label, the value written beside it.
type HBars struct {
	Title  string
	Labels []string
	Values []float64
	Notes  []string // optional text after each value (a rate)
	Colour string
	Width  int
	Format func(float64) string
}

var (
	fontOnce        sync.Once
	regularF, boldF *opentype.Font
	fontErr         error
)

// fonts are the three faces one drawing uses. A font.Face is not safe for concurrent use, so
// every drawing makes its own from the fonts parsed once.
type fonts struct{ regular, bold, title font.Face }

func newFonts() (fonts, error) {
	fontOnce.Do(func() {
		if regularF, fontErr = opentype.Parse(goregular.TTF); fontErr != nil {
			return
		}
		boldF, fontErr = opentype.Parse(gobold.TTF)
	})
	var f fonts
	if fontErr != nil {
		return f, fontErr
	}
	opt := func(size float64) *opentype.FaceOptions {
		return &opentype.FaceOptions{Size: size * Scale, DPI: 72, Hinting: font.HintingFull}
	}
	var err error
	if f.regular, err = opentype.NewFace(regularF, opt(11)); err != nil {
		return f, err
	}
	if f.bold, err = opentype.NewFace(boldF, opt(11)); err != nil {
		return f, err
	}
	f.title, err = opentype.NewFace(boldF, opt(13))
	return f, err
}

// Colour parses #RRGGBB (grey when malformed).
func Colour(hex string) color.RGBA {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		return color.RGBA{0x6B, 0x72, 0x80, 0xFF}
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xFF}
}

// Lighten mixes c with white (f = 0: c, 1: white).
func Lighten(c color.RGBA, f float64) color.RGBA {
	m := func(x uint8) uint8 { return uint8(float64(x) + (255-float64(x))*f) }
	return color.RGBA{m(c.R), m(c.G), m(c.B), 0xFF}
}

var (
	ink   = color.RGBA{0x1F, 0x29, 0x37, 0xFF}
	muted = color.RGBA{0x6B, 0x72, 0x80, 0xFF}
	grid  = color.RGBA{0xE5, 0xE7, 0xEB, 0xFF}
)

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, face font.Face, c color.Color, x, y int, s string) {
	d := &font.Drawer{Dst: img, Src: &image.Uniform{C: c}, Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func textWidth(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

func encode(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func intFormat(v float64) string { return FormatInt(int64(math.Round(v))) }

// FormatInt writes n with pt-BR thousands separators (1.234).
func FormatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// axis picks the gridline step (1, 2 or 5 times a power of ten, at least 1 so whole-number
// axes stay whole) for about four lines, and the axis maximum: the first step at or above v.
func axis(v float64) (step, max float64) {
	raw := v / 4
	if raw <= 1 {
		step = 1
	} else {
		p := math.Pow(10, math.Floor(math.Log10(raw)))
		step = 10 * p
		for _, m := range []float64{1, 2, 5} {
			if raw <= m*p {
				step = m * p
				break
			}
		}
	}
	max = math.Max(step, math.Ceil(v/step)*step)
	return step, max
}

// PNG draws the bar chart.
func (c Bars) PNG() ([]byte, error) {
	ff, err := newFonts()
	if err != nil {
		return nil, err
	}
	regular, titleF := ff.regular, ff.title
	w, h := c.Width, c.Height
	if w == 0 {
		w = 560
	}
	if h == 0 {
		h = 220
	}
	format := c.Format
	if format == nil {
		format = intFormat
	}
	W, H := w*Scale, h*Scale
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.White)
	text(img, titleF, ink, 0, 16*Scale, c.Title)
	// Legend, right-aligned on the title line.
	lx := W
	for i := len(c.Series) - 1; i >= 0; i-- {
		s := c.Series[i]
		tw := textWidth(regular, s.Name)
		lx -= tw
		text(img, regular, muted, lx, 15*Scale, s.Name)
		lx -= 14 * Scale
		fill(img, image.Rect(lx, 6*Scale, lx+10*Scale, 16*Scale), Colour(s.Colour))
		lx -= 12 * Scale
	}
	top, bottom := 30*Scale, H-22*Scale
	peak := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			peak = math.Max(peak, v)
		}
	}
	step, max := axis(peak)
	axisW := textWidth(regular, format(max)) + 8*Scale
	left, right := axisW, W-4*Scale
	for v := 0.0; v <= max+step/2; v += step {
		y := bottom - int(float64(bottom-top)*v/max)
		fill(img, image.Rect(left, y, right, y+Scale), grid)
		label := format(v)
		text(img, regular, muted, axisW-6*Scale-textWidth(regular, label), y+4*Scale, label)
	}
	n := len(c.Labels)
	if n == 0 {
		return encode(img)
	}
	slot := float64(right-left) / float64(n)
	bw := int(math.Max(1, slot*0.7))
	every := int(math.Ceil(float64(n) / math.Max(1, float64(right-left)/float64(textWidth(regular, c.Labels[0])+10*Scale))))
	for i := 0; i < n; i++ {
		x := left + int(slot*float64(i)+(slot-float64(bw))/2)
		for si, s := range c.Series {
			if i >= len(s.Values) || s.Values[i] <= 0 {
				continue
			}
			bh := int(float64(bottom-top) * s.Values[i] / max)
			col := Colour(s.Colour)
			inset := 0
			if si > 0 {
				inset = bw / 5
			}
			fill(img, image.Rect(x+inset, bottom-bh, x+bw-inset, bottom), col)
		}
		if every > 0 && i%every == 0 {
			tw := textWidth(regular, c.Labels[i])
			tx := left + int(slot*float64(i)+slot/2) - tw/2
			tx = int(math.Max(0, math.Min(float64(W-tw), float64(tx))))
			text(img, regular, muted, tx, H-6*Scale, c.Labels[i])
		}
	}
	fill(img, image.Rect(left, bottom, right, bottom+Scale), muted)
	return encode(img)
}

// PNG draws the horizontal bar chart.
func (c HBars) PNG() ([]byte, error) {
	ff, err := newFonts()
	if err != nil {
		return nil, err
	}
	regular, bold, titleF := ff.regular, ff.bold, ff.title
	w := c.Width
	if w == 0 {
		w = 560
	}
	format := c.Format
	if format == nil {
		format = intFormat
	}
	row := 30 * Scale
	W, H := w*Scale, 30*Scale+row*len(c.Labels)
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.White)
	text(img, titleF, ink, 0, 16*Scale, c.Title)
	labelW := 0
	for _, l := range c.Labels {
		labelW = int(math.Max(float64(labelW), float64(textWidth(regular, l))))
	}
	labelW += 10 * Scale
	max := 0.0
	for _, v := range c.Values {
		max = math.Max(max, v)
	}
	if max <= 0 {
		max = 1
	}
	valueW := 0
	for i, v := range c.Values {
		s := format(v)
		if i < len(c.Notes) && c.Notes[i] != "" {
			s += "  " + c.Notes[i]
		}
		valueW = int(math.Max(float64(valueW), float64(textWidth(bold, s))))
	}
	barMax := W - labelW - valueW - 12*Scale
	col := Colour(c.Colour)
	for i, l := range c.Labels {
		y := 30*Scale + row*i
		text(img, regular, ink, 0, y+18*Scale, l)
		v := 0.0
		if i < len(c.Values) {
			v = c.Values[i]
		}
		bw := int(float64(barMax) * v / max)
		fill(img, image.Rect(labelW, y+4*Scale, labelW+barMax, y+24*Scale), Lighten(col, 0.88))
		fill(img, image.Rect(labelW, y+4*Scale, labelW+bw, y+24*Scale), col)
		s := format(v)
		if i < len(c.Notes) && c.Notes[i] != "" {
			s += "  " + c.Notes[i]
		}
		text(img, bold, ink, labelW+barMax+8*Scale, y+18*Scale, s)
	}
	return encode(img)
}
