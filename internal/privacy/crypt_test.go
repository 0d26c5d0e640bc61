package privacy

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
)

func TestKeyringRotation(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old, err := NewKeyring("k1", map[string][]byte{"k1": k1})
	if err != nil {
		t.Fatal(err)
	}
	id, sealed := old.Seal([]byte("机密"), []byte("req1"))
	if bytes.Contains(sealed, []byte("机密")) {
		t.Fatal("plaintext visible in the sealed value")
	}
	rotated, _ := NewKeyring("k2", map[string][]byte{"k1": k1, "k2": k2})
	if pt, err := rotated.Open(id, sealed, []byte("req1")); err != nil || string(pt) != "机密" {
		t.Fatalf("old text after rotation = %q, %v", pt, err)
	}
	if id2, _ := rotated.Seal([]byte("x"), nil); id2 != "k2" {
		t.Errorf("new text sealed with %s, want k2", id2)
	}
	if _, err := rotated.Open(id, sealed, []byte("req2")); err == nil {
		t.Error("sealed text moved to another record opened")
	}
	dropped, _ := NewKeyring("k2", map[string][]byte{"k2": k2})
	if _, err := dropped.Open(id, sealed, []byte("req1")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("dropped key err = %v", err)
	}
	if _, err := dropped.Open("k2", sealed[:5], nil); err == nil {
		t.Error("truncated value opened")
	}
	for _, bad := range []map[string][]byte{{"k1": []byte("short")}, {"": k1}} {
		if _, err := NewKeyring("k1", bad); err == nil {
			t.Errorf("NewKeyring(%v) accepted", bad)
		}
	}
	if _, err := NewKeyring("k9", map[string][]byte{"k1": k1}); err == nil {
		t.Error("current key not in the ring accepted")
	}
}

// memTexts is an in-memory TextStoreDB.
type memTexts struct {
	mu        sync.Mutex
	rows      []store.StoredText
	withdrawn map[string]bool
}

func (m *memTexts) InsertStoredTexts(_ context.Context, ts []store.StoredText) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, ts...)
	return nil
}
func (m *memTexts) StoredTexts(_ context.Context, p, _ string, _ int) ([]store.StoredText, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.StoredText
	for _, r := range m.rows {
		if r.UserPseudonym == p {
			out = append(out, r)
		}
	}
	return out, nil
}
func (m *memTexts) PurgeStoredTexts(_ context.Context, before time.Time, _ int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keep []store.StoredText
	for _, r := range m.rows {
		if !r.CreatedAt.Before(before) {
			keep = append(keep, r)
		}
	}
	n := len(m.rows) - len(keep)
	m.rows = keep
	return int64(n), nil
}
func (m *memTexts) DeleteStoredTexts(context.Context, string) (int64, error) { return 0, nil }
func (m *memTexts) ConsentWithdrawn(_ context.Context, u string) (bool, error) {
	return m.withdrawn[u], nil
}

func TestTextStoreRedactsEncryptsPurgesAndStops(t *testing.T) {
	db := &memTexts{withdrawn: map[string]bool{"u_optout": true}}
	ring, _ := NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := NewTextStore(db, NewDetector(), ring, TextOptions{Retention: time.Hour, PurgeInterval: 10 * time.Millisecond, Pseudonym: func(u string) string { return "p_" + u }, Now: clock})
	stop, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ts.Run(stop) }()
	ts.StoreText(context.Background(), "u1", "req1", "我的手机13912345678", "好的")
	ts.StoreText(context.Background(), "u_optout", "req2", "secret", "x")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s, _, _ := ts.Stats(); s == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	texts, err := ts.Texts(context.Background(), "u1")
	if err != nil || len(texts) != 2 || texts[0].Text != "我的手机[手机号]" {
		t.Fatalf("texts = %+v, %v", texts, err)
	}
	for _, r := range db.rows {
		if bytes.Contains(r.Sealed, []byte("好的")) || r.UserPseudonym == "p_u_optout" {
			t.Fatalf("row stored in clear or despite withdrawn consent: %+v", r)
		}
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, _, p := ts.Stats(); p == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, _, p := ts.Stats(); p != 2 {
		t.Errorf("purged = %d, want 2", p)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	ts.StoreText(context.Background(), "u1", "req3", "after stop", "")
}
