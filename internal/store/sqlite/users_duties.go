package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// Store methods for the duties towards users (issue 5): agreements,
// profiles, the enforcement ladder, minors' usage time and quotas.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// userExists returns ErrNotFound for an unknown user, so writes keyed by
// user answer that instead of a foreign-key failure.
func userExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("user %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// PublishAgreement stores a new version; an existing version is ErrConflict.
func (s *DB) PublishAgreement(ctx context.Context, a store.Agreement) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO agreements (version, body, sha256, published_at) VALUES (?, ?, ?, ?)`,
		a.Version, a.Body, a.SHA256, micros(a.PublishedAt))
	return mapErr(err)
}

const agreementColumns = `version, body, sha256, published_at`

func scanAgreement(sc rowScanner) (store.Agreement, error) {
	var a store.Agreement
	var at int64
	err := sc.Scan(&a.Version, &a.Body, &a.SHA256, &at)
	a.PublishedAt = fromMicros(at)
	return a, err
}

// CurrentAgreement returns the most recently published version.
func (s *DB) CurrentAgreement(ctx context.Context) (store.Agreement, error) {
	a, err := scanAgreement(s.db.QueryRowContext(ctx, `SELECT `+agreementColumns+` FROM agreements ORDER BY published_at DESC, rowid DESC LIMIT 1`))
	return a, mapErr(err)
}

// Agreement returns one version.
func (s *DB) Agreement(ctx context.Context, version string) (store.Agreement, error) {
	a, err := scanAgreement(s.db.QueryRowContext(ctx, `SELECT `+agreementColumns+` FROM agreements WHERE version = ?`, version))
	return a, mapErr(err)
}

// Agreements lists versions, newest first, at most limit.
func (s *DB) Agreements(ctx context.Context, limit int) ([]store.Agreement, error) {
	return queryAll(ctx, s.db, scanAgreement, `SELECT `+agreementColumns+` FROM agreements ORDER BY published_at DESC, rowid DESC LIMIT ?`, limit)
}

// AcceptAgreement records an acceptance; accepting again keeps the first.
// An unknown user or version is ErrNotFound.
func (s *DB) AcceptAgreement(ctx context.Context, a store.Acceptance) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := userExists(ctx, tx, a.UserID); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM agreements WHERE version = ?`, a.Version).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("agreement %q: %w", a.Version, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_acceptances (user_id, version, sha256, channel, accepted_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(user_id, version) DO NOTHING`, a.UserID, a.Version, a.SHA256, a.Channel, micros(a.AcceptedAt)); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// Acceptance returns a user's acceptance of a version.
func (s *DB) Acceptance(ctx context.Context, userID, version string) (store.Acceptance, error) {
	a := store.Acceptance{UserID: userID, Version: version}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT sha256, channel, accepted_at FROM agreement_acceptances WHERE user_id = ? AND version = ?`,
		userID, version).Scan(&a.SHA256, &a.Channel, &at)
	a.AcceptedAt = fromMicros(at)
	return a, mapErr(err)
}

// Profile returns a user's profile; a user without one gets the defaults
// (age unknown). An unknown user is ErrNotFound.
func (s *DB) Profile(ctx context.Context, userID string) (store.Profile, error) {
	p := store.Profile{UserID: userID}
	var confirmed, limit, updated int64
	var optOut int
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(p.age_band, 'unknown'), coalesce(p.age_confirmed_at, 0), coalesce(p.guardian_daily_limit, 0),
		coalesce(p.guardian_hours, ''), coalesce(p.training_opt_out, 0), coalesce(p.updated_at, 0)
		FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id WHERE u.id = ?`, userID).
		Scan(&p.AgeBand, &confirmed, &limit, &p.GuardianHours, &optOut, &updated)
	p.AgeConfirmedAt, p.UpdatedAt = fromMicros(confirmed), fromMicros(updated)
	p.GuardianDailyLimit = time.Duration(limit) * time.Microsecond
	p.TrainingOptOut = optOut == 1
	return p, mapErr(err)
}

// SaveProfile writes a profile; an unknown user is ErrNotFound.
func (s *DB) SaveProfile(ctx context.Context, p store.Profile) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := userExists(ctx, tx, p.UserID); err != nil {
		return err
	}
	optOut := 0
	if p.TrainingOptOut {
		optOut = 1
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_profiles (user_id, age_band, age_confirmed_at, guardian_daily_limit, guardian_hours, training_opt_out, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET age_band = excluded.age_band, age_confirmed_at = excluded.age_confirmed_at,
		guardian_daily_limit = excluded.guardian_daily_limit, guardian_hours = excluded.guardian_hours,
		training_opt_out = excluded.training_opt_out, updated_at = excluded.updated_at`,
		p.UserID, p.AgeBand, micros(p.AgeConfirmedAt), p.GuardianDailyLimit.Microseconds(), p.GuardianHours, optOut, micros(p.UpdatedAt)); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// Standing returns a user's place on the ladder ("ok" when never
// sanctioned). An unknown user is ErrNotFound.
func (s *DB) Standing(ctx context.Context, userID string) (store.Standing, error) {
	st := store.Standing{UserID: userID}
	var until, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(s.status, 'ok'), coalesce(s.until_us, 0), coalesce(s.reason, ''), coalesce(s.updated_at, 0),
		coalesce((SELECT max(id) FROM sanctions WHERE user_id = u.id), 0)
		FROM users u LEFT JOIN user_standing s ON s.user_id = u.id WHERE u.id = ?`, userID).Scan(&st.Status, &until, &st.Reason, &updated, &st.SanctionID)
	st.Until, st.UpdatedAt = fromMicros(until), fromMicros(updated)
	return st, mapErr(err)
}

// ApplySanction records a transition and moves the user's standing to it in
// one transaction; From is filled from the standing it replaces.
func (s *DB) ApplySanction(ctx context.Context, sn store.Sanction) (store.Sanction, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sn, mapErr(err)
	}
	defer tx.Rollback()
	if err := userExists(ctx, tx, sn.UserID); err != nil {
		return sn, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT status FROM user_standing WHERE user_id = ?), 'ok')`, sn.UserID).Scan(&sn.From); err != nil {
		return sn, mapErr(err)
	}
	ev, err := json.Marshal(nonNilStrings(sn.Evidence))
	if err != nil {
		return sn, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO sanctions (user_id, time_us, from_status, to_status, until_us, actor, reason, points, evidence)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sn.UserID, micros(sn.Time), sn.From, sn.To, micros(sn.Until), sn.Actor, sn.Reason, sn.Points, string(ev))
	if err != nil {
		return sn, mapErr(err)
	}
	if sn.ID, err = res.LastInsertId(); err != nil {
		return sn, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_standing (user_id, status, until_us, reason, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(user_id) DO UPDATE SET status = excluded.status, until_us = excluded.until_us, reason = excluded.reason, updated_at = excluded.updated_at`,
		sn.UserID, sn.To, micros(sn.Until), sn.Reason, micros(sn.Time)); err != nil {
		return sn, mapErr(err)
	}
	return sn, mapErr(tx.Commit())
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Sanctions lists transitions matching f in id order.
func (s *DB) Sanctions(ctx context.Context, f store.SanctionFilter) ([]store.Sanction, error) {
	q := `SELECT id, user_id, time_us, from_status, to_status, until_us, actor, reason, points, evidence FROM sanctions WHERE id > ?`
	args := []any{f.AfterID}
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if !f.From.IsZero() {
		q += ` AND time_us >= ?`
		args = append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		q += ` AND time_us < ?`
		args = append(args, f.To.UnixMicro())
	}
	q += ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Sanction
	for rows.Next() {
		var sn store.Sanction
		var t, until int64
		var ev string
		if err := rows.Scan(&sn.ID, &sn.UserID, &t, &sn.From, &sn.To, &until, &sn.Actor, &sn.Reason, &sn.Points, &ev); err != nil {
			return nil, err
		}
		sn.Time, sn.Until = fromMicros(t), fromMicros(until)
		if err := json.Unmarshal([]byte(ev), &sn.Evidence); err != nil {
			return nil, fmt.Errorf("sanction %d evidence: %w", sn.ID, err)
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// AddViolation records a decision counted against a user.
func (s *DB) AddViolation(ctx context.Context, v store.Violation) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO violations (user_id, time_us, record_id, decision, risks, points) VALUES (?, ?, ?, ?, ?, ?)`,
		v.UserID, micros(v.Time), v.RecordID, v.Decision, strings.Join(v.Risks, ","), v.Points)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.LastInsertId()
}

// Violations returns a user's violations at or after since, newest first,
// at most limit, and the sum of all their points in that span.
func (s *DB) Violations(ctx context.Context, userID string, since time.Time, limit int) ([]store.Violation, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(points), 0) FROM violations WHERE user_id = ? AND time_us >= ?`,
		userID, since.UnixMicro()).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time_us, record_id, decision, risks, points FROM violations
		WHERE user_id = ? AND time_us >= ? ORDER BY time_us DESC, id DESC LIMIT ?`, userID, since.UnixMicro(), limit)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	defer rows.Close()
	var out []store.Violation
	for rows.Next() {
		v := store.Violation{UserID: userID}
		var t int64
		var risks string
		if err := rows.Scan(&v.ID, &t, &v.RecordID, &v.Decision, &risks, &v.Points); err != nil {
			return nil, 0, err
		}
		v.Time = fromMicros(t)
		if risks != "" {
			v.Risks = strings.Split(risks, ",")
		}
		out = append(out, v)
	}
	return out, total, rows.Err()
}

// UsageTime returns a user's stored activity; none is ErrNotFound.
func (s *DB) UsageTime(ctx context.Context, userID string) (store.UsageTime, error) {
	u := store.UsageTime{UserID: userID}
	var used, start, last int64
	err := s.db.QueryRowContext(ctx, `SELECT day, used_us, session_start_us, last_active_us FROM usage_time WHERE user_id = ?`, userID).
		Scan(&u.Day, &used, &start, &last)
	u.Used = time.Duration(used) * time.Microsecond
	u.SessionStart, u.LastActive = fromMicros(start), fromMicros(last)
	return u, mapErr(err)
}

// SaveUsageTime writes a user's activity.
func (s *DB) SaveUsageTime(ctx context.Context, u store.UsageTime) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO usage_time (user_id, day, used_us, session_start_us, last_active_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(user_id) DO UPDATE SET day = excluded.day, used_us = excluded.used_us,
		session_start_us = excluded.session_start_us, last_active_us = excluded.last_active_us`,
		u.UserID, u.Day, u.Used.Microseconds(), micros(u.SessionStart), micros(u.LastActive))
	return mapErr(err)
}

// SetQuota stores an override; an unknown user or key is ErrNotFound.
func (s *DB) SetQuota(ctx context.Context, q store.Quota) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	exists := map[string]string{
		store.QuotaUser: `SELECT count(*) FROM users WHERE id = ?`,
		store.QuotaKey:  `SELECT count(*) FROM api_keys WHERE id = ? AND scope = 'user'`,
	}[q.Kind]
	if exists == "" {
		return fmt.Errorf("quota kind %q: %w", q.Kind, store.ErrNotFound)
	}
	var n int
	if err := tx.QueryRowContext(ctx, exists, q.Subject).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", q.Kind, q.Subject, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO quota_overrides (kind, subject, rpm, tokens_per_day) VALUES (?, ?, ?, ?)
		ON CONFLICT(kind, subject) DO UPDATE SET rpm = excluded.rpm, tokens_per_day = excluded.tokens_per_day`,
		q.Kind, q.Subject, q.RequestsPerMinute, q.TokensPerDay); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// Quota returns an override; none is ErrNotFound.
func (s *DB) Quota(ctx context.Context, kind, subject string) (store.Quota, error) {
	q := store.Quota{Kind: kind, Subject: subject}
	err := s.db.QueryRowContext(ctx, `SELECT rpm, tokens_per_day FROM quota_overrides WHERE kind = ? AND subject = ?`, kind, subject).
		Scan(&q.RequestsPerMinute, &q.TokensPerDay)
	return q, mapErr(err)
}

// DeleteQuota removes an override (none is not an error).
func (s *DB) DeleteQuota(ctx context.Context, kind, subject string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM quota_overrides WHERE kind = ? AND subject = ?`, kind, subject)
	return mapErr(err)
}

// DutySetting returns a stored setting; none is ErrNotFound.
func (s *DB) DutySetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM duty_settings WHERE key = ?`, key).Scan(&v)
	return v, mapErr(err)
}

// SetDutySetting stores a setting durably.
func (s *DB) SetDutySetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO duty_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return mapErr(err)
}

// TokensSince sums audit records' tokens at or after since, per key and
// user pseudonym, so per-day token quotas survive a restart without a
// second write per request.
func (s *DB) TokensSince(ctx context.Context, since time.Time) ([]store.TokenUsage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key_id, user_pseudonym, sum(prompt_tokens + completion_tokens) FROM audit_records
		WHERE time_us >= ? GROUP BY key_id, user_pseudonym`, since.UnixMicro())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.TokenUsage
	for rows.Next() {
		var u store.TokenUsage
		if err := rows.Scan(&u.KeyID, &u.UserPseudonym, &u.Tokens); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
