package label

import (
	"bytes"
	"encoding/binary"
	"io"
)

type oggPage struct {
	flags      byte
	granule    uint64
	serial     uint32
	seq        uint32
	lacing     []byte
	body       []byte
	start, end int
}

// oggCRCTable is the Ogg CRC-32 (polynomial 0x04C11DB7, not reflected).
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func oggCRC(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ oggCRCTable[byte(c>>24)^x]
	}
	return c
}

// oggPages parses pages until limit pages have been read (0 = all).
func oggPages(data []byte, limit int) ([]oggPage, error) {
	var ps []oggPage
	for p := 0; p < len(data) && (limit == 0 || len(ps) < limit); {
		if len(data)-p < 27 || string(data[p:p+4]) != "OggS" {
			return nil, malformed(Ogg, "no page at %d", p)
		}
		if data[p+4] != 0 {
			return nil, malformed(Ogg, "page version %d", data[p+4])
		}
		ns := int(data[p+26])
		if len(data)-p-27 < ns {
			return nil, malformed(Ogg, "truncated lacing table at %d", p)
		}
		lacing := data[p+27 : p+27+ns]
		n := 0
		for _, l := range lacing {
			n += int(l)
		}
		bodyAt := p + 27 + ns
		if n > len(data)-bodyAt {
			return nil, malformed(Ogg, "page at %d declares %d body bytes, %d remain", p, n, len(data)-bodyAt)
		}
		ps = append(ps, oggPage{
			flags: data[p+5], granule: binary.LittleEndian.Uint64(data[p+6:]),
			serial: binary.LittleEndian.Uint32(data[p+14:]), seq: binary.LittleEndian.Uint32(data[p+18:]),
			lacing: lacing, body: data[bodyAt : bodyAt+n], start: p, end: bodyAt + n,
		})
		p = bodyAt + n
	}
	if len(ps) == 0 {
		return nil, malformed(Ogg, "no pages")
	}
	return ps, nil
}

// oggHeaders reassembles the first count packets of the first logical
// stream and returns them with the number of pages they occupy. The codec
// rules (Vorbis I §4.2.1, RFC 7845 §3) make audio start on a fresh page.
func oggHeaders(ps []oggPage) (packets [][]byte, pages int, err error) {
	count := 0
	var cur []byte
	for i, pg := range ps {
		if pg.serial != ps[0].serial {
			return nil, 0, malformed(Ogg, "multiplexed streams are not supported")
		}
		off := 0
		for _, l := range pg.lacing {
			cur = append(cur, pg.body[off:off+int(l)]...)
			off += int(l)
			if len(cur) > maxTextChunk*4 {
				return nil, 0, malformed(Ogg, "header packet larger than %d bytes", maxTextChunk*4)
			}
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
				if count == 0 {
					count = oggHeaderCount(packets[0])
					if count == 0 {
						return nil, 0, malformed(Ogg, "codec is neither Vorbis nor Opus")
					}
				}
				if len(packets) == count {
					if off != len(pg.body) || len(cur) != 0 {
						return nil, 0, malformed(Ogg, "audio data shares a page with the headers")
					}
					return packets, i + 1, nil
				}
			}
		}
	}
	return nil, 0, malformed(Ogg, "header packets incomplete")
}

// oggHeaderCount is the number of header packets for the codec.
func oggHeaderCount(id []byte) int {
	switch {
	case bytes.HasPrefix(id, []byte("\x01vorbis")):
		return 3
	case bytes.HasPrefix(id, []byte("OpusHead")):
		return 2
	}
	return 0
}

// oggComment splits the comment packet into codec prefix, comment block
// and trailing bytes (Vorbis framing bit, Opus padding).
func oggComment(p []byte) (prefix, block, tail []byte, err error) {
	switch {
	case bytes.HasPrefix(p, []byte("\x03vorbis")):
		prefix = p[:7]
	case bytes.HasPrefix(p, []byte("OpusTags")):
		prefix = p[:8]
	default:
		return nil, nil, nil, malformed(Ogg, "second packet is not a comment header")
	}
	block = p[len(prefix):]
	vc, err := parseVorbisComment(block, Ogg)
	if err != nil {
		return nil, nil, nil, err
	}
	n := len(vc.bytes())
	return prefix, block[:n], block[n:], nil
}

func oggFind(data []byte) ([]found, error) {
	ps, err := oggPages(data, 64)
	if err != nil {
		return nil, err
	}
	packets, _, err := oggHeaders(ps)
	if err != nil {
		return nil, err
	}
	_, block, _, err := oggComment(packets[1])
	if err != nil {
		return nil, err
	}
	vc, err := parseVorbisComment(block, Ogg)
	if err != nil {
		return nil, err
	}
	return vc.labels("Ogg comment header AIGC"), nil
}

// oggPaginate lays header packets out on fresh pages starting at seq.
func oggPaginate(packets [][]byte, serial, seq uint32) [][]byte {
	var pages [][]byte
	var lacing, body []byte
	continued := false
	ended := false
	flush := func(next bool) {
		h := make([]byte, 27, 27+len(lacing)+len(body))
		copy(h, "OggS")
		if continued {
			h[5] = 0x01
		}
		g := uint64(0)
		if !ended {
			g = ^uint64(0) // no packet finishes on this page
		}
		binary.LittleEndian.PutUint64(h[6:], g)
		binary.LittleEndian.PutUint32(h[14:], serial)
		binary.LittleEndian.PutUint32(h[18:], seq)
		h[26] = byte(len(lacing))
		pg := append(append(h, lacing...), body...)
		binary.LittleEndian.PutUint32(pg[22:], oggCRC(pg))
		pages = append(pages, pg)
		seq++
		lacing, body, ended, continued = nil, nil, false, next
	}
	for _, p := range packets {
		for rest := p; ; {
			if len(lacing) == 255 {
				flush(true)
			}
			n := min(len(rest), 255)
			lacing = append(lacing, byte(n))
			body = append(body, rest[:n]...)
			rest = rest[n:]
			if n < 255 {
				ended = true
				break
			}
		}
		if len(lacing) == 255 {
			flush(false)
		}
	}
	if len(lacing) > 0 {
		flush(false)
	}
	return pages
}

// oggWrite rewrites the comment header pages with one AIGC= comment; the
// following pages keep their bodies and get new sequence numbers and CRCs.
func oggWrite(dst io.Writer, data []byte, a AIGC) error {
	ps, err := oggPages(data, 0)
	if err != nil {
		return err
	}
	packets, hp, err := oggHeaders(ps)
	if err != nil {
		return err
	}
	prefix, block, tail, err := oggComment(packets[1])
	if err != nil {
		return err
	}
	vc, err := parseVorbisComment(block, Ogg)
	if err != nil {
		return err
	}
	comment := append(append(append([]byte(nil), prefix...), vc.withLabel(a.JSON()).bytes()...), tail...)
	serial := ps[0].serial
	w := &errWriter{w: dst}
	w.write(data[ps[0].start:ps[0].end]) // identification header page
	newPages := oggPaginate(append([][]byte{comment}, packets[2:]...), serial, ps[0].seq+1)
	for _, pg := range newPages {
		w.write(pg)
	}
	shift := int64(len(newPages)) - int64(hp-1)
	for _, pg := range ps[hp:] {
		if pg.serial != serial {
			return malformed(Ogg, "multiplexed or chained streams are not supported")
		}
		out := bytes.Clone(data[pg.start:pg.end])
		binary.LittleEndian.PutUint32(out[18:], uint32(int64(pg.seq)+shift))
		clear(out[22:26])
		binary.LittleEndian.PutUint32(out[22:], oggCRC(out))
		w.write(out)
	}
	return w.err
}

// oggEssence covers the identification header, the codec setup header
// (Vorbis) and every audio page's granule position and body.
func oggEssence(data []byte, h io.Writer) error {
	ps, err := oggPages(data, 0)
	if err != nil {
		return err
	}
	packets, hp, err := oggHeaders(ps)
	if err != nil {
		return err
	}
	ew := &errWriter{w: h}
	ew.write(packets[0])
	for _, p := range packets[2:] {
		ew.write(p)
	}
	var g [8]byte
	for _, pg := range ps[hp:] {
		binary.LittleEndian.PutUint64(g[:], pg.granule)
		ew.write(g[:])
		ew.write(pg.body)
	}
	return ew.err
}
