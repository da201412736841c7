package manifest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
)

// Icons draws the two app icons: a 192x192 colour icon (a white shield
// with a check mark on the accent colour) and a 32x32 outline icon (the
// shield's outline and the check mark, white on transparent).
func Icons(accent string) (colorPNG, outlinePNG []byte, err error) {
	bg, err := parseHex(accent)
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: accentColor: %w", err)
	}
	white := color.NRGBA{255, 255, 255, 255}

	col := image.NewNRGBA(image.Rect(0, 0, 192, 192))
	draw(col, func(u, v float64) color.NRGBA {
		switch {
		case inCheck(u, v, 0.085) && inShield(u, v, 1):
			return bg
		case inShield(u, v, 1):
			return white
		default:
			return bg
		}
	}, 0.52)

	out := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	draw(out, func(u, v float64) color.NRGBA {
		if (inShield(u, v, 1) && !inShield(u, v, 0.76)) || inCheck(u, v, 0.1) {
			return white
		}
		return color.NRGBA{}
	}, 0.9)

	if colorPNG, err = encode(col); err != nil {
		return nil, nil, err
	}
	if outlinePNG, err = encode(out); err != nil {
		return nil, nil, err
	}
	return colorPNG, outlinePNG, nil
}

// draw fills img by sampling shade 4x4 times per pixel (anti-aliasing).
// Shapes live in [-1,1]²; scale is the part of the image they cover.
func draw(img *image.NRGBA, shade func(u, v float64) color.NRGBA, scale float64) {
	const n = 4
	size := float64(img.Bounds().Dx())
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			var r, g, b, a float64
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					u := ((float64(x)+(float64(sx)+0.5)/n)/size*2 - 1) / scale
					v := ((float64(y)+(float64(sy)+0.5)/n)/size*2 - 1) / scale
					c := shade(u, v)
					fa := float64(c.A) / 255
					r, g, b, a = r+float64(c.R)*fa, g+float64(c.G)*fa, b+float64(c.B)*fa, a+fa
				}
			}
			if a == 0 {
				continue // stays fully transparent
			}
			// Colour is the alpha-weighted mean; the outline icon only
			// mixes white with transparent, so it stays pure white.
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(r / a)), G: uint8(math.Round(g / a)), B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n / n * 255)),
			})
		}
	}
}

// inShield reports whether (u,v) lies in the shield scaled by s: a flat
// top, straight sides and a rounded point at the bottom.
func inShield(u, v, s float64) bool {
	u, v = u/s, (v-0.04)/s+0.04
	const top, mid, bottom, half = -0.92, 0.05, 0.98, 0.78
	switch {
	case v < top || v > bottom:
		return false
	case v <= mid:
		return math.Abs(u) <= half
	default:
		t := (v - mid) / (bottom - mid)
		return math.Abs(u) <= half*math.Sqrt(1-t*t)
	}
}

// inCheck reports whether (u,v) lies on the check mark of width w.
func inCheck(u, v, w float64) bool {
	return segDist(u, v, -0.38, 0.02, -0.1, 0.3) <= w || segDist(u, v, -0.1, 0.3, 0.42, -0.32) <= w
}

func segDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

func parseHex(s string) (color.NRGBA, error) {
	if !hexRE.MatchString(s) {
		return color.NRGBA{}, fmt.Errorf("%q is not a #RRGGBB colour", s)
	}
	n, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.NRGBA{}, err
	}
	return color.NRGBA{uint8(n >> 16), uint8(n >> 8), uint8(n), 255}, nil
}

func encode(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
