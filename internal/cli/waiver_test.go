package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExplicitLabelWaiver: content goes without its explicit label only
// when the operator allows it and the user accepted the agreement that sets
// out their labelling duties (labelling Measures Art. 9); each delivery is
// an audit event; the implicit label stays.
func TestExplicitLabelWaiver(t *testing.T) {
	omit := func(g *gateway, key, body string) response {
		return g.do("POST", "/v1/chat/completions", key, strings.NewReader(body), "Content-Type", "application/json", "Genguard-Explicit-Label", "omit")
	}
	t.Run("not enabled", func(t *testing.T) {
		g := startGateway(t, "")
		key := g.newUser("u1")
		r := omit(g, key, chat("你好", false))
		if r.status != 403 || !strings.Contains(string(r.body), "explicit_label_required") {
			t.Fatalf("omission without allow_unlabeled = %d %s", r.status, r.body)
		}
		if r := g.do("POST", "/v1/chat/completions", key, strings.NewReader(chat("你好", false)), "Genguard-Explicit-Label", "maybe"); r.status != 400 {
			t.Errorf("bad header value = %d", r.status)
		}
	})
	t.Run("agreement accepted", func(t *testing.T) {
		g := startGateway(t, "label: {allow_unlabeled: true}\n")
		key := g.newUser("u2")
		// No agreement published yet: nothing sets out the user's duties.
		if r := omit(g, key, chat("你好", false)); r.status != 403 {
			t.Fatalf("omission with no agreement = %d %s", r.status, r.body)
		}
		text := "# 服务协议\n\n生成内容均添加显式和隐式标识。如您申请不含显式标识的内容，应在传播时自行添加标识，并承担相应责任。"
		pub, _ := json.Marshal(map[string]string{"version": "v1", "text": text})
		if r := g.post("/admin/agreements", g.adminKey, string(pub)); r.status/100 != 2 {
			t.Fatalf("publish = %d %s", r.status, r.body)
		}
		if r := g.post("/v1/agreement/accept", key, `{"version":"v1"}`); r.status/100 != 2 {
			t.Fatalf("accept = %d %s", r.status, r.body)
		}
		r := omit(g, key, chat("你好", false))
		var cc struct {
			Choices []struct{ Message struct{ Content string } }
		}
		json.Unmarshal(r.body, &cc)
		if r.status != 200 || strings.Contains(cc.Choices[0].Message.Content, "人工智能生成") || r.header.Get("Genguard-AIGC") == "" {
			t.Fatalf("omitted delivery = %d, content %q, implicit label %q", r.status, cc.Choices[0].Message.Content, r.header.Get("Genguard-AIGC"))
		}
		// Without the header the notice is there.
		r = g.post("/v1/chat/completions", key, chat("你好", false))
		json.Unmarshal(r.body, &cc)
		if !strings.Contains(cc.Choices[0].Message.Content, "本内容由人工智能生成") {
			t.Errorf("labelled delivery lacks the notice: %q", cc.Choices[0].Message.Content)
		}
		// A streamed delivery without the label, then the audit events.
		st := omit(g, key, chat("你好", true))
		if st.status != 200 || strings.Contains(string(st.body), "人工智能生成") {
			t.Errorf("streamed omission = %d, body has the notice: %v", st.status, strings.Contains(string(st.body), "人工智能生成"))
		}
		// The event is written when the handler finishes, just after the
		// response, so poll for it.
		waitFor(t, "two omission events", func() bool { return len(g.events("label.explicit_omitted")) == 2 })
	})
}
