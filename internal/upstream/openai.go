package upstream

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// OpenAI is an OpenAI-compatible HTTP upstream.
type OpenAI struct {
	name    string
	baseURL string
	apiKey  string
	headers map[string]string
	client  *http.Client
}

// OpenAIOptions configure an OpenAI upstream.
type OpenAIOptions struct {
	Name    string
	BaseURL string // e.g. http://127.0.0.1:8000/v1
	APIKey  string
	Headers map[string]string
	// ConnectTimeout bounds dialing; HeaderTimeout bounds the wait for the
	// response headers (the first byte of a stream).
	ConnectTimeout time.Duration
	HeaderTimeout  time.Duration
}

// NewOpenAI returns an upstream with its own connection pool.
func NewOpenAI(o OpenAIOptions) *OpenAI {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		// Streams must pass through as they come; compression would make the
		// transport buffer.
		DisableCompression: true,
	}
	return &OpenAI{
		name:    o.Name,
		baseURL: strings.TrimRight(o.BaseURL, "/"),
		apiKey:  o.APIKey,
		headers: o.Headers,
		client:  &http.Client{Transport: tr},
	}
}

// Name returns the configured name.
func (u *OpenAI) Name() string { return u.name }

// Do posts the request. Cancelling ctx (a client disconnect) cancels it.
func (u *OpenAI) Do(ctx context.Context, req Request) (*http.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.baseURL+"/"+req.Path, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if req.Stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	if u.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+u.apiKey)
	}
	for k, v := range u.headers {
		hr.Header.Set(k, v)
	}
	resp, err := u.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.name, err)
	}
	return resp, nil
}

// CloseIdle releases pooled connections.
func (u *OpenAI) CloseIdle() { u.client.CloseIdleConnections() }
