package store

import "time"

// Complaint states (Measures Art. 15): received → in_review → resolved or
// rejected; every change carries a reason.
const (
	ComplaintReceived = "received"
	ComplaintInReview = "in_review"
	ComplaintResolved = "resolved"
	ComplaintRejected = "rejected"
)

// Complaint is one ticket. The status token is kept only as a hash.
type Complaint struct {
	ID            string // the ticket number shown to the complainant
	TokenHash     []byte `json:"-"` // SHA-256 of the private status token
	Category      string
	Channel       string // web or api
	Status        string
	Reason        string // why the ticket is in its current state
	Description   string
	Contact       string // how to reach the complainant (optional)
	UserID        string // the filer, when they used an API key
	RequestID     string // the audit record a content complaint is about
	EnforcementID string // the enforcement transition an appeal is about
	Assignee      string
	Feedback      string // the latest message to the complainant
	Action        string // what resolving did (takedown, sanction, lift)
	DueAt         time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time // zero while open
	Attachment    *AttachmentMeta
}

// Closed reports whether the ticket is resolved or rejected.
func (c Complaint) Closed() bool {
	return c.Status == ComplaintResolved || c.Status == ComplaintRejected
}

// Overdue reports whether an open ticket is past its due time.
func (c Complaint) Overdue(now time.Time) bool { return !c.Closed() && now.After(c.DueAt) }

// AttachmentMeta describes a complaint's attachment without its bytes.
type AttachmentMeta struct {
	Name   string
	Type   string // sniffed media type
	Size   int64
	SHA256 []byte
}

// Attachment is an attachment with its bytes.
type Attachment struct {
	AttachmentMeta
	Data []byte
}

// ComplaintEvent is one entry in a ticket's history.
type ComplaintEvent struct {
	Seq         int64
	ComplaintID string
	Time        time.Time
	Actor       string // "complainant", an admin key id, or "system"
	Kind        string // filed, transition, assign, note, feedback, action
	From, To    string // states, for transitions
	Text        string
	Internal    bool // notes: never shown to the complainant
}

// ComplaintFilter selects tickets; zero fields match everything.
type ComplaintFilter struct {
	Status    string
	Category  string
	UserID    string
	OverdueAt time.Time // non-zero: only open tickets due before this time
	Limit     int
}

// ComplaintUpdate changes a ticket atomically if it is still in FromStatus
// (empty: any); empty fields are left unchanged.
type ComplaintUpdate struct {
	ID         string
	FromStatus string
	Status     string
	Reason     string
	Assignee   string
	Feedback   string
	Action     string
	At         time.Time
	Event      ComplaintEvent
}

// Personal-information request kinds (PIPL Arts. 15, 45–47; Measures Art. 11).
const (
	PIAccess          = "access"
	PICopy            = "copy"
	PICorrect         = "correct"
	PISupplement      = "supplement"
	PIDelete          = "delete"
	PIWithdrawConsent = "withdraw_consent"
)

// PIRequest is a data-subject request.
type PIRequest struct {
	ID         string
	UserID     string // after erasure, the user's pseudonym
	Kind       string
	Status     string // received, in_review, resolved, rejected
	Detail     string // what to correct or supplement
	Channel    string // api (API key) or admin (verified contact)
	VerifiedBy string // for admin-filed requests: how the contact was verified
	Reason     string
	Feedback   string
	DueAt      time.Time
	CreatedAt  time.Time
	ClosedAt   time.Time
}

// PIRequestFilter selects PI requests.
type PIRequestFilter struct {
	UserID    string
	Status    string
	OverdueAt time.Time
	Limit     int
}

// StoredText is an encrypted, redacted prompt or response kept for a
// limited time when text storage is switched on.
type StoredText struct {
	ID            int64
	RequestID     string
	UserPseudonym string
	Kind          string // prompt or response
	KeyID         string // which encryption key sealed it
	Sealed        []byte // nonce || AES-GCM ciphertext
	CreatedAt     time.Time
}

// Erasure says whose data to remove and what to put in its place.
type Erasure struct {
	UserID       string
	UserName     string
	KeyIDs       []string
	Pseudonym    string            // replaces the user id where a record must stay
	KeyPseudonym map[string]string // replaces each key id
	RequestID    string            // the PI request that asked for it
	At           time.Time
}

// ErasureReport counts what an erasure changed, per table.
type ErasureReport struct {
	Deleted    map[string]int64 `json:"deleted"`
	Anonymised map[string]int64 `json:"anonymised"`
}
