package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModerationPolicyErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown check", "moderation:\n  policies:\n    default:\n      input: [lexicon, oracle]\n", "p.yaml:4: moderation.policies.default.input"},
		{"bad action", "moderation:\n  policies:\n    default:\n      classifier_action: mask\n", "p.yaml:4: moderation.policies.default.classifier_action"},
		{"bad threshold", "moderation:\n  policies:\n    default:\n      classifier_threshold: 1.5\n", "p.yaml:4: moderation.policies.default.classifier_threshold"},
		{"bad refusal key", "moderation:\n  policies:\n    default:\n      refusals: {A.9: 不行}\n", "p.yaml:4: moderation.policies.default.refusals"},
		{"unknown rule policy", "moderation:\n  rules:\n    - {route: /v1/chat/completions, policy: nope}\n", "p.yaml:3: moderation.rules[0].policy"},
		{"guard without config", "moderation:\n  policies:\n    default:\n      input: [guard]\n", "moderation.guard.type"},
		{"guard without model", "moderation:\n  guard:\n    type: qwen\n    endpoint: http://127.0.0.1:8001/v1\n", "p.yaml:2: moderation.guard.model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// A partial policy keeps the defaults of the keys it does not set.
	path := filepath.Join(t.TempDir(), "ok.yaml")
	os.WriteFile(path, []byte("moderation:\n  policies:\n    default:\n      input: [lexicon, classifier]\n      classifier_action: block\n"), 0o600)
	c, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Moderation.Policies["minor"]; !ok || StageChecks(c.Moderation.Policies["default"].Output)[0] != CheckLexicon {
		t.Errorf("policies = %+v, want minor kept and default output [lexicon]", c.Moderation.Policies)
	}
}
