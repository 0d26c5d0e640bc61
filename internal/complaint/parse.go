package complaint

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// Limits on a submitted form.
const (
	maxFormParts = 16
	maxFieldSize = 64 << 10
)

// ParseForm reads a complaint form posted as application/x-www-form-
// urlencoded or multipart/form-data (with an optional "attachment" file).
// It returns the input and the form's CSRF token. body must already be
// limited by the caller; maxAttachment bounds the file part.
func ParseForm(contentType string, body io.Reader, maxAttachment int64) (Input, string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Input{}, "", invalid("form", "unsupported content type")
	}
	vals := url.Values{}
	var in Input
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(io.LimitReader(body, maxFieldSize*4+1))
		if err != nil {
			return Input{}, "", readErr(err)
		}
		if len(b) > maxFieldSize*4 {
			return Input{}, "", invalid("form", "the form is too large")
		}
		if vals, err = url.ParseQuery(string(b)); err != nil {
			return Input{}, "", invalid("form", "the form is malformed")
		}
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" || len(boundary) > 70 {
			return Input{}, "", invalid("form", "the multipart boundary is missing or too long")
		}
		mr := multipart.NewReader(body, boundary)
		for n := 0; ; n++ {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if isTooLarge(err) {
					return Input{}, "", ErrTooLarge
				}
				return Input{}, "", invalid("form", "the multipart body is malformed")
			}
			if n >= maxFormParts {
				return Input{}, "", invalid("form", "more than %d form parts", maxFormParts)
			}
			name := p.FormName()
			if name == "attachment" && p.FileName() != "" {
				if in.Attachment != nil {
					return Input{}, "", invalid("attachment", "only one attachment is accepted")
				}
				data, err := io.ReadAll(io.LimitReader(p, maxAttachment+1))
				if err != nil {
					return Input{}, "", readErr(err)
				}
				if int64(len(data)) > maxAttachment {
					return Input{}, "", invalid("attachment", "the attachment is larger than %d bytes", maxAttachment)
				}
				in.Attachment, in.AttachmentName = data, p.FileName()
				continue
			}
			v, err := io.ReadAll(io.LimitReader(p, maxFieldSize+1))
			if err != nil {
				return Input{}, "", readErr(err)
			}
			if len(v) > maxFieldSize {
				return Input{}, "", invalid(name, "the field is too large")
			}
			if len(vals[name]) > 0 {
				return Input{}, "", invalid(name, "given more than once")
			}
			vals.Add(name, string(v))
		}
	default:
		return Input{}, "", invalid("form", "unsupported content type %s", mt)
	}
	for k, v := range vals {
		if len(v) > 1 {
			return Input{}, "", invalid(k, "given more than once")
		}
	}
	in.Category = vals.Get("category")
	in.Description = vals.Get("description")
	in.Contact = vals.Get("contact")
	in.RequestID = vals.Get("request_id")
	in.EnforcementID = vals.Get("enforcement_id")
	if len(in.Attachment) == 0 {
		in.Attachment = nil
	}
	return in, vals.Get("csrf"), nil
}

// ErrTooLarge is returned when the body exceeds the caller's limit.
var ErrTooLarge = errors.New("request body too large")

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.Is(err, ErrTooLarge) || errors.As(err, &mb)
}

func readErr(err error) error {
	if isTooLarge(err) {
		return ErrTooLarge
	}
	return invalid("form", "the multipart body is malformed")
}
