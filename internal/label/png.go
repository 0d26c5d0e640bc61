package label

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

const pngSig = "\x89PNG\r\n\x1a\n"

// pngXMPKeyword is the iTXt keyword for XMP (Adobe XMP spec part 3).
const pngXMPKeyword = "XML:com.adobe.xmp"

type pngChunk struct {
	typ        string
	data       []byte
	start, end int // whole chunk incl. length, type and CRC
}

// pngChunks splits a PNG into chunks, checking every declared length
// against the bytes that remain.
func pngChunks(data []byte) ([]pngChunk, error) {
	if !bytes.HasPrefix(data, []byte(pngSig)) {
		return nil, malformed(PNG, "missing signature")
	}
	var cs []pngChunk
	for p := len(pngSig); p < len(data); {
		if len(data)-p < 12 {
			return nil, malformed(PNG, "truncated chunk header at %d", p)
		}
		n := binary.BigEndian.Uint32(data[p:])
		if uint64(n) > uint64(len(data)-p-12) {
			return nil, malformed(PNG, "chunk at %d declares %d bytes, %d remain", p, n, len(data)-p-12)
		}
		c := pngChunk{typ: string(data[p+4 : p+8]), data: data[p+8 : p+8+int(n)], start: p, end: p + 12 + int(n)}
		cs = append(cs, c)
		p = c.end
		if c.typ == "IEND" {
			break
		}
	}
	if len(cs) == 0 || cs[0].typ != "IHDR" {
		return nil, malformed(PNG, "first chunk is not IHDR")
	}
	return cs, nil
}

// inflate decompresses at most limit bytes.
func inflate(b []byte, limit int64) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("decompresses to more than %d bytes", limit)
	}
	return out, nil
}

// maxTextChunk bounds decompressed text chunks (XMP packets are small).
const maxTextChunk = 4 << 20

// pngText decodes tEXt, zTXt and iTXt into keyword and text.
func pngText(c pngChunk) (keyword string, text []byte, err error) {
	i := bytes.IndexByte(c.data, 0)
	if i < 0 {
		return "", nil, malformed(PNG, "%s without keyword terminator", c.typ)
	}
	keyword, rest := string(c.data[:i]), c.data[i+1:]
	switch c.typ {
	case "tEXt":
		return keyword, rest, nil
	case "zTXt":
		if len(rest) < 1 {
			return "", nil, malformed(PNG, "short zTXt")
		}
		t, err := inflate(rest[1:], maxTextChunk)
		if err != nil {
			return "", nil, malformed(PNG, "zTXt %q: %v", keyword, err)
		}
		return keyword, t, nil
	}
	// iTXt: flag, method, language\0, translated keyword\0, text.
	if len(rest) < 2 {
		return "", nil, malformed(PNG, "short iTXt")
	}
	compressed := rest[0] == 1
	rest = rest[2:]
	for range 2 {
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			return "", nil, malformed(PNG, "iTXt %q header not terminated", keyword)
		}
		rest = rest[j+1:]
	}
	if compressed {
		t, err := inflate(rest, maxTextChunk)
		if err != nil {
			return "", nil, malformed(PNG, "iTXt %q: %v", keyword, err)
		}
		return keyword, t, nil
	}
	return keyword, rest, nil
}

// pngRole classifies a chunk: 0 other, 1 XMP, 2 AIGC text chunk.
func pngRole(c pngChunk) int {
	switch c.typ {
	case "tEXt", "zTXt", "iTXt":
	default:
		return 0
	}
	i := bytes.IndexByte(c.data, 0)
	if i < 0 {
		return 0
	}
	switch string(c.data[:i]) {
	case pngXMPKeyword:
		if c.typ == "iTXt" {
			return 1
		}
	case "AIGC":
		return 2
	}
	return 0
}

func pngFind(data []byte) ([]found, error) {
	cs, err := pngChunks(data)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, c := range cs {
		role := pngRole(c)
		if role == 0 {
			continue
		}
		kw, text, err := pngText(c)
		if err != nil {
			return nil, err
		}
		if role == 2 {
			out = append(out, found{where: "PNG " + c.typ + " " + kw, raw: text})
			continue
		}
		vals, err := xmpFind(text)
		if err != nil {
			return nil, fmt.Errorf("PNG iTXt XMP: %w", err)
		}
		for _, v := range vals {
			out = append(out, found{where: "PNG iTXt XMP TC260:AIGC", raw: []byte(v)})
		}
	}
	return out, nil
}

func pngChunkBytes(typ string, data []byte) []byte {
	b := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(b, uint32(len(data)))
	copy(b[4:], typ)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

func pngITXt(keyword string, text []byte) []byte {
	d := append([]byte(keyword), 0, 0, 0, 0, 0) // NUL, uncompressed, method, "" lang, "" translated
	return pngChunkBytes("iTXt", append(d, text...))
}

// pngWrite puts one iTXt XMP chunk after IHDR. An existing XMP packet is
// updated (other properties kept); AIGC text chunks and further XMP
// chunks (a PNG holds one) are dropped.
func pngWrite(dst io.Writer, data []byte, a AIGC) error {
	cs, err := pngChunks(data)
	if err != nil {
		return err
	}
	var base []byte
	for _, c := range cs {
		if pngRole(c) == 1 {
			if _, base, err = pngText(c); err != nil {
				return err
			}
			break
		}
	}
	xmpChunk := pngITXt(pngXMPKeyword, xmpSet(base, a.InnerJSON()))
	w := &errWriter{w: dst}
	w.write(data[:cs[0].end]) // signature + IHDR
	w.write(xmpChunk)
	for _, c := range cs[1:] {
		if pngRole(c) != 0 {
			continue
		}
		w.write(data[c.start:c.end])
	}
	w.write(data[cs[len(cs)-1].end:]) // trailing bytes after IEND, kept as is
	return w.err
}

// pngEssence covers every chunk except label carriers (iTXt XMP and AIGC
// text chunks): type and data, not lengths or CRCs.
func pngEssence(data []byte, h io.Writer) error {
	cs, err := pngChunks(data)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if pngRole(c) != 0 {
			continue
		}
		if _, err := io.WriteString(h, c.typ); err != nil {
			return err
		}
		if _, err := h.Write(c.data); err != nil {
			return err
		}
	}
	return nil
}

// errWriter keeps the first write error so a sequence of writes reads
// straight; callers check err once.
type errWriter struct {
	w   io.Writer
	err error
	n   int64
}

func (e *errWriter) write(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.n += int64(n)
	e.err = err
}
