package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/upstream"
)

// statusClientClosed is logged (never sent) when the client went away.
const statusClientClosed = 499

// toAPIError maps any error to the OpenAI envelope, once, at the edge.
func toAPIError(err error) *openai.Error {
	if e, ok := openai.AsError(err); ok {
		return e
	}
	var se *upstream.StatusError
	var rf *account.Refusal
	switch {
	case errors.As(err, &rf):
		return refusalError(rf)
	case errors.Is(err, account.ErrInvalid):
		return openai.InvalidRequest("", "invalid_value", err.Error())
	case errors.Is(err, account.ErrUnauthorized):
		return openai.Unauthorized("Incorrect API key provided.")
	case errors.Is(err, account.ErrInvalidName):
		return openai.InvalidRequest("name", "invalid_name", err.Error())
	case errors.Is(err, store.ErrNotFound):
		return openai.NotFound("", "not_found", err.Error())
	case errors.Is(err, store.ErrConflict):
		return &openai.Error{Status: http.StatusConflict, Type: openai.TypeInvalidRequest, Code: "conflict", Message: err.Error()}
	case errors.Is(err, upstream.ErrUnknownModel):
		return openai.NotFound("model", "model_not_found", err.Error())
	case errors.As(err, &se):
		if se.Status < 500 {
			// The upstream refused the request itself: pass its message on.
			var env struct {
				Error *openai.Error `json:"error"`
			}
			if json.Unmarshal(se.Body, &env) == nil && env.Error != nil && env.Error.Message != "" {
				env.Error.Status = se.Status
				if env.Error.Type == "" {
					env.Error.Type = openai.TypeInvalidRequest
				}
				return env.Error
			}
			return &openai.Error{Status: se.Status, Type: openai.TypeInvalidRequest, Code: "upstream_rejected", Message: fmt.Sprintf("the model server rejected the request (%d)", se.Status)}
		}
		return &openai.Error{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "upstream_error", Message: fmt.Sprintf("the model server failed (%d)", se.Status)}
	case errors.Is(err, upstream.ErrUnavailable):
		return &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeUpstream, Code: "upstream_unavailable", Message: "no model server is available for this model; try again later"}
	case errors.Is(err, context.Canceled):
		return &openai.Error{Status: statusClientClosed, Type: openai.TypeInvalidRequest, Code: "client_closed", Message: "client closed the request"}
	case errors.Is(err, context.DeadlineExceeded):
		return &openai.Error{Status: http.StatusGatewayTimeout, Type: openai.TypeUpstream, Code: "timeout", Message: "the model server timed out"}
	}
	return &openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error", Message: "internal error"}
}

// writeErr writes err in the envelope, logging only internal errors.
func writeErr(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) *openai.Error {
	e := toAPIError(err)
	if e.Status >= 500 && e.Type == openai.TypeServer {
		log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "err", err)
	}
	if e.Status == statusClientClosed {
		return e
	}
	openai.WriteError(w, e)
	return e
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		openai.WriteError(w, openai.NotFound("", "unknown_url", fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path)))
	})
}

func handleMethodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		openai.WriteError(w, &openai.Error{Status: http.StatusMethodNotAllowed, Type: openai.TypeInvalidRequest, Code: "method_not_allowed",
			Message: fmt.Sprintf("Method %s is not allowed on %s.", r.Method, r.URL.Path)})
	})
}

// refusalError maps an admission refusal: 429 is a rate limit, anything
// else a permission error; the wait goes out as Retry-After.
func refusalError(rf *account.Refusal) *openai.Error {
	e := &openai.Error{Status: rf.Status, Type: openai.TypePermission, Code: rf.Code, Message: rf.Message, Link: rf.Link}
	if rf.Status == http.StatusTooManyRequests {
		e.Type = openai.TypeRateLimit
	}
	if rf.RetryAfter > 0 {
		e.RetryAfter = int((rf.RetryAfter + time.Second - 1) / time.Second)
	}
	return e
}
