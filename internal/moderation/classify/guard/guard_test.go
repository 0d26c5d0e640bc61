package guard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/risk"
)

// fakeQwen serves /chat/completions with a fixed assistant answer and
// records the last request and the request count.
type fakeQwen struct {
	answer string
	calls  atomic.Int32
	last   atomic.Pointer[chatRequest]
}

func (f *fakeQwen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
		http.Error(w, "bad path or key", http.StatusNotFound)
		return
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.last.Store(&req)
	json.NewEncoder(w).Encode(map[string]any{
		"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": f.answer}}},
	})
}

func qwenClient(t *testing.T, h http.Handler, o Options, loose bool) *Qwen {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o.Endpoint, o.Model, o.APIKey = srv.URL+"/v1/", "Qwen3Guard-Gen-0.6B", "k"
	q, err := NewQwen(o, loose)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQwenCheck(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		loose  bool
		want   Verdict
	}{
		{"unsafe", "Safety: Unsafe\nCategories: Violent", false,
			Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"Violent"}, Risks: []risk.Code{"A.1.f"}}},
		{"safe", "Safety: Safe\nCategories: None", false,
			Verdict{Severity: "safe"}},
		{"several categories", "Safety: Unsafe\nCategories: PII, Jailbreak", false,
			Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"PII", "Jailbreak"}, Risks: []risk.Code{"A.4.f", "A.4.e", "A.1.h"}}},
		{"controversial strict", "Safety: Controversial\nCategories: Politically Sensitive Topics", false,
			Verdict{Flagged: true, Severity: "controversial", Categories: []string{"Politically Sensitive Topics"}, Risks: []risk.Code{"A.1.b", "A.1.g"}}},
		{"controversial loose", "Safety: Controversial\nCategories: Politically Sensitive Topics", true,
			Verdict{Severity: "controversial", Categories: []string{"Politically Sensitive Topics"}, Risks: []risk.Code{"A.1.b", "A.1.g"}}},
		{"lower case and spacing", "safety:  unsafe \ncategories: suicide & self-harm ,", false,
			Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"Suicide & Self-Harm"}, Risks: []risk.Code{"A.4.a"}}},
		{"unknown category kept without code", "Safety: Unsafe\nCategories: Weird", false,
			Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"Weird"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeQwen{answer: tt.answer}
			q := qwenClient(t, f, Options{}, tt.loose)
			got, err := q.Check(t.Context(), "怎么做炸弹")
			if err != nil {
				t.Fatalf("Check() error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check() = %+v, want %+v", got, tt.want)
			}
			req := f.last.Load()
			wantMsgs := []chatMessage{{"user", "怎么做炸弹"}}
			if req.Model != "Qwen3Guard-Gen-0.6B" || !reflect.DeepEqual(req.Messages, wantMsgs) {
				t.Errorf("request = %+v, want model Qwen3Guard-Gen-0.6B and messages %v", req, wantMsgs)
			}
		})
	}
}

func TestQwenCheckResponseSendsBothTurns(t *testing.T) {
	f := &fakeQwen{answer: "Safety: Safe\nCategories: None\nRefusal: Yes"}
	q := qwenClient(t, f, Options{}, false)
	v, err := q.CheckResponse(t.Context(), "问题", "回答")
	if err != nil || v.Flagged {
		t.Fatalf("CheckResponse() = %+v, %v; want unflagged, nil", v, err)
	}
	want := []chatMessage{{"user", "问题"}, {"assistant", "回答"}}
	if got := f.last.Load().Messages; !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %v, want %v", got, want)
	}
	// A prompt check of the same text must not hit the response's cache entry.
	if _, err := q.Check(t.Context(), "问题"); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("server calls = %d, want 2", n)
	}
}

// failure is a fake server that cannot give a usable answer and a test
// for the error the client should report.
type failure struct {
	name    string
	handler http.HandlerFunc
	is      func(error) bool
}

func isStatus(err error) bool {
	var s *StatusError
	return errors.As(err, &s)
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func failures() []failure {
	garbage := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }
	}
	return []failure{
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, isStatus},
		{"not json", garbage("<html>gateway</html>"), is(ErrBadAnswer)},
		{"no choices or results", garbage(`{"choices":[],"results":[]}`), is(ErrBadAnswer)},
		{"prose answer", garbage(`{"choices":[{"message":{"content":"I think it is fine."}}],"results":[]}`), is(ErrBadAnswer)},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			// Hold the request until the client gives up. Reading the body
			// first lets the server notice the client closing the connection.
			// The bound keeps httptest.Server.Close from waiting forever when
			// the closed client connection goes unnoticed (seen under -race).
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, is(context.DeadlineExceeded)},
	}
}

func TestFailurePolicies(t *testing.T) {
	policies := []struct {
		policy      Policy
		wantErr     bool
		wantFlagged bool
	}{
		{FailError, true, false},
		{FailOpen, false, false},
		{FailClosed, false, true},
	}
	for _, f := range failures() {
		for _, p := range policies {
			t.Run(f.name, func(t *testing.T) {
				// The timeout only matters for the slow server.
				o := Options{Policy: p.policy, Timeout: 20 * time.Millisecond}
				check := map[string]Checker{
					"qwen":   qwenClient(t, f.handler, o, false),
					"openai": openAIClient(t, f.handler, o, 0),
				}
				for name, c := range check {
					v, err := c.Check(t.Context(), "text")
					if p.wantErr {
						if !f.is(err) {
							t.Errorf("%s policy %d: Check() error = %v, want the %s failure", name, p.policy, err, f.name)
						}
						continue
					}
					if err != nil || v.Flagged != p.wantFlagged || !f.is(v.Degraded) {
						t.Errorf("%s policy %d: Check() = %+v, %v; want flagged=%v degraded by the %s failure", name, p.policy, v, err, p.wantFlagged, f.name)
					}
				}
			})
		}
	}
}

func TestCallerCancellation(t *testing.T) {
	f := &fakeQwen{answer: "Safety: Safe"}
	q := qwenClient(t, f, Options{}, false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := q.Check(ctx, "text"); !errors.Is(err, context.Canceled) {
		t.Errorf("Check(cancelled ctx) error = %v, want context.Canceled", err)
	}
}

func TestCacheHitsAndExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := &fakeQwen{answer: "Safety: Unsafe\nCategories: Violent"}
	q := qwenClient(t, f, Options{CacheSize: 2, CacheTTL: time.Minute, Now: func() time.Time { return now }}, false)
	ctx := t.Context()
	steps := []struct {
		text       string
		advance    time.Duration
		wantCached bool
		wantCalls  int32
	}{
		{"a", 0, false, 1},
		{"a", 0, true, 1},
		{"b", 0, false, 2},
		{"c", 0, false, 3},           // evicts a (least recently used)
		{"a", 0, false, 4},           // evicts b
		{"c", 0, true, 4},            // still there
		{"c", time.Minute, false, 5}, // expired
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		v, err := q.Check(ctx, s.text)
		if err != nil {
			t.Fatalf("step %d: Check(%q) error: %v", i, s.text, err)
		}
		if v.Cached != s.wantCached || f.calls.Load() != s.wantCalls {
			t.Errorf("step %d: Check(%q) cached=%v calls=%d, want cached=%v calls=%d", i, s.text, v.Cached, f.calls.Load(), s.wantCached, s.wantCalls)
		}
	}
	// Callers must not be able to corrupt cached verdicts.
	v, _ := q.Check(ctx, "c")
	v.Risks[0] = "A.5.b"
	if v2, _ := q.Check(ctx, "c"); v2.Risks[0] != "A.1.f" {
		t.Errorf("cached verdict mutated through a returned slice: %v", v2.Risks)
	}
}

func TestDegradedVerdictsAreNotCached(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	f := &fakeQwen{answer: "Safety: Safe"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		f.ServeHTTP(w, r)
	})
	q := qwenClient(t, h, Options{Policy: FailClosed}, false)
	if v, _ := q.Check(t.Context(), "x"); !v.Flagged || v.Degraded == nil {
		t.Fatalf("Check() while down = %+v, want flagged and degraded", v)
	}
	fail.Store(false)
	if v, _ := q.Check(t.Context(), "x"); v.Flagged || v.Degraded != nil || v.Cached {
		t.Errorf("Check() after recovery = %+v, want a fresh safe verdict", v)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []Options{
		{Model: "m"},
		{Endpoint: "http://x"},
		{Endpoint: "http://x", Model: "m", Policy: 9},
	}
	for _, o := range tests {
		if _, err := NewQwen(o, false); err == nil {
			t.Errorf("NewQwen(%+v) error = nil, want error", o)
		}
		if _, err := NewOpenAI(o, 0); err == nil {
			t.Errorf("NewOpenAI(%+v) error = nil, want error", o)
		}
	}
}
