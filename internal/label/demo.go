package label

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/emmansun/gmsm/sm3"
)

// DemoImage renders a deterministic picture for a prompt (a gradient with
// circles and bars whose colours and places come from the prompt's SM3
// hash), for the built-in demo model. It carries no label: pass it to
// [LabelImage].
func DemoImage(prompt string, w, h int) []byte {
	seed := sm3.Sum([]byte(prompt))
	c := func(i int) color.RGBA { return color.RGBA{seed[i], seed[i+1], seed[i+2], 255} }
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	a, b := c(0), c(3)
	for y := range h {
		for x := range w {
			t := float64(x+y) / float64(w+h)
			img.SetRGBA(x, y, color.RGBA{lerp(a.R, b.R, t), lerp(a.G, b.G, t), lerp(a.B, b.B, t), 255})
		}
	}
	for k := range 4 {
		cx, cy := int(seed[6+k])*w/256, int(seed[10+k])*h/256
		r := (int(seed[14+k])%20 + 8) * min(w, h) / 100
		col := c(18 + k*3)
		for y := max(0, cy-r); y < min(h, cy+r); y++ {
			for x := max(0, cx-r); x < min(w, cx+r); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					img.SetRGBA(x, y, col)
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img) // bytes.Buffer does not fail
	return buf.Bytes()
}

func lerp(a, b uint8, t float64) uint8 {
	return uint8(float64(a)*(1-t) + float64(b)*t)
}

// DemoWAV synthesises a short 16-bit mono melody for a prompt (notes from
// its SM3 hash), for the built-in demo model. It carries no label: pass it
// to [AudioRhythm] or [Write].
func DemoWAV(prompt string, seconds float64, rate int) []byte {
	seed := sm3.Sum([]byte(prompt))
	n := int(seconds * float64(rate))
	pcm := make([]byte, 0, 2*n)
	note := max(1, n/8)
	for i := range n {
		f := 220 * math.Pow(2, float64(seed[i/note%32]%24)/12)
		v := 0.3 * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(int16(v*32767)))
	}
	var fmtc [16]byte
	binary.LittleEndian.PutUint16(fmtc[0:], 1)
	binary.LittleEndian.PutUint16(fmtc[2:], 1)
	binary.LittleEndian.PutUint32(fmtc[4:], uint32(rate))
	binary.LittleEndian.PutUint32(fmtc[8:], uint32(rate*2))
	binary.LittleEndian.PutUint16(fmtc[12:], 2)
	binary.LittleEndian.PutUint16(fmtc[14:], 16)
	var buf bytes.Buffer
	_ = riffWrite(&buf, "WAVE", [][]byte{riffChunkBytes("fmt ", fmtc[:]), riffChunkBytes("data", pcm)})
	return buf.Bytes()
}
