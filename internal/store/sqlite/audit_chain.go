package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// afterMigration runs the Go part of a migration, in its transaction.
func afterMigration(ctx context.Context, tx *sql.Tx, name string) error {
	switch name {
	case "migrations/0005_audit_chain.sql":
		return chainLegacy(ctx, tx)
	}
	return nil
}

// chainLegacy hashes the records written before the chain existed, in seq
// order, and sets the head. Pages keep memory bounded on a large table.
func chainLegacy(ctx context.Context, tx *sql.Tx) error {
	var head store.ChainHead
	const page = 1000
	for {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`, head.Seq, page)
		if err != nil {
			return err
		}
		var recs []store.AuditRecord
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			r.PrevHash = head.Hash
			r.Hash = store.ChainHash(r)
			if _, err := tx.ExecContext(ctx, `UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?`, nonNilBytes(r.PrevHash), r.Hash, r.Seq); err != nil {
				return err
			}
			head = store.ChainHead{Seq: r.Seq, Hash: r.Hash}
		}
		if len(recs) < page {
			break
		}
	}
	if head.Seq == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, ?, ?)`, head.Seq, head.Hash)
	return err
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func readHead(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (store.ChainHead, error) {
	var h store.ChainHead
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_chain_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ChainHead{}, nil
	}
	return h, err
}

// appendAudit chains and inserts recs after the current head. The caller's
// transaction must hold the write lock (BEGIN IMMEDIATE).
func appendAudit(ctx context.Context, tx *sql.Tx, recs []store.AuditRecord) error {
	head, err := readHead(ctx, tx)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_records (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range recs {
		r := &recs[i]
		if r.Kind == "" {
			r.Kind = store.KindRequest
		}
		// Stored at microsecond precision; hash what will be read back.
		r.Time = time.UnixMicro(r.Time.UnixMicro()).UTC()
		// Evidence is kept as JSON, which replaces invalid UTF-8: hash the
		// form that will be read back.
		if len(r.Evidence) > 0 {
			r.Evidence, _ = store.DecodeEvidence(store.EncodeEvidence(r.Evidence))
		}
		r.Seq = head.Seq + 1
		r.PrevHash = head.Hash
		r.Hash = store.ChainHash(*r)
		stream := 0
		if r.Stream {
			stream = 1
		}
		if _, err := stmt.ExecContext(ctx, r.Seq, r.Kind, r.ID, r.Time.UnixMicro(), r.UserPseudonym, r.KeyID, r.Endpoint, r.Model, r.Upstream,
			r.Stage, r.Decision, strings.Join(r.Risks, ","), r.Status, stream, r.LatencyMicros, r.PromptTokens, r.CompletionTokens,
			r.Actor, r.Subject, nonNilBytes(r.Details), store.EncodeEvidence(r.Evidence), nonNilBytes(r.PrevHash), r.Hash); err != nil {
			return err
		}
		head = store.ChainHead{Seq: r.Seq, Hash: r.Hash}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, head.Seq, head.Hash)
	return err
}

// ScanAudit calls fn for each record matching f, in sequence order, reading
// in pages so a long period never sits in memory. An error from fn stops
// the scan and is returned as is.
func (s *DB) ScanAudit(ctx context.Context, f store.AuditFilter, fn func(store.AuditRecord) error) error {
	const page = 500
	after, left := f.AfterSeq, f.Limit
	for {
		n := page
		if f.Limit > 0 {
			n = min(n, left)
		}
		q := `SELECT ` + auditColumns + ` FROM audit_records WHERE seq > ?`
		args := []any{after}
		if !f.From.IsZero() {
			q += ` AND time_us >= ?`
			args = append(args, f.From.UnixMicro())
		}
		if !f.To.IsZero() {
			q += ` AND time_us < ?`
			args = append(args, f.To.UnixMicro())
		}
		if f.Kind != "" {
			if strings.HasSuffix(f.Kind, ".") {
				q += ` AND substr(kind, 1, ?) = ?`
				args = append(args, len(f.Kind), f.Kind)
			} else {
				q += ` AND kind = ?`
				args = append(args, f.Kind)
			}
		}
		if f.ID != "" {
			q += ` AND id = ?`
			args = append(args, f.ID)
		}
		q += ` ORDER BY seq LIMIT ?`
		args = append(args, n)
		recs, err := s.auditPage(ctx, q, args)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Seq
		}
		left -= len(recs)
		if len(recs) < n || (f.Limit > 0 && left <= 0) {
			return nil
		}
	}
}

func (s *DB) auditPage(ctx context.Context, q string, args []any) ([]store.AuditRecord, error) {
	return queryAll(ctx, s.db, scanAudit, q, args...)
}

// AuditHead returns the chain head (zero when the log is empty).
func (s *DB) AuditHead(ctx context.Context) (store.ChainHead, error) {
	h, err := readHead(ctx, s.db)
	if err != nil {
		return h, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

// InsertCheckpoint stores a signed checkpoint; one for the same seq already
// stored is kept (two processes may checkpoint the same head).
func (s *DB) InsertCheckpoint(ctx context.Context, c store.Checkpoint) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, time_us, public_key, signature) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(seq) DO NOTHING`, c.Seq, c.Hash, c.Time.UnixMicro(), c.PublicKey, c.Signature)
	if err != nil {
		return fmt.Errorf("insert checkpoint: %w", mapErr(err))
	}
	return nil
}

// Checkpoints returns up to limit checkpoints with seq > afterSeq, in order.
func (s *DB) Checkpoints(ctx context.Context, afterSeq int64, limit int) ([]store.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, hash, time_us, public_key, signature FROM audit_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		var c store.Checkpoint
		var t int64
		if err := rows.Scan(&c.Seq, &c.Hash, &t, &c.PublicKey, &c.Signature); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		c.Time = time.UnixMicro(t).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastCheckpoint returns the newest checkpoint, or ErrNotFound.
func (s *DB) LastCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	var c store.Checkpoint
	var t int64
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash, time_us, public_key, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&c.Seq, &c.Hash, &t, &c.PublicKey, &c.Signature)
	c.Time = time.UnixMicro(t).UTC()
	return c, mapErr(err)
}

// ErrNoAnchor is returned by PruneAudit when no checkpoint lies at or
// before the cutoff: pruning there would leave the rest unverifiable.
var ErrNoAnchor = errors.New("no checkpoint to anchor the remaining chain")

// PruneAudit deletes the records written before cutoff, up to the newest
// checkpoint at or before them, and the checkpoints before that one; the
// kept checkpoint anchors the remaining chain. It returns the anchor's seq
// and how many records went.
func (s *DB) PruneAudit(ctx context.Context, cutoff time.Time) (anchor int64, deleted int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	defer tx.Rollback()
	// The first record at or after the cutoff bounds what may go; records
	// are appended in time order per writer, so take the smallest such seq.
	var firstKept sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(seq) FROM audit_records WHERE time_us >= ?`, cutoff.UnixMicro()).Scan(&firstKept); err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	limit := int64(1<<63 - 1)
	if firstKept.Valid {
		limit = firstKept.Int64 - 1
	}
	var a sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM audit_checkpoints WHERE seq <= ?`, limit).Scan(&a); err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	if !a.Valid {
		return 0, 0, ErrNoAnchor
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM audit_records WHERE seq <= ?`, a.Int64)
	if err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	deleted, _ = res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_checkpoints WHERE seq < ?`, a.Int64); err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("prune audit: %w", err)
	}
	return a.Int64, deleted, nil
}

// AuditCounts aggregates records with from <= time < to (zero: open) by
// kind, endpoint, stage, decision, risks and status.
func (s *DB) AuditCounts(ctx context.Context, from, to time.Time) ([]store.AuditCount, error) {
	q := `SELECT kind, endpoint, stage, decision, risks, status, count(*) FROM audit_records WHERE 1=1`
	var args []any
	if !from.IsZero() {
		q += ` AND time_us >= ?`
		args = append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		q += ` AND time_us < ?`
		args = append(args, to.UnixMicro())
	}
	q += ` GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit counts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.AuditCount
	for rows.Next() {
		var c store.AuditCount
		if err := rows.Scan(&c.Kind, &c.Endpoint, &c.Stage, &c.Decision, &c.Risks, &c.Status, &c.N); err != nil {
			return nil, fmt.Errorf("audit counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TableExists reports whether a table exists, so reports can say "not
// available" for features whose migrations are not in this build.
func (s *DB) TableExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, mapErr(err)
}
