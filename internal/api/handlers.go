package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/risk"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/upstream"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func handleReadyz(ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func handleModels(rt *upstream.Router, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list := openai.ModelList{Object: "list", Data: []openai.Model{}}
		for _, m := range rt.Models() {
			list.Data = append(list.Data, openai.Model{ID: m, Object: "model", OwnedBy: "genguard"})
		}
		writeJSON(w, http.StatusOK, list)
	})
}

// openaiCategories are OpenAI's moderation categories; each of our risks
// maps onto the ones closest to it, and our own codes ride along.
var openaiCategories = []string{"sexual", "sexual/minors", "harassment", "harassment/threatening", "hate", "hate/threatening",
	"illicit", "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "violence", "violence/graphic"}

func categoriesFor(c risk.Code) []string {
	switch {
	case c == "A.1.d":
		return []string{"violence", "illicit/violent"}
	case c == "A.1.f":
		return []string{"sexual", "violence"}
	case c == "A.1.e" || c.Group() == "A.2":
		return []string{"hate"}
	case c == "A.4.a":
		return []string{"self-harm"}
	case c == "A.4.c" || c == "A.4.d":
		return []string{"harassment"}
	case c.Group() == "A.1" || c.Group() == "A.3":
		return []string{"illicit"}
	}
	return nil
}

// maxModerationInputs bounds an array input.
const maxModerationInputs = 128

func handleModerations(logger *slog.Logger, p *moderation.Pipeline) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(err error) { writeErr(w, r, logger, err) }
		body, err := readBody(r)
		if err != nil {
			fail(err)
			return
		}
		var req openai.ModerationRequest
		if err := decodeJSON(body, &req); err != nil {
			fail(err)
			return
		}
		var inputs []string
		var one string
		if json.Unmarshal(req.Input, &one) == nil {
			inputs = []string{one}
		} else if err := json.Unmarshal(req.Input, &inputs); err != nil || len(inputs) == 0 {
			fail(openai.InvalidRequest("input", "invalid_input", "'input' must be a string or a non-empty array of strings"))
			return
		}
		if len(inputs) > maxModerationInputs {
			fail(openai.InvalidRequest("input", "too_many_inputs", "at most 128 inputs per request"))
			return
		}
		model := req.Model
		if model == "" {
			model = "genguard-moderation"
		}
		// The caller's policy: a minor's moderation result is the one
		// their own requests would get.
		pol := p.Policy(r.Pattern, principalFrom(r.Context()).PolicyGroup)
		resp := openai.ModerationResponse{ID: "modr-" + requestIDFrom(r.Context()), Model: model}
		for _, in := range inputs {
			v := pol.Check(r.Context(), moderation.Input, in)
			res := openai.ModerationResult{Categories: map[string]bool{}, CategoryScores: map[string]float64{},
				Genguard: openai.ModerationGenguard{Decision: v.Decision.String(), Risks: nonNil(v.Risks()), Hits: []openai.ModerationHit{}}}
			for _, c := range openaiCategories {
				res.Categories[c] = false
				res.CategoryScores[c] = 0
			}
			for _, h := range v.Hits {
				res.Genguard.Hits = append(res.Genguard.Hits, openai.ModerationHit{Risk: string(h.Risk), Action: h.Action.String(),
					Start: h.Start, End: h.End, Text: in[h.Start:h.End], Source: h.Source})
				if h.Action < moderation.Review {
					continue
				}
				for _, c := range categoriesFor(h.Risk) {
					res.Categories[c] = true
					res.CategoryScores[c] = 1
				}
			}
			res.Flagged = v.Decision >= moderation.Review
			resp.Results = append(resp.Results, res)
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// ---- admin ----

type userJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type keyJSON struct {
	ID        string     `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func userOut(u store.User) userJSON { return userJSON{u.ID, u.Name, u.CreatedAt} }

func keyOut(k store.APIKey) keyJSON {
	out := keyJSON{ID: k.ID, CreatedAt: k.CreatedAt}
	if k.Revoked() {
		t := k.RevokedAt
		out.RevokedAt = &t
	}
	return out
}

func handleCreateUser(log *slog.Logger, acc *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		var req struct {
			Name string `json:"name"`
		}
		if err := decodeJSON(body, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		u, secret, err := acc.CreateUser(r.Context(), req.Name)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"user": userOut(u), "api_key": secret})
	})
}

func handleListUsers(log *slog.Logger, acc *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		us, err := acc.Users(r.Context())
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		out := make([]userJSON, 0, len(us))
		for _, u := range us {
			out = append(out, userOut(u))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
	})
}

func handleGetUser(log *slog.Logger, acc *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := acc.User(r.Context(), r.PathValue("id"))
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		ks, err := acc.Keys(r.Context(), u.ID)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		keys := make([]keyJSON, 0, len(ks))
		for _, k := range ks {
			keys = append(keys, keyOut(k))
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": userOut(u), "keys": keys})
	})
}

func handleIssueKey(log *slog.Logger, acc *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, secret, err := acc.IssueKey(r.Context(), r.PathValue("id"))
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"key": keyOut(k), "api_key": secret})
	})
}

func handleRevokeKey(log *slog.Logger, acc *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := acc.Revoke(r.Context(), id); err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "revoked": true})
	})
}
