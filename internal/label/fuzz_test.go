package label

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzFormat seeds a fuzzer with the fixtures and labelled goldens of one
// format and checks that the reader, writer and digest never panic, that a
// write either fails cleanly or yields a file that reads back, and that
// memory stays bounded by the input (the fuzzer's RSS limit enforces it).
func fuzzFormat(f *testing.F, format Format, files ...string) {
	for _, name := range files {
		src := readFixture(f, name)
		f.Add(src)
		f.Add(write(f, src, testLabel(), Options{}))
		f.Add(src[:len(src)/2]) // truncated
	}
	opts := Options{Format: format, MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, rerr := Read(data, opts)
		if rerr != nil && !errors.Is(rerr, ErrNoLabel) && !errors.Is(rerr, ErrMalformed) &&
			!errors.Is(rerr, ErrInvalidLabel) && !errors.Is(rerr, ErrMultipleLabels) && !errors.Is(rerr, ErrTooLarge) {
			// XMP syntax errors are reported as is.
			if format != PNG && format != JPEG && format != WebP && format != Markdown {
				t.Logf("Read: unclassified error %v", rerr)
			}
		}
		_ = Payload(&bytes.Buffer{}, data, opts)
		var out bytes.Buffer
		a := testLabel()
		if _, err := Write(&out, data, a, opts); err != nil {
			return
		}
		got, _, err := Read(out.Bytes(), opts)
		if err != nil || got != a {
			t.Fatalf("Read after Write = %+v, %v", got, err)
		}
	})
}

func FuzzPNG(f *testing.F)      { fuzzFormat(f, PNG, "in.png") }
func FuzzJPEG(f *testing.F)     { fuzzFormat(f, JPEG, "in.jpg") }
func FuzzWebP(f *testing.F)     { fuzzFormat(f, WebP, "in.webp", "in_lossless.webp") }
func FuzzWAV(f *testing.F)      { fuzzFormat(f, WAV, "in.wav") }
func FuzzMP3(f *testing.F)      { fuzzFormat(f, MP3, "in.mp3") }
func FuzzMP4(f *testing.F)      { fuzzFormat(f, MP4, "in.mp4", "in.m4a", "in.mov") }
func FuzzFLAC(f *testing.F)     { fuzzFormat(f, FLAC, "in.flac") }
func FuzzOgg(f *testing.F)      { fuzzFormat(f, Ogg, "in.ogg", "in.opus") }
func FuzzPDF(f *testing.F)      { fuzzFormat(f, PDF, "in.pdf") }
func FuzzMarkdown(f *testing.F) { fuzzFormat(f, Markdown, "in.md") }

// FuzzParseJSON checks the label parser on arbitrary JSON.
func FuzzParseJSON(f *testing.F) {
	f.Add(testLabel().JSON())
	f.Add(testLabel().InnerJSON())
	f.Add([]byte(`{"AIGC":{"Label":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseJSON(b)
		if err != nil {
			return
		}
		if b, err := ParseJSON(a.JSON()); err != nil || b != a {
			t.Fatalf("re-parse = %+v, %v", b, err)
		}
	})
}
