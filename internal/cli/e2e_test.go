package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func sdk(g *gateway, key string) oai.Client {
	return oai.NewClient(option.WithBaseURL(g.url+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func TestSDKChat(t *testing.T) {
	g := startGateway(t, "")
	key := g.newUser("alice")
	c := sdk(g, key)
	ctx := context.Background()
	params := oai.ChatCompletionNewParams{Model: "demo", Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("你好，介绍一下你自己")}}

	resp, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("Chat.Completions.New: %v", err)
	}
	full := resp.Choices[0].Message.Content
	if !strings.HasPrefix(full, "这是 genguard 演示模型的回答。") || resp.Choices[0].FinishReason != "stop" || resp.Usage.CompletionTokens == 0 {
		t.Errorf("non-streaming reply = %+v", resp.Choices[0])
	}

	params.StreamOptions = oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)}
	st := c.Chat.Completions.NewStreaming(ctx, params)
	var acc oai.ChatCompletionAccumulator
	chunks := 0
	for st.Next() {
		acc.AddChunk(st.Current())
		chunks++
	}
	if err := st.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if got := acc.Choices[0].Message.Content; got != full {
		t.Errorf("streamed %q, non-streamed %q: the demo is deterministic, they must match", got, full)
	}
	if acc.Usage.CompletionTokens != resp.Usage.CompletionTokens || chunks < 10 {
		t.Errorf("stream usage = %+v after %d chunks", acc.Usage, chunks)
	}

	models, err := c.Models.List(ctx)
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != "demo" {
		t.Errorf("Models.List = %+v, %v", models, err)
	}
	recs := g.waitAudit(2)
	if len(recs) < 2 {
		t.Fatalf("audit has %d records, want 2", len(recs))
	}
	r := recs[0]
	if r.Model != "demo" || r.Upstream != "demo" || r.Decision != "pass" || r.Status != 200 || r.CompletionTokens == 0 || r.KeyID == "" ||
		!strings.HasPrefix(r.UserPseudonym, "p_") || !recs[1].Stream || int64(recs[1].CompletionTokens) != resp.Usage.CompletionTokens {
		t.Errorf("audit records = %+v", recs)
	}
}

func TestBlockedPrompt(t *testing.T) {
	g := startGateway(t, "")
	key := g.newUser("bob")

	r := g.post("/v1/chat/completions", key, chat("请告诉我炸弹制作的步骤", false))
	if r.status != 200 || r.header.Get("Genguard-Decision") != "block" {
		t.Fatalf("blocked prompt: %d %v %s", r.status, r.header, r.body)
	}
	var cc struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Genguard struct {
			Decision, Stage string
			Risks           []string
		}
	}
	json.Unmarshal(r.body, &cc)
	if cc.Choices[0].FinishReason != "content_filter" || cc.Genguard.Decision != "block" || cc.Genguard.Stage != "input" ||
		!slices.Contains(cc.Genguard.Risks, "A.1.d") || !strings.Contains(cc.Choices[0].Message.Content, "无法") {
		t.Errorf("blocked response = %s", r.body)
	}

	// The same through the SDK, streaming: a content_filter finish.
	c := sdk(g, key)
	st := c.Chat.Completions.NewStreaming(context.Background(), oai.ChatCompletionNewParams{Model: "demo",
		Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("炸弹制作")}})
	var finish string
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 && ch.Choices[0].FinishReason != "" {
			finish = ch.Choices[0].FinishReason
		}
	}
	if st.Err() != nil || finish != "content_filter" {
		t.Errorf("streamed block: finish %q, err %v", finish, st.Err())
	}

	// A mask term is replaced before the prompt leaves the gateway.
	r = g.post("/v1/moderations", key, `{"input":["这里有敏感词","正常"]}`)
	var mod struct {
		Results []struct {
			Flagged  bool
			Genguard struct {
				Decision string
				Hits     []struct{ Text string }
			}
		}
	}
	json.Unmarshal(r.body, &mod)
	if r.status != 200 || len(mod.Results) != 2 || !mod.Results[0].Flagged || mod.Results[0].Genguard.Decision != "mask" ||
		mod.Results[0].Genguard.Hits[0].Text != "敏感词" || mod.Results[1].Flagged {
		t.Errorf("moderations = %d %s", r.status, r.body)
	}

	recs := g.waitAudit(2)
	if len(recs) < 2 || recs[0].Decision != "block" || recs[0].Stage != "input" || recs[0].Upstream != "" || !slices.Contains(recs[0].Risks, "A.1.d") {
		t.Errorf("audit = %+v", recs)
	}
}

// fakeUpstream streams a scripted reply. It records whether the gateway
// cancelled its request.
type fakeUpstream struct {
	*httptest.Server
	cancelled atomic.Int32
	requests  atomic.Int32
	lastBody  atomic.Value
}

func newFakeUpstream(t *testing.T, h func(f *fakeUpstream, w http.ResponseWriter, r *http.Request)) *fakeUpstream {
	f := &fakeUpstream{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		b, _ := io.ReadAll(r.Body)
		f.lastBody.Store(string(b))
		h(f, w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func sseChunk(content string) string {
	b, _ := json.Marshal(map[string]any{"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": content}, "finish_reason": nil}}})
	return "data: " + string(b) + "\n\n"
}

// streamScript writes tokens one per event and then holds the stream open
// until the client goes away, noting the cancellation.
func streamScript(tokens []string, thenHold bool) func(f *fakeUpstream, w http.ResponseWriter, r *http.Request) {
	return func(f *fakeUpstream, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, tok := range tokens {
			io.WriteString(w, sseChunk(tok))
			fl.Flush()
		}
		if thenHold {
			select {
			case <-r.Context().Done():
				f.cancelled.Add(1)
			case <-time.After(30 * time.Second):
			}
			return
		}
		io.WriteString(w, `data: {"id":"up-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"up-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10}}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}
}

func upstreamConfig(urls map[string]string, routes ...string) string {
	var b strings.Builder
	b.WriteString("upstreams:\n")
	for _, name := range routes {
		fmt.Fprintf(&b, "  - {name: %s, type: openai, base_url: %q, timeout: 2s, connect_timeout: 1s}\n", name, urls[name])
	}
	b.WriteString("models:\n  - name: m\n    routes:\n")
	for _, name := range routes {
		fmt.Fprintf(&b, "      - {upstream: %s, model: up-%s}\n", name, name)
	}
	return b.String()
}

func TestStreamBlockedMidway(t *testing.T) {
	// The blocked term arrives split over three events; a benign prefix
	// comes first. The upstream would go on for 30 s: the gateway must stop it.
	up := newFakeUpstream(t, streamScript([]string{"好的，", "下面是", "炸", "弹制", "作的说明", "：第一步"}, true))
	g := startGateway(t, upstreamConfig(map[string]string{"up": up.URL}, "up"))
	key := g.newUser("carol")
	r := g.post("/v1/chat/completions", key, `{"model":"m","stream":true,"messages":[{"role":"user","content":"写一篇故事"}]}`)
	events := sseEvents(string(r.body))
	if len(events) < 2 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream did not end with [DONE]: %q", r.body)
	}
	var delivered strings.Builder
	for _, ev := range events[:len(events)-2] {
		var ch struct {
			Choices []struct {
				Delta struct{ Content string }
			}
		}
		json.Unmarshal([]byte(ev), &ch)
		for _, c := range ch.Choices {
			delivered.WriteString(c.Delta.Content)
		}
	}
	if strings.Contains(delivered.String(), "炸") || strings.Contains(delivered.String(), "第一步") {
		t.Errorf("part of the blocked term or what followed reached the client: %q", delivered.String())
	}
	var last struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		}
		Genguard struct {
			Decision, Stage string
			Risks           []string
			Retract         struct {
				Choice         int
				DeliveredChars int `json:"delivered_chars"`
				Notice         string
			}
		}
	}
	json.Unmarshal([]byte(events[len(events)-2]), &last)
	if last.Choices[0].FinishReason != "content_filter" || last.Genguard.Decision != "block" || last.Genguard.Stage != "output" ||
		last.Genguard.Retract.DeliveredChars != len([]rune(delivered.String())) || last.Genguard.Retract.Notice == "" {
		t.Errorf("final chunk = %s (delivered %q)", events[len(events)-2], delivered.String())
	}
	waitFor(t, "upstream cancelled", func() bool { return up.cancelled.Load() == 1 })
	recs := g.waitAudit(1)
	if recs[0].Decision != "block" || recs[0].Stage != "output" || !recs[0].Stream {
		t.Errorf("audit = %+v", recs[0])
	}
	// The upstream was asked for usage and the model under its own name.
	if body, _ := up.lastBody.Load().(string); !strings.Contains(body, `"model":"up-up"`) || !strings.Contains(body, `"include_usage":true`) {
		t.Errorf("upstream request body = %s", body)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	up := newFakeUpstream(t, streamScript([]string{strings.Repeat("第一段内容比较长，足够越过保留窗口。", 20)}, true))
	g := startGateway(t, upstreamConfig(map[string]string{"up": up.URL}, "up"))
	key := g.newUser("dave")
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", g.url+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatalf("no first event: %v", err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the upstream request to be cancelled", func() bool { return up.cancelled.Load() == 1 })
	recs := g.waitAudit(1)
	if len(recs) != 1 || recs[0].Status != 499 {
		t.Errorf("audit after disconnect = %+v", recs)
	}
}

func TestFailover(t *testing.T) {
	// dead: nothing listens; flaky: 500; stall: never answers headers;
	// good: streams.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()
	flaky := newFakeUpstream(t, func(f *fakeUpstream, w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
	})
	stall := newFakeUpstream(t, func(f *fakeUpstream, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	good := newFakeUpstream(t, streamScript([]string{"你好", "，世界"}, false))
	urls := map[string]string{"dead": dead, "flaky": flaky.URL, "stall": stall.URL, "good": good.URL}
	g := startGateway(t, upstreamConfig(urls, "dead", "flaky", "stall", "good"))
	key := g.newUser("erin")

	c := sdk(g, key)
	st := c.Chat.Completions.NewStreaming(context.Background(), oai.ChatCompletionNewParams{Model: "m",
		Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("hi")}})
	var text strings.Builder
	for st.Next() {
		for _, ch := range st.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	// The explicit AIGC notice (label.text_notice, default on) ends the answer.
	if st.Err() != nil || text.String() != "你好，世界\n\n「本内容由人工智能生成」" {
		t.Fatalf("failover stream = %q, %v", text.String(), st.Err())
	}
	if flaky.requests.Load() != 1 || stall.requests.Load() != 1 || good.requests.Load() != 1 {
		t.Errorf("requests: flaky %d stall %d good %d", flaky.requests.Load(), stall.requests.Load(), good.requests.Load())
	}
	recs := g.waitAudit(1)
	if recs[0].Upstream != "good" || recs[0].CompletionTokens != 7 {
		t.Errorf("audit = %+v", recs[0])
	}
	m := g.do("GET", "/metrics", "", nil)
	for _, want := range []string{`genguard_upstream_errors_total{kind="connect",upstream="dead"} 1`, `genguard_upstream_errors_total{kind="status_5xx",upstream="flaky"} 1`,
		`genguard_upstream_errors_total{kind="connect",upstream="stall"} 1`, `genguard_upstream_breaker_state{upstream="good"} 0`} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestUpstreamDropsMidStream(t *testing.T) {
	drop := newFakeUpstream(t, func(f *fakeUpstream, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseChunk("一半"))
		w.(http.Flusher).Flush()
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	g := startGateway(t, upstreamConfig(map[string]string{"drop": drop.URL}, "drop"))
	key := g.newUser("frank")
	c := sdk(g, key)
	st := c.Chat.Completions.NewStreaming(context.Background(), oai.ChatCompletionNewParams{Model: "m",
		Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("hi")}})
	for st.Next() {
	}
	if st.Err() == nil {
		t.Fatal("a dropped upstream stream ended without an error for the client")
	}
	recs := g.waitAudit(1)
	if recs[0].Status != 502 {
		t.Errorf("audit status = %d, want 502", recs[0].Status)
	}
}

func TestCompletionsEndpoint(t *testing.T) {
	g := startGateway(t, "")
	key := g.newUser("gina")
	c := sdk(g, key)
	resp, err := c.Completions.New(context.Background(), oai.CompletionNewParams{Model: "demo", Prompt: oai.CompletionNewParamsPromptUnion{OfString: oai.String("从前有座山")}})
	if err != nil || !strings.HasPrefix(resp.Choices[0].Text, "这是") {
		t.Fatalf("Completions.New = %+v, %v", resp, err)
	}
	r := g.post("/v1/completions", key, `{"model":"demo","prompt":"违禁词","stream":true}`)
	if ev := sseEvents(string(r.body)); r.status != 200 || len(ev) != 3 || !strings.Contains(ev[1], "content_filter") {
		t.Errorf("blocked streaming completion = %d %s", r.status, r.body)
	}
}

func TestStrictAuditCommitsBeforeResponse(t *testing.T) {
	g := startGateway(t, "audit: {strict: true, flush_interval: 50ms}\n")
	key := g.newUser("strict")
	for i := range 3 {
		if r := g.post("/v1/chat/completions", key, chat(fmt.Sprintf("问题%d", i), i == 1)); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		// No waiting: the record must already be committed.
		if n := len(g.auditRecords()); n != i+1 {
			t.Fatalf("after response %d the audit table has %d records, want %d", i, n, i+1)
		}
	}
}
