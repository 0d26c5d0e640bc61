package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/openai"
)

// Demo is the built-in model: deterministic (the same prompt gives the same
// answer), benign, and streaming token by token at a configurable rate, so the
// gateway, its tests and benchmarks need no external model server.
type Demo struct {
	name  string
	rate  float64 // tokens per second; 0 = no delay
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewDemo returns the demo model.
func NewDemo(name string, tokensPerSecond float64) *Demo {
	return &Demo{name: name, rate: tokensPerSecond, now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name returns the configured name.
func (d *Demo) Name() string { return d.name }

var demoSentences = []string{
	"这是 genguard 演示模型的回答。",
	"演示模型不调用任何外部服务，同样的问题总是得到同样的回答。",
	"The demo model answers deterministically so tests and benchmarks are repeatable.",
	"网关会在输入和输出两端进行内容安全检查，并为生成内容添加标识。",
	"如需接入真实模型，请在配置文件中添加一个 OpenAI 兼容的上游。",
	"每个请求都会留下审计记录，其中不包含提示词或回答的原文。",
	"Streaming responses are relayed chunk by chunk as soon as they arrive.",
	"今天的天气很适合出门散步，记得多喝水。",
	"学习一门新语言时，每天坚持练习比偶尔长时间学习更有效。",
	"A good answer is short, accurate and kind.",
}

type demoRequest struct {
	Model         string                `json:"model"`
	Messages      []openai.ChatMessage  `json:"messages"`
	Prompt        json.RawMessage       `json:"prompt"`
	Stream        bool                  `json:"stream"`
	StreamOptions *openai.StreamOptions `json:"stream_options"`
	MaxTokens     *int                  `json:"max_tokens"`
	MaxCompletion *int                  `json:"max_completion_tokens"`
}

// Tokens splits text the way the demo counts tokens: each CJK character, each
// run of letters or digits, and each other non-space character is one token;
// spaces attach to the following token so that joining tokens restores text.
func Tokens(s string) []string {
	var out []string
	start := 0
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		if isWordRune(r) && !unicode.Is(unicode.Han, r) {
			j := i + n
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if !isWordRune(r2) || unicode.Is(unicode.Han, r2) {
					break
				}
				j += n2
			}
			out = append(out, s[start:j])
			start, i = j, j
			continue
		}
		out = append(out, s[start:i+n])
		i += n
		start = i
	}
	if start < len(s) && len(out) > 0 {
		out[len(out)-1] += s[start:]
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Answer returns the demo's reply to prompt, limited to maxTokens tokens.
func (d *Demo) Answer(prompt string, maxTokens int) []string {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	seed := h.Sum64()
	var b strings.Builder
	b.WriteString(demoSentences[0])
	for i := range 4 {
		b.WriteString(demoSentences[1+int((seed>>(8*i))%uint64(len(demoSentences)-1))])
	}
	toks := Tokens(b.String())
	if maxTokens > 0 && maxTokens < len(toks) {
		toks = toks[:maxTokens]
	}
	return toks
}

// Do answers a chat or completion request.
func (d *Demo) Do(ctx context.Context, req Request) (*http.Response, error) {
	var r demoRequest
	if err := json.Unmarshal(req.Body, &r); err != nil {
		return jsonResponse(http.StatusBadRequest, openai.InvalidRequest("", "invalid_json", "demo: "+err.Error())), nil
	}
	chat := req.Path == "chat/completions"
	var prompt strings.Builder
	if chat {
		for _, m := range r.Messages {
			prompt.WriteString(m.Content.Text)
			prompt.WriteByte('\n')
		}
	} else {
		var s string
		if json.Unmarshal(r.Prompt, &s) != nil {
			var ss []string
			json.Unmarshal(r.Prompt, &ss)
			s = strings.Join(ss, "\n")
		}
		prompt.WriteString(s)
	}
	maxTok := 0
	if r.MaxTokens != nil {
		maxTok = *r.MaxTokens
	}
	if r.MaxCompletion != nil {
		maxTok = *r.MaxCompletion
	}
	toks := d.Answer(prompt.String(), maxTok)
	finish := "stop"
	if maxTok > 0 && len(toks) == maxTok {
		finish = "length"
	}
	usage := &openai.Usage{PromptTokens: len(Tokens(prompt.String())), CompletionTokens: len(toks)}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	id := fmt.Sprintf("demo-%x", fnvString(prompt.String()))
	created := d.now().Unix()

	if !r.Stream {
		text := strings.Join(toks, "")
		var body any
		if chat {
			body = openai.ChatCompletion{ID: "chatcmpl-" + id, Object: "chat.completion", Created: created, Model: r.Model,
				Choices: []openai.ChatChoice{{Message: openai.ResponseMessage{Role: "assistant", Content: &text}, FinishReason: finish}},
				Usage:   usage}
		} else {
			body = openai.TextCompletion{ID: "cmpl-" + id, Object: "text_completion", Created: created, Model: r.Model,
				Choices: []openai.TextChoice{{Text: text, FinishReason: &finish, Logprobs: json.RawMessage("null")}}, Usage: usage}
		}
		return jsonResponse(http.StatusOK, body), nil
	}

	pr, pw := io.Pipe()
	includeUsage := r.StreamOptions != nil && r.StreamOptions.IncludeUsage
	// The goroutine is owned by the response body: it ends when the stream is
	// written, the reader closes the body, or ctx ends.
	go func() {
		err := d.stream(ctx, pw, chat, "chatcmpl-"+id, created, r.Model, toks, finish, usage, includeUsage)
		pw.CloseWithError(err)
	}()
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"text/event-stream"}},
		Body:       pr,
	}, nil
}

func (d *Demo) stream(ctx context.Context, w io.Writer, chat bool, id string, created int64, model string, toks []string, finish string, usage *openai.Usage, includeUsage bool) error {
	var interval time.Duration
	if d.rate > 0 {
		interval = time.Duration(float64(time.Second) / d.rate)
	}
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return openai.WriteEvent(w, b)
	}
	chunk := func(content *string, role string, fin *string) any {
		if chat {
			return openai.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
				Choices: []openai.ChunkChoice{{Delta: openai.Delta{Role: role, Content: content}, FinishReason: fin}}}
		}
		text := ""
		if content != nil {
			text = *content
		}
		return openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
			Choices: []openai.TextChoice{{Text: text, FinishReason: fin, Logprobs: json.RawMessage("null")}}}
	}
	if chat {
		empty := ""
		if err := send(chunk(&empty, "assistant", nil)); err != nil {
			return err
		}
	}
	for _, t := range toks {
		if interval > 0 {
			if err := d.sleep(ctx, interval); err != nil {
				return err
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(chunk(&t, "", nil)); err != nil {
			return err
		}
	}
	if err := send(chunk(nil, "", &finish)); err != nil {
		return err
	}
	if includeUsage {
		var u any
		if chat {
			u = openai.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []openai.ChunkChoice{}, Usage: usage}
		} else {
			u = openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model, Choices: []openai.TextChoice{}, Usage: usage}
		}
		if err := send(u); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("data: [DONE]\n\n"))
	return err
}

func jsonResponse(status int, v any) *http.Response {
	var body []byte
	if e, ok := v.(*openai.Error); ok {
		body, _ = json.Marshal(struct {
			Error *openai.Error `json:"error"`
		}{e})
	} else {
		body, _ = json.Marshal(v)
	}
	return &http.Response{
		StatusCode:    status,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

func fnvString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
