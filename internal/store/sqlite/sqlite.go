// Package sqlite implements the store on an embedded SQLite file
// (modernc.org/sqlite: pure Go, no cgo) in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/genguard/genguard/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store. It is safe for concurrent use, including by several
// processes on the same file (the CLI works while the server runs).
type DB struct {
	db  *sql.DB
	now func() time.Time
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	q := url.Values{}
	// FULL sync: what we acknowledge is on disk. WAL keeps readers off the
	// writer's back; busy_timeout lets the CLI and the server share the file.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &DB{db: db, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

func (s *DB) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.applyMigration(ctx, name); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

func (s *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if err := afterMigration(ctx, tx, name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, s.now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// mapErr turns driver errors into the store's errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrConflict, err)
		}
	}
	return err
}

// rowScanner is what the scan functions read a row from.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query and turns every row into a T with scan.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Meta returns a value from the meta table.
func (s *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	return v, mapErr(err)
}

// SetMetaIfAbsent stores value under key unless the key exists, and reports
// whether it stored it. It lets two processes race to initialise a secret.
func (s *DB) SetMetaIfAbsent(ctx context.Context, key, value string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`, key, value)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CreateUser inserts a user.
func (s *DB) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)`,
		u.ID, u.Name, u.CreatedAt.UnixMicro())
	return mapErr(err)
}

// User returns a user by id.
func (s *DB) User(ctx context.Context, id string) (store.User, error) {
	var u store.User
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM users WHERE id = ?`, id).Scan(&u.ID, &u.Name, &created)
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, mapErr(err)
}

// UserByName returns a user by name.
func (s *DB) UserByName(ctx context.Context, name string) (store.User, error) {
	var u store.User
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM users WHERE name = ?`, name).Scan(&u.ID, &u.Name, &created)
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, mapErr(err)
}

// Users lists users ordered by creation.
func (s *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var u store.User
		var created int64
		if err := rows.Scan(&u.ID, &u.Name, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateKey inserts a key.
func (s *DB) CreateKey(ctx context.Context, k store.APIKey) error {
	var user any
	if k.UserID != "" {
		user = k.UserID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (id, user_id, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, user, k.Scope, k.Hash, k.CreatedAt.UnixMicro())
	return mapErr(err)
}

const keyColumns = `id, coalesce(user_id, ''), scope, hash, created_at, coalesce(revoked_at, 0)`

func scanKey(sc rowScanner) (store.APIKey, error) {
	var k store.APIKey
	var created, revoked int64
	if err := sc.Scan(&k.ID, &k.UserID, &k.Scope, &k.Hash, &created, &revoked); err != nil {
		return k, err
	}
	k.CreatedAt = time.UnixMicro(created).UTC()
	if revoked != 0 {
		k.RevokedAt = time.UnixMicro(revoked).UTC()
	}
	return k, nil
}

// Key returns a key by id.
func (s *DB) Key(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	return k, mapErr(err)
}

// Keys lists the keys of a user (all admin keys when userID is empty).
func (s *DB) Keys(ctx context.Context, userID string) ([]store.APIKey, error) {
	if userID == "" {
		return queryAll(ctx, s.db, scanKey, `SELECT `+keyColumns+` FROM api_keys WHERE user_id IS NULL ORDER BY created_at, id`)
	}
	return queryAll(ctx, s.db, scanKey, `SELECT `+keyColumns+` FROM api_keys WHERE user_id = ? ORDER BY created_at, id`, userID)
}

// CountKeys counts keys of a scope.
func (s *DB) CountKeys(ctx context.Context, scope string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE scope = ?`, scope).Scan(&n)
	return n, mapErr(err)
}

// RevokeKey marks a key revoked. Revoking an already revoked key keeps the
// first revocation time; an unknown key is ErrNotFound.
func (s *DB) RevokeKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMicro(), id)
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// InsertAudit appends a batch of audit records in one transaction, so one
// disk sync covers the whole batch. It chains them inside that transaction
// (BEGIN IMMEDIATE holds the write lock from the head read to the commit), so
// several processes appending at once still form one chain. It fills in each
// record's Seq, Kind, PrevHash and Hash.
func (s *DB) InsertAudit(ctx context.Context, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	defer tx.Rollback()
	if err := appendAudit(ctx, tx, recs); err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	return nil
}

const auditColumns = `seq, kind, id, time_us, user_pseudonym, key_id, endpoint, model, upstream, stage, decision, risks, status, stream,
	latency_us, prompt_tokens, completion_tokens, actor, subject, details, evidence, prev_hash, hash`

func scanAudit(sc rowScanner) (store.AuditRecord, error) {
	var r store.AuditRecord
	var t int64
	var risks, evidence string
	var stream int
	if err := sc.Scan(&r.Seq, &r.Kind, &r.ID, &t, &r.UserPseudonym, &r.KeyID, &r.Endpoint, &r.Model, &r.Upstream, &r.Stage,
		&r.Decision, &risks, &r.Status, &stream, &r.LatencyMicros, &r.PromptTokens, &r.CompletionTokens,
		&r.Actor, &r.Subject, &r.Details, &evidence, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	r.Time = time.UnixMicro(t).UTC()
	if risks != "" {
		r.Risks = strings.Split(risks, ",")
	}
	r.Stream = stream == 1
	if len(r.Details) == 0 {
		r.Details = nil
	}
	if len(r.PrevHash) == 0 {
		r.PrevHash = nil
	}
	if len(r.Hash) == 0 {
		r.Hash = nil
	}
	ev, err := store.DecodeEvidence(evidence)
	if err != nil {
		// Kept verbatim so verify reports the record instead of failing.
		ev = []string{evidence}
	}
	r.Evidence = ev
	return r, nil
}

// AuditRecords returns records matching f in sequence order.
func (s *DB) AuditRecords(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	var out []store.AuditRecord
	err := s.ScanAudit(ctx, f, func(r store.AuditRecord) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// CountAudit counts all audit records.
func (s *DB) CountAudit(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_records`).Scan(&n)
	return n, mapErr(err)
}

// Ping checks the database answers; used by /readyz.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
