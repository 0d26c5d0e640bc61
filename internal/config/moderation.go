package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/genguard/genguard/internal/risk"
)

// ModerationPolicy is one named moderation policy: which checks run on
// input and output for the routes and user groups it applies to, and how a
// flag from the classifier or the guard model acts (TC260-003 §7 g: refuse
// the clearly extreme, answer everything else).
type ModerationPolicy struct {
	// Input and Output list the checks of each stage: lexicon, classifier,
	// guard. Absent: lexicon only (the classifier is opt-in, see
	// defaultPolicies); [] runs none.
	Input  []string `yaml:"input"`
	Output []string `yaml:"output"`
	// ClassifierThreshold flags a text at this P(not safe); 0 keeps the
	// model's own (0.40 for the embedded model).
	ClassifierThreshold float64 `yaml:"classifier_threshold"`
	// ClassifierAction and GuardAction: block, review or log (empty:
	// block).
	ClassifierAction string `yaml:"classifier_action"`
	GuardAction      string `yaml:"guard_action"`
	// ReviewAs is what a review hit becomes: review, or block (the default
	// of the "minor" policy: no unreviewed borderline content for minors).
	ReviewAs string `yaml:"review_as"`
	// Refusals maps a risk group (A.1 … A.5) or code (A.1.d) to its refusal
	// text; others get moderation.refusal_message.
	Refusals map[string]string `yaml:"refusals"`
}

// ModerationRule picks a policy for a route and a user group; the first
// matching rule wins, empty fields match anything. Without a match a user
// group uses the policy of its name, else "default".
type ModerationRule struct {
	Route  string `yaml:"route"` // e.g. /v1/chat/completions
	Group  string `yaml:"group"` // default | minor
	Policy string `yaml:"policy"`
}

// ModerationGuard configures the optional external guard model.
type ModerationGuard struct {
	// Type is qwen (an OpenAI-compatible chat model such as Qwen3Guard),
	// openai (a /v1/moderations endpoint), or empty for none.
	Type     string `yaml:"type"`
	Endpoint string `yaml:"endpoint"` // API base URL, e.g. http://127.0.0.1:8001/v1
	Model    string `yaml:"model"`
	APIKey   Secret `yaml:"api_key"`
	// Timeout bounds each call; OnFailure decides what a failed or late
	// call means: open (pass) or closed (flag).
	Timeout   Duration `yaml:"timeout"`
	OnFailure string   `yaml:"on_failure"`
	// CacheSize and CacheTTL bound the verdict cache (0 size: no cache).
	CacheSize int      `yaml:"cache_size"`
	CacheTTL  Duration `yaml:"cache_ttl"`
	// ScoreThreshold flags an openai-type answer when a category score
	// reaches it; 0 uses the endpoint's own flag.
	ScoreThreshold float64 `yaml:"score_threshold"`
	// Controversial also flags Qwen3Guard's "Controversial" answers.
	Controversial bool `yaml:"controversial"`
}

// Check names.
const (
	CheckLexicon    = "lexicon"
	CheckClassifier = "classifier"
	CheckGuard      = "guard"
)

// defaultChecks is what a policy runs on a stage it does not configure.
var defaultChecks = []string{CheckLexicon}

// StageChecks returns the checks of a stage list, the default when absent.
func StageChecks(list []string) []string {
	if list == nil {
		return slices.Clone(defaultChecks)
	}
	return list
}

// defaultPolicies: on input the lexicon and the classifier both refuse —
// the lexicon alone refuses almost none of a should-refuse bank (it is
// written against incitement and instructions, not topics), while the
// classifier brings the refusal rate to the TC260-003 §9.4 range at a small
// false-refusal cost (BENCHMARKS.md, "Moderation quality"). On output the
// lexicon alone cuts streams: an n-gram false positive there would cut a
// legitimate answer mid-way. Minors get the classifier on output too, and
// no unreviewed borderline content: review is block.
func defaultPolicies() map[string]ModerationPolicy {
	return map[string]ModerationPolicy{
		"default": {Input: []string{CheckLexicon, CheckClassifier}, Output: []string{CheckLexicon}, ClassifierAction: "block"},
		"minor":   {Input: []string{CheckLexicon, CheckClassifier}, Output: []string{CheckLexicon, CheckClassifier}, ClassifierAction: "block", ReviewAs: "block"},
		// Image and speech prompts are descriptions ("一只在雪地里的猫"), not
		// the questions the classifier learned from; it scores them higher,
		// so it refuses them only when it is surer.
		"media": {Input: []string{CheckLexicon, CheckClassifier}, Output: []string{CheckLexicon}, ClassifierAction: "block", ClassifierThreshold: 0.6},
	}
}

// defaultRules send image and speech prompts to the "media" policy, except
// for minors, who keep theirs.
func defaultRules() []ModerationRule {
	var rules []ModerationRule
	for _, route := range []string{"/v1/images/generations", "/v1/audio/speech"} {
		rules = append(rules, ModerationRule{Route: route, Group: "minor", Policy: "minor"}, ModerationRule{Route: route, Policy: "media"})
	}
	return rules
}

func defaultGuard() ModerationGuard {
	return ModerationGuard{Timeout: Duration(3 * time.Second), OnFailure: "open", CacheSize: 4096, CacheTTL: Duration(10 * time.Minute)}
}

const (
	maxPolicies     = 64
	maxRules        = 256
	maxRefusalBytes = 4096
)

func (c *Config) validateModeration(file string, root *yaml.Node, getenv func(string) string) []Problem {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	m := &c.Moderation
	if len(m.Policies) > maxPolicies {
		bad("moderation.policies", "%d policies, at most %d", len(m.Policies), maxPolicies)
	}
	if _, ok := m.Policies["default"]; !ok {
		bad("moderation.policies", "needs a policy named default")
	}
	usesGuard := false
	action := func(path, v string, allowed ...string) {
		if v != "" && !slices.Contains(allowed, v) {
			bad(path, "%q is not %s", v, strings.Join(allowed, ", "))
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range m.Policies {
			if !yield(k) {
				return
			}
		}
	}) {
		p := m.Policies[name]
		path := "moderation.policies." + name
		if name == "" || strings.ContainsAny(name, " \t.") {
			bad(path, "policy name %q must be a word", name)
		}
		for stage, list := range map[string][]string{"input": p.Input, "output": p.Output} {
			seen := map[string]bool{}
			for _, ch := range list {
				switch ch {
				case CheckLexicon, CheckClassifier:
				case CheckGuard:
					usesGuard = true
				default:
					bad(path+"."+stage, "%q is not lexicon, classifier or guard", ch)
				}
				if seen[ch] {
					bad(path+"."+stage, "%q listed twice", ch)
				}
				seen[ch] = true
			}
		}
		if p.ClassifierThreshold < 0 || p.ClassifierThreshold >= 1 {
			bad(path+".classifier_threshold", "%v is outside 0 … 1 (0: the model's own)", p.ClassifierThreshold)
		}
		action(path+".classifier_action", p.ClassifierAction, "block", "review", "log")
		action(path+".guard_action", p.GuardAction, "block", "review", "log")
		action(path+".review_as", p.ReviewAs, "review", "block")
		for k, text := range p.Refusals {
			if _, err := risk.Parse(k); err != nil && !slices.Contains(risk.Groups(), risk.Group(k)) {
				bad(path+".refusals", "%q is not a risk group (A.1 … A.5) or code", k)
			}
			if strings.TrimSpace(text) == "" || len(text) > maxRefusalBytes {
				bad(path+".refusals", "the refusal for %s must be 1 … %d bytes", k, maxRefusalBytes)
			}
		}
	}
	if len(m.Rules) > maxRules {
		bad("moderation.rules", "%d rules, at most %d", len(m.Rules), maxRules)
	}
	for i, r := range m.Rules {
		path := "moderation.rules[" + strconv.Itoa(i) + "]"
		if _, ok := m.Policies[r.Policy]; !ok {
			bad(path+".policy", "unknown policy %q", r.Policy)
		}
		if r.Route != "" && !strings.Contains(r.Route, "/") {
			bad(path+".route", "%q is not a path such as /v1/chat/completions", r.Route)
		}
	}
	g := &m.Guard
	g.APIKey.resolve(getenv, func(msg string) { bad("moderation.guard.api_key", "%s", msg) })
	switch g.Type {
	case "":
		if usesGuard {
			bad("moderation.guard.type", "a policy runs the guard, but no guard is configured (qwen or openai)")
		}
	case "qwen", "openai":
		if !strings.HasPrefix(g.Endpoint, "http://") && !strings.HasPrefix(g.Endpoint, "https://") {
			bad("moderation.guard.endpoint", "%q is not an http(s) URL", g.Endpoint)
		}
		if g.Model == "" {
			bad("moderation.guard.model", "must not be empty")
		}
	default:
		bad("moderation.guard.type", "%q is not qwen, openai or empty", g.Type)
	}
	if g.Timeout <= 0 || g.Timeout > Duration(time.Minute) {
		bad("moderation.guard.timeout", "%s is outside 0 … 1m", g.Timeout.D())
	}
	action("moderation.guard.on_failure", g.OnFailure, "open", "closed")
	if g.CacheSize < 0 || g.CacheSize > 1<<20 {
		bad("moderation.guard.cache_size", "%d is outside 0 … 1048576", g.CacheSize)
	}
	if g.ScoreThreshold < 0 || g.ScoreThreshold > 1 {
		bad("moderation.guard.score_threshold", "%v is outside 0 … 1", g.ScoreThreshold)
	}
	return probs
}
