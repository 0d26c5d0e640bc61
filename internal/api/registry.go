package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/report"
	"github.com/genguard/genguard/internal/store"
)

// Registry is the store side of the training-data, annotation-rule and
// model-card registries (Measures Art. 7, 8, 17, 19).
type Registry interface {
	PutTrainingSource(ctx context.Context, t store.TrainingSource) (store.TrainingSource, error)
	TrainingSources(ctx context.Context) ([]store.TrainingSource, error)
	AddAnnotationRule(ctx context.Context, r store.AnnotationRule) (store.AnnotationRule, error)
	AnnotationRules(ctx context.Context) ([]store.AnnotationRule, error)
	PutModelCard(ctx context.Context, m store.ModelCard) (store.ModelCard, error)
	ModelCards(ctx context.Context) ([]store.ModelCard, error)
}

// Events appends operator actions to the audit chain, durably.
type Events interface {
	Event(ctx context.Context, e audit.Event) error
}

func registryErr(err error) error {
	if errors.Is(err, report.ErrInvalid) {
		return openai.InvalidRequest("", "invalid_value", err.Error())
	}
	return err
}

// handleRegistryPut validates and stores one entry, then records the
// change in the chain. Invalid input is a 400 that changes nothing.
func handleRegistryPut[T any](log *slog.Logger, ev Events, kind string, check func(T) error, put func(context.Context, T) (T, error), setID func(*T, string), details func(T) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v T
		if err := decodeStrict(r, &v); err != nil {
			writeErr(w, r, log, err)
			return
		}
		setID(&v, r.PathValue("id"))
		if err := check(v); err != nil {
			writeErr(w, r, log, registryErr(err))
			return
		}
		saved, err := put(r.Context(), v)
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		if ev != nil {
			if err := ev.Event(r.Context(), audit.Event{Kind: kind, Actor: adminActor(r),
				Subject: r.PathValue("id"), Details: details(saved)}); err != nil {
				writeErr(w, r, log, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, saved)
	})
}

func handleRegistryList[T any](log *slog.Logger, list func(context.Context) ([]T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vs, err := list(r.Context())
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": vs})
	})
}

func addRegistryRoutes(mux *http.ServeMux, d Deps, admin, body func(http.Handler) http.Handler) {
	reg, log := d.Registry, d.Logger
	mux.Handle("PUT /admin/registry/training-sources/{id}", admin(body(handleRegistryPut(log, d.Events, "registry.training_source",
		report.CheckTrainingSource, reg.PutTrainingSource, func(t *store.TrainingSource, id string) { t.ID = id },
		func(t store.TrainingSource) any { return t }))))
	mux.Handle("GET /admin/registry/training-sources", admin(handleRegistryList(log, reg.TrainingSources)))
	mux.Handle("POST /admin/registry/annotation-rules/{id}", admin(body(handleRegistryPut(log, d.Events, "registry.annotation_rule",
		report.CheckAnnotationRule, reg.AddAnnotationRule, func(a *store.AnnotationRule, id string) { a.ID, a.Version = id, 0 },
		func(a store.AnnotationRule) any {
			// The document itself can exceed an event's details; its hash pins it.
			sum := sha256.Sum256([]byte(a.Body))
			return map[string]any{"id": a.ID, "version": a.Version, "kind": a.Kind, "title": a.Title, "risks": a.Risks, "body_sha256": hex.EncodeToString(sum[:])}
		}))))
	mux.Handle("GET /admin/registry/annotation-rules", admin(handleRegistryList(log, reg.AnnotationRules)))
	mux.Handle("PUT /admin/registry/model-cards/{id}", admin(body(handleRegistryPut(log, d.Events, "registry.model_card",
		report.CheckModelCard, reg.PutModelCard, func(m *store.ModelCard, id string) { m.ID = id },
		func(m store.ModelCard) any { return m }))))
	mux.Handle("GET /admin/registry/model-cards", admin(handleRegistryList(log, reg.ModelCards)))
}

// ReportSource is what the incident report endpoints read.
type ReportSource = report.Source

// handleIncidentReport serves a period's incidents: ?from=&to= (RFC 3339
// or YYYY-MM-DD; default the last 30 days), ?format=html|json|dataset.
func handleIncidentReport(log *slog.Logger, src ReportSource, m report.Meta, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		to, err := parseReportTime(q.Get("to"), now().UTC())
		if err != nil {
			writeErr(w, r, log, openai.InvalidRequest("to", "invalid_value", err.Error()))
			return
		}
		from, err := parseReportTime(q.Get("from"), to.Add(-30*24*time.Hour))
		if err != nil || !from.Before(to) {
			writeErr(w, r, log, openai.InvalidRequest("from", "invalid_value", "from must be a time before to"))
			return
		}
		m.From, m.To, m.Generated = from, to, now().UTC()
		// Streamed: an error after the first byte can only cut the body.
		switch q.Get("format") {
		case "", "json":
			w.Header().Set("Content-Type", "application/json")
			err = report.IncidentsJSON(r.Context(), w, src, m)
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			err = report.IncidentsHTML(r.Context(), w, src, m)
		case "dataset":
			w.Header().Set("Content-Type", "application/x-ndjson")
			err = report.RemediationDataset(r.Context(), w, src, from, to)
		default:
			writeErr(w, r, log, openai.InvalidRequest("format", "invalid_value", "format is json, html or dataset"))
			return
		}
		if err != nil {
			log.ErrorContext(r.Context(), "incident report cut short", "err", err)
		}
	})
}

func handleIncident(log *slog.Logger, src ReportSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := report.IncidentJSON(r.Context(), &b, src, r.PathValue("id")); err != nil {
			writeErr(w, r, log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.Bytes())
	})
}

func parseReportTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, errors.New("not RFC 3339 or YYYY-MM-DD")
	}
	return t, nil
}

// auditAdmin records every successful state-changing admin request in the
// chain (who, which route, which object) before the handler's buffered
// response leaves: small admin responses are sent when the handler returns.
func auditAdmin(ev Events, log *slog.Logger, pseudonym func(string) string, next http.Handler) http.Handler {
	if ev == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status >= 400 {
			return
		}
		// A user id would outlive the user's erasure in the append-only
		// log; record the pseudonym, as request records do.
		subject := r.PathValue("id")
		if strings.HasPrefix(subject, "u_") && pseudonym != nil {
			subject = pseudonym(subject)
		}
		e := audit.Event{Kind: "admin.request", Actor: adminActor(r), Subject: subject,
			Details: map[string]any{"method": r.Method, "route": r.Pattern, "status": sw.status}, Evidence: nonEmptyList(requestIDFrom(r.Context()))}
		if err := ev.Event(context.WithoutCancel(r.Context()), e); err != nil {
			log.ErrorContext(r.Context(), "admin action not audited", "route", r.Pattern, "err", err)
		}
	})
}

func nonEmptyList(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
