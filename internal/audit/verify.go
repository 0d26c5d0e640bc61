package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// ChainReader is what verification reads.
type ChainReader interface {
	ScanAudit(ctx context.Context, f store.AuditFilter, fn func(store.AuditRecord) error) error
	AuditHead(ctx context.Context) (store.ChainHead, error)
	Checkpoints(ctx context.Context, afterSeq int64, limit int) ([]store.Checkpoint, error)
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// PublicKey, when set, must have signed every checkpoint (pin the key
	// printed by `genguard audit pubkey` somewhere the data dir's owner
	// cannot rewrite).
	PublicKey ed25519.PublicKey
	// Retention, when set, flags records pruned sooner than this before Now.
	Retention time.Duration
	Now       time.Time
}

// Problem is the first bad record verification found.
type Problem struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

func (p *Problem) Error() string {
	if p.ID != "" {
		return fmt.Sprintf("audit record %d (%s): %s", p.Seq, p.ID, p.Reason)
	}
	return fmt.Sprintf("audit record %d: %s", p.Seq, p.Reason)
}

// VerifyReport summarises a verification.
type VerifyReport struct {
	OK          bool     `json:"ok"`
	Records     int64    `json:"records"`
	FirstSeq    int64    `json:"first_seq"`
	LastSeq     int64    `json:"last_seq"`
	HeadSeq     int64    `json:"head_seq"`
	AnchorSeq   int64    `json:"anchor_seq"` // checkpoint the chain starts from after pruning; 0: genesis
	Checkpoints int      `json:"checkpoints"`
	Keys        []string `json:"signing_keys"` // fingerprints
	Problem     *Problem `json:"problem,omitempty"`
}

// errStop ends the scan at the first problem.
var errStop = errors.New("stop")

// Verify walks the whole chain in seq order and reports the first record
// that was edited, deleted, moved or is missing, checking every checkpoint's
// signature and hash on the way. It reads in pages; memory stays flat.
func Verify(ctx context.Context, r ChainReader, o VerifyOptions) (VerifyReport, error) {
	var rep VerifyReport
	head, err := r.AuditHead(ctx)
	if err != nil {
		return rep, err
	}
	rep.HeadSeq = head.Seq
	cps := &cpCursor{r: r, opts: o}
	keys := map[string]bool{}
	cps.onKey = func(pub []byte) {
		if fp := KeyFingerprint(pub); !keys[fp] {
			keys[fp] = true
			rep.Keys = append(rep.Keys, fp)
		}
	}
	var (
		expect   int64 = 1
		prev     []byte
		prevID   string
		started  bool
		problem  *Problem
		lastHash []byte
	)
	fail := func(p *Problem) error { problem = p; return errStop }
	err = r.ScanAudit(ctx, store.AuditFilter{}, func(rec store.AuditRecord) error {
		if !started {
			started = true
			rep.FirstSeq = rec.Seq
			if rec.Seq != 1 {
				// Pruned: the first checkpoint must sit right before.
				c, err := cps.peek(ctx)
				if err != nil {
					return err
				}
				if c == nil || c.Seq != rec.Seq-1 {
					return fail(&Problem{Seq: 1, Reason: fmt.Sprintf("missing: the chain starts at %d and no checkpoint anchors it", rec.Seq)})
				}
				if p := cps.check(c); p != nil {
					return fail(p)
				}
				if o.Retention > 0 && c.Time.After(o.Now.Add(-o.Retention)) {
					return fail(&Problem{Seq: c.Seq, Reason: fmt.Sprintf("records up to here were pruned though the checkpoint is from %s, within the %s retention", c.Time.Format(time.RFC3339), o.Retention)})
				}
				cps.next()
				rep.AnchorSeq = c.Seq
				expect, prev = rec.Seq, c.Hash
			}
		}
		if rec.Seq != expect {
			return fail(&Problem{Seq: expect, Reason: fmt.Sprintf("missing: deleted or moved (next present is %d)", rec.Seq)})
		}
		if !bytes.Equal(store.ChainHash(rec), rec.Hash) {
			return fail(&Problem{Seq: rec.Seq, ID: rec.ID, Reason: "altered: its content does not match its hash"})
		}
		if !bytes.Equal(rec.PrevHash, prev) {
			if rec.Seq == rep.FirstSeq {
				return fail(&Problem{Seq: rec.Seq, ID: rec.ID, Reason: "does not chain to the anchoring checkpoint"})
			}
			// rec hashes correctly over its own PrevHash, so it was chained
			// to a different version of the record before it.
			return fail(&Problem{Seq: rec.Seq - 1, ID: prevID, Reason: "altered and re-hashed: the next record was chained to a different version"})
		}
		for {
			c, err := cps.peek(ctx)
			if err != nil {
				return err
			}
			if c == nil || c.Seq > rec.Seq {
				break
			}
			if p := cps.check(c); p != nil {
				return fail(p)
			}
			if c.Seq == rec.Seq && !bytes.Equal(c.Hash, rec.Hash) {
				return fail(&Problem{Seq: rec.Seq, ID: rec.ID, Reason: fmt.Sprintf("differs from the signed checkpoint: the chain was rewritten at or before this record (after checkpoint %d)", cps.lastGood)})
			}
			if c.Seq == rec.Seq {
				cps.lastGood = c.Seq
			}
			cps.next()
		}
		rep.Records++
		rep.LastSeq = rec.Seq
		expect, prev, prevID, lastHash = rec.Seq+1, rec.Hash, rec.ID, rec.Hash
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return rep, fmt.Errorf("verify audit: %w", err)
	}
	if problem == nil {
		problem, err = verifyTail(ctx, &rep, cps, head, started, expect, lastHash)
		if err != nil {
			return rep, fmt.Errorf("verify audit: %w", err)
		}
	}
	rep.Checkpoints = cps.seen
	rep.Problem = problem
	rep.OK = problem == nil
	return rep, nil
}

// verifyTail checks what follows the last record: the head and the
// remaining checkpoints must not point past it.
func verifyTail(ctx context.Context, rep *VerifyReport, cps *cpCursor, head store.ChainHead, started bool, expect int64, lastHash []byte) (*Problem, error) {
	if !started {
		// Empty table: fine if the head is empty or fully pruned to a
		// checkpoint of the head.
		if head.Seq == 0 {
			return nil, nil
		}
		c, err := cps.peek(ctx)
		if err != nil {
			return nil, err
		}
		if c != nil && c.Seq == head.Seq && bytes.Equal(c.Hash, head.Hash) {
			if p := cps.check(c); p != nil {
				return p, nil
			}
			cps.next()
			rep.AnchorSeq = c.Seq
			return nil, nil
		}
		return &Problem{Seq: 1, Reason: fmt.Sprintf("missing: no records, but the chain head is at %d", head.Seq)}, nil
	}
	for {
		c, err := cps.peek(ctx)
		if err != nil {
			return nil, err
		}
		if c == nil {
			break
		}
		if p := cps.check(c); p != nil {
			return p, nil
		}
		return &Problem{Seq: expect, Reason: fmt.Sprintf("missing: a signed checkpoint covers records up to %d; the tail was truncated", c.Seq)}, nil
	}
	if head.Seq > expect-1 {
		return &Problem{Seq: expect, Reason: fmt.Sprintf("missing: the chain head is at %d; the tail was truncated", head.Seq)}, nil
	}
	if head.Seq < expect-1 {
		return &Problem{Seq: head.Seq + 1, Reason: fmt.Sprintf("appended outside the chain: the head is at %d", head.Seq)}, nil
	}
	if !bytes.Equal(head.Hash, lastHash) {
		return &Problem{Seq: head.Seq, Reason: "the chain head's hash differs from the last record's"}, nil
	}
	return nil, nil
}

// cpCursor pages through checkpoints alongside the records.
type cpCursor struct {
	r        ChainReader
	opts     VerifyOptions
	buf      []store.Checkpoint
	after    int64
	done     bool
	seen     int
	lastGood int64
	onKey    func([]byte)
}

func (c *cpCursor) peek(ctx context.Context) (*store.Checkpoint, error) {
	if len(c.buf) == 0 && !c.done {
		b, err := c.r.Checkpoints(ctx, c.after, 256)
		if err != nil {
			return nil, err
		}
		c.buf = b
		if len(b) == 0 {
			c.done = true
		} else {
			c.after = b[len(b)-1].Seq
		}
	}
	if len(c.buf) == 0 {
		return nil, nil
	}
	return &c.buf[0], nil
}

func (c *cpCursor) next() {
	c.buf = c.buf[1:]
	c.seen++
}

// check verifies a checkpoint's signature (and pin).
func (c *cpCursor) check(cp *store.Checkpoint) *Problem {
	if len(cp.PublicKey) != ed25519.PublicKeySize || len(cp.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(cp.PublicKey, CheckpointMessage(cp.Seq, cp.Hash, cp.Time), cp.Signature) {
		return &Problem{Seq: cp.Seq, Reason: "its checkpoint's signature is invalid"}
	}
	if c.opts.PublicKey != nil && !bytes.Equal(cp.PublicKey, c.opts.PublicKey) {
		return &Problem{Seq: cp.Seq, Reason: fmt.Sprintf("its checkpoint is signed by key %s, not the pinned key %s", KeyFingerprint(cp.PublicKey), KeyFingerprint(c.opts.PublicKey))}
	}
	c.onKey(cp.PublicKey)
	return nil
}
