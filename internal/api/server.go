// Package api is genguard's HTTP surface: the OpenAI-compatible /v1 API, the
// admin JSON API, and health and metrics endpoints. routes.go lists every
// route; handlers are maker functions that take only what they use.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/metrics"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/upstream"
	"github.com/genguard/genguard/internal/web"
)

// Auditor takes audit records.
type Auditor interface {
	Record(ctx context.Context, rec store.AuditRecord) error
	RecordSync(ctx context.Context, rec store.AuditRecord) error
}

// Deps is everything the server needs, passed in by the app.
type Deps struct {
	Logger     *slog.Logger
	Accounts   *account.Service
	Router     *upstream.Router
	Moderation *moderation.Pipeline
	Audit      Auditor
	Metrics    *metrics.Metrics
	// Admission gates every user route after authentication (nil: admit all).
	Admission Admission
	// Observers see every audited request when it completes.
	Observers []Observer
	// Duties serves the agreement and the admin API of issue 5 (nil: none).
	Duties *account.Duties
	// Pages are the public pages: disclosure, agreement, settings (nil: none).
	Pages *web.UserPages
	// Complaints, ComplaintPages and Privacy serve issue 6 (nil: none);
	// TextSink receives prompt and answer text when privacy.store_text is on.
	Complaints     ComplaintService
	ComplaintPages *web.ComplaintPages
	Privacy        PrivacyService
	TextSink       TextSink
	// ComplaintLimiter rate-limits complaints per client IP (nil: none).
	ComplaintLimiter *web.IPLimiter
	// Lexicon reloads the keyword library (POST /admin/lexicon/reload;
	// nil: no route).
	Lexicon LexiconReloader
	// Ready reports whether the server can take traffic (store reachable,
	// not draining).
	Ready func(ctx context.Context) error
	Now   func() time.Time

	MaxBodyBytes     int64
	StrictAudit      bool
	RefusalMessage   string
	RetractionNotice string
	// StreamIdleTimeout aborts an upstream stream that sends nothing for
	// this long.
	StreamIdleTimeout time.Duration
	// Labels configures AIGC labels on generated content (media.go).
	Labels LabelOptions
	// Registry, Events and Reports serve issue 7: the registries' admin
	// API, the chain that records admin actions, the incident reports
	// (each nil: none). ReportProvider and ReportService head the reports.
	Registry       Registry
	Events         Events
	Reports        ReportSource
	ReportProvider string
	ReportService  string
}

// NewServer returns the gateway's handler.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.StreamIdleTimeout <= 0 {
		d.StreamIdleTimeout = 2 * time.Minute
	}
	d.Labels = d.Labels.withDefaults()
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return recoverer(d.Logger, instrument(d.Metrics, d.Logger, mux))
}
