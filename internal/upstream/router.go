package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/genguard/genguard/internal/metrics"
)

// Target is one upstream for a model, with the name it knows the model by.
type Target struct {
	Upstream Upstream
	Model    string
}

// Router maps public model names to upstreams and fails over between them.
type Router struct {
	models   map[string][]Target
	breakers map[string]*Breaker
	m        *metrics.Metrics
	now      func() time.Time
}

// NewRouter builds a router; breakers holds one breaker per upstream name.
func NewRouter(models map[string][]Target, breakers map[string]*Breaker, m *metrics.Metrics) *Router {
	return &Router{models: models, breakers: breakers, m: m, now: time.Now}
}

// Models lists the public model names, sorted.
func (r *Router) Models() []string {
	names := make([]string, 0, len(r.models))
	for n := range r.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether model is routed.
func (r *Router) Has(model string) bool { _, ok := r.models[model]; return ok }

// Result is a routed response.
type Result struct {
	Resp     *http.Response
	Upstream string
	Breaker  *Breaker
}

// maxErrorBody bounds how much of a failed upstream answer we keep.
const maxErrorBody = 64 << 10

// Send tries the model's upstreams in order. build returns the request for a
// target (the body carries the target's model name). Connect errors, timeouts
// before headers and 5xx answers move on to the next upstream; a 4xx is the
// client's problem and is returned as a StatusError without failover. On
// success the caller must call Finish on the result once the body is read.
func (r *Router) Send(ctx context.Context, model string, build func(Target) Request) (Result, error) {
	targets, ok := r.models[model]
	if !ok {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownModel, model)
	}
	var last error = ErrUnavailable
	for _, t := range targets {
		name := t.Upstream.Name()
		br := r.breakers[name]
		if br != nil && !br.Allow() {
			r.count(name, "breaker_open")
			last = fmt.Errorf("%w: breaker for %s is open", ErrUnavailable, name)
			continue
		}
		start := r.now()
		resp, err := t.Upstream.Do(ctx, build(t))
		if err != nil {
			if ctx.Err() != nil {
				// The client left; that says nothing about the upstream.
				if br != nil {
					br.Release()
				}
				return Result{}, ctx.Err()
			}
			r.count(name, "connect")
			if br != nil {
				br.Failure()
			}
			last = fmt.Errorf("%w: %w", ErrUnavailable, err)
			continue
		}
		if r.m != nil {
			r.m.UpstreamTTFB.WithLabelValues(name).Observe(r.now().Sub(start).Seconds())
		}
		if resp.StatusCode >= 500 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			r.count(name, "status_5xx")
			if br != nil {
				br.Failure()
			}
			last = &StatusError{Upstream: name, Status: resp.StatusCode, Body: body}
			continue
		}
		if resp.StatusCode >= 300 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			if br != nil {
				br.Success() // the server is healthy; the request was not
			}
			return Result{}, &StatusError{Upstream: name, Status: resp.StatusCode, Body: body}
		}
		return Result{Resp: resp, Upstream: name, Breaker: br}, nil
	}
	return Result{}, last
}

// Finish records the outcome of reading a routed response: err is nil for a
// complete body, the read error otherwise.
func (r *Router) Finish(ctx context.Context, res Result, err error) {
	if res.Breaker == nil {
		return
	}
	switch {
	case err == nil || errors.Is(err, io.EOF):
		res.Breaker.Success()
	case ctx.Err() != nil:
		res.Breaker.Release()
	default:
		r.count(res.Upstream, "stream")
		res.Breaker.Failure()
	}
}

func (r *Router) count(upstream, kind string) {
	if r.m != nil {
		r.m.UpstreamErrors.WithLabelValues(upstream, kind).Inc()
	}
}
