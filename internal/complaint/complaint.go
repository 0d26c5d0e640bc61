// Package complaint is the complaint and report channel (Measures Art. 15,
// TC260-003 §7 f and §5.2 b, labelling Measures Art. 6): tickets with a
// published process and per-category deadlines in working days, a private
// status link, states with reasons, assignment, internal notes, feedback
// to the complainant, and resolutions that take content down or apply or
// lift a sanction through the same code paths an admin uses.
package complaint

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store"
)

// Categories a complaint can have.
const (
	IllegalContent  = "illegal_content"  // 违法和不良信息
	IllegalActivity = "illegal_activity" // a user's illegal activity
	IPInfringement  = "ip_infringement"  // 知识产权侵权 (TC260-003 §5.2 b)
	PersonalInfo    = "personal_information"
	MissingLabel    = "missing_ai_label" // 未添加AI标识 (标识办法)
	Appeal          = "appeal"           // against an enforcement action
	Other           = "other"
)

// CategoryNames lists the categories in the order forms show them.
func CategoryNames() []string {
	return []string{IllegalContent, IllegalActivity, IPInfringement, PersonalInfo, MissingLabel, Appeal, Other}
}

// Category is a category's published label and deadline.
type Category struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Workdays int    `json:"deadline_working_days"`
}

// Store is what the complaint service needs from persistence.
type Store interface {
	CreateComplaint(ctx context.Context, c store.Complaint, att *store.Attachment, ev store.ComplaintEvent) error
	Complaint(ctx context.Context, id string) (store.Complaint, error)
	ComplaintAttachment(ctx context.Context, id string) (store.Attachment, error)
	Complaints(ctx context.Context, f store.ComplaintFilter) ([]store.Complaint, error)
	ComplaintEvents(ctx context.Context, id string) ([]store.ComplaintEvent, error)
	UpdateComplaint(ctx context.Context, u store.ComplaintUpdate) error
	CountOverdueComplaints(ctx context.Context, now time.Time) (int, error)
	AuditRecordExists(ctx context.Context, id string) (bool, error)
}

// EventLog appends durable events to the tamper-evident audit chain
// (issue 7's audit.Log or audit.Direct).
type EventLog interface {
	Event(ctx context.Context, e audit.Event) error
}

// Sanctioner applies or lifts a sanction on the enforcement ladder: the
// same path the admin API uses (issue 5's account.Duties).
type Sanctioner interface {
	Sanction(ctx context.Context, req account.SanctionRequest) (store.Sanction, error)
}

// ContentRemover takes down what genguard holds of a request's generated
// content (stored text, served files).
type ContentRemover interface {
	RemoveContent(ctx context.Context, requestID string) (int64, error)
}

// Errors the edge maps to statuses.
var (
	ErrInvalid     = errors.New("invalid complaint")
	ErrUnavailable = errors.New("not available on this gateway")
)

// InvalidError names the field that is wrong.
type InvalidError struct {
	Field, Msg string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Options configure a Service.
type Options struct {
	Categories         []Category
	Process            string // the published handling process
	Calendar           *Calendar
	MaxDescription     int   // runes
	MaxAttachmentBytes int64 // 0: attachments refused
	AllowedTypes       []string
	Now                func() time.Time
	Logger             *slog.Logger
	Events             EventLog       // nil: no audit chain
	Sanctions          Sanctioner     // nil: sanction actions refused
	Content            ContentRemover // nil: takedown refused
}

// Service handles complaints.
type Service struct {
	st   Store
	o    Options
	cats map[string]Category
}

// New returns a Service.
func New(st Store, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Calendar == nil {
		o.Calendar, _ = NewCalendar(time.UTC, nil, nil)
	}
	if o.MaxDescription <= 0 {
		o.MaxDescription = 5000
	}
	if len(o.AllowedTypes) == 0 {
		o.AllowedTypes = AllowedTypes()
	}
	s := &Service{st: st, o: o, cats: map[string]Category{}}
	for _, c := range o.Categories {
		s.cats[c.Name] = c
	}
	for _, n := range CategoryNames() {
		if _, ok := s.cats[n]; !ok {
			return nil, fmt.Errorf("complaint: no deadline for category %s", n)
		}
	}
	return s, nil
}

// Categories returns the published categories in form order.
func (s *Service) Categories() []Category {
	out := make([]Category, 0, len(s.cats))
	for _, n := range CategoryNames() {
		out = append(out, s.cats[n])
	}
	return out
}

// Process returns the published handling process.
func (s *Service) Process() string { return s.o.Process }

// MaxAttachmentBytes is the attachment limit (0: no attachments).
func (s *Service) MaxAttachmentBytes() int64 { return s.o.MaxAttachmentBytes }

// MaxDescription is the description limit in characters.
func (s *Service) MaxDescription() int { return s.o.MaxDescription }

// AllowedTypes lists the accepted attachment types.
func (s *Service) AllowedTypes() []string { return s.o.AllowedTypes }

// Input is a complaint as submitted.
type Input struct {
	Category       string
	Description    string
	Contact        string
	RequestID      string // the generated content complained about (X-Request-Id)
	EnforcementID  string // the enforcement transition appealed (sanction id)
	AttachmentName string
	Attachment     []byte
	Channel        string // web or api
	UserID         string // set when filed with an API key
}

// Limits on the short fields.
const (
	maxContact = 200
	maxIDField = 64
	maxReason  = 2000
	maxNote    = 5000
)

// checkText validates free text: UTF-8, no control characters other than
// newlines and tabs, within limit runes.
func checkText(field, s string, limit int, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if !utf8.ValidString(s) {
		return "", invalid(field, "must be valid UTF-8")
	}
	if required && s == "" {
		return "", invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return "", invalid(field, "is %d characters, at most %d", n, limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", invalid(field, "contains a control character")
		}
	}
	return s, nil
}

func checkID(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxIDField {
		return "", invalid(field, "is longer than %d characters", maxIDField)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return "", invalid(field, "may contain only letters, digits and _ - . :")
		}
	}
	return s, nil
}

var ticketEncoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// newTicket returns a ticket number: the date and 40 random bits, easy to
// read out over the phone; the private token is separate and 256 bits.
func newTicket(now time.Time, loc *time.Location) (id, token string) {
	b := make([]byte, 5)
	rand.Read(b)
	id = "GC" + now.In(loc).Format("20060102") + "-" + ticketEncoding.EncodeToString(b)
	t := make([]byte, 32)
	rand.Read(t)
	return id, base64.RawURLEncoding.EncodeToString(t)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// File validates and stores a complaint and returns it with the private
// status token (shown once, stored only as a hash). It returns only after
// the ticket is committed.
func (s *Service) File(ctx context.Context, in Input) (store.Complaint, string, error) {
	cat, ok := s.cats[in.Category]
	if !ok {
		return store.Complaint{}, "", invalid("category", "must be one of %s", strings.Join(CategoryNames(), ", "))
	}
	desc, err := checkText("description", in.Description, s.o.MaxDescription, true)
	if err != nil {
		return store.Complaint{}, "", err
	}
	contact, err := checkText("contact", in.Contact, maxContact, false)
	if err != nil {
		return store.Complaint{}, "", err
	}
	reqID, err := checkID("request_id", in.RequestID)
	if err != nil {
		return store.Complaint{}, "", err
	}
	enfID, err := checkID("enforcement_id", in.EnforcementID)
	if err != nil {
		return store.Complaint{}, "", err
	}
	if in.Category == Appeal && enfID == "" {
		return store.Complaint{}, "", invalid("enforcement_id", "an appeal must name the enforcement action (the sanction id in the notice you received)")
	}
	if enfID != "" {
		// The case number of a sanction ("sanction_12", shown in the
		// refusal the user received) is the id of its audit event.
		found := false
		if strings.HasPrefix(enfID, "sanction_") {
			if found, err = s.st.AuditRecordExists(ctx, enfID); err != nil {
				return store.Complaint{}, "", fmt.Errorf("look up case %s: %w", enfID, err)
			}
		}
		if !found {
			return store.Complaint{}, "", invalid("enforcement_id", "no enforcement action %s is on record (quote the case number, e.g. sanction_12, from the notice you received)", enfID)
		}
	}
	if reqID != "" {
		found, err := s.st.AuditRecordExists(ctx, reqID)
		if err != nil {
			return store.Complaint{}, "", fmt.Errorf("look up request %s: %w", reqID, err)
		}
		if !found {
			return store.Complaint{}, "", invalid("request_id", "no response with id %s is on record (use the X-Request-Id header or the genguard.id field)", reqID)
		}
	}
	var att *store.Attachment
	if len(in.Attachment) > 0 {
		if s.o.MaxAttachmentBytes <= 0 {
			return store.Complaint{}, "", invalid("attachment", "attachments are not accepted")
		}
		if att, err = checkAttachment(in.AttachmentName, in.Attachment, s.o.AllowedTypes, s.o.MaxAttachmentBytes); err != nil {
			return store.Complaint{}, "", err
		}
	}
	channel := in.Channel
	if channel != "web" {
		channel = "api"
	}
	now := s.o.Now().UTC().Truncate(time.Microsecond)
	id, token := newTicket(now, s.o.Calendar.Location())
	c := store.Complaint{ID: id, TokenHash: hashToken(token), Category: cat.Name, Channel: channel, Status: store.ComplaintReceived,
		Reason: "已受理 received", Description: desc, Contact: contact, UserID: in.UserID, RequestID: reqID, EnforcementID: enfID,
		DueAt: s.o.Calendar.Due(now, cat.Workdays).UTC(), CreatedAt: now}
	ev := store.ComplaintEvent{Time: now, Actor: "complainant", Kind: "filed", To: store.ComplaintReceived}
	if err := s.st.CreateComplaint(ctx, c, att, ev); err != nil {
		return store.Complaint{}, "", fmt.Errorf("file complaint: %w", err)
	}
	if att != nil {
		c.Attachment = &att.AttachmentMeta
	}
	s.event(ctx, audit.Event{ID: "complaint_filed_" + id, Time: now, Kind: "complaint.filed", Actor: "complainant", Subject: id,
		Details: map[string]any{"category": cat.Name, "channel": channel, "due": c.DueAt}, Evidence: nonEmpty(reqID, enfID)})
	return c, token, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// event appends to the audit chain; the ticket is already durable, so a
// failure is logged rather than undoing it.
func (s *Service) event(ctx context.Context, e audit.Event) {
	if s.o.Events == nil {
		return
	}
	if err := s.o.Events.Event(context.WithoutCancel(ctx), e); err != nil {
		s.o.Logger.ErrorContext(ctx, "complaint audit event not recorded", "kind", e.Kind, "subject", e.Subject, "err", err)
	}
}

// Status is what the complainant sees with the private link.
type Status struct {
	ID        string        `json:"ticket"`
	Category  string        `json:"category"`
	Status    string        `json:"status"`
	Reason    string        `json:"reason"`
	Feedback  string        `json:"feedback"`
	DueAt     time.Time     `json:"due_at"`
	CreatedAt time.Time     `json:"created_at"`
	ClosedAt  *time.Time    `json:"closed_at,omitempty"`
	History   []PublicEvent `json:"history"`
}

// PublicEvent is a history entry the complainant may see.
type PublicEvent struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	To   string    `json:"status,omitempty"`
	Text string    `json:"text,omitempty"`
}

// ErrNoTicket is returned for an unknown ticket or a wrong token alike, so
// the status link reveals nothing without the token.
var ErrNoTicket = errors.New("no such ticket, or the link is not valid")

// Status checks the token in constant time and returns the public view.
func (s *Service) Status(ctx context.Context, id, token string) (Status, error) {
	if len(id) > maxIDField || len(token) > 128 {
		return Status{}, ErrNoTicket
	}
	c, err := s.st.Complaint(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		hashToken(token) // same work as a hit
		return Status{}, ErrNoTicket
	}
	if err != nil {
		return Status{}, fmt.Errorf("complaint status: %w", err)
	}
	if subtle.ConstantTimeCompare(hashToken(token), c.TokenHash) != 1 {
		return Status{}, ErrNoTicket
	}
	evs, err := s.st.ComplaintEvents(ctx, id)
	if err != nil {
		return Status{}, fmt.Errorf("complaint status: %w", err)
	}
	st := Status{ID: c.ID, Category: c.Category, Status: c.Status, Reason: c.Reason, Feedback: c.Feedback, DueAt: c.DueAt, CreatedAt: c.CreatedAt, History: []PublicEvent{}}
	if !c.ClosedAt.IsZero() {
		t := c.ClosedAt
		st.ClosedAt = &t
	}
	for _, e := range evs {
		if e.Internal || e.Kind == "note" || e.Kind == "assign" {
			continue
		}
		st.History = append(st.History, PublicEvent{Time: e.Time, Kind: e.Kind, To: e.To, Text: e.Text})
	}
	return st, nil
}

// Ticket is the admin view of a complaint.
type Ticket struct {
	store.Complaint
	Overdue bool                   `json:"overdue"`
	Events  []store.ComplaintEvent `json:"events,omitempty"`
}

// Get returns a ticket with its full history.
func (s *Service) Get(ctx context.Context, id string) (Ticket, error) {
	c, err := s.st.Complaint(ctx, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("complaint %s: %w", id, err)
	}
	evs, err := s.st.ComplaintEvents(ctx, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("complaint %s: %w", id, err)
	}
	return Ticket{Complaint: c, Overdue: c.Overdue(s.o.Now()), Events: evs}, nil
}

// Attachment returns a ticket's attachment.
func (s *Service) Attachment(ctx context.Context, id string) (store.Attachment, error) {
	return s.st.ComplaintAttachment(ctx, id)
}

// List returns tickets; overdue selects open tickets past their deadline.
func (s *Service) List(ctx context.Context, f store.ComplaintFilter, overdue bool) ([]Ticket, error) {
	now := s.o.Now()
	if overdue {
		f.OverdueAt = now
	}
	cs, err := s.st.Complaints(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list complaints: %w", err)
	}
	out := make([]Ticket, len(cs))
	for i, c := range cs {
		out[i] = Ticket{Complaint: c, Overdue: c.Overdue(now)}
	}
	return out, nil
}

// Overdue counts open tickets past their deadline (for /metrics).
func (s *Service) Overdue(ctx context.Context) (int, error) {
	return s.st.CountOverdueComplaints(ctx, s.o.Now())
}

// Action is what resolving a ticket does besides closing it.
type Action struct {
	// Type is takedown (the complained-about content), sanction (apply a
	// rung of the ladder to UserID) or lift (lift UserID's sanction).
	Type     string    `json:"type"`
	UserID   string    `json:"user_id,omitempty"`
	Sanction string    `json:"sanction,omitempty"` // warn, restrict, suspend, terminate
	Until    time.Time `json:"until,omitzero"`
}

// Transition is an admin's change of state.
type Transition struct {
	To       string  `json:"to"`
	Reason   string  `json:"reason"`
	Feedback string  `json:"feedback"`
	Action   *Action `json:"action,omitempty"`
	Actor    string  `json:"-"`
}

// allowed lists the transitions: received → in_review → resolved or
// rejected; a ticket can also be closed straight from received.
func allowed(from, to string) bool {
	switch from {
	case store.ComplaintReceived:
		return to == store.ComplaintInReview || to == store.ComplaintResolved || to == store.ComplaintRejected
	case store.ComplaintInReview:
		return to == store.ComplaintResolved || to == store.ComplaintRejected
	}
	return false
}

// Transition moves a ticket to a new state with a reason, optionally sends
// feedback and runs the resolution's action first (an action that fails
// leaves the ticket unchanged).
func (s *Service) Transition(ctx context.Context, id string, t Transition) (Ticket, error) {
	c, err := s.st.Complaint(ctx, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("complaint %s: %w", id, err)
	}
	if !allowed(c.Status, t.To) {
		return Ticket{}, invalid("to", "a ticket that is %s cannot move to %q", c.Status, t.To)
	}
	reason, err := checkText("reason", t.Reason, maxReason, true)
	if err != nil {
		return Ticket{}, err
	}
	feedback, err := checkText("feedback", t.Feedback, maxNote, false)
	if err != nil {
		return Ticket{}, err
	}
	closing := t.To == store.ComplaintResolved || t.To == store.ComplaintRejected
	if closing && feedback == "" {
		// Art. 15: the complainant is told the outcome.
		return Ticket{}, invalid("feedback", "closing a ticket needs feedback for the complainant")
	}
	actionDone := ""
	if t.Action != nil {
		if t.To != store.ComplaintResolved {
			return Ticket{}, invalid("action", "only resolving a ticket can take an action")
		}
		if actionDone, err = s.act(ctx, c, *t.Action, reason, t.Actor); err != nil {
			return Ticket{}, err
		}
	}
	now := s.o.Now().UTC().Truncate(time.Microsecond)
	u := store.ComplaintUpdate{ID: id, FromStatus: c.Status, Status: t.To, Reason: reason, Feedback: feedback, Action: actionDone, At: now,
		Event: store.ComplaintEvent{Time: now, Actor: t.Actor, Kind: "transition", From: c.Status, To: t.To, Text: strings.TrimSpace(reason + "\n" + feedback)}}
	if err := s.st.UpdateComplaint(ctx, u); err != nil {
		return Ticket{}, fmt.Errorf("transition complaint %s: %w", id, err)
	}
	details := map[string]any{"from": c.Status, "to": t.To, "category": c.Category}
	kind := "complaint.transition"
	if closing {
		kind = "complaint.closed"
		details["deadline_met"] = !now.After(c.DueAt)
	}
	if actionDone != "" {
		details["action"] = actionDone
	}
	s.event(ctx, audit.Event{Time: now, Kind: kind, Actor: t.Actor, Subject: id, Details: details, Evidence: nonEmpty(c.RequestID, c.EnforcementID)})
	return s.Get(ctx, id)
}

// act runs a resolution's action through the admin code paths.
func (s *Service) act(ctx context.Context, c store.Complaint, a Action, reason, actor string) (string, error) {
	switch a.Type {
	case "takedown":
		if c.RequestID == "" {
			return "", invalid("action", "takedown needs a complaint that names a request id")
		}
		if s.o.Content == nil {
			return "", fmt.Errorf("takedown: %w", ErrUnavailable)
		}
		n, err := s.o.Content.RemoveContent(ctx, c.RequestID)
		if err != nil {
			return "", fmt.Errorf("takedown %s: %w", c.RequestID, err)
		}
		return fmt.Sprintf("takedown %s (%d items removed)", c.RequestID, n), nil
	case "sanction", "lift":
		if s.o.Sanctions == nil {
			return "", fmt.Errorf("sanction: %w", ErrUnavailable)
		}
		if a.UserID == "" {
			return "", invalid("action.user_id", "is required")
		}
		act := a.Sanction
		if a.Type == "lift" {
			act = "lift"
		}
		sn, err := s.o.Sanctions.Sanction(ctx, account.SanctionRequest{UserID: a.UserID, Action: act, Until: a.Until, Reason: reason,
			Actor: "complaint:" + c.ID + ":" + actor, Evidence: nonEmpty(c.ID, c.RequestID)})
		if err != nil {
			return "", fmt.Errorf("%s via complaint %s: %w", act, c.ID, err)
		}
		return fmt.Sprintf("%s sanction_%d", act, sn.ID), nil
	}
	return "", invalid("action.type", "must be takedown, sanction or lift")
}

// Assign gives the ticket to someone (and moves a new ticket into review).
func (s *Service) Assign(ctx context.Context, id, assignee, actor string) (Ticket, error) {
	assignee, err := checkText("assignee", assignee, 100, true)
	if err != nil {
		return Ticket{}, err
	}
	c, err := s.st.Complaint(ctx, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("complaint %s: %w", id, err)
	}
	if c.Closed() {
		return Ticket{}, invalid("assignee", "the ticket is closed")
	}
	now := s.o.Now().UTC().Truncate(time.Microsecond)
	if err := s.st.UpdateComplaint(ctx, store.ComplaintUpdate{ID: id, FromStatus: c.Status, Assignee: assignee, At: now,
		Event: store.ComplaintEvent{Time: now, Actor: actor, Kind: "assign", Text: assignee, Internal: true}}); err != nil {
		return Ticket{}, fmt.Errorf("assign complaint %s: %w", id, err)
	}
	s.event(ctx, audit.Event{Time: now, Kind: "complaint.assigned", Actor: actor, Subject: id})
	return s.Get(ctx, id)
}

// Note adds an internal note (never shown to the complainant) or, with
// feedback, a message that is shown on the status page.
func (s *Service) Note(ctx context.Context, id, text, actor string, feedback bool) (Ticket, error) {
	text, err := checkText("text", text, maxNote, true)
	if err != nil {
		return Ticket{}, err
	}
	if _, err := s.st.Complaint(ctx, id); err != nil {
		return Ticket{}, fmt.Errorf("complaint %s: %w", id, err)
	}
	now := s.o.Now().UTC().Truncate(time.Microsecond)
	u := store.ComplaintUpdate{ID: id, At: now, Event: store.ComplaintEvent{Time: now, Actor: actor, Kind: "note", Text: text, Internal: true}}
	if feedback {
		u.Feedback = text
		u.Event.Kind, u.Event.Internal = "feedback", false
	}
	if err := s.st.UpdateComplaint(ctx, u); err != nil {
		return Ticket{}, fmt.Errorf("note on complaint %s: %w", id, err)
	}
	return s.Get(ctx, id)
}
