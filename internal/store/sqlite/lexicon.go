package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// AddLexiconVersion stores v unless the newest stored version has the same
// hash, and reports whether it stored it (a new version).
func (s *DB) AddLexiconVersion(ctx context.Context, v store.LexiconVersion) (bool, error) {
	byRisk, err := json.Marshal(v.ByRisk)
	if err != nil {
		return false, fmt.Errorf("lexicon version: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO lexicon_versions (hash, loaded_at, source, terms, allow, by_risk)
		SELECT ?, ?, ?, ?, ?, ?
		WHERE coalesce((SELECT hash FROM lexicon_versions ORDER BY id DESC LIMIT 1), '') <> ?`,
		v.Hash, v.LoadedAt.UnixMicro(), v.Source, v.Terms, v.Allow, string(byRisk), v.Hash)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LexiconVersions returns up to limit versions, newest first.
func (s *DB) LexiconVersions(ctx context.Context, limit int) ([]store.LexiconVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash, loaded_at, source, terms, allow, by_risk
		FROM lexicon_versions ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.LexiconVersion
	for rows.Next() {
		var v store.LexiconVersion
		var at int64
		var byRisk string
		if err := rows.Scan(&v.ID, &v.Hash, &at, &v.Source, &v.Terms, &v.Allow, &byRisk); err != nil {
			return nil, mapErr(err)
		}
		v.LoadedAt = time.UnixMicro(at).UTC()
		if err := json.Unmarshal([]byte(byRisk), &v.ByRisk); err != nil {
			return nil, fmt.Errorf("lexicon version %d: %w", v.ID, err)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}
