package label

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm3"
)

// Format is a file format the package can label.
type Format string

// Supported formats.
const (
	Unknown  Format = ""
	PNG      Format = "png"
	JPEG     Format = "jpeg"
	WebP     Format = "webp"
	WAV      Format = "wav"
	MP3      Format = "mp3"
	MP4      Format = "mp4" // also MOV and M4A (ISO BMFF / QuickTime)
	FLAC     Format = "flac"
	Ogg      Format = "ogg"
	PDF      Format = "pdf"
	Markdown Format = "markdown"
)

// DefaultMaxSize is the input size cap when [Options.MaxSize] is zero.
const DefaultMaxSize = 256 << 20

// Errors callers may test with errors.Is.
var (
	ErrUnknownFormat  = errors.New("unknown or unsupported file format")
	ErrNoLabel        = errors.New("no AIGC label")
	ErrMultipleLabels = errors.New("more than one AIGC label (GB 45438 §6.1 c allows one)")
	ErrTooLarge       = errors.New("input exceeds the size cap")
	ErrMalformed      = errors.New("malformed file")
)

// malformed wraps ErrMalformed with the format and what is wrong.
func malformed(f Format, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", f, ErrMalformed, fmt.Sprintf(format, args...))
}

// found is one label copy located in a file.
type found struct {
	where string // e.g. "PNG iTXt XML:com.adobe.xmp TC260:AIGC"
	raw   []byte // JSON as stored (wrapped or bare)
}

// codec is one format's reader, writer and payload digest. All three parse
// untrusted bytes and must return errors, never panic.
type codec struct {
	// find returns every label copy in data.
	find func(data []byte) ([]found, error)
	// write copies data to dst with exactly one label, a (validated).
	write func(dst io.Writer, data []byte, a AIGC) error
	// essence writes the bytes a label write never changes: the media
	// payload the content digest covers.
	essence func(data []byte, w io.Writer) error
}

// codecFor is a read-only table (no registration at init).
func codecFor(f Format) (codec, bool) {
	switch f {
	case PNG:
		return codec{pngFind, pngWrite, pngEssence}, true
	case JPEG:
		return codec{jpegFind, jpegWrite, jpegEssence}, true
	case WebP:
		return codec{webpFind, webpWrite, webpEssence}, true
	case WAV:
		return codec{wavFind, wavWrite, wavEssence}, true
	case MP3:
		return codec{mp3Find, mp3Write, mp3Essence}, true
	case MP4:
		return codec{mp4Find, mp4Write, mp4Essence}, true
	case FLAC:
		return codec{flacFind, flacWrite, flacEssence}, true
	case Ogg:
		return codec{oggFind, oggWrite, oggEssence}, true
	case PDF:
		return codec{pdfFind, pdfWrite, pdfEssence}, true
	case Markdown:
		return codec{mdFind, mdWrite, mdEssence}, true
	}
	return codec{}, false
}

// Detect identifies the format by magic bytes. Text that is valid UTF-8 and
// not one of the binary formats is reported as Markdown (plain text is
// labelled with front matter too; see markdown.go).
func Detect(data []byte) Format {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return JPEG
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return WAV
	case bytes.HasPrefix(data, []byte("ID3")), len(data) >= 2 && data[0] == 0xff && data[1]&0xe0 == 0xe0:
		return MP3
	case len(data) >= 8 && isBMFFType(string(data[4:8])):
		return MP4
	case bytes.HasPrefix(data, []byte("fLaC")):
		return FLAC
	case bytes.HasPrefix(data, []byte("OggS")):
		return Ogg
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return PDF
	case looksText(data):
		return Markdown
	}
	return Unknown
}

// Options tune [Write], [Read] and [Digest].
type Options struct {
	// MaxSize caps the input in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// Format forces a format instead of detecting it.
	Format Format
	// Producer, when set, signs the producer fields and the content digest
	// into ReservedCode1 (TC260-PG-202511A SecurityData).
	Producer *Signer
	// Propagator, when set, signs the propagator fields and the content
	// digest into ReservedCode2.
	Propagator *Signer
}

func (o Options) maxSize() int64 {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

func (o Options) codec(data []byte) (Format, codec, error) {
	if int64(len(data)) > o.maxSize() {
		return Unknown, codec{}, fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, len(data), o.maxSize())
	}
	f := o.Format
	if f == Unknown {
		f = Detect(data)
	}
	c, ok := codecFor(f)
	if !ok {
		return f, codec{}, ErrUnknownFormat
	}
	return f, c, nil
}

// ReadAll reads r up to the cap, for callers holding a stream or file.
func ReadAll(r io.Reader, maxSize int64) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	if int64(len(data)) > maxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
	}
	return data, nil
}

// Read returns the file's implicit label. It returns ErrNoLabel when there
// is none. When the file holds more than one copy it returns the first one
// together with an error wrapping ErrMultipleLabels.
func Read(data []byte, opts Options) (AIGC, Format, error) {
	f, c, err := opts.codec(data)
	if err != nil {
		return AIGC{}, f, err
	}
	copies, err := c.find(data)
	if err != nil {
		return AIGC{}, f, err
	}
	if len(copies) == 0 {
		return AIGC{}, f, ErrNoLabel
	}
	a, err := ParseJSON(copies[0].raw)
	if err != nil {
		return AIGC{}, f, fmt.Errorf("%s: %w", copies[0].where, err)
	}
	if len(copies) > 1 {
		return a, f, fmt.Errorf("%w: %d copies, first in %s, second in %s", ErrMultipleLabels, len(copies), copies[0].where, copies[1].where)
	}
	return a, f, nil
}

// Write copies src to dst with l as its only implicit label, signing it
// first when opts carries signers. Any label already present is replaced.
// It returns the label as written.
func Write(dst io.Writer, src []byte, l AIGC, opts Options) (AIGC, error) {
	f, c, err := opts.codec(src)
	if err != nil {
		return AIGC{}, err
	}
	if opts.Producer != nil || opts.Propagator != nil {
		digest, err := digest(c, src)
		if err != nil {
			return AIGC{}, err
		}
		if opts.Producer != nil {
			if l, err = opts.Producer.SignProducer(l, digest); err != nil {
				return AIGC{}, err
			}
		}
		if opts.Propagator != nil {
			if l, err = opts.Propagator.SignPropagator(l, digest); err != nil {
				return AIGC{}, err
			}
		}
	}
	if err := l.Validate(); err != nil {
		return AIGC{}, err
	}
	if err := c.write(dst, src, l); err != nil {
		return AIGC{}, fmt.Errorf("write %s label: %w", f, err)
	}
	return l, nil
}

// Digest returns the SM3 digest of the content without its label: the
// media payload every writer keeps byte-identical.
func Digest(data []byte, opts Options) ([]byte, Format, error) {
	f, c, err := opts.codec(data)
	if err != nil {
		return nil, f, err
	}
	d, err := digest(c, data)
	return d, f, err
}

func digest(c codec, data []byte) ([]byte, error) {
	h := sm3.New()
	if err := c.essence(data, h); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Payload writes the bytes the content digest covers to w; tests use it to
// show a label write leaves the media payload unchanged.
func Payload(w io.Writer, data []byte, opts Options) error {
	_, c, err := opts.codec(data)
	if err != nil {
		return err
	}
	return c.essence(data, w)
}
