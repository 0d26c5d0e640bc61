package moderation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/genguard/genguard/internal/moderation/classify"
	"github.com/genguard/genguard/internal/moderation/classify/guard"
	"github.com/genguard/genguard/internal/risk"
)

// Policy groups of users (account.Principal.PolicyGroup).
const (
	DefaultGroup = "default"
	MinorGroup   = "minor"
)

// Checks selects the checks of one stage.
type Checks struct {
	Lexicon    bool // the keyword lexicon (cheap, exact, explainable)
	Classifier bool // the n-gram classifier, on whole texts or sentences
	Guard      bool // the external guard model, if one is configured
}

// PolicySpec configures what a route and user group get (TC260-003 §7 g:
// refuse what is clearly extreme, answer the rest — a false refusal is a
// defect too, so checks that refuse on a guess are opt-in per policy).
type PolicySpec struct {
	Name          string
	Input, Output Checks
	// ClassifierThreshold flags a text when the classifier's P(not safe)
	// reaches it; 0 keeps the model's own threshold.
	ClassifierThreshold float64
	// ClassifierAction and GuardAction are what a flag from these checks
	// does: Block, Review or Log (a whole-text judgement has no span to
	// mask).
	ClassifierAction Action
	GuardAction      Action
	// ReviewAs is what a Review hit becomes under this policy: Review, or
	// Block where no human review may stand between a user and the content
	// (minors).
	ReviewAs Action
	// Refusals maps a risk code ("A.1.d") or group ("A.1") to the refusal
	// text for it; the most specific entry of the most severe risk wins,
	// else the pipeline's default refusal.
	Refusals map[string]string
}

// Rule maps a route and a user group to a policy; empty fields match any.
// Route is a path ("/v1/chat/completions") or a method and path as in the
// HTTP mux.
type Rule struct {
	Route, Group, Policy string
}

// Guard is an external guard model (package classify/guard).
type Guard interface {
	Check(ctx context.Context, text string) (guard.Verdict, error)
}

// Policy is a PolicySpec bound to its pipeline: the checks to run and how
// their findings act. It is immutable and safe for concurrent use.
type Policy struct {
	p     *Pipeline
	spec  PolicySpec
	model *classify.Model // with the policy's threshold; nil: no classifier
	guard Guard
}

// Name returns the policy's name.
func (pol *Policy) Name() string { return pol.spec.Name }

func (pol *Policy) checks(st Stage) Checks {
	if st == Input {
		return pol.spec.Input
	}
	return pol.spec.Output
}

// Uses reports whether the policy runs a check at a stage.
func (pol *Policy) uses(st Stage) Checks {
	c := pol.checks(st)
	c.Classifier = c.Classifier && pol.model != nil
	c.Guard = c.Guard && pol.guard != nil
	return c
}

// Check runs a stage's checks on a whole text.
func (pol *Policy) Check(ctx context.Context, st Stage, text string) Verdict {
	if !pol.p.Enabled(st) || text == "" {
		return Verdict{}
	}
	c := pol.uses(st)
	var hits []Hit
	if c.Lexicon {
		hits = pol.p.current().Scan(text)
	}
	var cr *ClassifierResult
	if c.Classifier {
		var ch []Hit
		cr, ch = pol.classify(text, 0)
		hits = append(hits, ch...)
	}
	if c.Guard {
		hits = append(hits, pol.askGuard(ctx, text, 0)...)
	}
	v := pol.verdict(hits)
	v.Classifier = cr
	return v
}

// ClassifierResult is the classifier's judgement of a text, as reported
// with a verdict (genguard scan, the moderation endpoint).
type ClassifierResult struct {
	Flagged  bool     `json:"flagged"`
	Unsafe   float32  `json:"unsafe"`
	Risks    []string `json:"risks,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// The classifier needs evidence in proportion to its confidence. A
// character n-gram model has little to go on in a short text: 你好 scores
// 0.50 and 问题 1000 0.9, because its harmful class is made of questions,
// while harmful questions are longer (7 of the 2,150 in its training corpus
// have 10 letters or fewer). So a flag on fewer than shortLetters letters
// never acts (those texts are the lexicon's), one on fewer than
// fullLetters letters acts only at shortThreshold or above, and longer
// texts use the model's threshold. Digits do not count: numbers carry no
// meaning the model can weigh. A stream joins short sentences.
const (
	shortLetters   = 6
	fullLetters    = 11
	shortThreshold = 0.6
)

// letters counts letters up to limit.
func letters(text string, limit int) int {
	n := 0
	for _, r := range text {
		if unicode.IsLetter(r) {
			if n++; n >= limit {
				break
			}
		}
	}
	return n
}

// substantial reports whether text is long enough for the model's own
// threshold.
func substantial(text string) bool { return letters(text, fullLetters) >= fullLetters }

// trustFlag reports whether a classifier flag on text may act, given its
// length.
func trustFlag(text string, unsafe float32) bool {
	switch n := letters(text, fullLetters); {
	case n < shortLetters:
		return false
	case n < fullLetters:
		return unsafe >= shortThreshold
	}
	return true
}

// classify runs the classifier on text (at byte offset off of the whole
// output) and returns its judgement and one hit per risk it names.
func (pol *Policy) classify(text string, off int) (*ClassifierResult, []Hit) {
	pred := pol.model.Predict(text)
	if pred.Flagged && !trustFlag(text, pred.Unsafe) {
		pred.Flagged, pred.Risks, pred.Evidence = false, nil, nil
	}
	cr := &ClassifierResult{Flagged: pred.Flagged, Unsafe: pred.Unsafe}
	for _, r := range pred.Risks {
		cr.Risks = append(cr.Risks, string(r))
	}
	for _, e := range pred.Evidence {
		cr.Evidence = append(cr.Evidence, e.NGram)
	}
	if !pred.Flagged {
		return cr, nil
	}
	hits := make([]Hit, 0, len(pred.Risks))
	for _, r := range pred.Risks {
		hits = append(hits, Hit{Term: "classifier", Risk: r, Action: pol.spec.ClassifierAction, Start: off, End: off + len(text),
			Source: "classifier", Evidence: cr.Evidence, Score: pred.Unsafe})
	}
	return cr, hits
}

// guardOther is the code of a guard flag whose categories map to none of
// ours: "other content prohibited by law".
const guardOther risk.Code = "A.1.h"

// askGuard asks the external guard model. The client applies the
// configured timeout, cache and failure policy; an error left over (no
// policy) counts as no finding, and the degraded verdict of a fail-closed
// client as a flag.
func (pol *Policy) askGuard(ctx context.Context, text string, off int) []Hit {
	v, err := pol.guard.Check(ctx, text)
	if err != nil || !v.Flagged {
		return nil
	}
	codes := v.Risks
	if len(codes) == 0 {
		codes = []risk.Code{guardOther}
	}
	term := "guard"
	if v.Degraded != nil {
		term = "guard unavailable"
	}
	hits := make([]Hit, 0, len(codes))
	for _, c := range codes {
		hits = append(hits, Hit{Term: term, Risk: c, Action: pol.spec.GuardAction, Start: off, End: off + len(text), Source: "guard", Evidence: v.Categories})
	}
	return hits
}

// act applies the policy's escalation to a hit.
func (pol *Policy) act(h Hit) Hit {
	if h.Action == Review {
		h.Action = pol.spec.ReviewAs
	}
	return h
}

func (pol *Policy) verdict(hits []Hit) Verdict {
	for i := range hits {
		hits[i] = pol.act(hits[i])
	}
	return verdict(hits)
}

// Refusal returns the refusal text for a decision naming risks: the most
// specific configured text of the most severe risk (A.1 before A.2 …).
func (pol *Policy) Refusal(risks []string) string {
	rs := slices.Sorted(slices.Values(risks))
	for _, r := range rs {
		if t := pol.spec.Refusals[r]; t != "" {
			return t
		}
		if t := pol.spec.Refusals[string(risk.Code(r).Group())]; t != "" {
			return t
		}
	}
	if t := pol.spec.Refusals[""]; t != "" {
		return t
	}
	return pol.p.refusal
}

// RetractionNotice is what a cut stream tells the client.
func (pol *Policy) RetractionNotice() string { return pol.p.retraction }

// Policy returns the policy for a route and user group: the first matching
// rule's, else the policy named like the group, else the default one.
func (p *Pipeline) Policy(route, group string) *Policy {
	path := route
	if i := strings.IndexByte(route, ' '); i >= 0 {
		path = route[i+1:]
	}
	for _, r := range p.rules {
		if (r.Route == "" || r.Route == route || r.Route == path) && (r.Group == "" || r.Group == group) {
			return p.policies[r.Policy]
		}
	}
	if pol, ok := p.policies[group]; ok {
		return pol
	}
	return p.policies[DefaultGroup]
}

// DefaultPolicy is the lexicon on input and output and nothing else: what a
// pipeline does when it is given no policies.
func DefaultPolicy() PolicySpec {
	return PolicySpec{Name: DefaultGroup, Input: Checks{Lexicon: true}, Output: Checks{Lexicon: true},
		ClassifierAction: Block, GuardAction: Block, ReviewAs: Review}
}

func (p *Pipeline) addPolicies(o Options) error {
	p.policies = make(map[string]*Policy)
	specs := o.Policies
	if !slices.ContainsFunc(specs, func(s PolicySpec) bool { return s.Name == DefaultGroup }) {
		specs = append(specs, DefaultPolicy())
	}
	for _, s := range specs {
		if _, dup := p.policies[s.Name]; dup || s.Name == "" {
			return fmt.Errorf("policy %q: empty or duplicate name", s.Name)
		}
		for _, a := range []Action{s.ClassifierAction, s.GuardAction} {
			if a == Mask || a == Pass {
				return fmt.Errorf("policy %q: a classifier or guard flag can block, review or log, not %s", s.Name, a)
			}
		}
		if s.ReviewAs != Review && s.ReviewAs != Block {
			s.ReviewAs = Review
		}
		pol := &Policy{p: p, spec: s, guard: o.Guard}
		if o.Classifier != nil {
			pol.model = o.Classifier
			if s.ClassifierThreshold > 0 {
				pol.model = o.Classifier.WithThreshold(float32(s.ClassifierThreshold))
			}
		}
		p.policies[s.Name] = pol
	}
	for _, r := range o.Rules {
		if _, ok := p.policies[r.Policy]; !ok {
			return fmt.Errorf("rule for route %q group %q: unknown policy %q", r.Route, r.Group, r.Policy)
		}
	}
	p.rules = o.Rules
	return nil
}
