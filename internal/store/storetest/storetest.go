// Package storetest is the contract every store implementation must meet. The
// SQLite tests run it always; a PostgreSQL implementation runs the same suite.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genguard/genguard/internal/store"
)

// Store is everything the contract exercises.
type Store interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMetaIfAbsent(ctx context.Context, key, value string) (bool, error)
	CreateUser(ctx context.Context, u store.User) error
	User(ctx context.Context, id string) (store.User, error)
	UserByName(ctx context.Context, name string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	CreateKey(ctx context.Context, k store.APIKey) error
	Key(ctx context.Context, id string) (store.APIKey, error)
	Keys(ctx context.Context, userID string) ([]store.APIKey, error)
	CountKeys(ctx context.Context, scope string) (int, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	InsertAudit(ctx context.Context, recs []store.AuditRecord) error
	AuditRecords(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error)
	CountAudit(ctx context.Context) (int64, error)
}

// Run runs the contract against stores made by open; each subtest gets a
// fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Meta", func(t *testing.T) { testMeta(t, open(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("AuditConcurrent", func(t *testing.T) { testAuditConcurrent(t, open(t)) })
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func testMeta(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Meta(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Meta(missing) err = %v, want ErrNotFound", err)
	}
	ok, err := s.SetMetaIfAbsent(ctx, "k", "v1")
	if err != nil || !ok {
		t.Fatalf("SetMetaIfAbsent first = %v, %v; want true, nil", ok, err)
	}
	ok, err = s.SetMetaIfAbsent(ctx, "k", "v2")
	if err != nil || ok {
		t.Fatalf("SetMetaIfAbsent second = %v, %v; want false, nil", ok, err)
	}
	if v, err := s.Meta(ctx, "k"); err != nil || v != "v1" {
		t.Fatalf("Meta = %q, %v; want v1", v, err)
	}
}

func testUsers(t *testing.T, s Store) {
	ctx := context.Background()
	a := store.User{ID: "u1", Name: "alice", CreatedAt: t0}
	b := store.User{ID: "u2", Name: "bob", CreatedAt: t0.Add(time.Second)}
	for _, u := range []store.User{a, b} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Name, err)
		}
	}
	if err := s.CreateUser(ctx, store.User{ID: "u3", Name: "alice", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser(duplicate name) err = %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx, store.User{ID: "u1", Name: "carol", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser(duplicate id) err = %v, want ErrConflict", err)
	}
	got, err := s.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("User(u1) mismatch (-want +got):\n%s", diff)
	}
	if got, err := s.UserByName(ctx, "bob"); err != nil || got.ID != "u2" {
		t.Errorf("UserByName(bob) = %v, %v", got, err)
	}
	if _, err := s.User(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(nope) err = %v, want ErrNotFound", err)
	}
	all, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.User{a, b}, all); diff != "" {
		t.Errorf("Users() mismatch (-want +got):\n%s", diff)
	}
}

func testKeys(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.CreateUser(ctx, store.User{ID: "u1", Name: "alice", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	k := store.APIKey{ID: "k1", UserID: "u1", Scope: store.ScopeUser, Hash: []byte{1, 2, 3}, CreatedAt: t0}
	adm := store.APIKey{ID: "a1", Scope: store.ScopeAdmin, Hash: []byte{9}, CreatedAt: t0}
	for _, key := range []store.APIKey{k, adm} {
		if err := s.CreateKey(ctx, key); err != nil {
			t.Fatalf("CreateKey(%s): %v", key.ID, err)
		}
	}
	if err := s.CreateKey(ctx, k); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateKey(duplicate) err = %v, want ErrConflict", err)
	}
	got, err := s.Key(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("Key(k1) mismatch (-want +got):\n%s", diff)
	}
	if n, err := s.CountKeys(ctx, store.ScopeAdmin); err != nil || n != 1 {
		t.Errorf("CountKeys(admin) = %d, %v; want 1", n, err)
	}
	if ks, err := s.Keys(ctx, "u1"); err != nil || len(ks) != 1 || ks[0].ID != "k1" {
		t.Errorf("Keys(u1) = %v, %v", ks, err)
	}
	if ks, err := s.Keys(ctx, ""); err != nil || len(ks) != 1 || ks[0].ID != "a1" {
		t.Errorf("Keys(admin) = %v, %v", ks, err)
	}
	rev := t0.Add(time.Hour)
	if err := s.RevokeKey(ctx, "k1", rev); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "k1", rev.Add(time.Hour)); err != nil {
		t.Fatalf("second RevokeKey: %v", err)
	}
	got, _ = s.Key(ctx, "k1")
	if !got.RevokedAt.Equal(rev) {
		t.Errorf("RevokedAt = %v, want first revocation %v", got.RevokedAt, rev)
	}
	if err := s.RevokeKey(ctx, "missing", rev); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey(missing) err = %v, want ErrNotFound", err)
	}
}

func rec(i int) store.AuditRecord {
	return store.AuditRecord{
		ID: fmt.Sprintf("req-%d", i), Time: t0.Add(time.Duration(i) * time.Second), UserPseudonym: "p1", KeyID: "k1",
		Endpoint: "/v1/chat/completions", Model: "demo", Upstream: "demo", Stage: "input", Decision: "block",
		Risks: []string{"A.1.f", "A.2.a"}, Status: 200, Stream: i%2 == 0, LatencyMicros: int64(i), PromptTokens: i, CompletionTokens: 2 * i,
	}
}

func testAudit(t *testing.T, s Store) {
	ctx := context.Background()
	var batch []store.AuditRecord
	for i := range 10 {
		batch = append(batch, rec(i))
	}
	if err := s.InsertAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAudit(ctx, nil); err != nil {
		t.Fatalf("InsertAudit(nil): %v", err)
	}
	got, err := s.AuditRecords(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("got %d records, want 10", len(got))
	}
	for i, r := range got {
		want := rec(i)
		want.Seq = r.Seq
		want.Kind = store.KindRequest
		want.PrevHash, want.Hash = r.PrevHash, r.Hash
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("record %d mismatch (-want +got):\n%s", i, diff)
		}
		if i > 0 && r.Seq <= got[i-1].Seq {
			t.Errorf("seq not increasing at %d", i)
		}
	}
	window, err := s.AuditRecords(ctx, store.AuditFilter{From: t0.Add(2 * time.Second), To: t0.Add(5 * time.Second)})
	if err != nil || len(window) != 3 || window[0].ID != "req-2" {
		t.Errorf("window = %d records (%v), want 3 from req-2", len(window), err)
	}
	page, err := s.AuditRecords(ctx, store.AuditFilter{AfterSeq: got[7].Seq, Limit: 5})
	if err != nil || len(page) != 2 {
		t.Errorf("page after 7 = %d records, %v; want 2", len(page), err)
	}
}

func testAuditConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			var batch []store.AuditRecord
			for i := range 50 {
				batch = append(batch, rec(w*1000+i))
			}
			errs <- s.InsertAudit(ctx, batch)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountAudit(ctx); err != nil || n != 400 {
		t.Errorf("CountAudit = %d, %v; want 400", n, err)
	}
}
