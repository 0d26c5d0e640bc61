package complaint

import (
	"crypto/sha256"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"

	"github.com/genguard/genguard/internal/store"
)

// AllowedTypes are the attachment types accepted by default: screenshots,
// documents and plain text. The type is sniffed from the bytes; the name
// and the declared type are not trusted.
func AllowedTypes() []string {
	return []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
}

// sniff returns the media type of data without parameters.
func sniff(data []byte) string {
	mt, _, err := mime.ParseMediaType(http.DetectContentType(data))
	if err != nil {
		return "application/octet-stream"
	}
	return mt
}

// checkAttachment sniffs data and builds the stored attachment.
func checkAttachment(name string, data []byte, allowed []string, maxBytes int64) (*store.Attachment, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if int64(len(data)) > maxBytes {
		return nil, invalid("attachment", "the attachment is larger than %d bytes", maxBytes)
	}
	mt := sniff(data)
	ok := false
	for _, a := range allowed {
		if a == mt {
			ok = true
		}
	}
	if !ok {
		return nil, invalid("attachment", "attachments of type %s are not accepted (allowed: %s)", mt, strings.Join(allowed, ", "))
	}
	sum := sha256.Sum256(data)
	return &store.Attachment{AttachmentMeta: store.AttachmentMeta{Name: cleanName(name), Type: mt, Size: int64(len(data)), SHA256: sum[:]}, Data: data}, nil
}

// cleanName keeps a file name safe to show and to send in a header: the
// base name, printable characters only, at most 100 runes.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == 100 {
			break
		}
		if unicode.IsPrint(r) && r != '"' && r != '/' && r != unicode.ReplacementChar {
			b.WriteRune(r)
			n++
		}
	}
	if s := strings.Trim(b.String(), ". "); s != "" {
		return s
	}
	return "attachment"
}
