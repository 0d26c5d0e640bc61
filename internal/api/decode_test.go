package api

import (
	"testing"

	"github.com/genguard/genguard/internal/openai"
)

// FuzzParseRequests: any body either parses or gives a 4xx envelope error,
// never a panic; a parsed request round-trips through masking and the
// upstream body.
func FuzzParseRequests(f *testing.F) {
	for _, s := range []string{
		`{"model":"demo","messages":[{"role":"user","content":"你好"}]}`,
		`{"model":"demo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"model":"demo","prompt":["a","b"]}`,
		`{"model":"demo","prompt":"x","stream":true}`,
		`{"model":5}`, `[]`, `{`, `{"messages":"x"}`, `{"model":"m","messages":[{"role":"god"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dl := range []dialect{chatDialect{}, completionDialect{}} {
			req, err := dl.parse(body)
			if err != nil {
				e, ok := openai.AsError(err)
				if !ok || e.Status < 400 || e.Status >= 500 {
					t.Fatalf("parse error is not a 4xx envelope: %v", err)
				}
				continue
			}
			masked := make([]string, len(req.texts))
			for i, s := range req.texts {
				masked[i] = s + "＊"
			}
			if err := req.setTexts(masked); err != nil {
				t.Fatalf("setTexts on a parsed request: %v", err)
			}
			if b := req.upstreamBody("up"); len(b) == 0 {
				t.Fatal("empty upstream body")
			}
		}
	})
}

func FuzzDecodeUpstream(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi","reasoning_content":"r"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`,
		`{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}`,
		`{"choices":[{"text":"a","finish_reason":"stop"}]}`, `{"choices":[]}`, `null`, `{"choices":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dl := range []dialect{chatDialect{}, completionDialect{}} {
			if r, err := dl.decodeResponse(b); err == nil && r != nil {
				for i := range r.choices() {
					for _, p := range r.texts(i) {
						*p += "x"
					}
					*r.finish(i) = "content_filter"
				}
			}
			if c, err := dl.decodeChunk(b); err == nil && c != nil {
				for i := range c.choices() {
					s, _ := c.content(i)
					c.setContent(i, s)
					rs, _ := c.reasoning(i)
					c.setReasoning(i, rs)
					_ = c.finished(i)
				}
				_ = c.empty()
			}
		}
	})
}
