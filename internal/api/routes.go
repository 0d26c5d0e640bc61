package api

import "net/http"

// addRoutes is the whole API surface, one line per route.
func addRoutes(mux *http.ServeMux, d Deps) {
	user := func(h http.Handler) http.Handler { return authenticate(d.Accounts, false, admit(d.Admission, h)) }
	admin := func(h http.Handler) http.Handler { return authenticate(d.Accounts, true, h) }
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

	mux.Handle("POST /admin/users", admin(body(handleCreateUser(d.Logger, d.Accounts))))
	mux.Handle("GET /admin/users", admin(handleListUsers(d.Logger, d.Accounts)))
	mux.Handle("GET /admin/users/{id}", admin(handleGetUser(d.Logger, d.Accounts)))
	mux.Handle("POST /admin/users/{id}/keys", admin(handleIssueKey(d.Logger, d.Accounts)))
	mux.Handle("DELETE /admin/keys/{id}", admin(handleRevokeKey(d.Logger, d.Accounts)))

	// Anything else under /v1 and /admin answers in the OpenAI envelope.
	for _, p := range []string{"/v1/chat/completions", "/v1/completions", "/v1/moderations", "/v1/models", "/v1/images/generations", "/v1/files/{id}/content", "/v1/audio/speech", "/v1/labels/verify", "/admin/users", "/admin/users/{id}", "/admin/users/{id}/keys", "/admin/keys/{id}"} {
		mux.Handle(p, handleMethodNotAllowed())
	}
	mux.Handle("/", handleNotFound())
}
