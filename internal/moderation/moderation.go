// Package moderation is the content-check pipeline the gateway runs on every
// input and output (Measures Art. 4 and 14; TC260-003 §6 b 2).
//
// Order. Input: the whole request's message texts are checked before any
// upstream call; a block short-circuits (no upstream call), a mask rewrites
// the matched spans before forwarding, review and log let the request pass
// and are recorded. Output: the whole response (non-streaming) or every
// streamed delta (streaming, see Stream) is checked before it reaches the
// client. Within a stage the checks run in registration order — keyword
// lexicon first (cheap, exact, explainable), then slower checks — and the
// strongest action wins.
package moderation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/moderation/classify"
	"github.com/genguard/genguard/internal/risk"
)

// Action is what a hit asks for, ordered by strength.
type Action uint8

const (
	Pass Action = iota
	Log
	Review
	Mask
	Block
)

var actionNames = [...]string{"pass", "log", "review", "mask", "block"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// ParseAction parses block|mask|review|log|pass.
func ParseAction(s string) (Action, bool) {
	i := slices.Index(actionNames[:], s)
	if i < 0 {
		return Pass, false
	}
	return Action(i), true
}

// Stage says where a check ran.
type Stage string

const (
	Input  Stage = "input"
	Output Stage = "output"
)

// Hit is one finding, with byte offsets into the checked text.
type Hit struct {
	Term   string
	Risk   risk.Code
	Action Action
	Start  int
	End    int
	Source string // which check found it
	// Evidence explains a classifier or guard hit: the n-grams that pushed
	// the classifier, or the guard model's categories.
	Evidence []string
	// Score is the classifier's P(not safe) for its hits.
	Score float32
}

// Verdict is the combined outcome of a stage's checks.
type Verdict struct {
	Decision Action
	Hits     []Hit
	// Classifier is the classifier's judgement when it ran on the whole
	// text (input, non-streaming output).
	Classifier *ClassifierResult
}

// Risks returns the distinct risk codes of hits at or above Review, sorted;
// log-only hits are not a finding against the user.
func (v Verdict) Risks() []string {
	var out []string
	for _, h := range v.Hits {
		if h.Action >= Review && !slices.Contains(out, string(h.Risk)) {
			out = append(out, string(h.Risk))
		}
	}
	slices.Sort(out)
	return out
}

// Scanner finds hits in text. MaxSpan is the most runes of the original text
// one hit can cover; the stream moderator holds back that many minus one.
// Implementations must be safe for concurrent use.
type Scanner interface {
	Scan(text string) []Hit
	MaxSpan() int
}

// Pipeline runs the configured checks. Its scanner can be swapped at run
// time (lexicon hot reload) without stopping requests; policies choose, per
// route and user group, which checks run and how their findings act.
type Pipeline struct {
	input, output bool
	scanner       atomic.Pointer[scannerBox]
	policies      map[string]*Policy
	rules         []Rule
	refusal       string
	retraction    string
}

type scannerBox struct{ Scanner }

// Options configure a pipeline.
type Options struct {
	// Input and Output switch whole stages off, whatever the policies say.
	Input, Output bool
	// Policies by name; a "default" policy (DefaultPolicy) is added when
	// missing. Rules pick one per route and user group.
	Policies []PolicySpec
	Rules    []Rule
	// Classifier is the model behind Checks.Classifier (nil: none).
	Classifier *classify.Model
	// Guard is the external guard model behind Checks.Guard (nil: none).
	Guard Guard
	// Refusal is the refusal text where a policy names none for a risk;
	// RetractionNotice tells a streaming client why text is withdrawn.
	Refusal, RetractionNotice string
}

// New returns a pipeline using s.
func New(s Scanner, o Options) (*Pipeline, error) {
	p := &Pipeline{input: o.Input, output: o.Output, refusal: o.Refusal, retraction: o.RetractionNotice}
	if err := p.addPolicies(o); err != nil {
		return nil, fmt.Errorf("moderation: %w", err)
	}
	p.Swap(s)
	return p, nil
}

// Swap atomically replaces the scanner; requests in flight finish with the
// old one.
func (p *Pipeline) Swap(s Scanner) { p.scanner.Store(&scannerBox{s}) }

func (p *Pipeline) current() Scanner { return p.scanner.Load().Scanner }

// Scanner returns the scanner in use now.
func (p *Pipeline) Scanner() Scanner { return p.current() }

// Enabled reports whether a stage is checked.
func (p *Pipeline) Enabled(st Stage) bool {
	if st == Input {
		return p.input
	}
	return p.output
}

// Check runs a stage's checks on text under the default policy.
func (p *Pipeline) Check(ctx context.Context, st Stage, text string) Verdict {
	return p.policies[DefaultGroup].Check(ctx, st, text)
}

// NewStream starts moderating one output stream under the default policy.
func (p *Pipeline) NewStream() *Stream { return p.policies[DefaultGroup].NewStream() }

func verdict(hits []Hit) Verdict {
	v := Verdict{Hits: hits}
	for _, h := range hits {
		v.Decision = max(v.Decision, h.Action)
	}
	return v
}

// MaskRune replaces masked characters.
const MaskRune = '＊'

// ApplyMask returns text with the spans of mask hits replaced, one ＊ per
// original rune, leaving the rest untouched.
func ApplyMask(text string, hits []Hit) string {
	var spans [][2]int
	for _, h := range hits {
		if h.Action == Mask && h.Start >= 0 && h.End <= len(text) && h.Start < h.End {
			spans = append(spans, [2]int{h.Start, h.End})
		}
	}
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	for _, s := range spans {
		if s[1] <= pos {
			continue
		}
		start := max(s[0], pos)
		b.WriteString(text[pos:start])
		for range utf8.RuneCountInString(text[start:s[1]]) {
			b.WriteRune(MaskRune)
		}
		pos = s[1]
	}
	b.WriteString(text[pos:])
	return b.String()
}
