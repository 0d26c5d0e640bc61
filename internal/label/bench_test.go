package label

import (
	"bytes"
	"image"
	"image/color"
	"io"
	"testing"
)

// BenchmarkWrite measures label insertion per format next to a plain copy
// of the same bytes (io.Copy), reported as MB/s of input. Both write into a
// reused buffer so the copy really moves the bytes.
func BenchmarkWrite(b *testing.B) {
	for _, fx := range fixtures {
		src := readFixture(b, fx.file)
		a := testLabel()
		var sink bytes.Buffer
		b.Run(fx.file+"/label", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(resetBuf(&sink), src, a, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fx.file+"/copy", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(resetBuf(&sink), bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteSigned adds the SM3 digest and two SM2 signatures.
func BenchmarkWriteSigned(b *testing.B) {
	s, err := GenerateSigner()
	if err != nil {
		b.Fatal(err)
	}
	src := readFixture(b, "in.mp4")
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(io.Discard, src, testLabel(), Options{Producer: s}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteLarge labels a 32 MiB WAV: throughput on a realistic size.
func BenchmarkWriteLarge(b *testing.B) {
	src := DemoWAV("large", 32<<20/(2*48000), 48000)
	var sink bytes.Buffer
	for _, mode := range []string{"label", "copy"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if mode == "label" {
					_, err = Write(resetBuf(&sink), src, testLabel(), Options{})
				} else {
					_, err = io.Copy(resetBuf(&sink), bytes.NewReader(src))
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImageExplicit draws the visible label on 1080p and 4K frames.
func BenchmarkImageExplicit(b *testing.B) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"1080p", 1920, 1080}, {"4K", 3840, 2160}} {
		img := image.NewRGBA(image.Rect(0, 0, sz.w, sz.h))
		for i := range img.Pix {
			img.Pix[i] = uint8(i)
		}
		img.Set(0, 0, color.White)
		b.Run(sz.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ImageExplicit(img, ImageOptions{Text: "本内容由人工智能生成"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// resetBuf empties a benchmark sink and returns it (writes into
// bytes.Buffer copy, unlike io.Discard, which io.Copy short-cuts).
func resetBuf(b *bytes.Buffer) *bytes.Buffer {
	b.Reset()
	return b
}
