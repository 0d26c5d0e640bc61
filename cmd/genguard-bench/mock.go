package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// answerPieces are the streamed deltas of the mock's answer: benign text
// (so output moderation runs and passes), a few runes each, like the tokens
// a real server sends.
var answerPieces = []string{
	"好的，", "下面是", "一些", "建议：", "每天", "坚持", "练习", "比偶尔", "长时间", "学习",
	"更有效。", "今天的", "天气", "很适合", "出门", "散步，", "记得", "多喝水。", "祝你", "学习愉快。",
}

// mockOptions shape the mock upstream's answer.
type mockOptions struct {
	// Chunks is how many content deltas a stream has (the answer pieces are
	// cycled); the non-streaming answer is the same text in one message.
	Chunks int
	// ChunkDelay is slept between streamed deltas (0: as fast as possible).
	ChunkDelay time.Duration
}

// mock is an OpenAI-compatible upstream on loopback that answers at once:
// non-streaming JSON, or SSE when the request says "stream": true. Bodies
// are rendered once at start so the mock itself costs as little CPU per
// request as possible — its cost is paid by both the direct and the gateway
// path, and only the difference is of interest.
type mock struct {
	opts     mockOptions
	whole    []byte   // the non-streaming response
	chunks   [][]byte // SSE events, each "data: …\n\n"
	usage    []byte   // SSE usage event, sent when stream_options ask for it
	srv      *http.Server
	ln       net.Listener
	serveErr chan error
}

func answerText(chunks int) []string {
	out := make([]string, chunks)
	for i := range out {
		out[i] = answerPieces[i%len(answerPieces)]
	}
	return out
}

func newMock(addr string, o mockOptions) (*mock, error) {
	if o.Chunks < 1 {
		return nil, errors.New("mock: chunks must be at least 1")
	}
	m := &mock{opts: o, serveErr: make(chan error, 1)}
	pieces := answerText(o.Chunks)
	const id, model, created = "chatcmpl-mock", "bench", 1700000000
	usage := map[string]int{"prompt_tokens": 512, "completion_tokens": o.Chunks, "total_tokens": 512 + o.Chunks}
	var err error
	m.whole, err = json.Marshal(map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": strings.Join(pieces, "")}}},
		"usage": usage,
	})
	if err != nil {
		return nil, fmt.Errorf("mock: render response: %w", err)
	}
	event := func(choice map[string]any, extra map[string]any) []byte {
		v := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model}
		if choice != nil {
			v["choices"] = []any{choice}
		} else {
			v["choices"] = []any{}
		}
		for k, x := range extra {
			v[k] = x
		}
		b, _ := json.Marshal(v)
		return append(append([]byte("data: "), b...), '\n', '\n')
	}
	// A real server opens with a role-only delta, then content deltas, then
	// an empty delta carrying the finish reason.
	m.chunks = append(m.chunks, event(map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}, "finish_reason": nil}, nil))
	for _, p := range pieces {
		m.chunks = append(m.chunks, event(map[string]any{"index": 0, "delta": map[string]any{"content": p}, "finish_reason": nil}, nil))
	}
	m.chunks = append(m.chunks, event(map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}, nil))
	m.usage = event(nil, map[string]any{"usage": usage})

	m.ln, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mock: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", m.chat)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return m, nil
}

// serve runs the server until stop; its goroutine is owned by the mock.
func (m *mock) start() {
	go func() { m.serveErr <- m.srv.Serve(m.ln) }()
}

func (m *mock) url() string { return "http://" + m.ln.Addr().String() }

func (m *mock) stop(ctx context.Context) error {
	err := m.srv.Shutdown(ctx)
	if err != nil {
		m.srv.Close()
	}
	if serr := <-m.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("mock: serve: %w", serr)
	}
	return err
}

// chatRequest is the little the mock reads from a request. It decodes the
// whole body (as a real server would) so both paths pay for a 1 KB parse.
type chatRequest struct {
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Content string `json:"content"`
	} `json:"messages"`
}

func (m *mock) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		w.Write(m.whole)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var t *time.Timer
	for i, c := range m.chunks {
		// The delay sits between content deltas, like a model producing
		// tokens; the first delta goes out at once.
		if i > 1 && m.opts.ChunkDelay > 0 {
			if t == nil {
				t = time.NewTimer(m.opts.ChunkDelay)
			} else {
				t.Reset(m.opts.ChunkDelay)
			}
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		w.Write(m.usage)
	}
	w.Write([]byte("data: [DONE]\n\n"))
}
