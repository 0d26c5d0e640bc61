package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/store"
)

// Event is a non-request entry of the audit chain: a sanction, a complaint
// transition, a label exception, an admin action, a config or keyword-library
// change, an incident. Kinds are dotted and lower-case; the ones genguard
// writes itself are the Kind… constants, other packages add their own
// ("sanction.issued", "complaint.closed"…).
type Event struct {
	// ID identifies the event; a random "evt_…" id when empty. Set it to
	// the domain object's id (a sanction id) to link records by it.
	ID string
	// Time is when it happened; zero means now.
	Time time.Time
	// Kind says what happened, e.g. "sanction.issued".
	Kind string
	// Actor is who did it: "admin:KEYID", "cli", "system".
	Actor string
	// Subject is what it concerns: a user pseudonym, a ticket id.
	Subject string
	// Details is marshalled to JSON (a map, a struct or json.RawMessage);
	// map keys are sorted, so the same details give the same bytes. By
	// convention a closing complaint transition carries
	// {"deadline_met": bool} and a sanction {"action": "warn|restrict|
	// suspend|terminate"}; the inspection pack counts them.
	Details any
	// Evidence lists ids or hashes of the records that support it (request
	// ids, incident ids, file hashes).
	Evidence []string
}

// Kinds genguard writes itself.
const (
	KindIncident      = "incident"
	KindAdminAction   = "admin."
	KindConfigChanged = "config.changed"
	KindLexiconChange = "lexicon.changed"
	KindRegistry      = "registry."
	KindAuditPruned   = "audit.pruned"
)

// Limits on an event, so one caller cannot bloat the chain.
const (
	MaxKindLen     = 64
	MaxFieldLen    = 256
	MaxDetailsLen  = 64 << 10
	MaxEvidence    = 64
	MaxEvidenceLen = 512
)

// ErrInvalidEvent wraps every validation failure of an Event.
var ErrInvalidEvent = errors.New("invalid audit event")

// record validates e and turns it into a chain record.
func (e Event) record(now time.Time) (store.AuditRecord, error) {
	if err := validKind(e.Kind); err != nil {
		return store.AuditRecord{}, err
	}
	for _, f := range [...]struct{ name, v string }{{"id", e.ID}, {"actor", e.Actor}, {"subject", e.Subject}} {
		if len(f.v) > MaxFieldLen || !utf8.ValidString(f.v) {
			return store.AuditRecord{}, fmt.Errorf("%w: %s longer than %d bytes or not UTF-8", ErrInvalidEvent, f.name, MaxFieldLen)
		}
	}
	if len(e.Evidence) > MaxEvidence {
		return store.AuditRecord{}, fmt.Errorf("%w: %d evidence items, at most %d", ErrInvalidEvent, len(e.Evidence), MaxEvidence)
	}
	for _, ev := range e.Evidence {
		if ev == "" || len(ev) > MaxEvidenceLen || !utf8.ValidString(ev) {
			return store.AuditRecord{}, fmt.Errorf("%w: evidence item empty, longer than %d bytes or not UTF-8", ErrInvalidEvent, MaxEvidenceLen)
		}
	}
	details, err := marshalDetails(e.Details)
	if err != nil {
		return store.AuditRecord{}, err
	}
	if e.ID == "" {
		e.ID = NewID("evt_")
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	return store.AuditRecord{
		Kind: e.Kind, ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Subject: e.Subject,
		Details: details, Evidence: e.Evidence,
	}, nil
}

func validKind(k string) error {
	if k == "" || len(k) > MaxKindLen || k == store.KindRequest {
		return fmt.Errorf("%w: kind %q (1-%d characters, not %q)", ErrInvalidEvent, k, MaxKindLen, store.KindRequest)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: kind %q: only a-z 0-9 . _ -", ErrInvalidEvent, k)
		}
	}
	return nil
}

func marshalDetails(d any) ([]byte, error) {
	if d == nil {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
	}
	// Compact so the same JSON written with other spacing hashes alike.
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
	}
	if buf.Len() > MaxDetailsLen {
		return nil, fmt.Errorf("%w: details are %d bytes, at most %d", ErrInvalidEvent, buf.Len(), MaxDetailsLen)
	}
	if buf.String() == "null" {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// NewID returns prefix followed by 16 random hex digits.
func NewID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Event appends e to the chain and returns once it is committed (the
// durability contract for operator decisions). It goes through the same
// queue and batches as request records, so it never forks the chain.
func (l *Log) Event(ctx context.Context, e Event) error {
	r, err := e.record(l.opts.Now())
	if err != nil {
		return err
	}
	return l.RecordSync(ctx, r)
}

// EventAsync queues e without waiting for the commit: for the request path
// (incidents), where the record follows the same rules as request records.
func (l *Log) EventAsync(ctx context.Context, e Event) error {
	r, err := e.record(l.opts.Now())
	if err != nil {
		return err
	}
	return l.Record(ctx, r)
}

// Direct appends events straight to the store, one transaction per call,
// for processes without a running Log (CLI commands such as `genguard users
// add`). The store chains inside the transaction, so a CLI and a server
// appending at once still form one chain.
type Direct struct {
	w   Writer
	now func() time.Time
}

// NewDirect returns a Direct writing to w.
func NewDirect(w Writer) *Direct { return &Direct{w: w, now: time.Now} }

// Event appends e and returns once it is committed.
func (d *Direct) Event(ctx context.Context, e Event) error {
	return Append(ctx, d.w, d.now(), e)
}

// Append validates events and writes them to w in one transaction.
func Append(ctx context.Context, w Writer, now time.Time, events ...Event) error {
	recs := make([]store.AuditRecord, 0, len(events))
	for _, e := range events {
		r, err := e.record(now)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	if err := w.InsertAudit(ctx, recs); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}
