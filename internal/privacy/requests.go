package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/complaint"
	"github.com/genguard/genguard/internal/store"
)

// RequestsDB is what data-subject requests need from persistence.
type RequestsDB interface {
	User(ctx context.Context, id string) (store.User, error)
	Keys(ctx context.Context, userID string) ([]store.APIKey, error)
	CreatePIRequest(ctx context.Context, r store.PIRequest) error
	PIRequest(ctx context.Context, id string) (store.PIRequest, error)
	PIRequests(ctx context.Context, f store.PIRequestFilter) ([]store.PIRequest, error)
	ClosePIRequest(ctx context.Context, id, status, reason, feedback string, at time.Time) error
	CountOverduePIRequests(ctx context.Context, now time.Time) (int, error)
	WithdrawConsent(ctx context.Context, userID string, at time.Time) error
	EraseUser(ctx context.Context, e store.Erasure) (store.ErasureReport, error)
	ExportUser(ctx context.Context, userID string, keyIDs []string, pseudonym string) (map[string][]map[string]any, error)
}

// KeyRevoker revokes a key at once, in this process's cache too, so an
// erased user's key stops working before the rows are gone.
type KeyRevoker interface {
	Revoke(ctx context.Context, keyID string) error
}

// EventLog appends durable events to the audit chain (issue 7).
type EventLog interface {
	Event(ctx context.Context, e audit.Event) error
}

// RequestsOptions configure Requests.
type RequestsOptions struct {
	Calendar  *complaint.Calendar
	Workdays  int                        // deadline; default 15 working days
	Pseudonym func(userID string) string // the audit pseudonym
	Texts     *TextStore                 // nil when text storage is off
	FilesDir  string                     // generated files to erase (owner = pseudonym)
	Keys      KeyRevoker
	Events    EventLog
	Now       func() time.Time
	Logger    *slog.Logger
}

// Requests handles data-subject requests (PIPL Arts. 15, 44–47; Measures
// Art. 11): access and copy are answered at once with a machine-readable
// export, withdrawing consent takes effect at once, and correct, supplement
// and delete go to an operator, who must close them within the deadline.
type Requests struct {
	db RequestsDB
	o  RequestsOptions
}

// NewRequests returns Requests.
func NewRequests(db RequestsDB, o RequestsOptions) *Requests {
	if o.Workdays <= 0 {
		o.Workdays = 15
	}
	if o.Calendar == nil {
		o.Calendar, _ = complaint.NewCalendar(time.UTC, nil, nil)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Requests{db: db, o: o}
}

// ErrInvalid marks bad input (a 400).
var ErrInvalid = errors.New("invalid personal-information request")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Kinds of request.
func RequestKinds() []string {
	return []string{store.PIAccess, store.PICopy, store.PICorrect, store.PISupplement, store.PIDelete, store.PIWithdrawConsent}
}

const (
	maxDetail   = 5000
	maxVerified = 500
)

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "pir_" + hex.EncodeToString(b)
}

// File records a request. channel is "api" (the user's own key) or
// "admin" (filed by an operator for a user whose contact was verified;
// verifiedBy says how). It returns once the request is committed.
func (q *Requests) File(ctx context.Context, userID, kind, detail, channel, verifiedBy string) (store.PIRequest, error) {
	ok := false
	for _, k := range RequestKinds() {
		ok = ok || k == kind
	}
	if !ok {
		return store.PIRequest{}, invalidf("type must be one of %s", strings.Join(RequestKinds(), ", "))
	}
	detail = strings.TrimSpace(detail)
	if !utf8.ValidString(detail) || utf8.RuneCountInString(detail) > maxDetail {
		return store.PIRequest{}, invalidf("detail must be valid UTF-8 of at most %d characters", maxDetail)
	}
	if (kind == store.PICorrect || kind == store.PISupplement) && detail == "" {
		return store.PIRequest{}, invalidf("%s needs a detail saying what to change", kind)
	}
	if channel == "admin" && (strings.TrimSpace(verifiedBy) == "" || len(verifiedBy) > maxVerified) {
		return store.PIRequest{}, invalidf("verified_by (how the requester's contact was verified) is required, at most %d bytes", maxVerified)
	}
	if _, err := q.db.User(ctx, userID); err != nil {
		return store.PIRequest{}, fmt.Errorf("PI request for %s: %w", userID, err)
	}
	now := q.o.Now().UTC().Truncate(time.Microsecond)
	r := store.PIRequest{ID: newRequestID(), UserID: userID, Kind: kind, Status: store.ComplaintReceived, Detail: detail, Channel: channel,
		VerifiedBy: verifiedBy, DueAt: q.o.Calendar.Due(now, q.o.Workdays).UTC(), CreatedAt: now}
	if err := q.db.CreatePIRequest(ctx, r); err != nil {
		return store.PIRequest{}, err
	}
	q.event(ctx, audit.Event{ID: r.ID, Time: now, Kind: "privacy.request", Actor: channel, Subject: q.o.Pseudonym(userID), Details: map[string]any{"type": kind}})
	// What needs no operator is done now; the request is already durable.
	switch kind {
	case store.PIWithdrawConsent:
		if err := q.db.WithdrawConsent(ctx, userID, now); err != nil {
			return r, fmt.Errorf("withdraw consent: %w", err)
		}
		return q.close(ctx, r, store.ComplaintResolved, "consent withdrawn", "已撤回同意：今后不再保存您的输入和输出文本。Consent withdrawn: your prompts and responses are no longer stored.", "system")
	case store.PIAccess, store.PICopy:
		return q.close(ctx, r, store.ComplaintResolved, "export available", "您的数据可通过 GET /v1/privacy/export 下载（JSON）。Download your data (JSON) from GET /v1/privacy/export.", "system")
	}
	return r, nil
}

func (q *Requests) event(ctx context.Context, e audit.Event) {
	if q.o.Events == nil {
		return
	}
	if err := q.o.Events.Event(context.WithoutCancel(ctx), e); err != nil {
		q.o.Logger.ErrorContext(ctx, "privacy audit event not recorded", "kind", e.Kind, "err", err)
	}
}

func (q *Requests) close(ctx context.Context, r store.PIRequest, status, reason, feedback, actor string) (store.PIRequest, error) {
	now := q.o.Now().UTC().Truncate(time.Microsecond)
	if err := q.db.ClosePIRequest(ctx, r.ID, status, reason, feedback, now); err != nil {
		return r, fmt.Errorf("close PI request: %w", err)
	}
	q.event(ctx, audit.Event{Time: now, Kind: "privacy.request.closed", Actor: actor, Subject: r.ID,
		Details: map[string]any{"type": r.Kind, "status": status, "deadline_met": !now.After(r.DueAt)}})
	return q.db.PIRequest(ctx, r.ID)
}

// Get returns one request.
func (q *Requests) Get(ctx context.Context, id string) (store.PIRequest, error) {
	return q.db.PIRequest(ctx, id)
}

// List returns requests; overdue selects open ones past their deadline.
func (q *Requests) List(ctx context.Context, f store.PIRequestFilter, overdue bool) ([]store.PIRequest, error) {
	if overdue {
		f.OverdueAt = q.o.Now()
	}
	return q.db.PIRequests(ctx, f)
}

// Overdue counts open requests past their deadline (for /metrics).
func (q *Requests) Overdue(ctx context.Context) (int, error) {
	return q.db.CountOverduePIRequests(ctx, q.o.Now())
}

// Close resolves or rejects a request with a reason and feedback. Resolving
// a delete request erases the user first (PIPL Art. 47).
func (q *Requests) Close(ctx context.Context, id, status, reason, feedback, actor string) (store.PIRequest, error) {
	if status != store.ComplaintResolved && status != store.ComplaintRejected {
		return store.PIRequest{}, invalidf("status must be resolved or rejected")
	}
	reason, feedback = strings.TrimSpace(reason), strings.TrimSpace(feedback)
	if reason == "" || feedback == "" || len(reason) > maxDetail || len(feedback) > maxDetail || !utf8.ValidString(reason+feedback) {
		// PIPL Art. 50: a refusal must give reasons; every outcome is told.
		return store.PIRequest{}, invalidf("reason and feedback are required (at most %d bytes each)", maxDetail)
	}
	r, err := q.db.PIRequest(ctx, id)
	if err != nil {
		return store.PIRequest{}, fmt.Errorf("PI request %s: %w", id, err)
	}
	if r.Status == store.ComplaintResolved || r.Status == store.ComplaintRejected {
		return store.PIRequest{}, fmt.Errorf("%w: PI request %s is already %s", store.ErrConflict, id, r.Status)
	}
	if r.Kind == store.PIDelete && status == store.ComplaintResolved {
		if _, err := q.Erase(ctx, r.UserID, r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.PIRequest{}, err
		}
	}
	return q.close(ctx, r, status, reason, feedback, actor)
}

// Erase removes or anonymises everything about a user: their keys are
// revoked first (so they stop working in this process at once), then every
// table is erased in one transaction, generated files they own are deleted,
// and the erasure is recorded under their pseudonym.
func (q *Requests) Erase(ctx context.Context, userID, requestID string) (store.ErasureReport, error) {
	u, err := q.db.User(ctx, userID)
	if err != nil {
		return store.ErasureReport{}, fmt.Errorf("erase %s: %w", userID, err)
	}
	keys, err := q.db.Keys(ctx, userID)
	if err != nil {
		return store.ErasureReport{}, fmt.Errorf("erase %s: %w", userID, err)
	}
	pseudo := q.o.Pseudonym(userID)
	e := store.Erasure{UserID: userID, UserName: u.Name, Pseudonym: pseudo, KeyPseudonym: map[string]string{}, RequestID: requestID, At: q.o.Now().UTC()}
	for _, k := range keys {
		e.KeyIDs = append(e.KeyIDs, k.ID)
		e.KeyPseudonym[k.ID] = "k" + q.o.Pseudonym("key:" + k.ID)[1:]
		if q.o.Keys != nil && !k.Revoked() {
			if err := q.o.Keys.Revoke(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return store.ErasureReport{}, fmt.Errorf("erase %s: revoke key: %w", userID, err)
			}
		}
	}
	rep, err := q.db.EraseUser(ctx, e)
	if err != nil {
		return rep, err
	}
	if n, err := removeOwnedFiles(q.o.FilesDir, pseudo); err != nil {
		q.o.Logger.ErrorContext(ctx, "erase: generated files not all removed", "err", err)
	} else if n > 0 {
		rep.Deleted["files"] = int64(n)
	}
	q.event(ctx, audit.Event{Kind: "privacy.erased", Actor: "system", Subject: pseudo, Details: rep, Evidence: []string{requestID}})
	return rep, nil
}

// maxScanFiles bounds the files-directory scan.
const maxScanFiles = 100_000

// removeOwnedFiles deletes generated files (id.json meta + id.bin) whose
// owner is the pseudonym.
func removeOwnedFiles(dir, owner string) (int, error) {
	if dir == "" {
		return 0, nil
	}
	metas, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, err
	}
	n := 0
	for i, m := range metas {
		if i >= maxScanFiles {
			break
		}
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var meta struct {
			Owner string `json:"owner"`
		}
		if json.Unmarshal(b, &meta) != nil || meta.Owner != owner {
			continue
		}
		base := strings.TrimSuffix(m, ".json")
		os.Remove(base + ".bin")
		if err := os.Remove(m); err == nil {
			n++
		}
	}
	return n, nil
}

// Export is everything stored about a user, machine-readable (PIPL Art. 45).
type Export struct {
	Generated time.Time                   `json:"generated_at"`
	UserID    string                      `json:"user_id"`
	Pseudonym string                      `json:"audit_pseudonym"`
	Tables    map[string][]map[string]any `json:"tables"`
	Texts     []Text                      `json:"stored_texts"`
}

// Export collects every row that names the user, their keys or their
// pseudonym, from every table, and their stored texts decrypted.
func (q *Requests) Export(ctx context.Context, userID string) (Export, error) {
	keys, err := q.db.Keys(ctx, userID)
	if err != nil {
		return Export{}, fmt.Errorf("export: %w", err)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	pseudo := q.o.Pseudonym(userID)
	tables, err := q.db.ExportUser(ctx, userID, ids, pseudo)
	if err != nil {
		return Export{}, err
	}
	ex := Export{Generated: q.o.Now().UTC(), UserID: userID, Pseudonym: pseudo, Tables: tables, Texts: []Text{}}
	if q.o.Texts != nil {
		if ex.Texts, err = q.o.Texts.Texts(ctx, userID); err != nil {
			return Export{}, err
		}
	}
	q.event(ctx, audit.Event{Kind: "privacy.exported", Actor: "user", Subject: pseudo})
	return ex, nil
}
