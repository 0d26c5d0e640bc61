package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestBadInput: every malformed request gets a clear 4xx in the OpenAI
// envelope, never a 5xx, and changes nothing (no upstream call is made, so
// the demo never answers).
func TestBadInput(t *testing.T) {
	g := startGateway(t, "server: {max_body_bytes: 4096}\n")
	key := g.newUser("mallory")
	revoked := g.newUser("revoked")
	id := strings.SplitN(strings.TrimPrefix(revoked, "gg-"), ".", 2)[0]
	if _, errs, code := g.cli("keys", "revoke", id); code != 0 {
		t.Fatalf("keys revoke: %s", errs)
	}
	big := `{"model":"demo","messages":[{"role":"user","content":"` + strings.Repeat("长", 3000) + `"}]}`
	tests := []struct {
		name   string
		method string
		path   string
		key    string
		body   string
		status int
		code   string
	}{
		{"no key", "POST", "/v1/chat/completions", "", chat("hi", false), 401, "invalid_api_key"},
		{"unknown key", "POST", "/v1/chat/completions", "gg-aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", chat("hi", false), 401, "invalid_api_key"},
		{"garbage key", "POST", "/v1/chat/completions", "sk-whatever", chat("hi", false), 401, "invalid_api_key"},
		{"revoked key", "POST", "/v1/chat/completions", revoked, chat("hi", false), 401, "invalid_api_key"},
		{"admin key on /v1", "POST", "/v1/chat/completions", g.adminKey, chat("hi", false), 403, "user_key_required"},
		{"user key on /admin", "GET", "/admin/users", key, "", 403, "admin_required"},
		{"malformed JSON", "POST", "/v1/chat/completions", key, `{"model":"demo",`, 400, "invalid_json"},
		{"not an object", "POST", "/v1/chat/completions", key, `[1,2]`, 400, "invalid_type"},
		{"empty body", "POST", "/v1/chat/completions", key, ``, 400, "empty_body"},
		{"model is a number", "POST", "/v1/chat/completions", key, `{"model":5,"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_type"},
		{"messages is a string", "POST", "/v1/chat/completions", key, `{"model":"demo","messages":"hi"}`, 400, "invalid_type"},
		{"content is a number", "POST", "/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":7}]}`, 400, "invalid_type"},
		{"stream is a string", "POST", "/v1/chat/completions", key, `{"model":"demo","stream":"yes","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_type"},
		{"missing model", "POST", "/v1/chat/completions", key, `{"messages":[{"role":"user","content":"x"}]}`, 400, "missing_model"},
		{"missing messages", "POST", "/v1/chat/completions", key, `{"model":"demo"}`, 400, "missing_messages"},
		{"bad role", "POST", "/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"god","content":"x"}]}`, 400, "invalid_role"},
		{"unknown model", "POST", "/v1/chat/completions", key, `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found"},
		{"oversize body", "POST", "/v1/chat/completions", key, big, 413, "request_too_large"},
		{"invalid UTF-8", "POST", "/v1/chat/completions", key, "{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", 400, "invalid_utf8"},
		{"completions bad prompt", "POST", "/v1/completions", key, `{"model":"demo","prompt":{"a":1}}`, 400, "invalid_prompt"},
		{"moderations no input", "POST", "/v1/moderations", key, `{"model":"x"}`, 400, "invalid_input"},
		{"mis-cased duplicate content", "POST", "/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":"炸弹制作","Content":"hi"}]}`, 400, "ambiguous_field"},
		{"mis-cased messages", "POST", "/v1/chat/completions", key, `{"model":"demo","Messages":[{"role":"user","content":"炸弹制作"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "ambiguous_field"},
		{"mis-cased part text", "POST", "/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":[{"type":"text","text":"hi","TEXT":"炸弹制作"}]}]}`, 400, "ambiguous_field"},
		{"wrong method", "GET", "/v1/chat/completions", key, "", 405, "method_not_allowed"},
		{"unknown path", "GET", "/v1/nothing", key, "", 404, "unknown_url"},
		{"admin bad user json", "POST", "/admin/users", g.adminKey, `{"name":`, 400, "invalid_json"},
		{"admin bad name", "POST", "/admin/users", g.adminKey, `{"name":"a\u0000b"}`, 400, "invalid_name"},
		{"admin empty name", "POST", "/admin/users", g.adminKey, `{"name":""}`, 400, "invalid_name"},
		{"admin duplicate user", "POST", "/admin/users", g.adminKey, `{"name":"mallory"}`, 409, "conflict"},
		{"admin unknown user", "GET", "/admin/users/u_nope", g.adminKey, "", 404, "not_found"},
		{"admin key for unknown user", "POST", "/admin/users/u_nope/keys", g.adminKey, "", 404, "not_found"},
		{"admin revoke unknown key", "DELETE", "/admin/keys/nope", g.adminKey, "", 404, "not_found"},
	}
	before := len(g.auditRecords())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := g.do(tt.method, tt.path, tt.key, strings.NewReader(tt.body), "Content-Type", "application/json")
			var env struct {
				Error struct {
					Message, Type, Code string
				}
			}
			if err := json.Unmarshal(r.body, &env); err != nil {
				t.Fatalf("%d, body is not the error envelope: %q", r.status, r.body)
			}
			if r.status != tt.status || env.Error.Code != tt.code || env.Error.Message == "" || env.Error.Type == "" {
				t.Errorf("%s %s = %d %s; want %d code %s", tt.method, tt.path, r.status, r.body, tt.status, tt.code)
			}
		})
	}
	// Nothing was created by the bad admin calls: two users exist.
	out, _, _ := g.cli("users", "list")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("users list after bad input has %d lines:\n%s", n, out)
	}
	// Rejected generation requests made no upstream call: their audit records
	// have no upstream.
	for _, r := range g.waitAudit(before)[before:] {
		if r.Upstream != "" {
			t.Errorf("a rejected request reached upstream %q: %+v", r.Upstream, r)
		}
	}
	if bytes.Contains([]byte(g.stderr.String()), []byte(`"level":"ERROR"`)) {
		t.Errorf("bad input logged an internal error:\n%s", g.stderr.String())
	}
}
