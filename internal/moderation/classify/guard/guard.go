// Package guard calls external guard models — an OpenAI-compatible chat
// model such as Qwen3Guard served by vLLM, or an OpenAI-style
// /v1/moderations endpoint — and maps their answers to TC260-003 Appendix A
// risk codes. Each client bounds every call with a timeout, caches verdicts
// in a bounded LRU with a TTL, and applies a configured fail-open or
// fail-closed policy when the model cannot answer.
package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/risk"
)

// Checker is what both clients offer; the moderation pipeline declares its
// own narrower interface as needed.
type Checker interface {
	Check(ctx context.Context, text string) (Verdict, error)
}

var (
	_ Checker = (*Qwen)(nil)
	_ Checker = (*OpenAI)(nil)
)

// Verdict is a guard model's judgement of one text.
type Verdict struct {
	// Flagged reports that the text should be blocked.
	Flagged bool
	// Severity is the model's own level where it has one ("safe",
	// "controversial", "unsafe" for Qwen3Guard).
	Severity string
	// Categories are the model's category names as it gave them.
	Categories []string
	// Risks are the Appendix A codes the categories map to.
	Risks []risk.Code
	// Scores are per-category scores where the model gives them.
	Scores map[string]float64
	// Cached reports the verdict came from the cache.
	Cached bool
	// Degraded is non-nil when the model could not answer and the verdict
	// is the failure policy's, not the model's; it holds the cause.
	Degraded error
}

// Policy says what Check returns when the guard model fails or times out.
type Policy uint8

const (
	// FailError returns the error and a zero Verdict; the caller decides.
	FailError Policy = iota
	// FailOpen returns an unflagged, Degraded verdict: availability first.
	FailOpen
	// FailClosed returns a flagged, Degraded verdict: safety first.
	FailClosed
)

// ErrBadAnswer is wrapped by every error about an answer the client could
// not understand.
var ErrBadAnswer = errors.New("unparseable guard answer")

// StatusError is a non-2xx HTTP reply from the guard model.
type StatusError struct {
	Code int
	Body string // the first bytes, for the log
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("guard model replied %d: %s", e.Code, e.Body)
}

// Options configure a client. Endpoint and Model are required.
type Options struct {
	// Endpoint is the API base URL, e.g. "http://vllm:8000/v1".
	Endpoint string
	Model    string
	APIKey   string // sent as a Bearer token when set
	// Timeout bounds each call, on top of the caller's context [5s].
	Timeout time.Duration
	Policy  Policy
	// CacheSize bounds the verdict cache in entries [4096]; negative
	// disables caching.
	CacheSize int
	CacheTTL  time.Duration // [10m]
	// Client is the HTTP client [a new http.Client].
	Client *http.Client
	// Now is the clock for cache expiry [time.Now].
	Now func() time.Time
}

const (
	defaultTimeout   = 5 * time.Second
	defaultCacheSize = 4096
	defaultCacheTTL  = 10 * time.Minute
	maxReplyBytes    = 1 << 20
	maxErrorBody     = 256
)

// client is the machinery both guard clients share.
type client struct {
	endpoint, model, apiKey string
	timeout                 time.Duration
	policy                  Policy
	http                    *http.Client
	cache                   *cache
}

func newClient(o Options) (*client, error) {
	if o.Endpoint == "" || o.Model == "" {
		return nil, errors.New("guard: endpoint and model are required")
	}
	if o.Policy > FailClosed {
		return nil, fmt.Errorf("guard: unknown failure policy %d", o.Policy)
	}
	c := &client{
		endpoint: strings.TrimRight(o.Endpoint, "/"),
		model:    o.Model,
		apiKey:   o.APIKey,
		timeout:  o.Timeout,
		policy:   o.Policy,
		http:     o.Client,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if o.CacheSize >= 0 {
		size, ttl, now := o.CacheSize, o.CacheTTL, o.Now
		if size == 0 {
			size = defaultCacheSize
		}
		if ttl <= 0 {
			ttl = defaultCacheTTL
		}
		if now == nil {
			now = time.Now
		}
		c.cache = newCache(size, ttl, now)
	}
	return c, nil
}

// check serves key from the cache or calls ask, then applies the policy.
func (c *client) check(ctx context.Context, key string, ask func(context.Context) (Verdict, error)) (Verdict, error) {
	k := cacheKey(c.model, key)
	if c.cache != nil {
		if v, ok := c.cache.get(k); ok {
			v.Cached = true
			return v, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := ask(ctx)
	if err != nil {
		switch c.policy {
		case FailOpen:
			return Verdict{Degraded: err}, nil
		case FailClosed:
			return Verdict{Flagged: true, Degraded: err}, nil
		}
		return Verdict{}, err
	}
	if c.cache != nil {
		c.cache.put(k, v)
	}
	return v, nil
}

// postJSON posts body to path and decodes a 2xx JSON reply into out.
func (c *client) postJSON(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Body: string(reply[:min(len(reply), maxErrorBody)])}
	}
	if len(reply) > maxReplyBytes {
		return fmt.Errorf("reply over %d bytes: %w", maxReplyBytes, ErrBadAnswer)
	}
	if err := json.Unmarshal(reply, out); err != nil {
		return fmt.Errorf("%w: %w", err, ErrBadAnswer)
	}
	return nil
}

// appendRisks adds codes not already present.
func appendRisks(dst []risk.Code, codes ...risk.Code) []risk.Code {
	for _, c := range codes {
		dup := false
		for _, d := range dst {
			dup = dup || d == c
		}
		if !dup {
			dst = append(dst, c)
		}
	}
	return dst
}
