package label

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Label values (GB 45438 Appendix E, 生成合成标签).
const (
	LabelIs        = "1" // 属于: the content is AI-generated or synthesised
	LabelMayBe     = "2" // 可能为: the user declared it generated
	LabelSuspected = "3" // 疑似为: traces of generation were detected
)

// maxFieldLen bounds one field so a hostile label cannot grow without limit.
// A TC260 SecurityData object with two signatures and a key is under 1 KiB.
const maxFieldLen = 4096

// AIGC is the implicit label of GB 45438 Appendix E. Field order matches the
// standard and is kept by [AIGC.JSON].
type AIGC struct {
	Label             string `json:"Label"`
	ContentProducer   string `json:"ContentProducer"`
	ProduceID         string `json:"ProduceID"`
	ReservedCode1     string `json:"ReservedCode1"`
	ContentPropagator string `json:"ContentPropagator"`
	PropagateID       string `json:"PropagateID"`
	ReservedCode2     string `json:"ReservedCode2"`
}

type wrapped struct {
	AIGC *AIGC `json:"AIGC"`
}

// ErrInvalidLabel is wrapped by every validation error.
var ErrInvalidLabel = errors.New("invalid AIGC label")

// fields lists the label fields by name, in Appendix E order.
func (a *AIGC) fields() [7]struct {
	name string
	v    *string
} {
	return [7]struct {
		name string
		v    *string
	}{
		{"Label", &a.Label}, {"ContentProducer", &a.ContentProducer}, {"ProduceID", &a.ProduceID},
		{"ReservedCode1", &a.ReservedCode1}, {"ContentPropagator", &a.ContentPropagator},
		{"PropagateID", &a.PropagateID}, {"ReservedCode2", &a.ReservedCode2},
	}
}

// Validate checks the label value and the character set: Appendix E item j
// allows only single-byte printable characters 0x21–0x7E (no space, no
// control characters, no Chinese names — use the provider code).
func (a AIGC) Validate() error {
	switch a.Label {
	case LabelIs, LabelMayBe, LabelSuspected:
	default:
		return fmt.Errorf("%w: Label %q: want \"1\", \"2\" or \"3\"", ErrInvalidLabel, a.Label)
	}
	if a.ContentProducer == "" && a.ContentPropagator == "" {
		return fmt.Errorf("%w: neither ContentProducer nor ContentPropagator is set", ErrInvalidLabel)
	}
	for _, f := range a.fields() {
		v := *f.v
		if len(v) > maxFieldLen {
			return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidLabel, f.name, len(v), maxFieldLen)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x21 || c > 0x7e {
				return fmt.Errorf("%w: %s byte %d is 0x%02X: only printable ASCII 0x21-0x7E is allowed", ErrInvalidLabel, f.name, i, c)
			}
		}
	}
	return nil
}

// JSON returns the compact wrapped form {"AIGC":{…}} in Appendix E order.
func (a AIGC) JSON() []byte { return a.encode(true) }

// InnerJSON returns the seven-field object without the AIGC wrapper, the
// form used as the XMP TC260:AIGC property value.
func (a AIGC) InnerJSON() []byte { return a.encode(false) }

func (a AIGC) encode(wrap bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Why: the label must stay plain ASCII; < > & are legal and must not
	// become \u003c escapes that other readers would compare differently.
	enc.SetEscapeHTML(false)
	var v any = a
	if wrap {
		v = wrapped{AIGC: &a}
	}
	if err := enc.Encode(v); err != nil {
		panic(err) // unreachable: only strings are encoded
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// ParseJSON decodes a label in the wrapped {"AIGC":{…}} or the bare
// seven-field form (both occur in the wild) and validates it.
func ParseJSON(b []byte) (AIGC, error) {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) > 16*maxFieldLen {
		return AIGC{}, fmt.Errorf("%w: JSON is %d bytes", ErrInvalidLabel, len(b))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return AIGC{}, fmt.Errorf("%w: %w", ErrInvalidLabel, err)
	}
	if inner, ok := probe["AIGC"]; ok {
		b = inner
	}
	var a AIGC
	if err := json.Unmarshal(b, &a); err != nil {
		return AIGC{}, fmt.Errorf("%w: %w", ErrInvalidLabel, err)
	}
	if err := a.Validate(); err != nil {
		return AIGC{}, err
	}
	return a, nil
}
