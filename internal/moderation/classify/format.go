package classify

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"

	"github.com/genguard/genguard/internal/risk"
)

// Model file format, version 1 (all integers little-endian):
//
//	magic "GGCLASSF", uint16 version
//	uint8 bits, uint8 minN, uint8 maxN, uint8 classes K, float32 threshold
//	K × { uint8 len, name, uint8 risks, risks × { uint8 len, code } }
//	K × float32 scale, K × float32 bias
//	DEFLATE stream of 2^bits·K int8 weights, bucket-major
//	uint32 CRC-32 (IEEE) of every byte before it
//
// Limits below bound what a hostile file can make Load allocate (≈ 8 MB).
const (
	magic         = "GGCLASSF"
	formatVersion = 1
	minBits       = 8
	maxBits       = 20
	maxWeights    = 1 << 22
	maxNameLen    = 64
	maxClassRisks = 8
)

// ErrFormat is wrapped by every Load error about the file's contents.
var ErrFormat = errors.New("invalid classifier model file")

// Save writes the model in the versioned binary format.
func (m *Model) Save(w io.Writer) error {
	crc := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	var hdr []byte
	hdr = append(hdr, magic...)
	hdr = binary.LittleEndian.AppendUint16(hdr, formatVersion)
	hdr = append(hdr, byte(m.bits), byte(m.minN), byte(m.maxN), byte(len(m.classes)))
	hdr = binary.LittleEndian.AppendUint32(hdr, math.Float32bits(m.threshold))
	for _, c := range m.classes {
		hdr = append(hdr, byte(len(c.Name)))
		hdr = append(hdr, c.Name...)
		hdr = append(hdr, byte(len(c.Risks)))
		for _, r := range c.Risks {
			hdr = append(hdr, byte(len(r)))
			hdr = append(hdr, r...)
		}
	}
	for _, s := range m.scales {
		hdr = binary.LittleEndian.AppendUint32(hdr, math.Float32bits(s))
	}
	for _, b := range m.bias {
		hdr = binary.LittleEndian.AppendUint32(hdr, math.Float32bits(b))
	}
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	fw, err := flate.NewWriter(bw, flate.BestCompression)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	raw := make([]byte, len(m.q))
	for i, q := range m.q {
		raw[i] = byte(q)
	}
	if _, err := fw.Write(raw); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// Load reads a model written by Save. Corrupt, truncated or hostile input
// yields an error wrapping ErrFormat (or the reader's error), never a panic.
func Load(r io.Reader) (*Model, error) {
	cr := &crcReader{r: bufio.NewReader(r), h: crc32.NewIEEE()}
	m, err := load(cr)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return m, nil
}

func load(cr *crcReader) (*Model, error) {
	var head [len(magic) + 2 + 4 + 4]byte
	if _, err := io.ReadFull(cr, head[:]); err != nil {
		return nil, formatErr("header", err)
	}
	if string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("bad magic: %w", ErrFormat)
	}
	p := head[len(magic):]
	if v := binary.LittleEndian.Uint16(p); v != formatVersion {
		return nil, fmt.Errorf("version %d, want %d: %w", v, formatVersion, ErrFormat)
	}
	bits, minN, maxN, k := int(p[2]), int(p[3]), int(p[4]), int(p[5])
	threshold := math.Float32frombits(binary.LittleEndian.Uint32(p[6:]))
	if k < 2 || k > maxClasses {
		return nil, fmt.Errorf("%d classes: %w", k, ErrFormat)
	}
	classes := make([]Class, k)
	for i := range classes {
		name, err := cr.shortString(maxNameLen)
		if err != nil {
			return nil, formatErr("class name", err)
		}
		n, err := cr.ReadByte()
		if err != nil {
			return nil, formatErr("class risks", err)
		}
		if int(n) > maxClassRisks {
			return nil, fmt.Errorf("class %q has %d risks: %w", name, n, ErrFormat)
		}
		classes[i].Name = name
		for range n {
			s, err := cr.shortString(len("A.1.a"))
			if err != nil {
				return nil, formatErr("risk code", err)
			}
			c, err := risk.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", err, ErrFormat)
			}
			classes[i].Risks = append(classes[i].Risks, c)
		}
	}
	m, err := newModel(classes, bits, minN, maxN, threshold)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrFormat)
	}
	floats := make([]byte, 8*k)
	if _, err := io.ReadFull(cr, floats); err != nil {
		return nil, formatErr("scales", err)
	}
	for j := range k {
		m.scales[j] = math.Float32frombits(binary.LittleEndian.Uint32(floats[4*j:]))
		m.bias[j] = math.Float32frombits(binary.LittleEndian.Uint32(floats[4*(k+j):]))
		if !finite(m.scales[j]) || m.scales[j] < 0 || !finite(m.bias[j]) {
			return nil, fmt.Errorf("non-finite or negative scale or bias: %w", ErrFormat)
		}
	}
	fr := flate.NewReader(cr)
	raw := make([]byte, len(m.q))
	if _, err := io.ReadFull(fr, raw); err != nil {
		return nil, formatErr("weights", err)
	}
	for i, b := range raw {
		m.q[i] = int8(b)
	}
	// The stream must end exactly here, or the CRC would be read as data.
	if n, err := fr.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		return nil, fmt.Errorf("weights longer than declared: %w", ErrFormat)
	}
	want := cr.h.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(cr.r, sum[:]); err != nil {
		return nil, formatErr("checksum", err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return nil, fmt.Errorf("checksum %08x, want %08x: %w", got, want, ErrFormat)
	}
	return m, nil
}

// formatErr reports truncation as a format error and passes reader errors on.
func formatErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated %s: %w", what, ErrFormat)
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %w: %w", what, err, ErrFormat)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// crcReader checksums what it reads. It is an io.ByteReader so flate does
// not read past the end of its stream into the trailer.
type crcReader struct {
	r   *bufio.Reader
	h   hash.Hash32
	one [1]byte // ReadByte's scratch, so hashing a byte does not allocate
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.one[0] = b
		c.h.Write(c.one[:])
	}
	return b, err
}

// shortString reads a uint8 length and that many bytes, at most limit.
func (c *crcReader) shortString(limit int) (string, error) {
	n, err := c.ReadByte()
	if err != nil {
		return "", err
	}
	if int(n) > limit {
		return "", fmt.Errorf("string of %d bytes, at most %d: %w", n, limit, ErrFormat)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
