package label

import (
	"bytes"
	"fmt"
	"io"

	"github.com/bogem/id3v2/v2"
)

// id3Len returns the length of a leading ID3v2 tag (header, frames and
// footer), or 0 when there is none.
func id3Len(data []byte) (int, error) {
	if !bytes.HasPrefix(data, []byte("ID3")) {
		return 0, nil
	}
	if len(data) < 10 {
		return 0, malformed(MP3, "truncated ID3v2 header")
	}
	var size int
	for _, b := range data[6:10] {
		if b >= 0x80 {
			return 0, malformed(MP3, "ID3v2 size is not synchsafe")
		}
		size = size<<7 | int(b)
	}
	n := 10 + size
	if data[5]&0x10 != 0 {
		n += 10 // footer
	}
	if n > len(data) {
		return 0, malformed(MP3, "ID3v2 tag declares %d bytes, file has %d", n, len(data))
	}
	return n, nil
}

// id3Parse parses a tag held entirely in tag (bounded by its declared size).
func id3Parse(tag []byte) (*id3v2.Tag, error) {
	if len(tag) == 0 {
		t := id3v2.NewEmptyTag()
		return t, nil
	}
	t, err := id3v2.ParseReader(bytes.NewReader(tag), id3v2.Options{Parse: true})
	if err != nil {
		return nil, malformed(MP3, "ID3v2: %v", err)
	}
	return t, nil
}

func mp3Find(data []byte) ([]found, error) {
	n, err := id3Len(data)
	if err != nil || n == 0 {
		return nil, err
	}
	t, err := id3Parse(data[:n])
	if err != nil {
		return nil, err
	}
	var out []found
	for _, f := range t.GetFrames(t.CommonID("User defined text information frame")) {
		if u, ok := f.(id3v2.UserDefinedTextFrame); ok && u.Description == "AIGC" {
			out = append(out, found{where: fmt.Sprintf("MP3 ID3v2.%d TXXX AIGC", t.Version()), raw: []byte(u.Value)})
		}
	}
	return out, nil
}

// mp3Write rewrites the ID3v2 tag (created if missing, saved as ID3v2.4
// because the frame is UTF-8) with one TXXX frame "AIGC", and copies the
// audio frames unchanged.
func mp3Write(dst io.Writer, data []byte, a AIGC) error {
	n, err := id3Len(data)
	if err != nil {
		return err
	}
	t, err := id3Parse(data[:n])
	if err != nil {
		return err
	}
	t.SetVersion(4)
	// One TXXX per description: adding replaces an existing AIGC frame.
	t.AddUserDefinedTextFrame(id3v2.UserDefinedTextFrame{
		Encoding:    id3v2.EncodingUTF8,
		Description: "AIGC",
		Value:       string(a.JSON()),
	})
	if _, err := t.WriteTo(dst); err != nil {
		return fmt.Errorf("ID3v2 tag: %w", err)
	}
	_, err = dst.Write(data[n:])
	return err
}

// mp3Essence covers everything after the ID3v2 tag.
func mp3Essence(data []byte, h io.Writer) error {
	n, err := id3Len(data)
	if err != nil {
		return err
	}
	_, err = h.Write(data[n:])
	return err
}
