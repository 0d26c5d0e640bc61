package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/openai"
)

// readBody reads the (already size-limited) body and rejects empty bodies,
// oversize bodies and invalid UTF-8 with a 4xx.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(mbe.Limit)
	}
	if err != nil {
		return nil, openai.InvalidRequest("", "read_error", "could not read the request body")
	}
	if len(b) == 0 {
		return nil, openai.InvalidRequest("", "empty_body", "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(b) {
		return nil, openai.InvalidRequest("", "invalid_utf8", "the request body is not valid UTF-8")
	}
	return b, nil
}

// decodeJSON unmarshals b into v and explains syntax and type errors.
func decodeJSON(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return openai.InvalidRequest("", "invalid_json", fmt.Sprintf("We could not parse the JSON body of your request: %s (at byte %d).", se.Error(), se.Offset))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		want := "a different type"
		if te.Type != nil {
			want = jsonTypeName(te.Type.String())
		}
		return openai.InvalidRequest(field, "invalid_type", fmt.Sprintf("Invalid type for '%s': expected %s, got %s.", field, want, te.Value))
	}
	return openai.InvalidRequest("", "invalid_json", "We could not parse the JSON body of your request: "+err.Error())
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "*int"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "an object"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
