package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/storetest"
)

func TestAuditChainContract(t *testing.T) {
	storetest.RunAuditChain(t, func(t *testing.T) storetest.ChainStore {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "genguard.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// Two handles on one file stand in for two processes (server and CLI).
func TestAuditChainTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			for j := range 40 {
				r := store.AuditRecord{ID: "x", Time: time.Unix(int64(i*1000+j), 0)}
				if err := db.InsertAudit(ctx, []store.AuditRecord{r, r}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var prev []byte
	var n int64
	dbs[0].ScanAudit(ctx, store.AuditFilter{}, func(r store.AuditRecord) error {
		n++
		if r.Seq != n || string(r.PrevHash) != string(prev) || string(store.ChainHash(r)) != string(r.Hash) {
			t.Fatalf("chain broken at %d", r.Seq)
		}
		prev = r.Hash
		return nil
	})
	if n != 160 {
		t.Errorf("%d records, want 160", n)
	}
}

// Records written before migration 0005 are hashed by it, and are then
// append-only.
func TestLegacyRecordsChainedByMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	init, _ := migrations.ReadFile("migrations/0001_init.sql")
	for _, q := range []string{
		`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		string(init),
		`INSERT INTO schema_migrations VALUES ('migrations/0001_init.sql', 0)`,
		`INSERT INTO audit_records (id, time_us, user_pseudonym, key_id, endpoint, model, upstream, stage, decision, risks, status, stream, latency_us, prompt_tokens, completion_tokens)
		 VALUES ('old-1', 1, 'p', 'k', '/v1/chat/completions', 'm', 'u', 'input', 'block', 'A.1.a', 200, 0, 5, 1, 2),
		        ('old-2', 2, 'p', 'k', '/v1/chat/completions', 'm', 'u', '', 'pass', '', 200, 1, 5, 1, 2)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.InsertAudit(ctx, []store.AuditRecord{{ID: "new", Time: time.Unix(3, 0)}}); err != nil {
		t.Fatal(err)
	}
	recs, _ := db.AuditRecords(ctx, store.AuditFilter{})
	if len(recs) != 3 || recs[0].Kind != store.KindRequest || recs[0].PrevHash != nil ||
		string(recs[1].PrevHash) != string(recs[0].Hash) || string(recs[2].PrevHash) != string(recs[1].Hash) {
		t.Fatalf("legacy chain = %+v", recs)
	}
	for _, r := range recs {
		if string(store.ChainHash(r)) != string(r.Hash) {
			t.Errorf("record %d hash does not verify", r.Seq)
		}
	}
	if _, err := raw.ExecContext(ctx, `UPDATE audit_records SET decision = 'pass' WHERE seq = 1`); err == nil {
		t.Error("UPDATE of a chained record succeeded; want the append-only trigger to refuse")
	}
}
