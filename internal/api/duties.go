package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/store"
)

// Handlers for the duties towards users (issue 5): the user's side of the
// service agreement, and the admin API for agreements, age bands, guardian
// settings, quotas and the enforcement ladder. Every write validates first,
// so bad input changes nothing, and is durable before it is answered.

// decodeStrict decodes a JSON object and rejects unknown fields, so a typo
// in an admin request is an error rather than a silent default.
func decodeStrict(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if err := decodeJSON(b, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return openai.InvalidRequest("", "unknown_field", err.Error())
	}
	return nil
}

func adminActor(r *http.Request) string { return "admin:" + principalFrom(r.Context()).KeyID }

type agreementJSON struct {
	Version     string    `json:"version"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	Text        string    `json:"text,omitempty"`
}

type acceptanceJSON struct {
	Version    string    `json:"version"`
	SHA256     string    `json:"sha256"`
	Channel    string    `json:"channel"`
	AcceptedAt time.Time `json:"accepted_at"`
}

func agreementOut(a store.Agreement, text bool) agreementJSON {
	out := agreementJSON{Version: a.Version, SHA256: a.SHA256, PublishedAt: a.PublishedAt}
	if text {
		out.Text = a.Body
	}
	return out
}

func acceptanceOut(a store.Acceptance) acceptanceJSON {
	return acceptanceJSON{Version: a.Version, SHA256: a.SHA256, Channel: a.Channel, AcceptedAt: a.AcceptedAt}
}

// handleMyAgreement tells a user the current agreement and whether they
// accepted it; it is not gated by admission, so a user can always read it.
func handleMyAgreement(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, acc, ok, err := du.AgreementStatus(r.Context(), principalFrom(r.Context()).UserID)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		if cur.Version == "" {
			writeJSON(w, http.StatusOK, map[string]any{"agreement": nil, "accepted": nil})
			return
		}
		out := map[string]any{"agreement": agreementOut(cur, true), "accepted": nil, "url": "/agreement"}
		if ok {
			out["accepted"] = acceptanceOut(acc)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleAcceptAgreement records the user's acceptance (channel "api"). The
// body may name the version read; it must be the current one.
func handleAcceptAgreement(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Version string `json:"version"`
		}
		if r.ContentLength != 0 {
			if err := decodeStrict(r, &req); err != nil {
				writeErr(w, r, log, err)
				return
			}
		}
		acc, err := du.Accept(r.Context(), principalFrom(r.Context()).UserID, req.Version, account.ChannelAPI)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"accepted": acceptanceOut(acc)})
	})
}

func handlePublishAgreement(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Version string `json:"version"`
			Text    string `json:"text"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		a, err := du.Publish(r.Context(), req.Version, req.Text, adminActor(r))
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"agreement": agreementOut(a, false)})
	})
}

func handleListAgreements(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as, err := du.Agreements(r.Context())
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		out := make([]agreementJSON, 0, len(as))
		for _, a := range as {
			out = append(out, agreementOut(a, false))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
	})
}

type sanctionJSON struct {
	ID       int64      `json:"id"`
	UserID   string     `json:"user_id"`
	Time     time.Time  `json:"time"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	Until    *time.Time `json:"until"`
	Actor    string     `json:"actor"`
	Reason   string     `json:"reason"`
	Points   int        `json:"points"`
	Evidence []string   `json:"evidence"`
}

func sanctionOut(s store.Sanction) sanctionJSON {
	out := sanctionJSON{ID: s.ID, UserID: s.UserID, Time: s.Time, From: s.From, To: s.To, Actor: s.Actor, Reason: s.Reason, Points: s.Points, Evidence: s.Evidence}
	if !s.Until.IsZero() {
		t := s.Until
		out.Until = &t
	}
	if out.Evidence == nil {
		out.Evidence = []string{}
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// handleUserDuties shows everything the duties keep about a user.
func handleUserDuties(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := userDuties(r, du, r.PathValue("id"))
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func userDuties(r *http.Request, du *account.Duties, id string) (map[string]any, error) {
	ctx := r.Context()
	p, err := du.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := du.Standing(ctx, id)
	if err != nil {
		return nil, err
	}
	pts, err := du.Points(ctx, id)
	if err != nil {
		return nil, err
	}
	us, err := du.Usage(ctx, id)
	if err != nil {
		return nil, err
	}
	q, tokens, err := du.Quota(ctx, store.QuotaUser, id)
	if err != nil {
		return nil, err
	}
	cur, acc, accepted, err := du.AgreementStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	ag := map[string]any{"current": nil, "accepted": nil}
	if cur.Version != "" {
		ag["current"] = cur.Version
		if accepted {
			ag["accepted"] = acceptanceOut(acc)
		}
	}
	return map[string]any{
		"user_id": id,
		"profile": map[string]any{"age_band": p.AgeBand, "age_confirmed_at": optTime(p.AgeConfirmedAt), "training_opt_out": p.TrainingOptOut,
			"guardian": map[string]any{"daily_limit": p.GuardianDailyLimit.String(), "allowed_hours": p.GuardianHours}},
		"minors": map[string]any{"band_applied": us.Band, "minor": us.Minor, "used_today": us.UsedToday.String(), "daily_limit": us.DailyLimit.String(),
			"continuous": us.Continuous.String(), "allowed_now": us.AllowedNow, "resumes_at": optTime(us.ResumesAt)},
		"standing":  map[string]any{"status": st.Status, "until": optTime(st.Until), "reason": st.Reason, "points": pts},
		"quota":     map[string]any{"requests_per_minute": q.RequestsPerMinute, "tokens_per_day": q.TokensPerDay, "tokens_today": tokens},
		"agreement": ag,
	}, nil
}

func handleSetAgeBand(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AgeBand string `json:"age_band"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		p, err := du.SetAgeBand(r.Context(), r.PathValue("id"), req.AgeBand, account.ChannelAdmin)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": p.UserID, "age_band": p.AgeBand})
	})
}

func handleSetGuardian(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			DailyLimit   string `json:"daily_limit"`
			AllowedHours string `json:"allowed_hours"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		var g account.Guardian
		if req.DailyLimit != "" {
			d, err := time.ParseDuration(req.DailyLimit)
			if err != nil {
				writeErr(w, r, log, openai.InvalidRequest("daily_limit", "invalid_duration", "daily_limit must be a duration such as 45m"))
				return
			}
			g.DailyLimit = d
		}
		g.Hours = req.AllowedHours
		p, err := du.SetGuardian(r.Context(), r.PathValue("id"), g)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": p.UserID, "daily_limit": p.GuardianDailyLimit.String(), "allowed_hours": p.GuardianHours})
	})
}

// handleSetQuota sets the quota of a user or key (kind), or clears it.
func handleSetQuota(log *slog.Logger, du *account.Duties, kind string, clear bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if clear {
			if err := du.ClearQuota(r.Context(), kind, id); err != nil {
				writeErr(w, r, log, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{kind + "_id": id, "override": false})
			return
		}
		var req struct {
			RPM    *int   `json:"requests_per_minute"`
			Tokens *int64 `json:"tokens_per_day"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		if req.RPM == nil || req.Tokens == nil {
			writeErr(w, r, log, openai.InvalidRequest("", "missing_field", "requests_per_minute and tokens_per_day are both required (0: unlimited)"))
			return
		}
		q := store.Quota{Kind: kind, Subject: id, RequestsPerMinute: *req.RPM, TokensPerDay: *req.Tokens}
		if err := du.SetQuota(r.Context(), q); err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{kind + "_id": id, "requests_per_minute": q.RequestsPerMinute, "tokens_per_day": q.TokensPerDay})
	})
}

func handleSanction(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Action   string   `json:"action"`
			Reason   string   `json:"reason"`
			Until    string   `json:"until"`
			Evidence []string `json:"evidence"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		sr := account.SanctionRequest{UserID: r.PathValue("id"), Action: req.Action, Reason: req.Reason, Actor: adminActor(r), Evidence: req.Evidence}
		if req.Until != "" {
			t, err := time.Parse(time.RFC3339, req.Until)
			if err != nil {
				writeErr(w, r, log, openai.InvalidRequest("until", "invalid_time", "until must be an RFC 3339 time such as 2026-12-01T08:00:00+08:00"))
				return
			}
			sr.Until = t
		}
		sn, err := du.Sanction(r.Context(), sr)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"sanction": sanctionOut(sn)})
	})
}

// handleSanctions exports transitions as JSON: all, or one user's
// (?from=&to= RFC 3339, ?after=ID&limit=N to page).
func handleSanctions(log *slog.Logger, du *account.Duties, perUser bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f store.SanctionFilter
		q := r.URL.Query()
		if perUser {
			f.UserID = r.PathValue("id")
			if _, err := du.Standing(r.Context(), f.UserID); err != nil {
				writeErr(w, r, log, err)
				return
			}
		}
		for _, p := range []struct {
			name string
			t    *time.Time
		}{{"from", &f.From}, {"to", &f.To}} {
			if v := q.Get(p.name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					writeErr(w, r, log, openai.InvalidRequest(p.name, "invalid_time", p.name+" must be an RFC 3339 time"))
					return
				}
				*p.t = t
			}
		}
		for _, p := range []struct {
			name string
			set  func(int64)
		}{{"after", func(v int64) { f.AfterID = v }}, {"limit", func(v int64) { f.Limit = int(v) }}} {
			if v := q.Get(p.name); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 || n > 1<<40 {
					writeErr(w, r, log, openai.InvalidRequest(p.name, "invalid_number", p.name+" must be a non-negative integer"))
					return
				}
				p.set(n)
			}
		}
		ss, err := du.Sanctions(r.Context(), f)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		out := make([]sanctionJSON, 0, len(ss))
		for _, s := range ss {
			out = append(out, sanctionOut(s))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
	})
}

type thresholdsJSON struct {
	WarnAt      int    `json:"warn_at"`
	RestrictAt  int    `json:"restrict_at"`
	SuspendAt   int    `json:"suspend_at"`
	TerminateAt int    `json:"terminate_at"`
	SuspendFor  string `json:"suspend_for"`
}

func thresholdsOut(t account.Thresholds) thresholdsJSON {
	return thresholdsJSON{t.WarnAt, t.RestrictAt, t.SuspendAt, t.TerminateAt, t.SuspendFor.String()}
}

func handleGetThresholds(du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, thresholdsOut(du.Thresholds()))
	})
}

// handleSetThresholds changes the ladder's thresholds; omitted fields keep
// their value.
func handleSetThresholds(log *slog.Logger, du *account.Duties) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			WarnAt      *int    `json:"warn_at"`
			RestrictAt  *int    `json:"restrict_at"`
			SuspendAt   *int    `json:"suspend_at"`
			TerminateAt *int    `json:"terminate_at"`
			SuspendFor  *string `json:"suspend_for"`
		}
		if err := decodeStrict(r, &req); err != nil {
			writeErr(w, r, log, err)
			return
		}
		t := du.Thresholds()
		for _, f := range []struct {
			from *int
			to   *int
		}{{req.WarnAt, &t.WarnAt}, {req.RestrictAt, &t.RestrictAt}, {req.SuspendAt, &t.SuspendAt}, {req.TerminateAt, &t.TerminateAt}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		if req.SuspendFor != nil {
			d, err := time.ParseDuration(strings.TrimSpace(*req.SuspendFor))
			if err != nil {
				writeErr(w, r, log, openai.InvalidRequest("suspend_for", "invalid_duration", "suspend_for must be a duration such as 168h"))
				return
			}
			t.SuspendFor = d
		}
		if err := du.SetThresholds(r.Context(), t, adminActor(r)); err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, thresholdsOut(t))
	})
}
