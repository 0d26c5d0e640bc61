package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/openai"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBreaker(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	var states []BreakerState
	b := NewBreaker(2, 10*time.Second, c.now, func(s BreakerState) { states = append(states, s) })
	steps := []struct {
		do        string // allow, ok, fail, wait
		wantAllow bool
		wantState BreakerState
	}{
		{"allow", true, Closed},
		{"fail", false, Closed},
		{"fail", false, Open},
		{"allow", false, Open},
		{"wait", false, Open},
		{"allow", true, HalfOpen},
		{"allow", false, HalfOpen}, // one trial at a time
		{"fail", false, Open},
		{"wait", false, Open},
		{"allow", true, HalfOpen},
		{"ok", false, Closed},
		{"allow", true, Closed},
	}
	for i, s := range steps {
		switch s.do {
		case "allow":
			if got := b.Allow(); got != s.wantAllow {
				t.Fatalf("step %d: Allow() = %v, want %v", i, got, s.wantAllow)
			}
		case "ok":
			b.Success()
		case "fail":
			b.Failure()
		case "wait":
			c.t = c.t.Add(11 * time.Second)
		}
		if got := b.State(); got != s.wantState {
			t.Fatalf("step %d (%s): state = %v, want %v", i, s.do, got, s.wantState)
		}
	}
	if len(states) != 5 {
		t.Errorf("transitions = %v", states)
	}
}

func openaiUp(name, url string) *OpenAI {
	return NewOpenAI(OpenAIOptions{Name: name, BaseURL: url, ConnectTimeout: time.Second, HeaderTimeout: 2 * time.Second})
}

func TestRouterFailover(t *testing.T) {
	var gotAuth, gotModel string
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotModel = string(b)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	client4xx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"bad"}}`)
	}))
	defer client4xx.Close()
	// A port nobody listens on: connect refused.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()

	goodUp := NewOpenAI(OpenAIOptions{Name: "good", BaseURL: good.URL + "/v1", APIKey: "sk-up", ConnectTimeout: time.Second, HeaderTimeout: time.Second})
	c := &clock{time.Unix(0, 0)}
	brs := map[string]*Breaker{
		"dead": NewBreaker(1, time.Minute, c.now, nil),
		"bad":  NewBreaker(5, time.Minute, c.now, nil),
		"good": NewBreaker(5, time.Minute, c.now, nil),
	}
	r := NewRouter(map[string][]Target{
		"m":   {{openaiUp("dead", dead), "m-dead"}, {openaiUp("bad", bad.URL), "m-bad"}, {goodUp, "m-good"}},
		"4xx": {{openaiUp("c4", client4xx.URL), "x"}, {goodUp, "never"}},
	}, brs, nil)
	build := func(t Target) Request { return Request{Path: "chat/completions", Body: []byte(t.Model)} }
	ctx := context.Background()

	res, err := r.Send(ctx, "m", build)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	res.Resp.Body.Close()
	if res.Upstream != "good" || gotModel != "m-good" || gotAuth != "Bearer sk-up" {
		t.Errorf("routed to %s with body %q auth %q", res.Upstream, gotModel, gotAuth)
	}
	if brs["dead"].State() != Open {
		t.Errorf("dead breaker = %v, want open", brs["dead"].State())
	}
	_, err = r.Send(ctx, "4xx", build)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 400 || !strings.Contains(string(se.Body), "bad") {
		t.Errorf("4xx err = %v, want StatusError 400 without failover", err)
	}
	if _, err := r.Send(ctx, "nope", build); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model err = %v", err)
	}
}

func TestRouterAllDown(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	r := NewRouter(map[string][]Target{"m": {{openaiUp("bad", bad.URL), "m"}}}, map[string]*Breaker{"bad": NewBreaker(1, time.Minute, nil, nil)}, nil)
	build := func(t Target) Request { return Request{Path: "chat/completions", Body: []byte("{}")} }
	_, err := r.Send(context.Background(), "m", build)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 500 {
		t.Fatalf("first err = %v, want StatusError 500", err)
	}
	if _, err := r.Send(context.Background(), "m", build); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with breaker open err = %v, want ErrUnavailable", err)
	}
}

func TestStalledUpstreamTimesOut(t *testing.T) {
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stall.Close()
	defer close(release)
	up := NewOpenAI(OpenAIOptions{Name: "stall", BaseURL: stall.URL, ConnectTimeout: time.Second, HeaderTimeout: 50 * time.Millisecond})
	if _, err := up.Do(context.Background(), Request{Path: "chat/completions", Body: []byte("{}")}); err == nil {
		t.Fatal("Do on a stalled server returned no error")
	}
}

func TestDemoDeterministicAndStreams(t *testing.T) {
	d := NewDemo("demo", 0)
	body := `{"model":"demo","messages":[{"role":"user","content":"你好"}],"stream":true,"stream_options":{"include_usage":true}}`
	read := func() (string, int) {
		resp, err := d.Do(context.Background(), Request{Path: "chat/completions", Body: []byte(body), Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		er := openai.NewEventReader(resp.Body)
		var text strings.Builder
		events := 0
		for {
			ev, err := er.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			events++
			text.Write(ev)
		}
		return text.String(), events
	}
	a, n := read()
	b, _ := read()
	if a != b {
		t.Errorf("demo is not deterministic")
	}
	if !strings.HasSuffix(a, "[DONE]") || !strings.Contains(a, `"usage"`) || n < 10 {
		t.Errorf("stream = %d events, %q", n, a)
	}
}

func TestTokensRoundTrip(t *testing.T) {
	for _, s := range []string{"", "hello world", "你好，世界！", " lead and trail ", "mixed中文 and 123 数字"} {
		toks := Tokens(s)
		if got := strings.Join(toks, ""); got != strings.TrimLeft(s, " ") && got != s {
			t.Errorf("Tokens(%q) joins to %q", s, got)
		}
	}
}
