package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sync"
)

// faviconPNG is the favicon.svg drawing as a 32×32 PNG, for browsers and tools that ask for
// /favicon.ico whatever the page links to (browsers read a PNG served under that name).
var faviconPNG = sync.OnceValue(func() []byte {
	const size, radius = 32, 7
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	teal, white, amber := color.NRGBA{0x0F, 0x76, 0x6E, 0xff}, color.NRGBA{0xff, 0xff, 0xff, 0xff}, color.NRGBA{0xFB, 0xBF, 0x24, 0xff}
	inRounded := func(x, y int) bool {
		cx, cy := min(max(x, radius), size-1-radius), min(max(y, radius), size-1-radius)
		dx, dy := x-cx, y-cy
		return dx*dx+dy*dy <= radius*radius
	}
	bars := []struct {
		x0, y0, x1, y1 int
		c              color.NRGBA
	}{{7, 17, 11, 25, white}, {14, 11, 18, 25, white}, {21, 6, 25, 25, amber}}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if !inRounded(x, y) {
				continue
			}
			c := teal
			for _, b := range bars {
				if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 {
					c = b.c
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
})

func faviconICO(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(faviconPNG())
}
