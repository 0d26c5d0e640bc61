package account

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T) (*Service, *sqlite.DB, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(db, Options{Now: c.now, CacheTTL: 2 * time.Second, PseudonymKey: []byte("k")}), db, c
}

func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	s, db, c := newService(t)
	u, secret, err := s.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "gg-") {
		t.Fatalf("secret %q lacks prefix", secret)
	}
	p, err := s.Authenticate(ctx, secret)
	if err != nil || p.UserID != u.ID || p.Admin() {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	keys, _ := db.Keys(ctx, u.ID)
	if len(keys) != 1 || strings.Contains(string(keys[0].Hash), secret) {
		t.Fatalf("stored key = %+v", keys)
	}
	// A revocation by another process (directly in the store) is seen once
	// the cache entry expires.
	if err := db.RevokeKey(ctx, p.KeyID, c.t); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatalf("within TTL the cached key still works: %v", err)
	}
	c.t = c.t.Add(3 * time.Second)
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("after TTL err = %v, want ErrUnauthorized", err)
	}
	// Revoke through the service takes effect at once.
	k2, s2, err := s.IssueKey(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, s2); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("after Revoke err = %v", err)
	}
	if err := s.Revoke(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Revoke(nope) = %v, want ErrNotFound", err)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	_, secret, _ := s.CreateUser(ctx, "bob")
	tampered := secret[:len(secret)-1] + string(rune('A'+(secret[len(secret)-1]+1)%26))
	for _, tok := range []string{"", "gg-", "sk-123", "gg-abc.def", secret + "x", tampered, strings.Replace(secret, "gg-", "gg-x", 1)} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Authenticate(%q) err = %v, want ErrUnauthorized", tok, err)
		}
	}
}

func TestAdminKeyOnce(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	secret, created, err := s.EnsureAdminKey(ctx)
	if err != nil || !created || secret == "" {
		t.Fatalf("first EnsureAdminKey = %q, %v, %v", secret, created, err)
	}
	again, created, err := s.EnsureAdminKey(ctx)
	if err != nil || created || again != "" {
		t.Fatalf("second EnsureAdminKey = %q, %v, %v; want nothing new", again, created, err)
	}
	p, err := s.Authenticate(ctx, secret)
	if err != nil || !p.Admin() {
		t.Fatalf("admin Authenticate = %+v, %v", p, err)
	}
}

func TestNames(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	for _, n := range []string{"", " x", "a\x00b", strings.Repeat("n", 65), "bad\nname"} {
		if _, _, err := s.CreateUser(ctx, n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CreateUser(%q) err = %v, want ErrInvalidName", n, err)
		}
	}
	if _, _, err := s.CreateUser(ctx, "张三"); err != nil {
		t.Errorf("CreateUser(张三): %v", err)
	}
	if _, _, err := s.CreateUser(ctx, "张三"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name err = %v, want ErrConflict", err)
	}
}

func TestPseudonymStableAndOpaque(t *testing.T) {
	s, _, _ := newService(t)
	a, b := s.Pseudonym("u_1"), s.Pseudonym("u_1")
	if a != b || strings.Contains(a, "u_1") || s.Pseudonym("u_2") == a {
		t.Errorf("pseudonyms %q %q %q", a, b, s.Pseudonym("u_2"))
	}
}
