package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"

	"time"

	"go.yaml.in/yaml/v3"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// SigningKeyFile is the default checkpoint key inside the data directory.
const SigningKeyFile = "audit-signing.key"

// AuditSigningKey loads (creating on first use) the key that signs chain
// checkpoints.
func AuditSigningKey(cfg config.Config) (ed25519.PrivateKey, error) {
	p := cfg.Audit.SigningKeyFile
	if p == "" {
		p = filepath.Join(cfg.DataDir, SigningKeyFile)
	}
	return audit.LoadOrCreateKey(p)
}

// auditOptions are the Log's options with checkpoints signed by key.
func auditOptions(cfg config.Config, db *sqlite.DB, key ed25519.PrivateKey, now func() time.Time) audit.Options {
	if now == nil {
		now = time.Now
	}
	return audit.Options{
		QueueSize: cfg.Audit.QueueSize, BatchSize: cfg.Audit.BatchSize, FlushInterval: cfg.Audit.FlushInterval.D(),
		Now:             now,
		CheckpointEvery: cfg.Audit.CheckpointEvery, CheckpointInterval: cfg.Audit.CheckpointInterval.D(),
		Checkpoint: func(ctx context.Context) error {
			_, err := audit.Checkpoint(ctx, db, key, now())
			return err
		},
	}
}

// RecordChanges appends config.changed and lexicon.changed events when the
// config or keyword library differs from the last recorded version, so the
// chain holds every version that served (Measures Art. 14, TC260 §8.1's
// weekly-update evidence). Secrets are redacted before hashing.
func RecordChanges(ctx context.Context, db *sqlite.DB, cfg config.Config, actor string) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("hash config: %w", err)
	}
	sum := sha256.Sum256(b)
	var events []audit.Event
	if last, err := lastDetail(ctx, db, audit.KindConfigChanged, "sha256"); err != nil {
		return err
	} else if h := hex.EncodeToString(sum[:]); h != last {
		events = append(events, audit.Event{Kind: audit.KindConfigChanged, Actor: actor, Subject: "config",
			Details: map[string]any{"sha256": h, "previous": last}})
	}
	lib, err := LoadLibrary(cfg.Moderation)
	if err != nil {
		return err
	}
	st := lib.Stats()
	if last, err := lastDetail(ctx, db, audit.KindLexiconChange, "sha256"); err != nil {
		return err
	} else if st.Hash != last {
		byRisk := map[string]int{}
		for c, n := range st.ByRisk {
			byRisk[string(c)] = n
		}
		short := make([]string, 0, len(st.Short))
		for _, c := range st.Short {
			short = append(short, string(c))
		}
		events = append(events, audit.Event{Kind: audit.KindLexiconChange, Actor: actor, Subject: "keyword-library",
			Details: map[string]any{"sha256": st.Hash, "previous": last, "terms": st.Total, "allow": st.Allow, "by_risk": byRisk,
				"short": short, "file": cfg.Moderation.LexiconFile}})
	}
	if len(events) == 0 {
		return nil
	}
	return audit.Append(ctx, db, time.Now(), events...)
}

// lastDetail returns a string field of the newest event of kind ("" if none).
func lastDetail(ctx context.Context, db *sqlite.DB, kind, field string) (string, error) {
	var last store.AuditRecord
	if err := db.ScanAudit(ctx, store.AuditFilter{Kind: kind}, func(r store.AuditRecord) error { last = r; return nil }); err != nil {
		return "", fmt.Errorf("read %s events: %w", kind, err)
	}
	var d map[string]any
	if json.Unmarshal(last.Details, &d) != nil {
		return "", nil
	}
	s, _ := d[field].(string)
	return s, nil
}

// incidents opens an incident for every blocked request (Measures Art. 14).
type incidents struct {
	log *audit.Log
}

// Observe queues the incident without waiting for the commit: it runs on
// the request path, under the same backpressure as the request record.
func (i incidents) Observe(ctx context.Context, _ account.Principal, rec store.AuditRecord, hits []moderation.Hit) {
	ms := make([]audit.Match, 0, len(hits))
	for _, h := range hits {
		ms = append(ms, audit.Match{Risk: string(h.Risk), Term: h.Term, Action: h.Action.String(), Start: h.Start, End: h.End, Source: h.Source})
	}
	e, ok := audit.IncidentEvent(rec, ms)
	if !ok {
		return
	}
	// A queue closed at shutdown is the only error; the request record
	// itself has the same fate and is logged by the handler.
	_ = i.log.EventAsync(ctx, e)
}
