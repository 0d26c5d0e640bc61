package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/genguard/genguard/internal/label"
)

// Label configures AI-generated-content labels (标识办法, GB 45438-2025):
// the implicit metadata label every generated file carries, and the
// explicit (visible or audible) labels.
type Label struct {
	// Producer is the ContentProducer written into every implicit label:
	// the provider code from the TC260 coding rule (27 characters, e.g.
	// 001191110102MAD55U9H0F10002). Printable ASCII 0x21–0x7E only; the
	// default marks labels from a gateway that has not been given its code.
	Producer string `yaml:"producer"`
	// SigningKey is an SM2 private key in PEM, used to sign ReservedCode1
	// (TC260-PG-202511A). It is a file path, or the PEM text itself when
	// it starts with "-----BEGIN"; "${ENV}" works for either. Empty: labels
	// are unsigned.
	SigningKey Secret `yaml:"signing_key"`
	// Notice is the explicit text label; it must contain 人工智能 or AI and
	// 生成 or 合成 (GB 45438 §5.1).
	Notice string `yaml:"notice"`
	// NoticePosition is start, middle or end. Streams put middle at the end.
	NoticePosition string `yaml:"notice_position"`
	// TextNotice adds Notice to chat and completions responses.
	TextNotice bool `yaml:"text_notice"`
	// ImageVisible draws a visible label on generated images.
	ImageVisible bool `yaml:"image_visible"`
	// AudioRhythm places the 「短长短短」 rhythm label: start, end or both.
	AudioRhythm string `yaml:"audio_rhythm"`
	// AllowUnlabeled lets a user ask for content without the explicit label
	// (header "Genguard-Explicit-Label: omit"), honoured only once they have
	// accepted the current service agreement, which must state their
	// labelling duties (labelling Measures Art. 9). Each such delivery is an
	// audit event. The implicit label is never dropped.
	AllowUnlabeled bool `yaml:"allow_unlabeled"`
	// MaxUploadBytes caps a file sent to POST /v1/labels/verify.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// FileTTL is how long an image generated with response_format "url"
	// stays downloadable; MaxFiles caps how many are kept (oldest go first).
	FileTTL  Duration `yaml:"file_ttl"`
	MaxFiles int      `yaml:"max_files"`
}

// DefaultProducer is the ContentProducer of an unconfigured gateway.
const DefaultProducer = "genguard-unregistered"

func defaultLabel() Label {
	return Label{
		Producer:       DefaultProducer,
		Notice:         label.DefaultNotice,
		NoticePosition: "end",
		TextNotice:     true,
		ImageVisible:   true,
		AudioRhythm:    "start",
		MaxUploadBytes: 32 << 20,
		FileTTL:        Duration(time.Hour),
		MaxFiles:       1000,
	}
}

// validateLabel checks the label section; problems carry file and line.
func (c *Config) validateLabel(file string, root *yaml.Node, getenv func(string) string) []Problem {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	l := &c.Label
	if l.Producer == "" {
		bad("label.producer", "must not be empty")
	} else if err := (label.AIGC{Label: label.LabelIs, ContentProducer: l.Producer}).Validate(); err != nil {
		bad("label.producer", "%q: only printable ASCII 0x21-0x7E is allowed (use the TC260 provider code, not a name)", l.Producer)
	}
	l.SigningKey.resolve(getenv, func(msg string) { bad("label.signing_key", "%s", msg) })
	if v := l.SigningKey.Value; v != "" {
		if _, err := l.Signer(); err != nil {
			bad("label.signing_key", "%v", err)
		}
	}
	if !label.HasNoticeElements(l.Notice) {
		bad("label.notice", "%q must contain 人工智能 or AI, and 生成 or 合成 (GB 45438 §5.1)", l.Notice)
	}
	if _, err := l.Position(); err != nil {
		bad("label.notice_position", "%v", err)
	}
	if _, err := l.Audio(); err != nil {
		bad("label.audio_rhythm", "%v", err)
	}
	if l.MaxUploadBytes < 1024 || l.MaxUploadBytes > label.DefaultMaxSize {
		bad("label.max_upload_bytes", "%d is outside 1024 … %d", l.MaxUploadBytes, label.DefaultMaxSize)
	}
	if l.FileTTL <= 0 {
		bad("label.file_ttl", "must be a positive duration")
	}
	if l.MaxFiles < 1 || l.MaxFiles > 1_000_000 {
		bad("label.max_files", "%d is outside 1 … 1000000", l.MaxFiles)
	}
	return probs
}

// Signer loads the SM2 signing key; nil without error when none is set.
func (l Label) Signer() (*label.Signer, error) {
	v := l.SigningKey.Value
	switch {
	case v == "":
		return nil, nil
	case strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN"):
		return label.ParseSigner([]byte(v))
	}
	return label.LoadSigner(v)
}

// Position returns NoticePosition as a label.Position.
func (l Label) Position() (label.Position, error) {
	switch l.NoticePosition {
	case "start":
		return label.Start, nil
	case "middle":
		return label.Middle, nil
	case "end":
		return label.End, nil
	}
	return label.End, fmt.Errorf("%q is not start, middle or end", l.NoticePosition)
}

// Audio returns AudioRhythm as label.AudioOptions.
func (l Label) Audio() (label.AudioOptions, error) {
	switch l.AudioRhythm {
	case "start":
		return label.AudioOptions{Start: true}, nil
	case "end":
		return label.AudioOptions{End: true}, nil
	case "both":
		return label.AudioOptions{Start: true, End: true}, nil
	}
	return label.AudioOptions{Start: true}, fmt.Errorf("%q is not start, end or both", l.AudioRhythm)
}
