package store

import "time"

// Agreement is one published version of the service agreement (Measures
// Art. 9). Body is Markdown; SHA256 is the hex hash of Body.
type Agreement struct {
	Version     string
	Body        string
	SHA256      string
	PublishedAt time.Time
}

// Acceptance records that a user accepted an agreement version: when,
// through which channel (api, web, admin), and the hash of the text shown.
type Acceptance struct {
	UserID     string
	Version    string
	SHA256     string
	Channel    string
	AcceptedAt time.Time
}

// Age bands (CAC minors-mode guide).
const (
	AgeUnknown = "unknown"
	AgeAdult   = "adult"
	Age16to18  = "16-18"
	AgeUnder16 = "under16"
)

// Profile holds a user's age band, guardian settings and preferences.
type Profile struct {
	UserID         string
	AgeBand        string
	AgeConfirmedAt time.Time // when the user confirmed the band themselves
	// GuardianDailyLimit tightens the band's daily limit (0: none).
	GuardianDailyLimit time.Duration
	// GuardianHours is "HH:MM-HH:MM", the local hours service is allowed
	// in (empty: any hour outside the curfew).
	GuardianHours  string
	TrainingOptOut bool
	UpdatedAt      time.Time
}

// Standing statuses, in the order of the enforcement ladder (Art. 14 ¶2).
const (
	StatusOK         = "ok"
	StatusWarned     = "warned"
	StatusRestricted = "restricted"
	StatusSuspended  = "suspended"
	StatusTerminated = "terminated"
)

// Standing is a user's current place on the ladder.
type Standing struct {
	UserID    string
	Status    string
	Until     time.Time // end of a suspension
	Reason    string
	UpdatedAt time.Time
	// SanctionID is the latest transition's id (0: none): the case number a
	// user quotes in an appeal. Derived from the sanctions table.
	SanctionID int64
}

// Violation is one blocked or reviewed decision counted against a user.
type Violation struct {
	ID       int64
	UserID   string
	Time     time.Time
	RecordID string // the audit record's id
	Decision string
	Risks    []string
	Points   int
}

// Sanction is one transition on the ladder with its evidence (audit record
// ids); Actor is "system" for automatic ones, else who acted.
type Sanction struct {
	ID       int64
	UserID   string
	Time     time.Time
	From     string
	To       string
	Until    time.Time
	Actor    string
	Reason   string
	Points   int
	Evidence []string
}

// SanctionFilter selects sanctions; zero fields match all.
type SanctionFilter struct {
	UserID   string
	From, To time.Time
	AfterID  int64
	Limit    int
}

// UsageTime is a user's counted activity for one local day.
type UsageTime struct {
	UserID       string
	Day          string // YYYY-MM-DD in the configured zone
	Used         time.Duration
	SessionStart time.Time
	LastActive   time.Time
}

// Quota subject kinds.
const (
	QuotaUser = "user"
	QuotaKey  = "key"
)

// Quota overrides the default limits for a user or key; 0 means unlimited.
type Quota struct {
	Kind              string
	Subject           string
	RequestsPerMinute int
	TokensPerDay      int64
}

// TokenUsage sums the tokens of audit records per key and user pseudonym.
type TokenUsage struct {
	KeyID         string
	UserPseudonym string
	Tokens        int64
}
