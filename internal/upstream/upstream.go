// Package upstream sends requests to model servers: the provider registry, an
// OpenAI-compatible client (vLLM, Ollama, DeepSeek, DashScope compatible mode,
// OpenAI), the built-in demo model, routing with failover, and a circuit
// breaker per upstream.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Request is one call to a model server. Body is the client's JSON with the
// model name already rewritten for this upstream.
type Request struct {
	// Path is relative to the upstream's base URL: "chat/completions" or
	// "completions".
	Path   string
	Body   []byte
	Stream bool
}

// Upstream is one model server. Do returns the server's response as is; the
// caller owns and must close the body. A returned error means no response
// (connect failure, timeout before headers).
type Upstream interface {
	Name() string
	Do(ctx context.Context, req Request) (*http.Response, error)
}

// Errors the router returns when no upstream produced a response.
var (
	ErrUnknownModel = errors.New("unknown model")
	ErrUnavailable  = errors.New("no upstream available")
)

// StatusError is an upstream's non-2xx answer that ended routing.
type StatusError struct {
	Upstream string
	Status   int
	Body     []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream %s answered %d", e.Upstream, e.Status)
}
