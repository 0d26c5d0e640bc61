package guard

import (
	"context"
	"fmt"
	"slices"

	"github.com/genguard/genguard/internal/risk"
)

// openAIRisks maps OpenAI moderation categories (omni-moderation) to
// Appendix A codes.
var openAIRisks = map[string][]risk.Code{
	"sexual":                 {"A.1.f"},
	"sexual/minors":          {"A.1.f", "A.4.a"},
	"hate":                   {"A.2.i"},
	"hate/threatening":       {"A.2.i", "A.1.f"},
	"harassment":             {"A.4.a"},
	"harassment/threatening": {"A.4.a", "A.1.f"},
	"self-harm":              {"A.4.a"},
	"self-harm/intent":       {"A.4.a"},
	"self-harm/instructions": {"A.4.a"},
	"violence":               {"A.1.f"},
	"violence/graphic":       {"A.1.f"},
	"illicit":                {"A.1.h"},
	"illicit/violent":        {"A.1.h", "A.1.f"},
}

// OpenAI moderates text with an OpenAI-style /moderations endpoint.
type OpenAI struct {
	c *client
	// threshold, when > 0, also counts any category scoring at least this.
	threshold float64
}

// NewOpenAI returns a /moderations client. With scoreThreshold > 0 a
// category also counts when its score reaches it, which lets an operator
// be stricter than the provider's own booleans.
func NewOpenAI(o Options, scoreThreshold float64) (*OpenAI, error) {
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	return &OpenAI{c: c, threshold: scoreThreshold}, nil
}

type moderationRequest struct {
	Model string `json:"model"`
	Input string `json:"input"`
}

type moderationReply struct {
	Results []moderationResult `json:"results"`
}

type moderationResult struct {
	Flagged        bool               `json:"flagged"`
	Categories     map[string]bool    `json:"categories"`
	CategoryScores map[string]float64 `json:"category_scores"`
}

// Check moderates text.
func (o *OpenAI) Check(ctx context.Context, text string) (Verdict, error) {
	v, err := o.c.check(ctx, text, func(ctx context.Context) (Verdict, error) {
		var reply moderationReply
		if err := o.c.postJSON(ctx, "/moderations", moderationRequest{Model: o.c.model, Input: text}, &reply); err != nil {
			return Verdict{}, err
		}
		if len(reply.Results) == 0 {
			return Verdict{}, fmt.Errorf("no results: %w", ErrBadAnswer)
		}
		return o.verdict(reply.Results[0]), nil
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("openai moderation: %w", err)
	}
	return v, nil
}

func (o *OpenAI) verdict(r moderationResult) Verdict {
	v := Verdict{Flagged: r.Flagged, Scores: r.CategoryScores}
	for name, on := range r.Categories {
		if on {
			v.Categories = append(v.Categories, name)
		}
	}
	if o.threshold > 0 {
		for name, s := range r.CategoryScores {
			if s >= o.threshold && !slices.Contains(v.Categories, name) {
				v.Categories = append(v.Categories, name)
			}
		}
	}
	slices.Sort(v.Categories) // map order is random; verdicts should not be
	for _, c := range v.Categories {
		v.Risks = appendRisks(v.Risks, openAIRisks[c]...)
	}
	v.Flagged = v.Flagged || len(v.Categories) > 0
	if v.Flagged {
		v.Severity = "unsafe"
	} else {
		v.Severity = "safe"
	}
	return v
}
