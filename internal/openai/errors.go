// Package openai holds the OpenAI wire types the gateway speaks, SSE framing,
// and the OpenAI error envelope. It has no behaviour beyond (de)serialisation.
package openai

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is the body of an OpenAI error response:
// {"error":{"message":…,"type":…,"param":…,"code":…}}.
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param,omitempty"`
	Code    string `json:"code,omitempty"`
	// Link points the client to something it must read, e.g. a service agreement.
	Link string `json:"link,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when > 0.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Error types used by OpenAI.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeServer         = "server_error"
	TypeUpstream       = "upstream_error"
)

// Errorf-style constructors for the common cases.

func InvalidRequest(param, code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param, Code: code, Message: msg}
}

func Unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: TypeAuthentication, Code: "invalid_api_key", Message: msg}
}

func NotFound(param, code, msg string) *Error {
	return &Error{Status: http.StatusNotFound, Type: TypeInvalidRequest, Param: param, Code: code, Message: msg}
}

// AsError returns err as an *Error when it is one somewhere in its chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// WriteError writes the envelope with its status.
func WriteError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", itoa(e.RetryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error *Error `json:"error"`
	}{e})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
