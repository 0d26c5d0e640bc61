package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/genguard/genguard/internal/complaint"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/privacy"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/web"
)

// ComplaintService is what the complaint routes need (complaint.Service).
type ComplaintService interface {
	Categories() []complaint.Category
	Process() string
	MaxAttachmentBytes() int64
	File(ctx context.Context, in complaint.Input) (store.Complaint, string, error)
	Status(ctx context.Context, id, token string) (complaint.Status, error)
	Get(ctx context.Context, id string) (complaint.Ticket, error)
	Attachment(ctx context.Context, id string) (store.Attachment, error)
	List(ctx context.Context, f store.ComplaintFilter, overdue bool) ([]complaint.Ticket, error)
	Transition(ctx context.Context, id string, t complaint.Transition) (complaint.Ticket, error)
	Assign(ctx context.Context, id, assignee, actor string) (complaint.Ticket, error)
	Note(ctx context.Context, id, text, actor string, feedback bool) (complaint.Ticket, error)
}

// PrivacyService is what the personal-information routes need
// (privacy.Requests).
type PrivacyService interface {
	File(ctx context.Context, userID, kind, detail, channel, verifiedBy string) (store.PIRequest, error)
	Get(ctx context.Context, id string) (store.PIRequest, error)
	List(ctx context.Context, f store.PIRequestFilter, overdue bool) ([]store.PIRequest, error)
	Close(ctx context.Context, id, status, reason, feedback, actor string) (store.PIRequest, error)
	Export(ctx context.Context, userID string) (privacy.Export, error)
}

// TextSink keeps a request's prompt and answer (privacy.TextStore); it must
// not block.
type TextSink interface {
	StoreText(ctx context.Context, userID, requestID, prompt, response string)
}

// cpError maps complaint and privacy errors to the envelope, then falls
// back to toAPIError.
func cpError(err error) error {
	var ie *complaint.InvalidError
	switch {
	case errors.As(err, &ie):
		return openai.InvalidRequest(ie.Field, "invalid_"+strings.ReplaceAll(ie.Field, ".", "_"), ie.Error())
	case errors.Is(err, privacy.ErrInvalid):
		return openai.InvalidRequest("", "invalid_request", err.Error())
	case errors.Is(err, complaint.ErrNoTicket):
		return openai.NotFound("", "ticket_not_found", err.Error())
	case errors.Is(err, complaint.ErrTooLarge):
		return &openai.Error{Status: http.StatusRequestEntityTooLarge, Type: openai.TypeInvalidRequest, Code: "request_too_large", Message: "the complaint is too large"}
	case errors.Is(err, complaint.ErrUnavailable):
		return &openai.Error{Status: http.StatusNotImplemented, Type: openai.TypeInvalidRequest, Code: "action_unavailable", Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return &openai.Error{Status: http.StatusConflict, Type: openai.TypeInvalidRequest, Code: "conflict", Message: err.Error()}
	}
	return err
}

// decodeStrict decodes one JSON object with no unknown fields.
func decodeComplaintJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return complaint.ErrTooLarge
		}
		return openai.InvalidRequest("", "invalid_json", "the body must be one JSON object with known fields: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return openai.InvalidRequest("", "invalid_json", "the body must hold exactly one JSON object")
	}
	return nil
}

func writeNoStore(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// complaintBody bounds a JSON complaint: the attachment in base64 plus the
// text fields.
func complaintBody(svc ComplaintService) int64 { return svc.MaxAttachmentBytes()*4/3 + 256<<10 }

// optionalUser reads a user key if one is sent, so a complaint filed with
// it is linked to the user; a bad key is an error, no key is anonymous.
func optionalUser(d Deps, r *http.Request) (string, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", nil
	}
	p, err := d.Accounts.Authenticate(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return "", openai.Unauthorized("Incorrect API key provided; leave out the Authorization header to complain anonymously.")
	}
	return p.UserID, nil
}

// handleFileComplaint is the public JSON intake: POST /v1/complaints.
func handleFileComplaint(d Deps, lim *web.IPLimiter) http.Handler {
	svc := d.Complaints
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retry, ok := lim.Allow(web.ClientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			openai.WriteError(w, &openai.Error{Status: http.StatusTooManyRequests, Type: openai.TypeRateLimit, Code: "rate_limited", Message: "too many complaints from your address; try again later"})
			return
		}
		user, err := optionalUser(d, r)
		if err != nil {
			writeErr(w, r, d.Logger, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, complaintBody(svc))
		var body struct {
			Category      string `json:"category"`
			Description   string `json:"description"`
			Contact       string `json:"contact"`
			RequestID     string `json:"request_id"`
			EnforcementID string `json:"enforcement_id"`
			Attachment    *struct {
				Name string `json:"name"`
				Data []byte `json:"data"` // base64
			} `json:"attachment"`
		}
		if err := decodeComplaintJSON(r, &body); err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		in := complaint.Input{Category: body.Category, Description: body.Description, Contact: body.Contact, RequestID: body.RequestID,
			EnforcementID: body.EnforcementID, Channel: "api", UserID: user}
		if a := body.Attachment; a != nil {
			in.AttachmentName, in.Attachment = a.Name, a.Data
		}
		c, token, err := svc.File(r.Context(), in)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusCreated, map[string]any{"ticket": c.ID, "status": c.Status, "category": c.Category, "due_at": c.DueAt,
			"token": token, "status_url": "/complaints/" + c.ID + "?t=" + token, "status_api": "/v1/complaints/" + c.ID + "?token=" + token})
	})
}

// handleComplaintStatus: GET /v1/complaints/{id}?token=… (or the
// Genguard-Complaint-Token header).
func handleComplaintStatus(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("Genguard-Complaint-Token")
		if token == "" {
			token = r.URL.Query().Get("token")
		}
		st, err := d.Complaints.Status(r.Context(), r.PathValue("id"), token)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusOK, st)
	})
}

// handleComplaintProcess: GET /v1/complaints/process, the published
// process and deadlines.
func handleComplaintProcess(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeNoStore(w, http.StatusOK, map[string]any{"process": d.Complaints.Process(), "categories": d.Complaints.Categories(),
			"deadline_unit": "working days", "max_attachment_bytes": d.Complaints.MaxAttachmentBytes()})
	})
}

func actorOf(r *http.Request) string { return "admin:" + principalFrom(r.Context()).KeyID }

// handleListComplaints: GET /admin/complaints?status=&category=&overdue=true&limit=
func handleListComplaints(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := store.ComplaintFilter{Status: q.Get("status"), Category: q.Get("category")}
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > 1000 {
				writeErr(w, r, d.Logger, openai.InvalidRequest("limit", "invalid_limit", "limit must be 1 … 1000"))
				return
			}
			f.Limit = n
		}
		overdue := q.Get("overdue") == "true" || q.Get("overdue") == "1"
		list, err := d.Complaints.List(r.Context(), f, overdue)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		if list == nil {
			list = []complaint.Ticket{}
		}
		writeNoStore(w, http.StatusOK, map[string]any{"object": "list", "data": list})
	})
}

func handleGetComplaint(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := d.Complaints.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusOK, t)
	})
}

// handleComplaintAttachment serves the attachment as a download, never
// rendered inline, with its sniffed type.
func handleComplaintAttachment(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := d.Complaints.Attachment(r.Context(), r.PathValue("id"))
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		w.Header().Set("Content-Type", a.Type)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.Map(asciiOnly, a.Name)))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
		w.Write(a.Data)
	})
}

func asciiOnly(r rune) rune {
	if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
		return '_'
	}
	return r
}

// handleComplaintAction serves the admin's changes to a ticket: transition,
// assign and notes.
func handleComplaintAction(d Deps, kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, actor := r.PathValue("id"), actorOf(r)
		var t complaint.Ticket
		var err error
		switch kind {
		case "transition":
			var body complaint.Transition
			if err = decodeComplaintJSON(r, &body); err == nil {
				body.Actor = actor
				t, err = d.Complaints.Transition(r.Context(), id, body)
			}
		case "assign":
			var body struct {
				Assignee string `json:"assignee"`
			}
			if err = decodeComplaintJSON(r, &body); err == nil {
				t, err = d.Complaints.Assign(r.Context(), id, body.Assignee, actor)
			}
		case "note":
			var body struct {
				Text     string `json:"text"`
				Feedback bool   `json:"feedback"` // shown to the complainant
			}
			if err = decodeComplaintJSON(r, &body); err == nil {
				t, err = d.Complaints.Note(r.Context(), id, body.Text, actor, body.Feedback)
			}
		}
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusOK, t)
	})
}

// handleFilePIRequest: POST /v1/privacy/requests with the user's key, or
// POST /admin/privacy/requests for a user whose contact an operator
// verified (user_id and verified_by required).
func handleFilePIRequest(d Deps, asAdmin bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type       string `json:"type"`
			Detail     string `json:"detail"`
			UserID     string `json:"user_id"`
			VerifiedBy string `json:"verified_by"`
		}
		if err := decodeComplaintJSON(r, &body); err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		user, channel := principalFrom(r.Context()).UserID, "api"
		if asAdmin {
			user, channel = body.UserID, "admin"
		} else if body.UserID != "" || body.VerifiedBy != "" {
			writeErr(w, r, d.Logger, openai.InvalidRequest("user_id", "invalid_field", "user_id and verified_by are for the admin API; your key names you"))
			return
		}
		pr, err := d.Privacy.File(r.Context(), user, body.Type, body.Detail, channel, body.VerifiedBy)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusCreated, pr)
	})
}

// handleListPIRequests: the user's own (GET /v1/privacy/requests) or all
// (GET /admin/privacy/requests?status=&user_id=&overdue=true).
func handleListPIRequests(d Deps, asAdmin bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := store.PIRequestFilter{UserID: principalFrom(r.Context()).UserID}
		overdue := false
		if asAdmin {
			f = store.PIRequestFilter{UserID: q.Get("user_id"), Status: q.Get("status")}
			overdue = q.Get("overdue") == "true" || q.Get("overdue") == "1"
		}
		list, err := d.Privacy.List(r.Context(), f, overdue)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		if list == nil {
			list = []store.PIRequest{}
		}
		writeNoStore(w, http.StatusOK, map[string]any{"object": "list", "data": list})
	})
}

// handleClosePIRequest: POST /admin/privacy/requests/{id}/close.
func handleClosePIRequest(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Status   string `json:"status"`
			Reason   string `json:"reason"`
			Feedback string `json:"feedback"`
		}
		if err := decodeComplaintJSON(r, &body); err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		pr, err := d.Privacy.Close(r.Context(), r.PathValue("id"), body.Status, body.Reason, body.Feedback, actorOf(r))
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		writeNoStore(w, http.StatusOK, pr)
	})
}

// handlePrivacyExport: GET /v1/privacy/export, everything stored about the
// calling user as JSON (PIPL Art. 45 access, copy and portability).
func handlePrivacyExport(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex, err := d.Privacy.Export(r.Context(), principalFrom(r.Context()).UserID)
		if err != nil {
			writeErr(w, r, d.Logger, cpError(err))
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="genguard-export.json"`)
		writeNoStore(w, http.StatusOK, ex)
	})
}

// addComplaintRoutes lists the routes of issue 6: complaints (public JSON
// and web form, admin API) and personal-information requests. PI routes
// skip admission: a suspended user, or one who has not accepted the
// agreement, keeps their data rights.
func addComplaintRoutes(mux *http.ServeMux, d Deps, admin, body func(http.Handler) http.Handler) {
	if d.Complaints != nil {
		mux.Handle("POST /v1/complaints", handleFileComplaint(d, d.ComplaintLimiter))
		mux.Handle("GET /v1/complaints/process", handleComplaintProcess(d))
		mux.Handle("GET /v1/complaints/{id}", handleComplaintStatus(d))
		mux.Handle("GET /admin/complaints", admin(handleListComplaints(d)))
		mux.Handle("GET /admin/complaints/{id}", admin(handleGetComplaint(d)))
		mux.Handle("GET /admin/complaints/{id}/attachment", admin(handleComplaintAttachment(d)))
		mux.Handle("POST /admin/complaints/{id}/transition", admin(body(handleComplaintAction(d, "transition"))))
		mux.Handle("POST /admin/complaints/{id}/assign", admin(body(handleComplaintAction(d, "assign"))))
		mux.Handle("POST /admin/complaints/{id}/notes", admin(body(handleComplaintAction(d, "note"))))
	}
	if cp := d.ComplaintPages; cp != nil {
		mux.Handle("GET /complaints/new", cp.New())
		mux.Handle("POST /complaints/new", cp.Submit())
		mux.Handle("GET /complaints/process", cp.Process())
		mux.Handle("GET /complaints/{id}", cp.Status())
	}
	if d.Privacy != nil {
		subject := func(h http.Handler) http.Handler { return authenticate(d.Accounts, false, h) }
		mux.Handle("POST /v1/privacy/requests", subject(body(handleFilePIRequest(d, false))))
		mux.Handle("GET /v1/privacy/requests", subject(handleListPIRequests(d, false)))
		mux.Handle("GET /v1/privacy/export", subject(handlePrivacyExport(d)))
		mux.Handle("GET /admin/privacy/requests", admin(handleListPIRequests(d, true)))
		mux.Handle("POST /admin/privacy/requests", admin(body(handleFilePIRequest(d, true))))
		mux.Handle("POST /admin/privacy/requests/{id}/close", admin(body(handleClosePIRequest(d))))
	}
}
