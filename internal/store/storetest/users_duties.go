package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genguard/genguard/internal/store"
)

// UsersDutiesStore is what the duties towards users need from a store.
type UsersDutiesStore interface {
	CreateUser(ctx context.Context, u store.User) error
	CreateKey(ctx context.Context, k store.APIKey) error
	InsertAudit(ctx context.Context, recs []store.AuditRecord) error

	PublishAgreement(ctx context.Context, a store.Agreement) error
	CurrentAgreement(ctx context.Context) (store.Agreement, error)
	Agreement(ctx context.Context, version string) (store.Agreement, error)
	Agreements(ctx context.Context, limit int) ([]store.Agreement, error)
	AcceptAgreement(ctx context.Context, a store.Acceptance) error
	Acceptance(ctx context.Context, userID, version string) (store.Acceptance, error)
	Profile(ctx context.Context, userID string) (store.Profile, error)
	SaveProfile(ctx context.Context, p store.Profile) error
	Standing(ctx context.Context, userID string) (store.Standing, error)
	ApplySanction(ctx context.Context, s store.Sanction) (store.Sanction, error)
	Sanctions(ctx context.Context, f store.SanctionFilter) ([]store.Sanction, error)
	AddViolation(ctx context.Context, v store.Violation) (int64, error)
	Violations(ctx context.Context, userID string, since time.Time, limit int) ([]store.Violation, int, error)
	UsageTime(ctx context.Context, userID string) (store.UsageTime, error)
	SaveUsageTime(ctx context.Context, u store.UsageTime) error
	SetQuota(ctx context.Context, q store.Quota) error
	Quota(ctx context.Context, kind, subject string) (store.Quota, error)
	DeleteQuota(ctx context.Context, kind, subject string) error
	DutySetting(ctx context.Context, key string) (string, error)
	SetDutySetting(ctx context.Context, key, value string) error
	TokensSince(ctx context.Context, since time.Time) ([]store.TokenUsage, error)
}

// RunUsersDuties runs the duties contract; each subtest gets a fresh store.
func RunUsersDuties(t *testing.T, open func(t *testing.T) UsersDutiesStore) {
	t.Run("Agreements", func(t *testing.T) { testAgreements(t, open(t)) })
	t.Run("Profiles", func(t *testing.T) { testProfiles(t, open(t)) })
	t.Run("Ladder", func(t *testing.T) { testLadder(t, open(t)) })
	t.Run("UsageTime", func(t *testing.T) { testUsageTime(t, open(t)) })
	t.Run("Quotas", func(t *testing.T) { testQuotas(t, open(t)) })
	t.Run("TokensSince", func(t *testing.T) { testTokensSince(t, open(t)) })
}

func withUser(t *testing.T, s UsersDutiesStore, id string) {
	t.Helper()
	if err := s.CreateUser(context.Background(), store.User{ID: id, Name: "n" + id, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

func testAgreements(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	withUser(t, s, "u1")
	if _, err := s.CurrentAgreement(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CurrentAgreement(empty) err = %v, want ErrNotFound", err)
	}
	v1 := store.Agreement{Version: "v1", Body: "# one", SHA256: "h1", PublishedAt: t0}
	v2 := store.Agreement{Version: "v2", Body: "# two", SHA256: "h2", PublishedAt: t0.Add(time.Hour)}
	for _, a := range []store.Agreement{v1, v2} {
		if err := s.PublishAgreement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PublishAgreement(ctx, v1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PublishAgreement(again) err = %v, want ErrConflict", err)
	}
	if got, err := s.CurrentAgreement(ctx); err != nil || got != v2 {
		t.Errorf("CurrentAgreement = %+v, %v; want v2", got, err)
	}
	if got, err := s.Agreement(ctx, "v1"); err != nil || got != v1 {
		t.Errorf("Agreement(v1) = %+v, %v", got, err)
	}
	if all, err := s.Agreements(ctx, 10); err != nil || len(all) != 2 || all[0].Version != "v2" {
		t.Errorf("Agreements = %+v, %v", all, err)
	}
	if _, err := s.Acceptance(ctx, "u1", "v2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Acceptance(before) err = %v", err)
	}
	acc := store.Acceptance{UserID: "u1", Version: "v2", SHA256: "h2", Channel: "web", AcceptedAt: t0.Add(2 * time.Hour)}
	if err := s.AcceptAgreement(ctx, acc); err != nil {
		t.Fatal(err)
	}
	later := acc
	later.Channel, later.AcceptedAt = "api", t0.Add(3*time.Hour)
	if err := s.AcceptAgreement(ctx, later); err != nil {
		t.Fatalf("AcceptAgreement(again): %v", err)
	}
	if got, err := s.Acceptance(ctx, "u1", "v2"); err != nil || got != acc {
		t.Errorf("Acceptance = %+v, %v; want the first %+v", got, err, acc)
	}
	for _, bad := range []store.Acceptance{{UserID: "nobody", Version: "v2"}, {UserID: "u1", Version: "v9"}} {
		if err := s.AcceptAgreement(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AcceptAgreement(%+v) err = %v, want ErrNotFound", bad, err)
		}
	}
}

func testProfiles(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	withUser(t, s, "u1")
	p, err := s.Profile(ctx, "u1")
	if err != nil || p.AgeBand != store.AgeUnknown || p.TrainingOptOut {
		t.Fatalf("Profile(default) = %+v, %v", p, err)
	}
	if _, err := s.Profile(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Profile(unknown) err = %v", err)
	}
	want := store.Profile{UserID: "u1", AgeBand: store.Age16to18, AgeConfirmedAt: t0, GuardianDailyLimit: 45 * time.Minute,
		GuardianHours: "08:00-20:00", TrainingOptOut: true, UpdatedAt: t0.Add(time.Minute)}
	if err := s.SaveProfile(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Profile(ctx, "u1"); err != nil || !cmp.Equal(got, want) {
		t.Errorf("Profile = %v; diff %s", err, cmp.Diff(want, got))
	}
	if err := s.SaveProfile(ctx, store.Profile{UserID: "nobody", AgeBand: store.AgeAdult}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveProfile(unknown) err = %v", err)
	}
	if err := s.SaveProfile(ctx, store.Profile{UserID: "u1", AgeBand: "twelve"}); err == nil {
		t.Errorf("SaveProfile(bad band) succeeded")
	}
	if v, err := s.DutySetting(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DutySetting(missing) = %q, %v", v, err)
	}
	for _, v := range []string{"1", "2"} {
		if err := s.SetDutySetting(ctx, "x", v); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.DutySetting(ctx, "x"); err != nil || v != "2" {
		t.Errorf("DutySetting = %q, %v", v, err)
	}
}

func testLadder(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	withUser(t, s, "u1")
	withUser(t, s, "u2")
	if st, err := s.Standing(ctx, "u1"); err != nil || st.Status != store.StatusOK {
		t.Fatalf("Standing(new) = %+v, %v", st, err)
	}
	for i := range 5 {
		if _, err := s.AddViolation(ctx, store.Violation{UserID: "u1", Time: t0.Add(time.Duration(i) * time.Hour), RecordID: "r" + string(rune('a'+i)),
			Decision: "block", Risks: []string{"A.1.a"}, Points: 2}); err != nil {
			t.Fatal(err)
		}
	}
	vs, total, err := s.Violations(ctx, "u1", t0.Add(2*time.Hour), 2)
	if err != nil || total != 6 || len(vs) != 2 || vs[0].RecordID != "re" || vs[0].Risks[0] != "A.1.a" {
		t.Errorf("Violations = %+v, %d, %v; want the 2 newest and total 6", vs, total, err)
	}
	sn, err := s.ApplySanction(ctx, store.Sanction{UserID: "u1", Time: t0, To: store.StatusSuspended, Until: t0.Add(24 * time.Hour),
		Actor: "system", Reason: "points", Points: 10, Evidence: []string{"ra", "rb"}})
	if err != nil || sn.ID == 0 || sn.From != store.StatusOK {
		t.Fatalf("ApplySanction = %+v, %v", sn, err)
	}
	st, err := s.Standing(ctx, "u1")
	if err != nil || st.Status != store.StatusSuspended || !st.Until.Equal(t0.Add(24*time.Hour)) || st.Reason != "points" {
		t.Errorf("Standing = %+v, %v", st, err)
	}
	if _, err := s.ApplySanction(ctx, store.Sanction{UserID: "u2", Time: t0.Add(time.Hour), To: store.StatusWarned, Actor: "admin", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplySanction(ctx, store.Sanction{UserID: "u1", Time: t0.Add(2 * time.Hour), To: store.StatusOK, Actor: "admin", Reason: "lift"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplySanction(ctx, store.Sanction{UserID: "nobody", To: store.StatusWarned}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplySanction(unknown) err = %v", err)
	}
	all, err := s.Sanctions(ctx, store.SanctionFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("Sanctions = %+v, %v", all, err)
	}
	if all[2].From != store.StatusSuspended || all[2].To != store.StatusOK || all[1].Evidence == nil {
		t.Errorf("Sanctions = %+v", all)
	}
	if !cmp.Equal(all[0].Evidence, []string{"ra", "rb"}) {
		t.Errorf("evidence = %v", all[0].Evidence)
	}
	if got, _ := s.Sanctions(ctx, store.SanctionFilter{UserID: "u1"}); len(got) != 2 {
		t.Errorf("Sanctions(u1) = %d, want 2", len(got))
	}
	if got, _ := s.Sanctions(ctx, store.SanctionFilter{From: t0.Add(time.Hour), Limit: 1}); len(got) != 1 || got[0].UserID != "u2" {
		t.Errorf("Sanctions(from, limit) = %+v", got)
	}
	if got, _ := s.Sanctions(ctx, store.SanctionFilter{AfterID: all[1].ID}); len(got) != 1 {
		t.Errorf("Sanctions(after) = %+v", got)
	}
}

func testUsageTime(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	withUser(t, s, "u1")
	if _, err := s.UsageTime(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UsageTime(none) err = %v", err)
	}
	u := store.UsageTime{UserID: "u1", Day: "2026-11-26", Used: 42 * time.Minute, SessionStart: t0, LastActive: t0.Add(42 * time.Minute)}
	for _, x := range []store.UsageTime{{UserID: "u1", Day: "2026-11-25"}, u} {
		if err := s.SaveUsageTime(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.UsageTime(ctx, "u1"); err != nil || !cmp.Equal(got, u) {
		t.Errorf("UsageTime: %v %s", err, cmp.Diff(u, got))
	}
}

func testQuotas(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	withUser(t, s, "u1")
	if err := s.CreateKey(ctx, store.APIKey{ID: "k1", UserID: "u1", Scope: store.ScopeUser, Hash: []byte{1}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Quota(ctx, store.QuotaUser, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Quota(none) err = %v", err)
	}
	for _, q := range []store.Quota{{Kind: store.QuotaUser, Subject: "u1", RequestsPerMinute: 5, TokensPerDay: 100}, {Kind: store.QuotaKey, Subject: "k1", RequestsPerMinute: 1}} {
		if err := s.SetQuota(ctx, q); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Quota(ctx, q.Kind, q.Subject); err != nil || got != q {
			t.Errorf("Quota = %+v, %v; want %+v", got, err, q)
		}
	}
	for _, q := range []store.Quota{{Kind: store.QuotaUser, Subject: "nobody"}, {Kind: store.QuotaKey, Subject: "nokey"}, {Kind: "team", Subject: "u1"}} {
		if err := s.SetQuota(ctx, q); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetQuota(%+v) err = %v, want ErrNotFound", q, err)
		}
	}
	if err := s.DeleteQuota(ctx, store.QuotaUser, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Quota(ctx, store.QuotaUser, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Quota(after delete) err = %v", err)
	}
}

func testTokensSince(t *testing.T, s UsersDutiesStore) {
	ctx := context.Background()
	recs := []store.AuditRecord{
		{ID: "a", Time: t0.Add(-time.Hour), UserPseudonym: "p1", KeyID: "k1", PromptTokens: 1000},
		{ID: "b", Time: t0, UserPseudonym: "p1", KeyID: "k1", PromptTokens: 3, CompletionTokens: 4},
		{ID: "c", Time: t0.Add(time.Minute), UserPseudonym: "p1", KeyID: "k2", PromptTokens: 10},
		{ID: "d", Time: t0.Add(time.Minute), UserPseudonym: "p1", KeyID: "k1", CompletionTokens: 1},
	}
	if err := s.InsertAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokensSince(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]int64{}
	for _, u := range got {
		sum[u.KeyID+"/"+u.UserPseudonym] += u.Tokens
	}
	if want := map[string]int64{"k1/p1": 8, "k2/p1": 10}; !cmp.Equal(sum, want) {
		t.Errorf("TokensSince = %v, want %v", sum, want)
	}
}
