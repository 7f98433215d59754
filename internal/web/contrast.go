package web

import (
	"fmt"
	"math"
	"strconv"
)

// The client's colours are drawn with text on them (the top bar, buttons) and as text on white
// (the name, the figures). Whatever colours a client picks, the text stays readable at WCAG AA
// (4.5:1): on a colour, white or black, whichever contrasts more (one of them always reaches
// 4.5:1); as text, the colour itself, darkened just enough when it is too light on white.

const (
	inkDark  = "#000000"
	inkLight = "#ffffff"
	aaText   = 4.5
)

// onColor is the text colour for a background of hex.
func onColor(hex string) string {
	if contrast(hex, inkLight) >= contrast(hex, inkDark) {
		return inkLight
	}
	return inkDark
}

// textColor is hex darkened in small steps until it reads on white at AA.
func textColor(hex string) string {
	r, g, b := rgb(hex)
	for i := 0; i < 40 && contrast(toHex(r, g, b), "#ffffff") < aaText; i++ {
		r, g, b = r*0.93, g*0.93, b*0.93
	}
	return toHex(r, g, b)
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours (1 to 21).
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	r, g, b := rgb(hex)
	ch := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(b)
}

func rgb(hex string) (r, g, b float64) {
	n, err := strconv.ParseUint(hex[1:], 16, 32)
	if len(hex) != 7 || err != nil {
		return 0, 0, 0
	}
	return float64(n >> 16 & 0xff), float64(n >> 8 & 0xff), float64(n & 0xff)
}

func toHex(r, g, b float64) string {
	c := func(x float64) int { return int(math.Round(math.Max(0, math.Min(255, x)))) }
	return fmt.Sprintf("#%02x%02x%02x", c(r), c(g), c(b))
}
