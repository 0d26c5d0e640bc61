package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// This file holds the complaint, personal-information-request and text
// stores (issue 6), and the user erasure and export that must reach every
// table, including ones added later.

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateComplaint stores a ticket, its attachment and its first event in
// one transaction: the ticket number is shown only after this commits.
func (s *DB) CreateComplaint(ctx context.Context, c store.Complaint, att *store.Attachment, ev store.ComplaintEvent) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create complaint: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO complaints (id, token_hash, category, channel, status, reason, description, contact, user_id,
		request_id, enforcement_id, assignee, feedback, action, due_us, created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.TokenHash, c.Category, c.Channel, c.Status, c.Reason, c.Description, c.Contact, nullStr(c.UserID),
		c.RequestID, c.EnforcementID, c.Assignee, c.Feedback, c.Action, us(c.DueAt), us(c.CreatedAt), us(c.CreatedAt)); err != nil {
		return fmt.Errorf("create complaint: %w", mapErr(err))
	}
	if att != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_attachments (complaint_id, name, type, size, sha256, data) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, att.Name, att.Type, att.Size, att.SHA256, att.Data); err != nil {
			return fmt.Errorf("create complaint attachment: %w", mapErr(err))
		}
	}
	ev.ComplaintID = c.ID
	if err := insertComplaintEvent(ctx, tx, ev); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create complaint: %w", err)
	}
	return nil
}

func insertComplaintEvent(ctx context.Context, tx *sql.Tx, ev store.ComplaintEvent) error {
	internal := 0
	if ev.Internal {
		internal = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO complaint_events (complaint_id, time_us, actor, kind, from_status, to_status, text, internal)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ev.ComplaintID, us(ev.Time), ev.Actor, ev.Kind, ev.From, ev.To, ev.Text, internal)
	if err != nil {
		return fmt.Errorf("complaint event: %w", mapErr(err))
	}
	return nil
}

const complaintColumns = `c.id, c.token_hash, c.category, c.channel, c.status, c.reason, c.description, c.contact, coalesce(c.user_id, ''),
	c.request_id, c.enforcement_id, c.assignee, c.feedback, c.action, c.due_us, c.created_us, c.updated_us, coalesce(c.closed_us, 0),
	a.name, a.type, a.size, a.sha256`

func scanComplaint(sc rowScanner) (store.Complaint, error) {
	var c store.Complaint
	var due, created, updated, closed int64
	var aName, aType sql.NullString
	var aSize sql.NullInt64
	var aSum []byte
	err := sc.Scan(&c.ID, &c.TokenHash, &c.Category, &c.Channel, &c.Status, &c.Reason, &c.Description, &c.Contact, &c.UserID,
		&c.RequestID, &c.EnforcementID, &c.Assignee, &c.Feedback, &c.Action, &due, &created, &updated, &closed,
		&aName, &aType, &aSize, &aSum)
	if err != nil {
		return c, err
	}
	c.DueAt, c.CreatedAt, c.UpdatedAt, c.ClosedAt = fromUS(due), fromUS(created), fromUS(updated), fromUS(closed)
	if aName.Valid {
		c.Attachment = &store.AttachmentMeta{Name: aName.String, Type: aType.String, Size: aSize.Int64, SHA256: aSum}
	}
	return c, nil
}

// Complaint returns one ticket (without attachment bytes).
func (s *DB) Complaint(ctx context.Context, id string) (store.Complaint, error) {
	c, err := scanComplaint(s.db.QueryRowContext(ctx, `SELECT `+complaintColumns+`
		FROM complaints c LEFT JOIN complaint_attachments a ON a.complaint_id = c.id WHERE c.id = ?`, id))
	return c, mapErr(err)
}

// ComplaintAttachment returns a ticket's attachment with its bytes.
func (s *DB) ComplaintAttachment(ctx context.Context, id string) (store.Attachment, error) {
	var a store.Attachment
	err := s.db.QueryRowContext(ctx, `SELECT name, type, size, sha256, data FROM complaint_attachments WHERE complaint_id = ?`, id).
		Scan(&a.Name, &a.Type, &a.Size, &a.SHA256, &a.Data)
	return a, mapErr(err)
}

// maxList bounds every list query.
const maxList = 1000

// Complaints lists tickets matching f, newest first.
func (s *DB) Complaints(ctx context.Context, f store.ComplaintFilter) ([]store.Complaint, error) {
	q := `SELECT ` + complaintColumns + ` FROM complaints c LEFT JOIN complaint_attachments a ON a.complaint_id = c.id WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND c.status = ?`
		args = append(args, f.Status)
	}
	if f.Category != "" {
		q += ` AND c.category = ?`
		args = append(args, f.Category)
	}
	if f.UserID != "" {
		q += ` AND c.user_id = ?`
		args = append(args, f.UserID)
	}
	if !f.OverdueAt.IsZero() {
		q += ` AND c.status IN ('received', 'in_review') AND c.due_us < ?`
		args = append(args, us(f.OverdueAt))
	}
	limit := f.Limit
	if limit <= 0 || limit > maxList {
		limit = maxList
	}
	q += ` ORDER BY c.created_us DESC, c.id LIMIT ?`
	args = append(args, limit)
	return queryAll(ctx, s.db, scanComplaint, q, args...)
}

// CountOverdueComplaints counts open tickets past their due time.
func (s *DB) CountOverdueComplaints(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM complaints WHERE status IN ('received', 'in_review') AND due_us < ?`, us(now)).Scan(&n)
	return n, mapErr(err)
}

// ComplaintEvents returns a ticket's history in order.
func (s *DB) ComplaintEvents(ctx context.Context, id string) ([]store.ComplaintEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, complaint_id, time_us, actor, kind, from_status, to_status, text, internal
		FROM complaint_events WHERE complaint_id = ? ORDER BY seq LIMIT ?`, id, maxList)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.ComplaintEvent
	for rows.Next() {
		var e store.ComplaintEvent
		var t int64
		var internal int
		if err := rows.Scan(&e.Seq, &e.ComplaintID, &t, &e.Actor, &e.Kind, &e.From, &e.To, &e.Text, &internal); err != nil {
			return nil, err
		}
		e.Time, e.Internal = fromUS(t), internal == 1
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateComplaint applies u in one transaction with its event. A ticket no
// longer in u.FromStatus is ErrConflict (someone else moved it first).
func (s *DB) UpdateComplaint(ctx context.Context, u store.ComplaintUpdate) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update complaint: %w", err)
	}
	defer tx.Rollback()
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM complaints WHERE id = ?`, u.ID).Scan(&status); err != nil {
		return fmt.Errorf("update complaint %s: %w", u.ID, mapErr(err))
	}
	if u.FromStatus != "" && status != u.FromStatus {
		return fmt.Errorf("%w: complaint %s is %s, not %s", store.ErrConflict, u.ID, status, u.FromStatus)
	}
	set := []string{"updated_us = ?"}
	args := []any{us(u.At)}
	for _, f := range []struct {
		col, v string
	}{{"status", u.Status}, {"reason", u.Reason}, {"assignee", u.Assignee}, {"feedback", u.Feedback}, {"action", u.Action}} {
		if f.v != "" {
			set = append(set, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if u.Status == store.ComplaintResolved || u.Status == store.ComplaintRejected {
		set = append(set, "closed_us = ?")
		args = append(args, us(u.At))
	}
	args = append(args, u.ID)
	if _, err := tx.ExecContext(ctx, `UPDATE complaints SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("update complaint: %w", mapErr(err))
	}
	u.Event.ComplaintID = u.ID
	if err := insertComplaintEvent(ctx, tx, u.Event); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update complaint: %w", err)
	}
	return nil
}

// AuditRecordExists reports whether a record with the request id exists.
func (s *DB) AuditRecordExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_records WHERE id = ?`, id).Scan(&n)
	return n > 0, mapErr(err)
}

// CreatePIRequest stores a data-subject request.
func (s *DB) CreatePIRequest(ctx context.Context, r store.PIRequest) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pi_requests (id, user_id, kind, status, detail, channel, verified_by, reason, feedback, due_us, created_us, closed_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.UserID, r.Kind, r.Status, r.Detail, r.Channel, r.VerifiedBy, r.Reason, r.Feedback,
		us(r.DueAt), us(r.CreatedAt), nullInt(us(r.ClosedAt)))
	if err != nil {
		return fmt.Errorf("create PI request: %w", mapErr(err))
	}
	return nil
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const piColumns = `id, user_id, kind, status, detail, channel, verified_by, reason, feedback, due_us, created_us, coalesce(closed_us, 0)`

func scanPI(sc rowScanner) (store.PIRequest, error) {
	var r store.PIRequest
	var due, created, closed int64
	err := sc.Scan(&r.ID, &r.UserID, &r.Kind, &r.Status, &r.Detail, &r.Channel, &r.VerifiedBy, &r.Reason, &r.Feedback, &due, &created, &closed)
	r.DueAt, r.CreatedAt, r.ClosedAt = fromUS(due), fromUS(created), fromUS(closed)
	return r, err
}

// PIRequest returns one request.
func (s *DB) PIRequest(ctx context.Context, id string) (store.PIRequest, error) {
	r, err := scanPI(s.db.QueryRowContext(ctx, `SELECT `+piColumns+` FROM pi_requests WHERE id = ?`, id))
	return r, mapErr(err)
}

// PIRequests lists requests matching f, newest first.
func (s *DB) PIRequests(ctx context.Context, f store.PIRequestFilter) ([]store.PIRequest, error) {
	q := `SELECT ` + piColumns + ` FROM pi_requests WHERE 1=1`
	var args []any
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if !f.OverdueAt.IsZero() {
		q += ` AND status IN ('received', 'in_review') AND due_us < ?`
		args = append(args, us(f.OverdueAt))
	}
	limit := f.Limit
	if limit <= 0 || limit > maxList {
		limit = maxList
	}
	q += ` ORDER BY created_us DESC, id LIMIT ?`
	args = append(args, limit)
	return queryAll(ctx, s.db, scanPI, q, args...)
}

// ClosePIRequest resolves or rejects an open request; a closed one is
// ErrConflict.
func (s *DB) ClosePIRequest(ctx context.Context, id, status, reason, feedback string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE pi_requests SET status = ?, reason = ?, feedback = ?, closed_us = ?
		WHERE id = ? AND status IN ('received', 'in_review')`, status, reason, feedback, us(at), id)
	if err != nil {
		return fmt.Errorf("close PI request: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.PIRequest(ctx, id); err != nil {
			return fmt.Errorf("close PI request %s: %w", id, err)
		}
		return fmt.Errorf("%w: PI request %s is already closed", store.ErrConflict, id)
	}
	return nil
}

// CountOverduePIRequests counts open requests past their due time.
func (s *DB) CountOverduePIRequests(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pi_requests WHERE status IN ('received', 'in_review') AND due_us < ?`, us(now)).Scan(&n)
	return n, mapErr(err)
}

// WithdrawConsent records that the user withdrew consent to text storage.
func (s *DB) WithdrawConsent(ctx context.Context, userID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO privacy_consent (user_id, withdrawn_us) VALUES (?, ?) ON CONFLICT(user_id) DO NOTHING`, userID, us(at))
	if err != nil {
		return fmt.Errorf("withdraw consent: %w", mapErr(err))
	}
	return nil
}

// ConsentWithdrawn reports whether the user withdrew consent.
func (s *DB) ConsentWithdrawn(ctx context.Context, userID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM privacy_consent WHERE user_id = ?`, userID).Scan(&n)
	return n > 0, mapErr(err)
}

// InsertStoredTexts writes a batch of sealed texts in one transaction.
func (s *DB) InsertStoredTexts(ctx context.Context, ts []store.StoredText) error {
	if len(ts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store texts: %w", err)
	}
	defer tx.Rollback()
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stored_texts (request_id, user_pseudonym, kind, key_id, sealed, created_us) VALUES (?, ?, ?, ?, ?, ?)`,
			t.RequestID, t.UserPseudonym, t.Kind, t.KeyID, t.Sealed, us(t.CreatedAt)); err != nil {
			return fmt.Errorf("store texts: %w", mapErr(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store texts: %w", err)
	}
	return nil
}

// StoredTexts returns a user's (by pseudonym) or a request's sealed texts.
func (s *DB) StoredTexts(ctx context.Context, pseudonym, requestID string, limit int) ([]store.StoredText, error) {
	if limit <= 0 || limit > 100000 {
		limit = 100000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, request_id, user_pseudonym, kind, key_id, sealed, created_us FROM stored_texts
		WHERE (? = '' OR user_pseudonym = ?) AND (? = '' OR request_id = ?) ORDER BY id LIMIT ?`, pseudonym, pseudonym, requestID, requestID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.StoredText
	for rows.Next() {
		var t store.StoredText
		var c int64
		if err := rows.Scan(&t.ID, &t.RequestID, &t.UserPseudonym, &t.Kind, &t.KeyID, &t.Sealed, &c); err != nil {
			return nil, err
		}
		t.CreatedAt = fromUS(c)
		out = append(out, t)
	}
	return out, rows.Err()
}

// PurgeStoredTexts deletes texts created before the cutoff, at most limit
// rows per call so a large purge never holds the write lock for long.
func (s *DB) PurgeStoredTexts(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.secureExec(ctx, `DELETE FROM stored_texts WHERE id IN (SELECT id FROM stored_texts WHERE created_us < ? LIMIT ?)`, us(before), limit)
}

// DeleteStoredTexts removes a request's texts (a takedown).
func (s *DB) DeleteStoredTexts(ctx context.Context, requestID string) (int64, error) {
	return s.secureExec(ctx, `DELETE FROM stored_texts WHERE request_id = ?`, requestID)
}

// secureExec runs a deleting statement on a connection with secure_delete
// on, so the removed text is overwritten in the file, not only unlinked.
func (s *DB) secureExec(ctx context.Context, q string, args ...any) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("secure delete: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, fmt.Errorf("secure delete: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
	res, err := conn.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("secure delete: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// retained reports the tables an erasure leaves alone: records the law
// requires us to keep that are append-only (the hash-chained audit log, CSL
// Art. 21 ≥ 6 months), and bookkeeping. They name users only by pseudonym and
// keys by their random id, which links to no one once the key row is gone.
func retained(table string) bool {
	switch table {
	case "audit_records", "audit_chain_head", "audit_checkpoints", "schema_migrations", "meta", "sqlite_sequence", "privacy_erasures":
		return true
	}
	return false
}

type column struct {
	table, name, typ string
	notNull          bool
	fkTable          string
}

// columns lists every column of every user table, with its foreign-key
// target, from the schema itself, so tables added by later migrations are
// covered without changes here.
func columns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.name, p.name, p.type, p."notnull" OR p.pk > 0, coalesce(f."table", '')
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		LEFT JOIN pragma_foreign_key_list(m.name) f ON f."from" = p.name
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.typ, &c.notNull, &c.fkTable); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// EraseUser removes or irreversibly anonymises everything stored about a
// user (PIPL Art. 47), in one transaction with secure_delete on, then
// checkpoints the WAL so no old page image keeps the data on disk:
//   - their complaints keep only the ticket metadata (description, contact
//     and attachment are wiped); PI requests move to the pseudonym;
//   - their stored texts are deleted;
//   - rows of any table that reference the user or their keys by foreign
//     key are deleted (or the reference cleared when it is nullable);
//   - anywhere else, the user id and key ids are replaced by pseudonyms and
//     the name by a marker;
//   - the user and keys are deleted, and the erasure is recorded.
func (s *DB) EraseUser(ctx context.Context, e store.Erasure) (store.ErasureReport, error) {
	rep := store.ErasureReport{Deleted: map[string]int64{}, Anonymised: map[string]int64{}}
	if e.UserID == "" || e.Pseudonym == "" {
		return rep, errors.New("erase user: user id and pseudonym are required")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("erase user: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return rep, fmt.Errorf("erase user: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("erase user: %w", err)
	}
	defer tx.Rollback()
	exec := func(table string, m map[string]int64, q string, args ...any) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("erase user: %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			m[table] += n
		}
		return nil
	}
	const wiped = "[已删除 deleted]"
	steps := []func() error{
		func() error {
			return exec("complaint_attachments", rep.Deleted, `DELETE FROM complaint_attachments WHERE complaint_id IN (SELECT id FROM complaints WHERE user_id = ?)`, e.UserID)
		},
		func() error {
			return exec("complaint_events", rep.Anonymised, `UPDATE complaint_events SET text = ? WHERE kind IN ('filed', 'feedback', 'note') AND complaint_id IN (SELECT id FROM complaints WHERE user_id = ?)`, wiped, e.UserID)
		},
		func() error {
			return exec("complaints", rep.Anonymised, `UPDATE complaints SET description = ?, contact = '', feedback = '', user_id = NULL WHERE user_id = ?`, wiped, e.UserID)
		},
		func() error {
			return exec("pi_requests", rep.Anonymised, `UPDATE pi_requests SET user_id = ?, detail = '' WHERE user_id = ?`, e.Pseudonym, e.UserID)
		},
		func() error {
			return exec("stored_texts", rep.Deleted, `DELETE FROM stored_texts WHERE user_pseudonym = ?`, e.Pseudonym)
		},
	}
	for _, st := range steps {
		if err := st(); err != nil {
			return rep, err
		}
	}
	cols, err := columns(ctx, tx)
	if err != nil {
		return rep, fmt.Errorf("erase user: read schema: %w", err)
	}
	ids := append([]string{e.UserID}, e.KeyIDs...)
	marks := make([]string, len(ids))
	for i := range marks {
		marks[i] = "?"
	}
	in := "(" + strings.Join(marks, ",") + ")"
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	// References by foreign key first, so deleting the user cannot fail on
	// a table without ON DELETE CASCADE.
	for _, c := range cols {
		if retained(c.table) || (c.fkTable != "users" && c.fkTable != "api_keys") || c.table == "api_keys" {
			continue
		}
		if c.notNull {
			err = exec(c.table, rep.Deleted, `DELETE FROM `+quoteIdent(c.table)+` WHERE `+quoteIdent(c.name)+` IN `+in, idArgs...)
		} else {
			err = exec(c.table, rep.Anonymised, `UPDATE `+quoteIdent(c.table)+` SET `+quoteIdent(c.name)+` = NULL WHERE `+quoteIdent(c.name)+` IN `+in, idArgs...)
		}
		if err != nil {
			return rep, err
		}
	}
	if err := exec("api_keys", rep.Deleted, `DELETE FROM api_keys WHERE user_id = ?`, e.UserID); err != nil {
		return rep, err
	}
	if err := exec("users", rep.Deleted, `DELETE FROM users WHERE id = ?`, e.UserID); err != nil {
		return rep, err
	}
	// Everything else: replace identifiers inside any text column.
	repl := [][2]string{{e.UserID, e.Pseudonym}}
	for _, k := range e.KeyIDs {
		p := e.KeyPseudonym[k]
		if p == "" {
			p = e.Pseudonym + ".key"
		}
		repl = append(repl, [2]string{k, p})
	}
	for _, c := range cols {
		if retained(c.table) || c.table == "users" || c.table == "api_keys" || !textual(c.typ) {
			continue
		}
		t, col := quoteIdent(c.table), quoteIdent(c.name)
		for _, r := range repl {
			if err := exec(c.table, rep.Anonymised, `UPDATE `+t+` SET `+col+` = replace(`+col+`, ?, ?) WHERE instr(`+col+`, ?) > 0`, r[0], r[1], r[0]); err != nil {
				return rep, err
			}
		}
		// A name is replaced where it is the whole value, and inside text
		// only when long enough not to hit unrelated words.
		if e.UserName != "" {
			q := `UPDATE ` + t + ` SET ` + col + ` = ? WHERE ` + col + ` = ?`
			args := []any{wiped, e.UserName}
			if len([]rune(e.UserName)) >= 4 {
				q = `UPDATE ` + t + ` SET ` + col + ` = replace(` + col + `, ?, ?) WHERE instr(` + col + `, ?) > 0`
				args = []any{e.UserName, wiped, e.UserName}
			}
			if err := exec(c.table, rep.Anonymised, q, args...); err != nil {
				return rep, err
			}
		}
	}
	report, _ := json.Marshal(rep)
	if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_erasures (user_pseudonym, request_id, time_us, report) VALUES (?, ?, ?, ?)`,
		e.Pseudonym, e.RequestID, us(e.At), string(report)); err != nil {
		return rep, fmt.Errorf("erase user: record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("erase user: %w", err)
	}
	// secure_delete zeroes freed cells, but page splits leave stale copies
	// in unallocated space, and the WAL keeps old page images: VACUUM
	// rewrites the file from live rows only, and the checkpoint copies it
	// back and truncates the WAL. It costs a full rewrite, once per erasure.
	if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
		return rep, fmt.Errorf("erase user: vacuum: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return rep, fmt.Errorf("erase user: checkpoint: %w", err)
	}
	return rep, nil
}

func textual(typ string) bool {
	t := strings.ToUpper(typ)
	return t == "" || strings.Contains(t, "TEXT") || strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "BLOB")
}

// ExportUser returns every row of every table that mentions the user id,
// one of their key ids or their pseudonym in any column: the raw material of
// a copy request (PIPL Art. 45). Secret hashes and sealed text are left out
// (the caller decrypts stored texts separately).
func (s *DB) ExportUser(ctx context.Context, userID string, keyIDs []string, pseudonym string) (map[string][]map[string]any, error) {
	cols, err := columns(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("export user: %w", err)
	}
	byTable := map[string][]column{}
	var order []string
	for _, c := range cols {
		if c.table == "schema_migrations" || c.table == "meta" {
			continue
		}
		if _, ok := byTable[c.table]; !ok {
			order = append(order, c.table)
		}
		byTable[c.table] = append(byTable[c.table], c)
	}
	vals := append([]string{userID, pseudonym}, keyIDs...)
	out := map[string][]map[string]any{}
	for _, t := range order {
		var conds []string
		var args []any
		for _, c := range byTable[t] {
			if !textual(c.typ) {
				continue
			}
			for _, v := range vals {
				if v == "" {
					continue
				}
				conds = append(conds, quoteIdent(c.name)+` = ?`)
				args = append(args, v)
			}
		}
		if len(conds) == 0 {
			continue
		}
		rows, err := s.db.QueryContext(ctx, `SELECT * FROM `+quoteIdent(t)+` WHERE `+strings.Join(conds, " OR ")+` LIMIT 100000`, args...)
		if err != nil {
			return nil, fmt.Errorf("export user: %s: %w", t, err)
		}
		names, _ := rows.Columns()
		for rows.Next() {
			vs := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range vs {
				ptrs[i] = &vs[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("export user: %s: %w", t, err)
			}
			row := map[string]any{}
			for i, n := range names {
				if n == "hash" || n == "token_hash" || n == "sealed" || n == "prev_hash" || (t == "complaint_attachments" && n == "data") {
					continue
				}
				if b, ok := vs[i].([]byte); ok {
					row[n] = string(b)
					continue
				}
				row[n] = vs[i]
			}
			out[t] = append(out[t], row)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("export user: %s: %w", t, err)
		}
	}
	return out, nil
}

// Residue is one place a searched string still occurs.
type Residue struct {
	Table, Column, Needle string
	Rows                  int64
}

// FindResidue searches every column of every table listed in sqlite_master
// (text and blobs alike) for each needle: the check that an erasure left
// nothing behind, covering tables added by any later migration.
func (s *DB) FindResidue(ctx context.Context, needles []string) ([]Residue, error) {
	cols, err := columns(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("find residue: %w", err)
	}
	var out []Residue
	for _, c := range cols {
		for _, n := range needles {
			if n == "" {
				continue
			}
			var rows int64
			q := `SELECT count(*) FROM ` + quoteIdent(c.table) + ` WHERE instr(CAST(` + quoteIdent(c.name) + ` AS BLOB), CAST(? AS BLOB)) > 0`
			if err := s.db.QueryRowContext(ctx, q, n).Scan(&rows); err != nil {
				return nil, fmt.Errorf("find residue in %s.%s: %w", c.table, c.name, err)
			}
			if rows > 0 {
				out = append(out, Residue{Table: c.table, Column: c.name, Needle: n, Rows: rows})
			}
		}
	}
	return out, nil
}
