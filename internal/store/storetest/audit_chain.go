package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// ChainStore is what the audit-chain contract exercises.
type ChainStore interface {
	InsertAudit(ctx context.Context, recs []store.AuditRecord) error
	ScanAudit(ctx context.Context, f store.AuditFilter, fn func(store.AuditRecord) error) error
	AuditRecords(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error)
	AuditHead(ctx context.Context) (store.ChainHead, error)
	InsertCheckpoint(ctx context.Context, c store.Checkpoint) error
	Checkpoints(ctx context.Context, afterSeq int64, limit int) ([]store.Checkpoint, error)
	LastCheckpoint(ctx context.Context) (store.Checkpoint, error)
	PruneAudit(ctx context.Context, cutoff time.Time) (anchor, deleted int64, err error)
	AuditCounts(ctx context.Context, from, to time.Time) ([]store.AuditCount, error)
}

// RunAuditChain runs the audit-chain contract against fresh stores.
func RunAuditChain(t *testing.T, open func(t *testing.T) ChainStore) {
	t.Run("ChainLinks", func(t *testing.T) { testChainLinks(t, open(t)) })
	t.Run("ChainConcurrent", func(t *testing.T) { testChainConcurrent(t, open(t)) })
	t.Run("EventFields", func(t *testing.T) { testEventFields(t, open(t)) })
	t.Run("KindFilter", func(t *testing.T) { testKindFilter(t, open(t)) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("Counts", func(t *testing.T) { testCounts(t, open(t)) })
}

// checkChain asserts records form one unbroken chain from seq 1.
func checkChain(t *testing.T, s ChainStore) int64 {
	t.Helper()
	ctx := context.Background()
	var prev []byte
	var n int64
	err := s.ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error {
		n++
		if r.Seq != n {
			return fmt.Errorf("seq %d at position %d", r.Seq, n)
		}
		if !bytes.Equal(r.PrevHash, prev) {
			return fmt.Errorf("record %d: prev hash %x, want %x", r.Seq, r.PrevHash, prev)
		}
		if h := store.ChainHash(r); !bytes.Equal(h, r.Hash) {
			return fmt.Errorf("record %d: hash %x, recomputed %x", r.Seq, r.Hash, h)
		}
		prev = r.Hash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	head, err := s.AuditHead(ctx)
	if err != nil || head.Seq != n || !bytes.Equal(head.Hash, prev) {
		t.Fatalf("AuditHead = %d %x, %v; want %d %x", head.Seq, head.Hash, err, n, prev)
	}
	return n
}

func testChainLinks(t *testing.T, s ChainStore) {
	ctx := context.Background()
	if h, err := s.AuditHead(ctx); err != nil || h.Seq != 0 {
		t.Fatalf("empty AuditHead = %+v, %v", h, err)
	}
	for b := range 3 {
		batch := []store.AuditRecord{rec(b*2 + 0), rec(b*2 + 1)}
		if err := s.InsertAudit(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// The store fills in the chain fields of what it wrote.
		if batch[1].Seq != int64(b*2+2) || batch[1].Kind != store.KindRequest || !bytes.Equal(batch[1].PrevHash, batch[0].Hash) {
			t.Errorf("batch %d not filled in: %+v", b, batch[1])
		}
	}
	if n := checkChain(t, s); n != 6 {
		t.Errorf("chain has %d records, want 6", n)
	}
}

func testChainConcurrent(t *testing.T, s ChainStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				errs <- s.InsertAudit(ctx, []store.AuditRecord{rec(w*100 + i), rec(w*100 + i + 50)})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := checkChain(t, s); n != 80 {
		t.Errorf("chain has %d records, want 80", n)
	}
}

func testEventFields(t *testing.T, s ChainStore) {
	ctx := context.Background()
	e := store.AuditRecord{Kind: "sanction.issued", ID: "s1", Time: t0, Actor: "admin:a1", Subject: "u_x",
		Details: []byte(`{"action":"warn"}`), Evidence: []string{"req-1", `quote"and,comma`}}
	if err := s.InsertAudit(ctx, []store.AuditRecord{e}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditRecords(ctx, store.AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("AuditRecords = %v, %v", got, err)
	}
	g := got[0]
	if g.Kind != e.Kind || g.Actor != e.Actor || g.Subject != e.Subject || string(g.Details) != string(e.Details) ||
		len(g.Evidence) != 2 || g.Evidence[1] != e.Evidence[1] || !g.Time.Equal(t0) {
		t.Errorf("round trip = %+v, want %+v", g, e)
	}
	// Evidence that JSON would alter (invalid UTF-8) still verifies.
	if err := s.InsertAudit(ctx, []store.AuditRecord{{Kind: "x", ID: "bad", Time: t0, Evidence: []string{"\xff"}}}); err != nil {
		t.Fatal(err)
	}
	checkChain(t, s)
}

func testKindFilter(t *testing.T, s ChainStore) {
	ctx := context.Background()
	recs := []store.AuditRecord{rec(0),
		{Kind: "sanction.issued", ID: "a", Time: t0}, {Kind: "sanctions", ID: "b", Time: t0}, {Kind: "sanction.lifted", ID: "c", Time: t0}}
	if err := s.InsertAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		kind string
		want int
	}{{"", 4}, {"sanction.", 2}, {"sanctions", 1}, {"request", 1}, {"nope", 0}} {
		got, err := s.AuditRecords(ctx, store.AuditFilter{Kind: tt.kind})
		if err != nil || len(got) != tt.want {
			t.Errorf("AuditRecords(kind %q) = %d, %v; want %d", tt.kind, len(got), err, tt.want)
		}
	}
	// Paging through ScanAudit with a limit stops at the limit.
	var n int
	if err := s.ScanAudit(ctx, store.AuditFilter{Limit: 3}, func(store.AuditRecord) error { n++; return nil }); err != nil || n != 3 {
		t.Errorf("ScanAudit(limit 3) visited %d, %v", n, err)
	}
	stop := errors.New("stop")
	if err := s.ScanAudit(ctx, store.AuditFilter{}, func(store.AuditRecord) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ScanAudit callback error = %v, want it returned", err)
	}
}

func testCheckpoints(t *testing.T, s ChainStore) {
	ctx := context.Background()
	if _, err := s.LastCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastCheckpoint(empty) = %v, want ErrNotFound", err)
	}
	c := store.Checkpoint{Seq: 3, Hash: []byte{1}, Time: t0, PublicKey: []byte{2}, Signature: []byte{3}}
	for range 2 { // the second is ignored, not an error
		if err := s.InsertCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertCheckpoint(ctx, store.Checkpoint{Seq: 7, Hash: []byte{7}, Time: t0, PublicKey: []byte{2}, Signature: []byte{3}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Checkpoints(ctx, 0, 10)
	if err != nil || len(all) != 2 || all[0].Seq != 3 || !all[0].Time.Equal(t0) || string(all[0].Signature) != "\x03" {
		t.Errorf("Checkpoints = %+v, %v", all, err)
	}
	if after, _ := s.Checkpoints(ctx, 3, 10); len(after) != 1 || after[0].Seq != 7 {
		t.Errorf("Checkpoints(after 3) = %+v", after)
	}
	if last, err := s.LastCheckpoint(ctx); err != nil || last.Seq != 7 {
		t.Errorf("LastCheckpoint = %+v, %v", last, err)
	}
}

func testPrune(t *testing.T, s ChainStore) {
	ctx := context.Background()
	var batch []store.AuditRecord
	for i := range 10 {
		batch = append(batch, rec(i)) // t0+0s … t0+9s
	}
	if err := s.InsertAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	cutoff := t0.Add(6 * time.Second) // records 1-6 (times 0-5s) are old
	if _, _, err := s.PruneAudit(ctx, cutoff); err == nil {
		t.Fatal("PruneAudit without a checkpoint succeeded; the rest would be unverifiable")
	}
	for _, seq := range []int64{2, 4, 8} {
		if err := s.InsertCheckpoint(ctx, store.Checkpoint{Seq: seq, Hash: batch[seq-1].Hash, Time: t0, PublicKey: []byte{1}, Signature: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	anchor, deleted, err := s.PruneAudit(ctx, cutoff)
	if err != nil || anchor != 4 || deleted != 4 {
		t.Fatalf("PruneAudit = %d, %d, %v; want anchor 4, 4 deleted", anchor, deleted, err)
	}
	left, _ := s.AuditRecords(ctx, store.AuditFilter{})
	if len(left) != 6 || left[0].Seq != 5 || !bytes.Equal(left[0].PrevHash, batch[3].Hash) {
		t.Errorf("after prune: %d records from %d", len(left), left[0].Seq)
	}
	cps, _ := s.Checkpoints(ctx, 0, 10)
	if len(cps) != 2 || cps[0].Seq != 4 {
		t.Errorf("checkpoints after prune = %+v, want the anchor 4 and 8", cps)
	}
	// Appending continues the chain after pruning.
	if err := s.InsertAudit(ctx, []store.AuditRecord{rec(10)}); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.AuditHead(ctx); h.Seq != 11 {
		t.Errorf("head after prune and append = %d, want 11", h.Seq)
	}
}

func testCounts(t *testing.T, s ChainStore) {
	ctx := context.Background()
	a, b := rec(0), rec(1)
	b.Decision = "pass"
	b.Risks = nil
	if err := s.InsertAudit(ctx, []store.AuditRecord{a, a, b, {Kind: "incident", ID: "i", Time: t0}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditCounts(ctx, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"incident||||0": 1, "request|input|block|A.1.f,A.2.a|200": 2, "request|input|pass||200": 1}
	if len(got) != len(want) {
		t.Fatalf("AuditCounts = %+v, want %d groups", got, len(want))
	}
	for _, c := range got {
		k := fmt.Sprintf("%s|%s|%s|%s|%d", c.Kind, c.Stage, c.Decision, c.Risks, c.Status)
		if want[k] != c.N {
			t.Errorf("count %s = %d, want %d", k, c.N, want[k])
		}
	}
}
