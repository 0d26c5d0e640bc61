package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// ComplaintsPrivacyStore is what the complaint and privacy contract
// exercises (issue 6).
type ComplaintsPrivacyStore interface {
	CreateUser(ctx context.Context, u store.User) error
	CreateKey(ctx context.Context, k store.APIKey) error
	User(ctx context.Context, id string) (store.User, error)
	CreateComplaint(ctx context.Context, c store.Complaint, att *store.Attachment, ev store.ComplaintEvent) error
	Complaint(ctx context.Context, id string) (store.Complaint, error)
	ComplaintAttachment(ctx context.Context, id string) (store.Attachment, error)
	Complaints(ctx context.Context, f store.ComplaintFilter) ([]store.Complaint, error)
	ComplaintEvents(ctx context.Context, id string) ([]store.ComplaintEvent, error)
	UpdateComplaint(ctx context.Context, u store.ComplaintUpdate) error
	CountOverdueComplaints(ctx context.Context, now time.Time) (int, error)
	CreatePIRequest(ctx context.Context, r store.PIRequest) error
	PIRequest(ctx context.Context, id string) (store.PIRequest, error)
	PIRequests(ctx context.Context, f store.PIRequestFilter) ([]store.PIRequest, error)
	ClosePIRequest(ctx context.Context, id, status, reason, feedback string, at time.Time) error
	CountOverduePIRequests(ctx context.Context, now time.Time) (int, error)
	WithdrawConsent(ctx context.Context, userID string, at time.Time) error
	ConsentWithdrawn(ctx context.Context, userID string) (bool, error)
	InsertStoredTexts(ctx context.Context, ts []store.StoredText) error
	StoredTexts(ctx context.Context, pseudonym, requestID string, limit int) ([]store.StoredText, error)
	PurgeStoredTexts(ctx context.Context, before time.Time, limit int) (int64, error)
	DeleteStoredTexts(ctx context.Context, requestID string) (int64, error)
	EraseUser(ctx context.Context, e store.Erasure) (store.ErasureReport, error)
	ExportUser(ctx context.Context, userID string, keyIDs []string, pseudonym string) (map[string][]map[string]any, error)
}

// RunComplaintsPrivacy runs the contract; each subtest gets a fresh store.
func RunComplaintsPrivacy(t *testing.T, open func(t *testing.T) ComplaintsPrivacyStore) {
	t.Run("ComplaintLifecycle", func(t *testing.T) { testComplaintLifecycle(t, open(t)) })
	t.Run("ComplaintOverdue", func(t *testing.T) { testComplaintOverdue(t, open(t)) })
	t.Run("PIRequests", func(t *testing.T) { testPIRequests(t, open(t)) })
	t.Run("StoredTexts", func(t *testing.T) { testStoredTexts(t, open(t)) })
	t.Run("EraseAndExport", func(t *testing.T) { testEraseAndExport(t, open(t)) })
}

func newComplaint(id string, due time.Time) store.Complaint {
	return store.Complaint{ID: id, TokenHash: []byte("0123456789abcdef0123456789abcdef"), Category: "illegal_content", Channel: "web",
		Status: store.ComplaintReceived, Description: "<script>x</script> 内容", DueAt: due, CreatedAt: t0}
}

func testComplaintLifecycle(t *testing.T, s ComplaintsPrivacyStore) {
	ctx := context.Background()
	c := newComplaint("C1", t0.Add(72*time.Hour))
	att := &store.Attachment{AttachmentMeta: store.AttachmentMeta{Name: "a.png", Type: "image/png", Size: 3, SHA256: []byte{1}}, Data: []byte{1, 2, 3}}
	if err := s.CreateComplaint(ctx, c, att, store.ComplaintEvent{Time: t0, Actor: "complainant", Kind: "filed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateComplaint(ctx, c, nil, store.ComplaintEvent{Time: t0, Actor: "complainant", Kind: "filed"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate CreateComplaint err = %v, want ErrConflict", err)
	}
	got, err := s.Complaint(ctx, "C1")
	if err != nil || got.Description != c.Description || got.Attachment == nil || got.Attachment.Size != 3 || !got.DueAt.Equal(c.DueAt) {
		t.Fatalf("Complaint = %+v, %v", got, err)
	}
	a, err := s.ComplaintAttachment(ctx, "C1")
	if err != nil || string(a.Data) != "\x01\x02\x03" {
		t.Fatalf("attachment = %v, %v", a.Data, err)
	}
	if _, err := s.Complaint(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing complaint err = %v", err)
	}
	u := store.ComplaintUpdate{ID: "C1", FromStatus: store.ComplaintReceived, Status: store.ComplaintInReview, Reason: "looking", At: t0.Add(time.Hour),
		Event: store.ComplaintEvent{Time: t0.Add(time.Hour), Actor: "admin", Kind: "transition", From: "received", To: "in_review", Text: "looking"}}
	if err := s.UpdateComplaint(ctx, u); err != nil {
		t.Fatal(err)
	}
	// A second transition from the old state loses the race.
	if err := s.UpdateComplaint(ctx, u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale transition err = %v, want ErrConflict", err)
	}
	if err := s.UpdateComplaint(ctx, store.ComplaintUpdate{ID: "C1", FromStatus: store.ComplaintInReview, Status: store.ComplaintResolved, Reason: "removed",
		Feedback: "done", Action: "takedown", At: t0.Add(2 * time.Hour), Event: store.ComplaintEvent{Time: t0.Add(2 * time.Hour), Kind: "transition"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Complaint(ctx, "C1")
	if got.Status != store.ComplaintResolved || got.Feedback != "done" || got.Action != "takedown" || !got.ClosedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after resolve: %+v", got)
	}
	evs, err := s.ComplaintEvents(ctx, "C1")
	if err != nil || len(evs) != 3 || evs[0].Kind != "filed" || evs[1].To != "in_review" {
		t.Fatalf("events = %+v, %v", evs, err)
	}
}

func testComplaintOverdue(t *testing.T, s ComplaintsPrivacyStore) {
	ctx := context.Background()
	for i, due := range []time.Duration{time.Hour, 3 * time.Hour, 5 * time.Hour} {
		c := newComplaint(string(rune('A'+i)), t0.Add(due))
		c.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if err := s.CreateComplaint(ctx, c, nil, store.ComplaintEvent{Time: t0, Kind: "filed"}); err != nil {
			t.Fatal(err)
		}
	}
	s.UpdateComplaint(ctx, store.ComplaintUpdate{ID: "A", Status: store.ComplaintRejected, Reason: "spam", At: t0, Event: store.ComplaintEvent{Time: t0, Kind: "transition"}})
	now := t0.Add(4 * time.Hour)
	n, err := s.CountOverdueComplaints(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("CountOverdue = %d, %v; want 1 (A is closed, C not due)", n, err)
	}
	list, err := s.Complaints(ctx, store.ComplaintFilter{OverdueAt: now})
	if err != nil || len(list) != 1 || list[0].ID != "B" {
		t.Fatalf("overdue list = %+v, %v", list, err)
	}
	all, _ := s.Complaints(ctx, store.ComplaintFilter{Limit: 2})
	if len(all) != 2 || all[0].ID != "C" {
		t.Fatalf("newest-first list with limit = %+v", all)
	}
}

func testPIRequests(t *testing.T, s ComplaintsPrivacyStore) {
	ctx := context.Background()
	r := store.PIRequest{ID: "P1", UserID: "u1", Kind: store.PICorrect, Status: store.ComplaintReceived, Detail: "name", Channel: "api", DueAt: t0.Add(time.Hour), CreatedAt: t0}
	if err := s.CreatePIRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountOverduePIRequests(ctx, t0.Add(2*time.Hour)); n != 1 {
		t.Fatalf("overdue PI = %d", n)
	}
	if err := s.ClosePIRequest(ctx, "P1", store.ComplaintResolved, "fixed", "we fixed it", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ClosePIRequest(ctx, "P1", store.ComplaintRejected, "", "", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("closing twice err = %v", err)
	}
	if err := s.ClosePIRequest(ctx, "P9", store.ComplaintRejected, "", "", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("closing missing err = %v", err)
	}
	got, _ := s.PIRequests(ctx, store.PIRequestFilter{UserID: "u1"})
	if len(got) != 1 || got[0].Status != store.ComplaintResolved || got[0].Feedback != "we fixed it" {
		t.Fatalf("PIRequests = %+v", got)
	}
}

func testStoredTexts(t *testing.T, s ComplaintsPrivacyStore) {
	ctx := context.Background()
	var ts []store.StoredText
	for i := range 5 {
		ts = append(ts, store.StoredText{RequestID: "req" + string(rune('0'+i)), UserPseudonym: "p1", Kind: "prompt", KeyID: "k1", Sealed: []byte("x"), CreatedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	if err := s.InsertStoredTexts(ctx, ts); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeStoredTexts(ctx, t0.Add(150*time.Minute), 2)
	if err != nil || n != 2 {
		t.Fatalf("purge (limit 2) = %d, %v", n, err)
	}
	n, _ = s.PurgeStoredTexts(ctx, t0.Add(150*time.Minute), 100)
	if n != 1 {
		t.Fatalf("second purge = %d, want 1", n)
	}
	if n, _ := s.DeleteStoredTexts(ctx, "req4"); n != 1 {
		t.Fatalf("takedown deleted %d", n)
	}
	left, _ := s.StoredTexts(ctx, "p1", "", 0)
	if len(left) != 1 || left[0].RequestID != "req3" {
		t.Fatalf("left = %+v", left)
	}
}

func testEraseAndExport(t *testing.T, s ComplaintsPrivacyStore) {
	ctx := context.Background()
	u := store.User{ID: "u_erase0000000001", Name: "erase-me-please", CreatedAt: t0}
	s.CreateUser(ctx, u)
	s.CreateKey(ctx, store.APIKey{ID: "keyerase00000001", UserID: u.ID, Scope: store.ScopeUser, Hash: []byte("h"), CreatedAt: t0})
	c := newComplaint("C-E", t0)
	c.UserID, c.Contact = u.ID, "erase-me-please@example.com"
	if err := s.CreateComplaint(ctx, c, &store.Attachment{AttachmentMeta: store.AttachmentMeta{Name: "x.txt", Type: "text/plain", Size: 1, SHA256: []byte{1}}, Data: []byte("x")},
		store.ComplaintEvent{Time: t0, Kind: "filed", Text: "erase-me-please wrote this"}); err != nil {
		t.Fatal(err)
	}
	s.CreatePIRequest(ctx, store.PIRequest{ID: "P-E", UserID: u.ID, Kind: store.PIDelete, Status: "received", Channel: "api", DueAt: t0, CreatedAt: t0})
	s.WithdrawConsent(ctx, u.ID, t0)
	s.InsertStoredTexts(ctx, []store.StoredText{{RequestID: "r", UserPseudonym: "p_erase", Kind: "prompt", KeyID: "k", Sealed: []byte("s"), CreatedAt: t0}})

	exp, err := s.ExportUser(ctx, u.ID, []string{"keyerase00000001"}, "p_erase")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"users", "api_keys", "complaints", "pi_requests", "privacy_consent", "stored_texts"} {
		if len(exp[table]) == 0 {
			t.Errorf("export has no %s rows: %v", table, exp)
		}
	}
	if _, ok := exp["api_keys"][0]["hash"]; ok {
		t.Errorf("export includes the key hash")
	}

	rep, err := s.EraseUser(ctx, store.Erasure{UserID: u.ID, UserName: u.Name, KeyIDs: []string{"keyerase00000001"}, Pseudonym: "p_erase",
		KeyPseudonym: map[string]string{"keyerase00000001": "k_erase"}, RequestID: "P-E", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted["users"] != 1 || rep.Deleted["stored_texts"] != 1 || rep.Deleted["complaint_attachments"] != 1 {
		t.Errorf("report = %+v", rep)
	}
	if _, err := s.User(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user still there: %v", err)
	}
	got, _ := s.Complaint(ctx, "C-E")
	if got.UserID != "" || got.Contact != "" || got.Attachment != nil || got.Description == c.Description {
		t.Errorf("complaint not anonymised: %+v", got)
	}
	pi, _ := s.PIRequest(ctx, "P-E")
	if pi.UserID != "p_erase" {
		t.Errorf("PI request user = %q, want the pseudonym", pi.UserID)
	}
	if w, _ := s.ConsentWithdrawn(ctx, u.ID); w {
		t.Errorf("consent row survived")
	}
	exp, _ = s.ExportUser(ctx, u.ID, []string{"keyerase00000001"}, "")
	if len(exp) != 0 {
		t.Errorf("export after erasure = %v, want nothing", exp)
	}
}
