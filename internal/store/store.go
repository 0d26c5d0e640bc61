// Package store holds the persistent record types and the errors every
// implementation returns. Each consumer declares the small interface it needs;
// sqlite/ and (later) postgres/ implement them, and storetest/ holds the one
// contract suite both must pass.
package store

import (
	"errors"
	"time"
)

// Errors every implementation maps its driver errors to.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// User is an account that calls the API.
type User struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Key scopes.
const (
	ScopeUser  = "user"
	ScopeAdmin = "admin"
)

// APIKey is a stored key. Only the hash of the secret is kept.
type APIKey struct {
	ID        string
	UserID    string // empty for admin keys
	Scope     string
	Hash      []byte
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is valid
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// AuditRecord is one entry of the hash-chained audit log: a request's
// moderation decision (Kind "request") or an event (sanction, complaint
// transition, admin action, incident...). It carries no prompt or response
// text (Measures Art. 11): only who (pseudonymously), what and the outcome.
type AuditRecord struct {
	Seq              int64  // assigned by the store
	Kind             string // KindRequest when empty on insert
	ID               string
	Time             time.Time
	UserPseudonym    string
	KeyID            string
	Endpoint         string
	Model            string
	Upstream         string
	Stage            string // where a decision was taken: input, output, or empty
	Decision         string // pass, block, mask, review, log
	Risks            []string
	Status           int
	Stream           bool
	LatencyMicros    int64
	PromptTokens     int
	CompletionTokens int

	// Event fields (empty for requests).
	Actor    string   // who acted: "admin:KEYID", "cli", "system"
	Subject  string   // what it concerns: a user pseudonym, a ticket id
	Details  []byte   // compact JSON object, hashed as stored
	Evidence []string // ids or hashes of supporting records

	// Chain fields, set by the store inside the inserting transaction:
	// Hash = ChainHash(PrevHash, record).
	PrevHash []byte
	Hash     []byte
}

// KindRequest is the kind of per-request moderation records.
const KindRequest = "request"

// AuditFilter selects audit records.
type AuditFilter struct {
	From, To time.Time // inclusive From, exclusive To; zero means open
	AfterSeq int64
	Limit    int
	Kind     string // exact kind, or a prefix ending in "." ("sanction."); empty: all
	ID       string // exact record id; empty: all
}
