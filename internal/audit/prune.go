package audit

import (
	"context"
	"fmt"
	"time"
)

// MinRetention is the shortest retention Prune accepts: network logs are
// kept at least six months (Cybersecurity Law Art. 21); 183 days covers
// any six calendar months.
const MinRetention = 183 * 24 * time.Hour

// Pruner deletes old records down to an anchoring checkpoint.
type Pruner interface {
	Writer
	PruneAudit(ctx context.Context, cutoff time.Time) (anchor, deleted int64, err error)
}

// Prune deletes records older than retention, keeping the newest checkpoint
// at or before them as the anchor of what remains, and records the pruning
// itself in the chain.
func Prune(ctx context.Context, p Pruner, now time.Time, retention time.Duration, actor string) (anchor, deleted int64, err error) {
	if retention < MinRetention {
		return 0, 0, fmt.Errorf("prune audit: retention %s is shorter than the legal minimum %s", retention, MinRetention)
	}
	cutoff := now.Add(-retention)
	anchor, deleted, err = p.PruneAudit(ctx, cutoff)
	if err != nil {
		return 0, 0, err
	}
	err = Append(ctx, p, now, Event{Kind: KindAuditPruned, Actor: actor,
		Details: map[string]any{"cutoff": cutoff.UTC().Format(time.RFC3339), "anchor_seq": anchor, "deleted": deleted}})
	return anchor, deleted, err
}
