package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestNothingLostUnderLoad(t *testing.T) {
	db := open(t)
	l := New(db, Options{QueueSize: 16, BatchSize: 64, FlushInterval: time.Millisecond})
	go l.Run(context.Background())
	var wg sync.WaitGroup
	const writers, each = 8, 250
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Record(context.Background(), store.AuditRecord{ID: fmt.Sprintf("%d-%d", w, i), Time: time.Now()}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := db.CountAudit(context.Background())
	if err != nil || n != writers*each {
		t.Fatalf("CountAudit = %d, %v; want %d", n, err, writers*each)
	}
	if err := l.Record(context.Background(), store.AuditRecord{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
}

// blockingWriter holds every batch until released, to make the queue fill.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingWriter) InsertAudit(ctx context.Context, recs []store.AuditRecord) error {
	<-b.release
	b.mu.Lock()
	b.n += len(recs)
	b.mu.Unlock()
	return nil
}

func TestBackpressureBlocksInsteadOfDropping(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	l := New(bw, Options{QueueSize: 2, BatchSize: 1, FlushInterval: time.Millisecond})
	go l.Run(context.Background())
	// One record is taken by the writer (stuck), two fill the queue.
	for i := range 3 {
		if err := l.Record(context.Background(), store.AuditRecord{ID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full: a further Record blocks until its context ends.
	for l.Len() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Record(ctx, store.AuditRecord{ID: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Record on full queue = %v, want context.Canceled", err)
	}
	close(bw.release)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if bw.n != 3 {
		t.Errorf("written = %d, want 3 (the cancelled one was never accepted)", bw.n)
	}
}

type flakyWriter struct {
	fails int
	db    *sqlite.DB
}

func (f *flakyWriter) InsertAudit(ctx context.Context, recs []store.AuditRecord) error {
	if f.fails > 0 {
		f.fails--
		return errors.New("disk full")
	}
	return f.db.InsertAudit(ctx, recs)
}

func TestRetriesFailedBatches(t *testing.T) {
	db := open(t)
	l := New(&flakyWriter{fails: 3, db: db}, Options{QueueSize: 8, BatchSize: 8})
	go l.Run(context.Background())
	if err := l.RecordSync(context.Background(), store.AuditRecord{ID: "r", Time: time.Now()}); err != nil {
		t.Fatalf("RecordSync = %v", err)
	}
	if n, _ := db.CountAudit(context.Background()); n != 1 {
		t.Fatalf("count = %d, want 1 (committed before RecordSync returned)", n)
	}
	if l.Failures() != 3 {
		t.Errorf("Failures = %d, want 3", l.Failures())
	}
	l.Close(context.Background())
}

func BenchmarkRecord(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "a.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := New(db, Options{QueueSize: 8192, BatchSize: 512, FlushInterval: 5 * time.Millisecond})
	go l.Run(context.Background())
	rec := store.AuditRecord{ID: "req", Time: time.Now(), Endpoint: "/v1/chat/completions", Model: "demo", Decision: "pass"}
	ctx := context.Background()
	for b.Loop() {
		if err := l.Record(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	l.Close(ctx)
}
