package label

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	jpegXMPHeader  = "http://ns.adobe.com/xap/1.0/\x00"
	jpegExifHeader = "Exif\x00\x00"
	// jpegMaxXMP is the largest XMP packet one APP1 segment holds.
	jpegMaxXMP = 65533 - len(jpegXMPHeader)
)

type jpegSeg struct {
	marker     byte
	start, end int    // whole segment incl. marker
	payload    []byte // after the length field
}

// jpegSegments returns the header segments up to (not including) SOS and
// the offset of SOS; everything from there on is entropy-coded data that is
// copied untouched.
func jpegSegments(data []byte) ([]jpegSeg, int, error) {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return nil, 0, malformed(JPEG, "missing SOI")
	}
	var segs []jpegSeg
	p := 2
	for {
		if p >= len(data) {
			return nil, 0, malformed(JPEG, "no SOS segment")
		}
		if data[p] != 0xff {
			return nil, 0, malformed(JPEG, "expected marker at %d, got 0x%02X", p, data[p])
		}
		start := p
		for p < len(data) && data[p] == 0xff { // fill bytes
			p++
		}
		if p >= len(data) {
			return nil, 0, malformed(JPEG, "truncated marker")
		}
		m := data[p]
		p++
		if m == 0xda || m == 0xd9 {
			return segs, start, nil
		}
		if m == 0x01 || (m >= 0xd0 && m <= 0xd7) {
			segs = append(segs, jpegSeg{marker: m, start: start, end: p})
			continue
		}
		if len(data)-p < 2 {
			return nil, 0, malformed(JPEG, "truncated segment length at %d", p)
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 || n > len(data)-p {
			return nil, 0, malformed(JPEG, "segment 0x%02X at %d declares %d bytes, %d remain", m, start, n, len(data)-p)
		}
		segs = append(segs, jpegSeg{marker: m, start: start, end: p + n, payload: data[p+2 : p+n]})
		p += n
	}
}

func (s jpegSeg) isXMP() bool {
	return s.marker == 0xe1 && bytes.HasPrefix(s.payload, []byte(jpegXMPHeader))
}

func (s jpegSeg) isExif() bool {
	return s.marker == 0xe1 && bytes.HasPrefix(s.payload, []byte(jpegExifHeader))
}

func jpegFind(data []byte) ([]found, error) {
	segs, _, err := jpegSegments(data)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, s := range segs {
		switch {
		case s.isXMP():
			vals, err := xmpFind(s.payload[len(jpegXMPHeader):])
			if err != nil {
				return nil, fmt.Errorf("JPEG APP1 XMP: %w", err)
			}
			for _, v := range vals {
				out = append(out, found{where: "JPEG APP1 XMP TC260:AIGC", raw: []byte(v)})
			}
		case s.isExif():
			if off, n := exifUserComment(s.payload[len(jpegExifHeader):]); n > 0 {
				c := s.payload[len(jpegExifHeader)+off : len(jpegExifHeader)+off+n]
				if v := userCommentLabel(c); v != nil {
					out = append(out, found{where: "JPEG APP1 Exif UserComment", raw: v})
				}
			}
		}
	}
	return out, nil
}

// userCommentLabel returns the JSON in an EXIF UserComment value (8-byte
// character-code prefix, PG-20259A Appendix B), or nil.
func userCommentLabel(c []byte) []byte {
	if len(c) < 8 {
		return nil
	}
	v := bytes.TrimRight(c[8:], "\x00 ")
	if !bytes.Contains(v, []byte(`"AIGC"`)) && !bytes.Contains(v, []byte(`"Label"`)) {
		return nil
	}
	return v
}

// exifUserComment locates the UserComment (0x9286) value inside a TIFF
// structure: offset and length relative to tiff, or 0, 0.
func exifUserComment(tiff []byte) (off, n int) {
	if len(tiff) < 8 {
		return 0, 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, 0
	}
	// entry finds tag in the IFD at ifd and returns its count and value
	// offset (values up to 4 bytes are inline).
	entry := func(ifd int, tag uint16) (count, valOff int, ok bool) {
		if ifd < 8 || ifd > len(tiff)-2 {
			return 0, 0, false
		}
		k := int(bo.Uint16(tiff[ifd:]))
		for i := range k {
			e := ifd + 2 + 12*i
			if e+12 > len(tiff) {
				return 0, 0, false
			}
			if bo.Uint16(tiff[e:]) != tag {
				continue
			}
			c := bo.Uint32(tiff[e+4:])
			if c <= 4 {
				return int(c), e + 8, true
			}
			return int(min(c, uint32(len(tiff)))), int(bo.Uint32(tiff[e+8:])), true
		}
		return 0, 0, false
	}
	_, p, ok := entry(int(bo.Uint32(tiff[4:])), 0x8769) // ExifIFD pointer
	if !ok || p+4 > len(tiff) {
		return 0, 0
	}
	count, v, ok := entry(int(bo.Uint32(tiff[p:])), 0x9286)
	if !ok || v < 0 || count <= 0 || v > len(tiff) || count > len(tiff)-v {
		return 0, 0
	}
	return v, count
}

// jpegWrite writes one APP1 XMP segment (after SOI, JFIF APP0 and Exif) and
// blanks an AIGC UserComment in place so only one label remains.
func jpegWrite(dst io.Writer, data []byte, a AIGC) error {
	segs, sos, err := jpegSegments(data)
	if err != nil {
		return err
	}
	var base []byte
	for _, s := range segs {
		if s.isXMP() {
			base = s.payload[len(jpegXMPHeader):]
			break
		}
	}
	packet := xmpSet(base, a.InnerJSON())
	if len(packet) > jpegMaxXMP {
		return fmt.Errorf("XMP packet is %d bytes, one APP1 segment holds %d", len(packet), jpegMaxXMP)
	}
	app1 := make([]byte, 4, 4+len(jpegXMPHeader)+len(packet))
	app1[0], app1[1] = 0xff, 0xe1
	binary.BigEndian.PutUint16(app1[2:], uint16(2+len(jpegXMPHeader)+len(packet)))
	app1 = append(append(app1, jpegXMPHeader...), packet...)

	w := &errWriter{w: dst}
	w.write(data[:2])
	placed := false
	for _, s := range segs {
		if !placed && !(s.marker == 0xe0 || s.isExif()) {
			w.write(app1)
			placed = true
		}
		switch {
		case s.isXMP():
			continue
		case s.isExif():
			w.write(exifBlankLabel(data[s.start:s.end]))
		default:
			w.write(data[s.start:s.end])
		}
	}
	if !placed {
		w.write(app1)
	}
	w.write(data[sos:])
	return w.err
}

// exifBlankLabel returns seg with an AIGC UserComment overwritten by NULs
// (same length, so no EXIF offset moves).
func exifBlankLabel(seg []byte) []byte {
	head := 4 + len(jpegExifHeader)
	off, n := exifUserComment(seg[head:])
	if n == 0 || userCommentLabel(seg[head+off:head+off+n]) == nil {
		return seg
	}
	out := bytes.Clone(seg)
	clear(out[head+off+8 : head+off+n])
	return out
}

// jpegEssence covers the coded image: every segment except APPn and COM
// (metadata) and everything from SOS on.
func jpegEssence(data []byte, h io.Writer) error {
	segs, sos, err := jpegSegments(data)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if (s.marker >= 0xe0 && s.marker <= 0xef) || s.marker == 0xfe {
			continue
		}
		if _, err := h.Write(data[s.start:s.end]); err != nil {
			return err
		}
	}
	_, err = h.Write(data[sos:])
	return err
}
