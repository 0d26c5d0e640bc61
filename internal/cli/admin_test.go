package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAdminAPI(t *testing.T) {
	g := startGateway(t, "")
	r := g.post("/admin/users", g.adminKey, `{"name":"王五"}`)
	var created struct {
		User   struct{ ID, Name string }
		APIKey string `json:"api_key"`
	}
	json.Unmarshal(r.body, &created)
	if r.status != 201 || created.User.Name != "王五" || !strings.HasPrefix(created.APIKey, "gg-") {
		t.Fatalf("create user = %d %s", r.status, r.body)
	}
	if r := g.post("/v1/chat/completions", created.APIKey, chat("你好", false)); r.status != 200 {
		t.Fatalf("new user's key does not work: %d %s", r.status, r.body)
	}
	r = g.post("/admin/users/"+created.User.ID+"/keys", g.adminKey, "")
	var issued struct {
		Key    struct{ ID string }
		APIKey string `json:"api_key"`
	}
	json.Unmarshal(r.body, &issued)
	if r.status != 201 || issued.Key.ID == "" {
		t.Fatalf("issue key = %d %s", r.status, r.body)
	}
	r = g.do("GET", "/admin/users/"+created.User.ID, g.adminKey, nil)
	if r.status != 200 || strings.Count(string(r.body), `"revoked_at":null`) != 2 || strings.Contains(string(r.body), "hash") {
		t.Errorf("get user = %d %s", r.status, r.body)
	}
	if r := g.do("DELETE", "/admin/keys/"+issued.Key.ID, g.adminKey, nil); r.status != 200 {
		t.Fatalf("revoke = %d %s", r.status, r.body)
	}
	if r := g.post("/v1/chat/completions", issued.APIKey, chat("你好", false)); r.status != 401 {
		t.Errorf("revoked key still works: %d", r.status)
	}
	if r := g.post("/v1/chat/completions", created.APIKey, chat("你好", false)); r.status != 200 {
		t.Errorf("the other key stopped working: %d", r.status)
	}
	r = g.do("GET", "/admin/users", g.adminKey, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "王五") {
		t.Errorf("list users = %d %s", r.status, r.body)
	}
}

func TestOperatorCommandsWhileServing(t *testing.T) {
	g := startGateway(t, "")
	out, errs, code := g.cli("users", "add", "ops")
	key := strings.TrimSpace(out)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(key, "gg-") {
		t.Fatalf("users add printed %q (stderr %q, code %d); want the key alone", out, errs, code)
	}
	if r := g.post("/v1/chat/completions", key, chat("你好", false)); r.status != 200 {
		t.Fatalf("key from the CLI does not work: %d", r.status)
	}
	out, _, _ = g.cli("users", "list")
	if !strings.Contains(out, "ops") || !strings.Contains(out, "1/1") {
		t.Errorf("users list = %q", out)
	}
	id := strings.SplitN(strings.TrimPrefix(key, "gg-"), ".", 2)[0]
	if out, errs, code := g.cli("keys", "revoke", id); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("keys revoke = %q %q %d", out, errs, code)
	}
	// cache_ttl is 0 in tests: the running server sees the revocation at once.
	if r := g.post("/v1/chat/completions", key, chat("你好", false)); r.status != 401 {
		t.Errorf("key revoked by the CLI still works: %d", r.status)
	}
	if _, errs, code := g.cli("keys", "revoke", "nope"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("revoking an unknown key: code %d, %q", code, errs)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	g := startGateway(t, "")
	if r := g.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("/healthz = %d", r.status)
	}
	key := g.newUser("m")
	g.post("/v1/chat/completions", key, chat("炸弹制作", false))
	r := g.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`genguard_http_requests_total{code="200",route="POST /v1/chat/completions"} 1`,
		`genguard_moderation_decisions_total{decision="block",stage="input"} 1`,
		`genguard_http_request_duration_seconds_bucket`,
		`genguard_audit_queue_length`,
		`genguard_upstream_breaker_state{upstream="demo"} 0`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
