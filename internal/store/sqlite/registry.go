package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// Registries keep each entry as JSON under its id: the fields are read
// whole for reports and never queried one by one.

// PutTrainingSource inserts or replaces a training-data source, keeping its
// creation time.
func (s *DB) PutTrainingSource(ctx context.Context, t store.TrainingSource) (store.TrainingSource, error) {
	return putJSON(ctx, s, "training_sources", t.ID, &t, func(c, u time.Time) { t.CreatedAt, t.UpdatedAt = c, u })
}

// TrainingSources lists training-data sources by id.
func (s *DB) TrainingSources(ctx context.Context) ([]store.TrainingSource, error) {
	return listJSON[store.TrainingSource](ctx, s, `SELECT body FROM training_sources ORDER BY id`)
}

// PutModelCard inserts or replaces a model card.
func (s *DB) PutModelCard(ctx context.Context, m store.ModelCard) (store.ModelCard, error) {
	return putJSON(ctx, s, "model_cards", m.ID, &m, func(c, u time.Time) { m.CreatedAt, m.UpdatedAt = c, u })
}

// ModelCards lists model cards by id.
func (s *DB) ModelCards(ctx context.Context) ([]store.ModelCard, error) {
	return listJSON[store.ModelCard](ctx, s, `SELECT body FROM model_cards ORDER BY id`)
}

// AddAnnotationRule stores the next version of a rules document.
func (s *DB) AddAnnotationRule(ctx context.Context, r store.AnnotationRule) (store.AnnotationRule, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("add annotation rule: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM annotation_rules WHERE id = ?`, r.ID).Scan(&r.Version); err != nil {
		return r, fmt.Errorf("add annotation rule: %w", err)
	}
	r.CreatedAt = time.UnixMicro(s.now().UnixMicro()).UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return r, fmt.Errorf("add annotation rule: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO annotation_rules (id, version, kind, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Version, r.Kind, b, r.CreatedAt.UnixMicro()); err != nil {
		return r, fmt.Errorf("add annotation rule: %w", mapErr(err))
	}
	return r, tx.Commit()
}

// AnnotationRules lists every version of every rules document.
func (s *DB) AnnotationRules(ctx context.Context) ([]store.AnnotationRule, error) {
	return listJSON[store.AnnotationRule](ctx, s, `SELECT body FROM annotation_rules ORDER BY id, version`)
}

func putJSON[T any](ctx context.Context, s *DB, table, id string, v *T, stamp func(created, updated time.Time)) (T, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return *v, fmt.Errorf("put %s: %w", table, err)
	}
	defer tx.Rollback()
	now := time.UnixMicro(s.now().UnixMicro()).UTC()
	created := now
	var c int64
	if err := tx.QueryRowContext(ctx, `SELECT created_at FROM `+table+` WHERE id = ?`, id).Scan(&c); err == nil {
		created = time.UnixMicro(c).UTC()
	} else if !errors.Is(mapErr(err), store.ErrNotFound) {
		return *v, fmt.Errorf("put %s: %w", table, err)
	}
	stamp(created, now)
	b, err := json.Marshal(v)
	if err != nil {
		return *v, fmt.Errorf("put %s: %w", table, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id, body, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, id, b, created.UnixMicro(), now.UnixMicro()); err != nil {
		return *v, fmt.Errorf("put %s: %w", table, err)
	}
	return *v, tx.Commit()
}

func listJSON[T any](ctx context.Context, s *DB, q string) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list registry: %w", err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("list registry: %w", err)
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("list registry: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
