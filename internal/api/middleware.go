package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/metrics"
	"github.com/genguard/genguard/internal/openai"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
)

func principalFrom(ctx context.Context) account.Principal {
	p, _ := ctx.Value(principalKey).(account.Principal)
	return p
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "req_" + hex.EncodeToString(b)
}

// authenticate checks the bearer key; admin routes need an admin key, and
// /v1 routes a user key (an admin key is not a user).
func authenticate(acc *account.Service, admin bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			openai.WriteError(w, openai.Unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer KEY'."))
			return
		}
		p, err := acc.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, account.ErrUnauthorized) {
				openai.WriteError(w, openai.Unauthorized("Incorrect API key provided, or the key was revoked."))
				return
			}
			openai.WriteError(w, &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "auth_unavailable", Message: "cannot verify the API key right now"})
			return
		}
		if admin && !p.Admin() {
			openai.WriteError(w, &openai.Error{Status: http.StatusForbidden, Type: openai.TypePermission, Code: "admin_required", Message: "this endpoint needs an admin key"})
			return
		}
		if !admin && p.Admin() {
			openai.WriteError(w, &openai.Error{Status: http.StatusForbidden, Type: openai.TypePermission, Code: "user_key_required", Message: "admin keys cannot call the model API; create a user with genguard users add"})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// limitBody caps the request body; reading past the cap fails with
// *http.MaxBytesError, which readBody turns into a 413.
func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			openai.WriteError(w, tooLarge(n))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

func tooLarge(n int64) *openai.Error {
	return &openai.Error{Status: http.StatusRequestEntityTooLarge, Type: openai.TypeInvalidRequest, Code: "request_too_large",
		Message: "request body is larger than " + strconv.FormatInt(n, 10) + " bytes"}
}

// statusWriter records the status for metrics and logs, and passes Flush
// through (via Unwrap, for http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument assigns a request id and records metrics and an access log line.
func instrument(m *metrics.Metrics, log *slog.Logger, next *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		m.InFlight.Inc()
		r2 := r.WithContext(ctx)
		next.ServeHTTP(sw, r2)
		m.InFlight.Dec()
		route := r2.Pattern // set by the mux on the request it served
		if route == "" {
			route = "unmatched"
		}
		status := sw.status
		if !sw.wrote {
			status = statusClientClosed
		}
		dur := time.Since(start)
		m.Requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.Latency.WithLabelValues(route).Observe(dur.Seconds())
		if r.URL.Path != "/metrics" && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Duration("duration", dur))
		}
	})
}

// recoverer turns a handler panic into a 500 in the envelope (if nothing was
// written yet) and a log line, instead of a dropped connection.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", v)
				openai.WriteError(w, &openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error", Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
