package guard

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/genguard/genguard/internal/risk"
)

// qwenRisks maps Qwen3Guard-Gen categories (as listed in its model card) to
// Appendix A codes. Jailbreak has no content code of its own; A.1.h
// ("other prohibited content") is the closest, since the attempt aims at
// content the service must refuse.
var qwenRisks = map[string][]risk.Code{
	"Violent":                       {"A.1.f"},
	"Non-violent Illegal Acts":      {"A.1.h"},
	"Sexual Content or Sexual Acts": {"A.1.f"},
	"PII":                           {"A.4.f", "A.4.e"},
	"Suicide & Self-Harm":           {"A.4.a"},
	"Unethical Acts":                {"A.2.i", "A.4.g"},
	"Politically Sensitive Topics":  {"A.1.b", "A.1.g"},
	"Copyright Violation":           {"A.3.a"},
	"Jailbreak":                     {"A.1.h"},
}

// Qwen3Guard severity levels as the model writes them.
const (
	QwenSafe          = "Safe"
	QwenUnsafe        = "Unsafe"
	QwenControversial = "Controversial"
)

// QwenAnswer is a parsed Qwen3Guard-Gen reply such as
//
//	Safety: Unsafe
//	Categories: Violent, Jailbreak
//	Refusal: No
type QwenAnswer struct {
	Safety     string   // QwenSafe, QwenUnsafe or QwenControversial
	Categories []string // canonical names; unknown names kept as written
	Refusal    string   // "Yes", "No" or "" (response moderation only)
}

// ParseQwenAnswer parses a Qwen3Guard-Gen reply. Keys and known values are
// matched case-insensitively; a reply without a valid Safety line is an
// ErrBadAnswer.
func ParseQwenAnswer(s string) (QwenAnswer, error) {
	var a QwenAnswer
	for line := range strings.Lines(s) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "safety":
			a.Safety = canonical(val, QwenSafe, QwenUnsafe, QwenControversial)
			if a.Safety == "" {
				return QwenAnswer{}, fmt.Errorf("safety level %q: %w", truncate(val), ErrBadAnswer)
			}
		case "categories", "category":
			for c := range strings.SplitSeq(val, ",") {
				c = strings.TrimSpace(c)
				if c == "" || strings.EqualFold(c, "None") {
					continue
				}
				if k := canonicalCategory(c); k != "" {
					c = k
				}
				a.Categories = append(a.Categories, c)
			}
		case "refusal":
			a.Refusal = canonical(val, "Yes", "No")
		}
	}
	if a.Safety == "" {
		return QwenAnswer{}, fmt.Errorf("no Safety line in %q: %w", truncate(s), ErrBadAnswer)
	}
	return a, nil
}

// canonical returns the option equal to s ignoring case, or "".
func canonical(s string, options ...string) string {
	for _, o := range options {
		if strings.EqualFold(s, o) {
			return o
		}
	}
	return ""
}

func canonicalCategory(s string) string {
	for name := range qwenRisks {
		if strings.EqualFold(s, name) {
			return name
		}
	}
	return ""
}

func truncate(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Qwen moderates text with Qwen3Guard-Gen (or a model answering in its
// format) behind an OpenAI-compatible /chat/completions endpoint, e.g. vLLM.
type Qwen struct {
	c *client
	// strict flags Controversial answers too.
	strict bool
}

// NewQwen returns a Qwen3Guard client. Controversial answers are flagged
// unless looseControversial is set (Qwen3Guard's "loose" mode).
func NewQwen(o Options, looseControversial bool) (*Qwen, error) {
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	return &Qwen{c: c, strict: !looseControversial}, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
}

type chatReply struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// qwenMaxTokens is enough for the three-line answer.
const qwenMaxTokens = 64

// Check moderates a user prompt.
func (q *Qwen) Check(ctx context.Context, text string) (Verdict, error) {
	v, err := q.c.check(ctx, "prompt\x00"+text, func(ctx context.Context) (Verdict, error) {
		return q.ask(ctx, []chatMessage{{"user", text}})
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("qwen guard: %w", err)
	}
	return v, nil
}

// CheckResponse moderates a model response in the context of its prompt.
func (q *Qwen) CheckResponse(ctx context.Context, prompt, response string) (Verdict, error) {
	// The length prefix keeps (prompt, response) pairs from colliding.
	key := "response\x00" + strconv.Itoa(len(prompt)) + "\x00" + prompt + response
	v, err := q.c.check(ctx, key, func(ctx context.Context) (Verdict, error) {
		return q.ask(ctx, []chatMessage{{"user", prompt}, {"assistant", response}})
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("qwen guard: %w", err)
	}
	return v, nil
}

func (q *Qwen) ask(ctx context.Context, msgs []chatMessage) (Verdict, error) {
	var reply chatReply
	req := chatRequest{Model: q.c.model, Messages: msgs, MaxTokens: qwenMaxTokens}
	if err := q.c.postJSON(ctx, "/chat/completions", req, &reply); err != nil {
		return Verdict{}, err
	}
	if len(reply.Choices) == 0 {
		return Verdict{}, fmt.Errorf("no choices: %w", ErrBadAnswer)
	}
	a, err := ParseQwenAnswer(reply.Choices[0].Message.Content)
	if err != nil {
		return Verdict{}, err
	}
	return q.verdict(a), nil
}

func (q *Qwen) verdict(a QwenAnswer) Verdict {
	v := Verdict{
		Flagged:    a.Safety == QwenUnsafe || (q.strict && a.Safety == QwenControversial),
		Severity:   strings.ToLower(a.Safety),
		Categories: a.Categories,
	}
	for _, c := range a.Categories {
		v.Risks = appendRisks(v.Risks, qwenRisks[c]...)
	}
	return v
}
