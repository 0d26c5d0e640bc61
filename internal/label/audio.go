package label

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Audio rhythm label (GB 45438 §5.3): the pattern 「短长短短」, short-long-
// short-short, played as tones. Durations follow Morse timing (a long tone
// is three units, gaps one unit) with a 100 ms unit and a 1 kHz tone; the
// pattern is the Morse letter L (·-··). The whole label lasts 0.9 s, plus
// 0.2 s of silence separating it from the content.
const (
	rhythmUnitMS = 100
	rhythmFreqHz = 1000
	rhythmGapMS  = 200
)

// rhythmPattern lists tone lengths in units: short, long, short, short.
var rhythmPattern = [...]int{1, 3, 1, 1}

// AudioOptions choose where the rhythm label goes.
type AudioOptions struct {
	Start bool // default when neither is set
	End   bool
}

// wavFormat is the part of a WAV fmt chunk needed to synthesise samples.
type wavFormat struct {
	tag      uint16 // 1 PCM, 3 IEEE float, 0xFFFE extensible
	channels int
	rate     int
	bits     int
}

func parseWAVFormat(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, malformed(WAV, "fmt chunk is %d bytes", len(b))
	}
	f := wavFormat{
		tag: binary.LittleEndian.Uint16(b), channels: int(binary.LittleEndian.Uint16(b[2:])),
		rate: int(binary.LittleEndian.Uint32(b[4:])), bits: int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == 0xfffe && len(b) >= 26 {
		f.tag = binary.LittleEndian.Uint16(b[24:]) // sub-format GUID starts with the tag
	}
	switch {
	case f.channels < 1 || f.channels > 16 || f.rate < 1000 || f.rate > 384000:
		return f, malformed(WAV, "unsupported layout: %d channels at %d Hz", f.channels, f.rate)
	case f.tag == 1 && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32):
	case f.tag == 3 && f.bits == 32:
	default:
		return f, fmt.Errorf("WAV format tag %d with %d bits: only integer PCM and 32-bit float are supported", f.tag, f.bits)
	}
	return f, nil
}

// rhythmSamples synthesises the label in format f, with the separating
// gap after it (start of file) or before it (end of file).
func rhythmSamples(f wavFormat, gapBefore bool) []byte {
	unit := f.rate * rhythmUnitMS / 1000
	fade := max(1, f.rate*5/1000) // 5 ms ramps avoid clicks
	var seg []float64
	if gapBefore {
		seg = append(seg, make([]float64, f.rate*rhythmGapMS/1000)...)
	}
	for i, n := range rhythmPattern {
		tone := n * unit
		for k := range tone {
			env := math.Min(1, math.Min(float64(k)/float64(fade), float64(tone-1-k)/float64(fade)))
			seg = append(seg, 0.5*env*math.Sin(2*math.Pi*rhythmFreqHz*float64(k)/float64(f.rate)))
		}
		if i < len(rhythmPattern)-1 {
			seg = append(seg, make([]float64, unit)...)
		}
	}
	if !gapBefore {
		seg = append(seg, make([]float64, f.rate*rhythmGapMS/1000)...)
	}
	bps := f.bits / 8
	out := make([]byte, 0, len(seg)*f.channels*bps)
	for _, v := range seg {
		for range f.channels {
			switch {
			case f.tag == 3:
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
			case f.bits == 8:
				out = append(out, byte(128+int(v*127)))
			default:
				x := int32(v * float64(int64(1)<<(f.bits-1)-1))
				for k := range bps {
					out = append(out, byte(x>>(8*k)))
				}
			}
		}
	}
	return out
}

// AudioRhythm adds the rhythm label at the start and/or end of a PCM WAV
// file and writes it with the implicit label l (the data changed, so the
// label and its signature are made after).
func AudioRhythm(dst io.Writer, src []byte, l AIGC, aopts AudioOptions, opts Options) (AIGC, error) {
	if int64(len(src)) > opts.maxSize() {
		return AIGC{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(src))
	}
	cs, err := riffChunks(src, WAV, "WAVE")
	if err != nil {
		return AIGC{}, err
	}
	var f wavFormat
	var haveFmt bool
	for _, c := range cs {
		if c.id == "fmt " {
			if f, err = parseWAVFormat(c.data); err != nil {
				return AIGC{}, err
			}
			haveFmt = true
		}
	}
	if !haveFmt {
		return AIGC{}, malformed(WAV, "no fmt chunk")
	}
	if !aopts.Start && !aopts.End {
		aopts.Start = true
	}
	var parts [][]byte
	for _, c := range cs {
		switch c.id {
		case "data":
			var d []byte
			if aopts.Start {
				d = append(d, rhythmSamples(f, false)...)
			}
			d = append(d, c.data...)
			if aopts.End {
				d = append(d, rhythmSamples(f, true)...)
			}
			parts = append(parts, riffChunkBytes("data", d))
		case "fact": // sample count changed; fact is optional for PCM
		default:
			parts = append(parts, chunkWithPad(src, c))
		}
	}
	var buf bytes.Buffer
	if err := riffWrite(&buf, "WAVE", parts); err != nil {
		return AIGC{}, err
	}
	opts.Format = WAV
	return Write(dst, buf.Bytes(), l, opts)
}
