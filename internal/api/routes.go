package api

import (
	"net/http"

	"github.com/genguard/genguard/internal/report"
	"github.com/genguard/genguard/internal/store"
)

// addRoutes is the whole API surface, one line per route.
func addRoutes(mux *http.ServeMux, d Deps) {
	user := func(h http.Handler) http.Handler { return authenticate(d.Accounts, false, admit(d.Admission, h)) }
	admin := func(h http.Handler) http.Handler {
		return authenticate(d.Accounts, true, auditAdmin(d.Events, d.Logger, d.Accounts.Pseudonym, h))
	}
	body := func(h http.Handler) http.Handler { return limitBody(d.MaxBodyBytes, h) }

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d.Ready))
	mux.Handle("GET /metrics", d.Metrics.Handler())

	mux.Handle("POST /v1/chat/completions", user(body(handleGenerate(d, chatDialect{}))))
	mux.Handle("POST /v1/completions", user(body(handleGenerate(d, completionDialect{}))))
	mux.Handle("GET /v1/models", user(handleModels(d.Router, d.Now)))
	mux.Handle("POST /v1/moderations", user(body(handleModerations(d.Logger, d.Moderation))))
	files, gen := newFileStore(d.Labels, d.Now), newGenSlots()
	mux.Handle("POST /v1/images/generations", user(body(handleImages(d, files, gen))))
	mux.Handle("GET /v1/files/{id}/content", user(handleFileContent(d, files)))
	mux.Handle("POST /v1/audio/speech", user(body(handleSpeech(d, gen))))
	mux.Handle("POST /v1/labels/verify", user(limitBody(d.Labels.MaxUploadBytes, handleLabelVerify(d))))
	mux.Handle("POST /v1/labels/propagate", user(limitBody(d.Labels.MaxUploadBytes, handleLabelPropagate(d))))

	mux.Handle("POST /admin/users", admin(body(handleCreateUser(d.Logger, d.Accounts))))
	mux.Handle("GET /admin/users", admin(handleListUsers(d.Logger, d.Accounts)))
	mux.Handle("GET /admin/users/{id}", admin(handleGetUser(d.Logger, d.Accounts)))
	mux.Handle("POST /admin/users/{id}/keys", admin(handleIssueKey(d.Logger, d.Accounts)))
	mux.Handle("DELETE /admin/keys/{id}", admin(handleRevokeKey(d.Logger, d.Accounts)))
	if d.Lexicon != nil {
		mux.Handle("POST /admin/lexicon/reload", admin(handleLexiconReload(d.Logger, d.Lexicon)))
	}

	// Duties towards users (issue 5). The agreement routes skip admission:
	// a user who has not accepted must still be able to read and accept.
	if du := d.Duties; du != nil {
		signedIn := func(h http.Handler) http.Handler { return authenticate(d.Accounts, false, h) }
		mux.Handle("GET /v1/agreement", signedIn(handleMyAgreement(d.Logger, du)))
		mux.Handle("POST /v1/agreement/accept", signedIn(body(handleAcceptAgreement(d.Logger, du))))
		mux.Handle("POST /admin/agreements", admin(body(handlePublishAgreement(d.Logger, du))))
		mux.Handle("GET /admin/agreements", admin(handleListAgreements(d.Logger, du)))
		mux.Handle("GET /admin/users/{id}/duties", admin(handleUserDuties(d.Logger, du)))
		mux.Handle("PUT /admin/users/{id}/age_band", admin(body(handleSetAgeBand(d.Logger, du))))
		mux.Handle("PUT /admin/users/{id}/guardian", admin(body(handleSetGuardian(d.Logger, du))))
		mux.Handle("PUT /admin/users/{id}/quota", admin(body(handleSetQuota(d.Logger, du, store.QuotaUser, false))))
		mux.Handle("DELETE /admin/users/{id}/quota", admin(handleSetQuota(d.Logger, du, store.QuotaUser, true)))
		mux.Handle("PUT /admin/keys/{id}/quota", admin(body(handleSetQuota(d.Logger, du, store.QuotaKey, false))))
		mux.Handle("DELETE /admin/keys/{id}/quota", admin(handleSetQuota(d.Logger, du, store.QuotaKey, true)))
		mux.Handle("POST /admin/users/{id}/sanctions", admin(body(handleSanction(d.Logger, du))))
		mux.Handle("GET /admin/users/{id}/sanctions", admin(handleSanctions(d.Logger, du, true)))
		mux.Handle("GET /admin/sanctions", admin(handleSanctions(d.Logger, du, false)))
		mux.Handle("GET /admin/enforcement", admin(handleGetThresholds(du)))
		mux.Handle("PUT /admin/enforcement", admin(body(handleSetThresholds(d.Logger, du))))
	}
	// Registries and incident reports (issue 7).
	if d.Registry != nil {
		addRegistryRoutes(mux, d, admin, body)
	}
	if src := d.Reports; src != nil {
		meta := report.Meta{Provider: d.ReportProvider, Service: d.ReportService}
		mux.Handle("GET /admin/reports/incidents", admin(handleIncidentReport(d.Logger, src, meta, d.Now)))
		mux.Handle("GET /admin/incidents/{id}", admin(handleIncident(d.Logger, src)))
	}
	// Complaints and personal-information requests (issue 6; complaints.go).
	addComplaintRoutes(mux, d, admin, body)
	if pg := d.Pages; pg != nil {
		form := func(h http.Handler) http.Handler { return limitBody(64<<10, h) }
		mux.Handle("GET /{$}", pg.Index())
		mux.Handle("GET /disclosure", pg.Disclosure())
		mux.Handle("GET /agreement", pg.Agreement())
		mux.Handle("POST /agreement/accept", form(pg.AcceptAgreement()))
		mux.Handle("GET /settings", pg.Settings())
		mux.Handle("POST /settings", form(pg.SaveSettings()))
		mux.Handle("POST /settings/login", form(pg.Login()))
		mux.Handle("POST /settings/logout", form(pg.Logout()))
	}

	// Anything else under /v1 and /admin answers in the OpenAI envelope.
	for _, p := range []string{"/v1/chat/completions", "/v1/completions", "/v1/moderations", "/v1/models", "/v1/images/generations", "/v1/files/{id}/content", "/v1/audio/speech", "/v1/labels/verify", "/v1/labels/propagate", "/admin/users", "/admin/users/{id}", "/admin/users/{id}/keys", "/admin/keys/{id}"} {
		mux.Handle(p, handleMethodNotAllowed())
	}
	mux.Handle("/", handleNotFound())
}
