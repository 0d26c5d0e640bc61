package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// TestServerPrunesPastRetention: with audit.prune_interval set, the server
// prunes records past the retention period by itself, anchored at a
// checkpoint, and the chain still verifies.
func TestServerPrunesPastRetention(t *testing.T) {
	// Start at the real time: events written by other processes (the CLI's
	// checkpoint) carry the real clock.
	clock := &testClock{t: time.Now()}
	g := startGateway(t, "audit: {prune_interval: 20ms}\n", withClock(clock.Now))
	// Through the admin API, so every record carries the server's clock
	// (a CLI process would stamp its own).
	key := g.post("/admin/users", g.adminKey, `{"name":"old-user"}`).json(t)["api_key"].(string)
	for range 3 {
		if r := g.post("/v1/chat/completions", key, chat("你好", false)); r.status != 200 {
			t.Fatalf("chat = %d", r.status)
		}
	}
	g.waitAudit(3)
	if out, errs, code := g.cli("audit", "checkpoint"); code != 0 {
		t.Fatalf("audit checkpoint = %d %s %s", code, out, errs)
	}
	// Seven months later the old records are past the 183-day retention.
	clock.Add(7 * 30 * 24 * time.Hour)
	waitFor(t, "the pruning event", func() bool { return len(g.events("audit.pruned")) > 0 })
	if n := len(g.auditRecords()); n != 0 {
		t.Errorf("%d old request records remain after pruning", n)
	}
	// Verify as of the server's clock (the CLI would use the real one and
	// rightly call a pruning inside the retention tampering).
	db, err := sqlite.Open(context.Background(), filepath.Join(g.dataDir, app.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := audit.Verify(context.Background(), db, audit.VerifyOptions{Retention: 183 * 24 * time.Hour, Now: clock.Now()})
	if err != nil || !rep.OK || rep.AnchorSeq == 0 {
		t.Errorf("verify after pruning = %+v, %v; want OK from a checkpoint anchor", rep, err)
	}
}
