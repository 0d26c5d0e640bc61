package label

import (
	"encoding/binary"
	"io"
)

type riffChunk struct {
	id         string
	data       []byte
	start, end int // header, data and pad byte
}

// riffChunks parses RIFF/<form> into its top-level chunks. Declared sizes
// are checked against the remaining bytes; a missing final pad byte is
// tolerated (common in the wild).
func riffChunks(data []byte, f Format, form string) ([]riffChunk, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != form {
		return nil, malformed(f, "not a RIFF %s file", form)
	}
	end := len(data)
	if n := int64(binary.LittleEndian.Uint32(data[4:])) + 8; n < int64(end) && n >= 12 {
		end = int(n) // ignore trailing bytes outside the RIFF
	}
	var cs []riffChunk
	for p := 12; p < end; {
		if end-p < 8 {
			return nil, malformed(f, "truncated chunk header at %d", p)
		}
		n := binary.LittleEndian.Uint32(data[p+4:])
		if uint64(n) > uint64(end-p-8) {
			return nil, malformed(f, "chunk %q at %d declares %d bytes, %d remain", data[p:p+4], p, n, end-p-8)
		}
		c := riffChunk{id: string(data[p : p+4]), data: data[p+8 : p+8+int(n)], start: p}
		c.end = p + 8 + int(n)
		if n%2 == 1 && c.end < end {
			c.end++
		}
		cs = append(cs, c)
		p = c.end
	}
	return cs, nil
}

// riffChunkBytes encodes one chunk with its pad byte.
func riffChunkBytes(id string, data []byte) []byte {
	b := make([]byte, 8, 9+len(data))
	copy(b, id)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riffWrite writes a RIFF file of the given form from parts, fixing the
// RIFF size field. Each part is raw bytes of whole chunks.
func riffWrite(dst io.Writer, form string, parts [][]byte) error {
	total := 4
	for _, p := range parts {
		total += len(p)
	}
	hdr := make([]byte, 12)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(total))
	copy(hdr[8:], form)
	w := &errWriter{w: dst}
	w.write(hdr)
	for _, p := range parts {
		w.write(p)
	}
	return w.err
}

// chunkWithPad returns a chunk's bytes with its pad byte even when the
// input omitted it at the end of the file.
func chunkWithPad(data []byte, c riffChunk) []byte {
	b := data[c.start:c.end]
	if len(b)%2 == 1 {
		return append(b[:len(b):len(b)], 0)
	}
	return b
}

// ---- WAV -------------------------------------------------------------

func wavFind(data []byte) ([]found, error) {
	cs, err := riffChunks(data, WAV, "WAVE")
	if err != nil {
		return nil, err
	}
	var out []found
	for _, c := range cs {
		if c.id == "AIGC" {
			out = append(out, found{where: "WAV RIFF AIGC chunk", raw: trimNUL(c.data)})
		}
	}
	return out, nil
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// wavWrite puts one AIGC chunk before the data chunk, so the label sits in
// the file head (标识办法 Art. 5: metadata is "嵌入到文件头部").
func wavWrite(dst io.Writer, data []byte, a AIGC) error {
	cs, err := riffChunks(data, WAV, "WAVE")
	if err != nil {
		return err
	}
	label := riffChunkBytes("AIGC", a.JSON())
	var parts [][]byte
	placed := false
	for _, c := range cs {
		if c.id == "AIGC" {
			continue
		}
		if c.id == "data" && !placed {
			parts = append(parts, label)
			placed = true
		}
		parts = append(parts, chunkWithPad(data, c))
	}
	if !placed {
		parts = append(parts, label)
	}
	return riffWrite(dst, "WAVE", parts)
}

// wavEssence covers every chunk except AIGC.
func wavEssence(data []byte, h io.Writer) error {
	return riffEssence(data, WAV, "WAVE", h, "AIGC")
}

func riffEssence(data []byte, f Format, form string, h io.Writer, skip ...string) error {
	cs, err := riffChunks(data, f, form)
	if err != nil {
		return err
	}
next:
	for _, c := range cs {
		for _, s := range skip {
			if c.id == s {
				continue next
			}
		}
		if _, err := io.WriteString(h, c.id); err != nil {
			return err
		}
		if _, err := h.Write(c.data); err != nil {
			return err
		}
	}
	return nil
}

// ---- WebP ------------------------------------------------------------

// VP8X flag bits.
const (
	vp8xAlpha = 0x10
	vp8xXMP   = 0x04
)

func webpFind(data []byte) ([]found, error) {
	cs, err := riffChunks(data, WebP, "WEBP")
	if err != nil {
		return nil, err
	}
	var out []found
	for _, c := range cs {
		if c.id != "XMP " {
			continue
		}
		vals, err := xmpFind(c.data)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			out = append(out, found{where: "WebP XMP chunk TC260:AIGC", raw: []byte(v)})
		}
	}
	return out, nil
}

// webpCanvas reads the canvas size from a simple-format image chunk.
func webpCanvas(c riffChunk) (w, h int, alpha bool, ok bool) {
	switch c.id {
	case "VP8 ":
		d := c.data
		if len(d) < 10 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a {
			return 0, 0, false, false
		}
		return int(binary.LittleEndian.Uint16(d[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:]) & 0x3fff), false, true
	case "VP8L":
		d := c.data
		if len(d) < 5 || d[0] != 0x2f {
			return 0, 0, false, false
		}
		b := binary.LittleEndian.Uint32(d[1:])
		return int(b&0x3fff) + 1, int(b>>14&0x3fff) + 1, b>>28&1 == 1, true
	}
	return 0, 0, false, false
}

// webpWrite stores the label in an "XMP " chunk after the image data, as
// the extended format orders it, and sets the VP8X XMP flag (adding a VP8X
// chunk to a simple-format file).
func webpWrite(dst io.Writer, data []byte, a AIGC) error {
	cs, err := riffChunks(data, WebP, "WEBP")
	if err != nil {
		return err
	}
	var base []byte
	var vp8x []byte
	for _, c := range cs {
		switch c.id {
		case "XMP ":
			if base == nil {
				base = c.data
			}
		case "VP8X":
			if len(c.data) < 10 {
				return malformed(WebP, "VP8X chunk is %d bytes", len(c.data))
			}
			vp8x = append([]byte(nil), c.data...)
		}
	}
	if vp8x == nil {
		if len(cs) == 0 {
			return malformed(WebP, "no image chunk")
		}
		w, h, alpha, ok := webpCanvas(cs[0])
		if !ok || w == 0 || h == 0 {
			return malformed(WebP, "cannot read canvas size from %q chunk", cs[0].id)
		}
		vp8x = make([]byte, 10)
		if alpha {
			vp8x[0] |= vp8xAlpha
		}
		putUint24(vp8x[4:], uint32(w-1))
		putUint24(vp8x[7:], uint32(h-1))
	}
	vp8x[0] |= vp8xXMP
	parts := [][]byte{riffChunkBytes("VP8X", vp8x)}
	for _, c := range cs {
		if c.id == "VP8X" || c.id == "XMP " {
			continue
		}
		parts = append(parts, chunkWithPad(data, c))
	}
	parts = append(parts, riffChunkBytes("XMP ", xmpSet(base, a.InnerJSON())))
	return riffWrite(dst, "WEBP", parts)
}

func putUint24(b []byte, v uint32) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}

// webpEssence covers every chunk except VP8X (its flags change) and XMP.
func webpEssence(data []byte, h io.Writer) error {
	return riffEssence(data, WebP, "WEBP", h, "VP8X", "XMP ")
}
