package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/genguard/genguard/internal/risk"
)

func openAIClient(t *testing.T, h http.Handler, o Options, threshold float64) *OpenAI {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o.Endpoint, o.Model, o.APIKey = srv.URL+"/v1", "omni-moderation-latest", "k"
	c, err := NewOpenAI(o, threshold)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// moderationServer answers /v1/moderations with result after checking the request.
func moderationServer(t *testing.T, result string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req moderationRequest
		if r.URL.Path != "/v1/moderations" || json.NewDecoder(r.Body).Decode(&req) != nil ||
			req.Model != "omni-moderation-latest" || req.Input == "" {
			t.Errorf("unexpected request %s %+v", r.URL.Path, req)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"modr-1","model":"omni-moderation-latest","results":[` + result + `]}`))
	}
}

func TestOpenAICheck(t *testing.T) {
	tests := []struct {
		name      string
		result    string
		threshold float64
		want      Verdict
	}{
		{
			name:   "flagged categories",
			result: `{"flagged":true,"categories":{"violence":true,"hate":true,"sexual":false},"category_scores":{"violence":0.9,"hate":0.7,"sexual":0.01}}`,
			want: Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"hate", "violence"},
				Risks: []risk.Code{"A.2.i", "A.1.f"}, Scores: map[string]float64{"violence": 0.9, "hate": 0.7, "sexual": 0.01}},
		},
		{
			name:   "clean",
			result: `{"flagged":false,"categories":{"violence":false},"category_scores":{"violence":0.001}}`,
			want:   Verdict{Severity: "safe", Scores: map[string]float64{"violence": 0.001}},
		},
		{
			name:      "stricter score threshold",
			result:    `{"flagged":false,"categories":{"illicit":false,"self-harm":false},"category_scores":{"illicit":0.4,"self-harm":0.1}}`,
			threshold: 0.3,
			want: Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"illicit"},
				Risks: []risk.Code{"A.1.h"}, Scores: map[string]float64{"illicit": 0.4, "self-harm": 0.1}},
		},
		{
			name:   "flagged without known categories",
			result: `{"flagged":true,"categories":{"new-thing":true}}`,
			want:   Verdict{Flagged: true, Severity: "unsafe", Categories: []string{"new-thing"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openAIClient(t, moderationServer(t, tt.result), Options{}, tt.threshold)
			got, err := c.Check(t.Context(), "some text")
			if err != nil {
				t.Fatalf("Check() error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOpenAICacheHit(t *testing.T) {
	calls := 0
	h := moderationServer(t, `{"flagged":false,"categories":{},"category_scores":{}}`)
	c := openAIClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++; h(w, r) }), Options{}, 0)
	for range 3 {
		if _, err := c.Check(t.Context(), "same"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("server calls = %d, want 1", calls)
	}
}
