package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

type discardWriter struct{}

func (discardWriter) InsertAudit(context.Context, []store.AuditRecord) error { return nil }

func benchRecord(i int) store.AuditRecord {
	return store.AuditRecord{ID: fmt.Sprintf("req-%d", i), Time: time.Now(), UserPseudonym: "u_0123456789abcdef", KeyID: "key_0123",
		Endpoint: "/v1/chat/completions", Model: "demo", Upstream: "demo", Stage: "output", Decision: "pass", Status: 200,
		LatencyMicros: 1234, PromptTokens: 20, CompletionTokens: 200}
}

// BenchmarkRecordEnqueue is the request path's cost: queue one record.
func BenchmarkRecordEnqueue(b *testing.B) {
	l := New(discardWriter{}, Options{QueueSize: 8192, BatchSize: 512})
	go l.Run(context.Background())
	defer l.Close(context.Background())
	ctx := context.Background()
	r := benchRecord(0)
	for b.Loop() {
		if err := l.Record(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIncidentEnqueue is the extra cost of a blocked request: build
// the incident and queue it.
func BenchmarkIncidentEnqueue(b *testing.B) {
	l := New(discardWriter{}, Options{QueueSize: 8192, BatchSize: 512})
	go l.Run(context.Background())
	defer l.Close(context.Background())
	ctx := context.Background()
	r := benchRecord(0)
	r.Decision, r.Risks = "block", []string{"A.1.f"}
	hits := []Match{{Risk: "A.1.f", Term: "色情", Action: "block", Start: 12, End: 18, Source: "starter:1"}}
	for b.Loop() {
		e, _ := IncidentEvent(r, hits)
		if err := l.EventAsync(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainHash is the hashing the writer adds per record.
func BenchmarkChainHash(b *testing.B) {
	r := benchRecord(0)
	r.PrevHash = make([]byte, 32)
	r.Seq = 42
	for b.Loop() {
		store.ChainHash(r)
	}
}

// BenchmarkInsertBatch is the writer's throughput: one transaction of 512
// chained records on a real SQLite file (synchronous=FULL).
func BenchmarkInsertBatch(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch := make([]store.AuditRecord, 512)
	for i := range batch {
		batch[i] = benchRecord(i)
	}
	ctx := context.Background()
	for b.Loop() {
		if err := db.InsertAudit(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}
