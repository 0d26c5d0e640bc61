package cli

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHostileInputNever5xx sends malformed, hostile and oversized bodies to
// every route that takes one, with user and admin keys, and checks that the
// answer is never a 5xx and nothing is logged as an internal error.
func TestHostileInputNever5xx(t *testing.T) {
	g := startGateway(t, "")
	key := g.newUser("hostile")
	routes := []string{
		"POST /v1/chat/completions", "POST /v1/completions", "POST /v1/moderations", "POST /v1/images/generations",
		"POST /v1/audio/speech", "POST /v1/labels/verify", "POST /v1/labels/propagate", "POST /v1/agreement/accept",
		"POST /v1/complaints", "POST /v1/privacy/requests",
		"POST /admin/users", "POST /admin/users/u_x/keys", "POST /admin/users/u_x/sanctions", "POST /admin/agreements",
		"POST /admin/complaints/x/transition", "POST /admin/complaints/x/assign", "POST /admin/complaints/x/notes",
		"POST /admin/privacy/requests", "POST /admin/privacy/requests/x/close", "POST /admin/lexicon/reload",
		"POST /admin/registry/annotation-rules/x", "PUT /admin/users/u_x/age_band", "PUT /admin/users/u_x/guardian",
		"PUT /admin/users/u_x/quota", "PUT /admin/enforcement", "PUT /admin/registry/training-sources/x",
		"PUT /admin/registry/model-cards/x", "DELETE /admin/keys/x",
		"POST /complaints/new", "POST /settings/login", "POST /agreement/accept",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 3000)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	bodies := map[string]string{
		"empty":        "",
		"junk":         string(junk),
		"nul":          "\x00\x00\x00",
		"bad utf8":     "{\"model\":\"\xff\xfe\"}",
		"deep nesting": strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"deep object":  strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
		"wrong types":  `{"model":[],"messages":{},"prompt":7,"input":null,"name":{},"text":[],"version":1,"to":5,"action":"nuke","until":"never"}`,
		"huge number":  `{"n":1e999999,"max_tokens":-99999999999999999999}`,
		"long string":  `{"name":"` + strings.Repeat("名", 100000) + `"}`,
		"array":        `[1,2,3]`,
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		for name, body := range bodies {
			for _, k := range []string{key, g.adminKey} {
				for _, ct := range []string{"application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"} {
					r := g.do(method, path, k, bytes.NewReader([]byte(body)), "Content-Type", ct)
					if r.status >= 500 {
						t.Errorf("%s with %s (%s) = %d %.200s", route, name, ct, r.status, r.body)
					}
				}
			}
		}
	}
	if strings.Contains(g.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("hostile input logged internal errors:\n%.3000s", g.stderr.String())
	}
}
