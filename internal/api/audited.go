package api

import (
	"context"
	"net/http"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/store"
)

// Admission decides whether an authenticated user may use a route now: the
// service agreement is accepted, the user is not suspended, a minor is within
// allowed hours and time, quotas are not exhausted. A refusal is an error,
// an *openai.Error for a specific status (403, 429 with Retry-After).
type Admission interface {
	Admit(ctx context.Context, p account.Principal, route string) error
}

// Observer is told about every audited request once it is complete, e.g. to
// count decisions against a user (enforcement) or open an incident.
type Observer interface {
	Observe(ctx context.Context, p account.Principal, rec store.AuditRecord, hits []moderation.Hit)
}

// Notifier is an optional extension of an Admission: something to tell an
// admitted user with the response (a minor's break reminder, a warning). It
// goes out as the Genguard-Notice header (a code) and, on JSON generation
// responses, as genguard.notice (the text).
type Notifier interface {
	Notice(ctx context.Context, p account.Principal) (account.Notice, bool)
}

type noticeKey struct{}

func noticeFrom(ctx context.Context) string {
	n, _ := ctx.Value(noticeKey{}).(string)
	return n
}

// admit runs the admission check for user routes.
func admit(a Admission, next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Admit(r.Context(), principalFrom(r.Context()), r.Pattern); err != nil {
			e := toAPIError(err)
			if e.Status >= 500 {
				e = &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "admission_unavailable", Message: "cannot check your account right now; try again"}
			}
			openai.WriteError(w, e)
			return
		}
		if n, ok := a.(Notifier); ok {
			if nt, ok := n.Notice(r.Context(), principalFrom(r.Context())); ok {
				w.Header().Set("Genguard-Notice", nt.Code)
				r = r.WithContext(context.WithValue(r.Context(), noticeKey{}, nt.Message))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// handleAudited wraps a handler that fills an outcome: it writes the audit
// record (unless strict mode already committed it), counts the decision, and
// tells the observers.
func handleAudited(d Deps, serve func(w http.ResponseWriter, r *http.Request, o *outcome) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := d.Now()
		ctx := r.Context()
		p := principalFrom(ctx)
		o := &outcome{rec: store.AuditRecord{
			ID: requestIDFrom(ctx), Time: start.UTC(), UserPseudonym: d.Accounts.Pseudonym(p.UserID), KeyID: p.KeyID,
			Endpoint: r.URL.Path,
		}, policy: d.Moderation.Policy(r.Pattern, p.PolicyGroup), notice: noticeFrom(ctx)}
		status := serve(w, r, o)
		o.rec.Status = status
		o.rec.Decision = o.decision.String()
		o.rec.Stage = string(o.stage)
		o.rec.Risks = o.risks
		o.rec.LatencyMicros = d.Now().Sub(start).Microseconds()
		d.Metrics.Decisions.WithLabelValues(string(o.stage), o.rec.Decision).Inc()
		// The record outlives a client disconnect.
		bg := context.WithoutCancel(ctx)
		if !o.committed {
			if err := d.Audit.Record(bg, o.rec); err != nil {
				d.Logger.ErrorContext(ctx, "audit record not queued", "id", o.rec.ID, "err", err)
			}
		}
		if o.explicitOff && status == http.StatusOK {
			recordExplicitOmission(bg, d, o)
		}
		for _, ob := range d.Observers {
			ob.Observe(bg, p, o.rec, o.hits)
		}
	})
}
