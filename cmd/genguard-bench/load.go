package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// promptSentences are benign; repeated, they make the prompt. They must not
// hit the lexicon: every gateway answer is checked for Genguard-Decision:
// pass, so a hit shows up as errors rather than as a fast refusal.
var promptSentences = []string{
	"请帮我写一份周末出游的计划，包括交通、住宿和饮食安排。",
	"我想学习做家常菜，请推荐几道简单又营养的菜谱。",
	"最近工作压力比较大，有什么放松心情的好方法吗？",
	"请用通俗的语言解释一下光合作用的基本原理。",
	"孩子准备上小学了，家长应该提前做哪些准备？",
	"如何制定一个适合初学者的跑步训练计划？",
}

// chatBody builds a chat request whose user message is at least n bytes of
// Chinese text.
func chatBody(n int, stream bool) ([]byte, error) {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(promptSentences[i%len(promptSentences)])
	}
	body, err := json.Marshal(map[string]any{
		"model":    benchModel,
		"stream":   stream,
		"messages": []any{map[string]any{"role": "user", "content": b.String()}},
	})
	if err != nil {
		return nil, fmt.Errorf("render request: %w", err)
	}
	return body, nil
}

// target is where a request goes: the mock directly, or the gateway.
type target struct {
	name    string
	url     string // full chat/completions URL
	key     string
	gateway bool // check the gateway's decision header
}

// client sends the benchmark's requests. Both targets share one transport,
// so connection reuse and pool limits are the same for both paths.
type client struct {
	hc      *http.Client
	timeout time.Duration
	bodies  [2][]byte // [non-stream, stream]
}

func newClient(timeout time.Duration, promptBytes int) (*client, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        8192,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c := &client{hc: &http.Client{Transport: tr}, timeout: timeout}
	for i, stream := range []bool{false, true} {
		b, err := chatBody(promptBytes, stream)
		if err != nil {
			return nil, err
		}
		c.bodies[i] = b
	}
	return c, nil
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// result is one request's outcome. For non-streaming requests ttft equals
// total.
type result struct {
	ok         bool
	err        string
	lag        time.Duration // actual send − scheduled send (open loop only)
	ttft       time.Duration // first content delta
	total      time.Duration // whole response read
	start, end time.Time
}

var errBlocked = errors.New("gateway did not pass the benign prompt")

// do sends one request and times it from just before the request is
// written until the first content delta and until the body is fully read.
func (c *client) do(ctx context.Context, t target, stream bool) (r result) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body := c.bodies[0]
	if stream {
		body = c.bodies[1]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		r.err = err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.key)
	r.start = time.Now()
	defer func() { r.end = time.Now() }()
	resp, err := c.hc.Do(req)
	if err != nil {
		r.err = classify(err)
		return r
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		r.err = fmt.Sprintf("status %d", resp.StatusCode)
		return r
	}
	if t.gateway && resp.Header.Get("Genguard-Decision") != "pass" {
		io.Copy(io.Discard, resp.Body)
		r.err = errBlocked.Error()
		return r
	}
	if !stream {
		b, err := io.ReadAll(resp.Body)
		r.total = time.Since(r.start)
		r.ttft = r.total
		if err != nil {
			r.err = classify(err)
			return r
		}
		if !bytes.Contains(b, []byte(`"content":"`)) {
			r.err = "response without content"
			return r
		}
		r.ok = true
		return r
	}
	if err := readStream(resp.Body, r.start, &r); err != nil {
		r.err = classify(err)
		return r
	}
	r.ok = true
	return r
}

// readStream reads SSE events, noting when the first non-empty content
// delta arrives and when [DONE] does.
func readStream(body io.Reader, start time.Time, r *result) error {
	br := bufio.NewReaderSize(body, 16<<10)
	var chunk struct {
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	first, done := false, false
	for {
		line, err := br.ReadSlice('\n')
		data, isData := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data: "))
		if isData {
			switch {
			case string(data) == "[DONE]":
				r.total = time.Since(start)
				done = true
			case bytes.Contains(data, []byte(`"content_filter"`)) || bytes.HasPrefix(data, []byte(`{"error"`)):
				return errBlocked
			case !first:
				// Decoding only until the first token keeps the client's
				// per-chunk cost, which both paths pay, small.
				if json.Unmarshal(data, &chunk) == nil && len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
					r.ttft = time.Since(start)
					first = true
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read stream: %w", err)
		}
	}
	if !first || !done {
		return fmt.Errorf("stream ended early (first token %t, done %t)", first, done)
	}
	return nil
}

// classify shortens errors to a few stable kinds, for the error counts.
func classify(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	s := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "too many open files", "EOF"} {
		if strings.Contains(s, k) {
			return k
		}
	}
	return s
}

// openLoopOptions configure one open-loop run.
type openLoopOptions struct {
	Rate        int // requests per second per target
	Duration    time.Duration
	Warmup      time.Duration
	Stream      bool
	MaxInFlight int
}

// pair is the direct and gateway request scheduled half a period apart.
type pair [2]result

// openRun is one open-loop run: every pair, the index of the first measured
// pair, and the measurement window.
type openRun struct {
	pairs    []pair
	warm     int
	dropped  int
	from, to time.Time
}

func (r *openRun) measured() []pair { return r.pairs[r.warm:] }

// openLoop sends requests at a fixed schedule whatever the latency: pair i
// is due at start+i/rate; its direct and gateway requests go out half a
// period apart, alternating which goes first so neither path always follows
// the other. Each request gets its own goroutine at its due time, so a slow
// response never delays a later send (no coordinated omission); how late a
// send actually left is recorded as lag. The caller owns the run: it
// returns after every request it started has finished.
func openLoop(ctx context.Context, c *client, targets [2]target, o openLoopOptions) (*openRun, error) {
	if o.Rate <= 0 {
		return nil, errors.New("rate must be positive")
	}
	period := time.Second / time.Duration(o.Rate)
	n := int((o.Warmup + o.Duration) / period)
	warm := int(o.Warmup / period)
	pairs := make([]pair, n)
	dropped := 0
	var wg sync.WaitGroup
	var inflight atomic.Int64
	start := time.Now().Add(10 * time.Millisecond)
	run := &openRun{pairs: pairs, warm: warm, from: start.Add(o.Warmup), to: start.Add(o.Warmup + o.Duration)}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			for k := range 2 {
				which := k ^ (i & 1) // alternate order per pair
				due := start.Add(time.Duration(i)*period + time.Duration(k)*period/2)
				if d := time.Until(due); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				if inflight.Load() >= int64(o.MaxInFlight) {
					// The system is far behind; sending more would only
					// measure the client's goroutine pile-up.
					pairs[i][which] = result{err: "dropped: client in-flight cap"}
					if i >= warm {
						dropped++
					}
					continue
				}
				inflight.Add(1)
				wg.Add(1)
				go func(slot *result, t target) {
					defer wg.Done()
					defer inflight.Add(-1)
					now := time.Now()
					r := c.do(ctx, t, o.Stream)
					r.lag = now.Sub(due)
					*slot = r
				}(&pairs[i][which], targets[which])
			}
		}
	})
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("open loop: %w", ctx.Err())
	}
	run.dropped = dropped
	return run, nil
}

// closedLoop runs conns workers that each send the next request as soon as
// the last one finished, for warmup+duration, and returns the results of
// requests that started after the warm-up.
func closedLoop(ctx context.Context, c *client, t target, conns int, warmup, duration time.Duration, stream bool) ([]result, error) {
	var mu sync.Mutex
	var all []result
	var wg sync.WaitGroup
	begin := time.Now()
	measureFrom := begin.Add(warmup)
	end := measureFrom.Add(duration)
	pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []result
				for ctx.Err() == nil {
					now := time.Now()
					if !now.Before(end) {
						break
					}
					r := c.do(ctx, t, stream)
					if !r.start.Before(measureFrom) && !r.end.After(end) {
						mine = append(mine, r)
					}
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	})
	if ctx.Err() != nil {
		return nil, fmt.Errorf("closed loop: %w", ctx.Err())
	}
	return all, nil
}
