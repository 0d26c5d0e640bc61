package audit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
)

func TestEventDurableAndChained(t *testing.T) {
	db := open(t)
	l := New(db, Options{})
	go l.Run(context.Background())
	defer l.Close(context.Background())
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if err := l.Record(ctx, store.AuditRecord{ID: "req-1", Time: at}); err != nil {
		t.Fatal(err)
	}
	e := Event{ID: "sanc-1", Time: at.Add(time.Second), Kind: "sanction.issued", Actor: "admin:k1", Subject: "u_abc",
		Details: map[string]any{"z": 1, "action": "warn"}, Evidence: []string{"req-1"}}
	if err := l.Event(ctx, e); err != nil {
		t.Fatal(err)
	}
	// Durable before return: visible to another reader right away.
	got, err := db.AuditRecords(ctx, store.AuditFilter{Kind: "sanction."})
	if err != nil || len(got) != 1 {
		t.Fatalf("AuditRecords(sanction.) = %d, %v; want 1", len(got), err)
	}
	r := got[0]
	if r.Kind != "sanction.issued" || r.ID != "sanc-1" || r.Actor != "admin:k1" || r.Subject != "u_abc" ||
		string(r.Details) != `{"action":"warn","z":1}` || len(r.Evidence) != 1 || r.Evidence[0] != "req-1" || !r.Time.Equal(e.Time) {
		t.Errorf("stored event = %+v", r)
	}
	if r.Seq != 2 || len(r.PrevHash) != 32 || string(store.ChainHash(r)) != string(r.Hash) {
		t.Errorf("event not chained: seq %d prev %x hash %x", r.Seq, r.PrevHash, r.Hash)
	}
}

func TestDirectAppendsWithoutLog(t *testing.T) {
	db := open(t)
	d := NewDirect(db)
	if err := d.Event(context.Background(), Event{Kind: "admin.user_created", Actor: "cli", Subject: "u1", Details: json.RawMessage(` { "name" : "alice" } `)}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.AuditRecords(context.Background(), store.AuditFilter{})
	if len(got) != 1 || !strings.HasPrefix(got[0].ID, "evt_") || string(got[0].Details) != `{"name":"alice"}` || got[0].Time.IsZero() {
		t.Fatalf("got %+v", got)
	}
}

func TestEventValidation(t *testing.T) {
	d := NewDirect(nil) // never reached: validation fails first
	tests := []struct {
		name string
		give Event
	}{
		{"empty kind", Event{}},
		{"request kind", Event{Kind: "request"}},
		{"upper case", Event{Kind: "Sanction"}},
		{"long kind", Event{Kind: strings.Repeat("a", MaxKindLen+1)}},
		{"long actor", Event{Kind: "x", Actor: strings.Repeat("a", MaxFieldLen+1)}},
		{"bad utf8", Event{Kind: "x", Subject: "\xff"}},
		{"many evidence", Event{Kind: "x", Evidence: make([]string, MaxEvidence+1)}},
		{"empty evidence", Event{Kind: "x", Evidence: []string{""}}},
		{"unmarshalable", Event{Kind: "x", Details: func() {}}},
		{"huge details", Event{Kind: "x", Details: strings.Repeat("a", MaxDetailsLen)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.Event(context.Background(), tt.give); !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("Event(%s) = %v, want ErrInvalidEvent", tt.name, err)
			}
		})
	}
}
