package label

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
)

// vorbisComment is a Vorbis comment block (FLAC VORBIS_COMMENT, Ogg
// Vorbis/Opus comment header), without the codec's packet framing.
type vorbisComment struct {
	vendor   string
	comments []string
}

// parseVorbisComment decodes b; counts and lengths are checked against the
// bytes that remain so a hostile header cannot force a large allocation.
func parseVorbisComment(b []byte, f Format) (vorbisComment, error) {
	var vc vorbisComment
	r := b
	str := func() (string, bool) {
		if len(r) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(r)
		if uint64(n) > uint64(len(r)-4) {
			return "", false
		}
		s := string(r[4 : 4+n])
		r = r[4+n:]
		return s, true
	}
	var ok bool
	if vc.vendor, ok = str(); !ok {
		return vc, malformed(f, "Vorbis comment vendor string truncated")
	}
	if len(r) < 4 {
		return vc, malformed(f, "Vorbis comment count missing")
	}
	n := binary.LittleEndian.Uint32(r)
	r = r[4:]
	if uint64(n) > uint64(len(r)/4) {
		return vc, malformed(f, "Vorbis comment count %d exceeds the block", n)
	}
	vc.comments = make([]string, 0, n)
	for i := uint32(0); i < n; i++ {
		s, ok := str()
		if !ok {
			return vc, malformed(f, "Vorbis comment %d truncated", i)
		}
		vc.comments = append(vc.comments, s)
	}
	return vc, nil
}

func (vc vorbisComment) bytes() []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vc.vendor)))
	b = append(b, vc.vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vc.comments)))
	for _, c := range vc.comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

// isAIGC matches the field name case-insensitively, as Vorbis requires.
func isAIGC(comment string) bool {
	return len(comment) > 5 && strings.EqualFold(comment[:5], "AIGC=")
}

func (vc vorbisComment) labels(where string) []found {
	var out []found
	for _, c := range vc.comments {
		if isAIGC(c) {
			out = append(out, found{where: where, raw: []byte(c[5:])})
		}
	}
	return out
}

// withLabel returns a copy holding exactly one AIGC= comment.
func (vc vorbisComment) withLabel(js []byte) vorbisComment {
	out := vorbisComment{vendor: vc.vendor}
	for _, c := range vc.comments {
		if !isAIGC(c) {
			out.comments = append(out.comments, c)
		}
	}
	out.comments = append(out.comments, "AIGC="+string(js))
	return out
}

// ---- FLAC ------------------------------------------------------------

const (
	flacStreamInfo    = 0
	flacPadding       = 1
	flacVorbisComment = 4
)

type flacBlock struct {
	typ        byte
	data       []byte
	start, end int
}

// flacBlocks parses the metadata blocks; audio frames start at the
// returned offset.
func flacBlocks(data []byte) ([]flacBlock, int, error) {
	if !bytes.HasPrefix(data, []byte("fLaC")) {
		return nil, 0, malformed(FLAC, "missing fLaC marker")
	}
	var bs []flacBlock
	p := 4
	for {
		if len(data)-p < 4 {
			return nil, 0, malformed(FLAC, "truncated metadata block header at %d", p)
		}
		h := data[p]
		n := int(data[p+1])<<16 | int(data[p+2])<<8 | int(data[p+3])
		if n > len(data)-p-4 {
			return nil, 0, malformed(FLAC, "metadata block at %d declares %d bytes, %d remain", p, n, len(data)-p-4)
		}
		bs = append(bs, flacBlock{typ: h & 0x7f, data: data[p+4 : p+4+n], start: p, end: p + 4 + n})
		p += 4 + n
		if h&0x80 != 0 {
			break
		}
	}
	if bs[0].typ != flacStreamInfo {
		return nil, 0, malformed(FLAC, "first metadata block is not STREAMINFO")
	}
	return bs, p, nil
}

func flacFind(data []byte) ([]found, error) {
	bs, _, err := flacBlocks(data)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, b := range bs {
		if b.typ != flacVorbisComment {
			continue
		}
		vc, err := parseVorbisComment(b.data, FLAC)
		if err != nil {
			return nil, err
		}
		out = append(out, vc.labels("FLAC VORBIS_COMMENT AIGC")...)
	}
	return out, nil
}

func flacHeader(typ byte, n int, last bool) []byte {
	if last {
		typ |= 0x80
	}
	return []byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}
}

// flacWrite keeps one VORBIS_COMMENT block, right after STREAMINFO, with
// one AIGC= comment; the other blocks and the audio frames are copied.
func flacWrite(dst io.Writer, data []byte, a AIGC) error {
	bs, audio, err := flacBlocks(data)
	if err != nil {
		return err
	}
	vc := vorbisComment{vendor: "genguard"}
	for _, b := range bs {
		if b.typ == flacVorbisComment {
			if vc, err = parseVorbisComment(b.data, FLAC); err != nil {
				return err
			}
			break
		}
	}
	comment := vc.withLabel(a.JSON()).bytes()
	if len(comment) >= 1<<24 {
		return malformed(FLAC, "Vorbis comment block would exceed 16 MiB")
	}
	var rest []flacBlock
	for _, b := range bs[1:] {
		if b.typ != flacVorbisComment {
			rest = append(rest, b)
		}
	}
	w := &errWriter{w: dst}
	w.write([]byte("fLaC"))
	w.write(flacHeader(flacStreamInfo, len(bs[0].data), false))
	w.write(bs[0].data)
	w.write(flacHeader(flacVorbisComment, len(comment), len(rest) == 0))
	w.write(comment)
	for i, b := range rest {
		w.write(flacHeader(b.typ, len(b.data), i == len(rest)-1))
		w.write(b.data)
	}
	w.write(data[audio:])
	return w.err
}

// flacEssence covers the metadata blocks except VORBIS_COMMENT and
// PADDING, and the audio frames.
func flacEssence(data []byte, h io.Writer) error {
	bs, audio, err := flacBlocks(data)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.typ == flacVorbisComment || b.typ == flacPadding {
			continue
		}
		if _, err := h.Write(append([]byte{b.typ}, b.data...)); err != nil {
			return err
		}
	}
	_, err = h.Write(data[audio:])
	return err
}
