package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store"
)

// DutiesStore is what the duties towards users need from persistence.
type DutiesStore interface {
	PublishAgreement(ctx context.Context, a store.Agreement) error
	CurrentAgreement(ctx context.Context) (store.Agreement, error)
	Agreement(ctx context.Context, version string) (store.Agreement, error)
	Agreements(ctx context.Context, limit int) ([]store.Agreement, error)
	AcceptAgreement(ctx context.Context, a store.Acceptance) error
	Acceptance(ctx context.Context, userID, version string) (store.Acceptance, error)
	Profile(ctx context.Context, userID string) (store.Profile, error)
	SaveProfile(ctx context.Context, p store.Profile) error
	Standing(ctx context.Context, userID string) (store.Standing, error)
	ApplySanction(ctx context.Context, s store.Sanction) (store.Sanction, error)
	Sanctions(ctx context.Context, f store.SanctionFilter) ([]store.Sanction, error)
	AddViolation(ctx context.Context, v store.Violation) (int64, error)
	Violations(ctx context.Context, userID string, since time.Time, limit int) ([]store.Violation, int, error)
	UsageTime(ctx context.Context, userID string) (store.UsageTime, error)
	SaveUsageTime(ctx context.Context, u store.UsageTime) error
	SetQuota(ctx context.Context, q store.Quota) error
	Quota(ctx context.Context, kind, subject string) (store.Quota, error)
	DeleteQuota(ctx context.Context, kind, subject string) error
	DutySetting(ctx context.Context, key string) (string, error)
	SetDutySetting(ctx context.Context, key, value string) error
	TokensSince(ctx context.Context, since time.Time) ([]store.TokenUsage, error)
}

// EventLog appends durable events to the tamper-evident audit chain.
type EventLog interface {
	Event(ctx context.Context, e audit.Event) error
}

// ErrInvalid marks bad input to the duties API (a 400 at the edge).
var ErrInvalid = errors.New("invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Refusal is why admission turned a request away; the edge maps it to the
// OpenAI envelope with Status, Code, Link and a Retry-After header.
type Refusal struct {
	Status     int
	Code       string
	Message    string
	Link       string
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return r.Message }

// Policy groups on Principal: moderation applies a stricter policy to
// minors (TC260-003 §7 a).
const (
	PolicyDefault = ""
	PolicyMinor   = "minor"
)

// MinorsPolicy is minors mode (CAC minors-mode guide 2024-11).
type MinorsPolicy struct {
	// Serve false: minors are refused and users of unknown age must
	// confirm they are adults.
	Serve bool
	// UnknownAs is the band users of unknown age are treated as.
	UnknownAs                           string
	DailyLimit16to18, DailyLimitUnder16 time.Duration
	BreakAfter, IdleGap                 time.Duration
	// CurfewStart and CurfewEnd are minutes after local midnight.
	CurfewStart, CurfewEnd int
}

// Thresholds are the ladder's rungs in points (0 skips a rung) and the
// length of an automatic suspension.
type Thresholds struct {
	WarnAt      int           `json:"warn_at"`
	RestrictAt  int           `json:"restrict_at"`
	SuspendAt   int           `json:"suspend_at"`
	TerminateAt int           `json:"terminate_at"`
	SuspendFor  time.Duration `json:"-"`
}

// LadderPolicy is the enforcement ladder (Measures Art. 14 ¶2).
type LadderPolicy struct {
	BlockPoints, ReviewPoints int
	// RiskWeights by group ("A.1") or code ("A.1.d"); default 1.
	RiskWeights map[string]int
	Window      time.Duration
	Thresholds  Thresholds
	// RestrictedRPM caps a restricted user; RestrictedRoutes are refused.
	RestrictedRPM     int
	RestrictedRoutes  []string
	Appeal, AppealURL string
}

// QuotaPolicy holds the default quotas; 0 is unlimited.
type QuotaPolicy struct {
	UserRPM          int
	UserTokensPerDay int64
	KeyRPM           int
	KeyTokensPerDay  int64
}

// DutiesOptions configure Duties.
type DutiesOptions struct {
	Now      func() time.Time
	Location *time.Location
	// BaseURL prefixes the links in refusals.
	BaseURL string
	Minors  MinorsPolicy
	Ladder  LadderPolicy
	Quotas  QuotaPolicy
	// Pseudonym maps a user id to its audit pseudonym (token counts are
	// read back from audit records by pseudonym).
	Pseudonym func(userID string) string
	// Events, when set, receives sanctions, publications and acceptances.
	Events EventLog
	Logger *slog.Logger
}

// Duties enforces what the provider owes and asks of each user: the
// service agreement, minors mode, the enforcement ladder and quotas. It is
// the gateway's api.Admission and an api.Observer. State lives in the store;
// a bounded in-memory copy keeps the request path free of reads.
type Duties struct {
	st  DutiesStore
	o   DutiesOptions
	now func() time.Time
	log *slog.Logger

	mu         sync.Mutex
	thresholds Thresholds
	agreement  *store.Agreement // current version; nil: none published
	users      map[string]*userState
	quotas     map[string]*store.Quota // overrides by "kind:subject"; nil value: none
	buckets    map[string]*bucket
	tokenDay   string
	tokens     map[string]int64 // today's tokens by "key:ID" and "user:PSEUDONYM"
}

// userState is the cached copy of one user's records; mu serialises the
// user's updates so a later write never loses to an earlier one.
type userState struct {
	mu       sync.Mutex
	loaded   bool
	profile  store.Profile
	standing store.Standing
	usage    store.UsageTime
	accepted string // the current agreement version, once accepted
}

// Bounds on the in-memory state; past them a map is cleared, which only
// costs store reads (or, for rate buckets, forgets the last minute).
const (
	maxUsers   = 100_000
	maxBuckets = 200_000
	maxTokens  = 1_000_000
)

const thresholdsSetting = "enforcement.thresholds"

// NewDuties loads the current agreement, stored thresholds and today's token
// counts.
func NewDuties(ctx context.Context, st DutiesStore, o DutiesOptions) (*Duties, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Pseudonym == nil {
		o.Pseudonym = func(id string) string { return id }
	}
	d := &Duties{st: st, o: o, now: o.Now, log: o.Logger, thresholds: o.Ladder.Thresholds,
		users: map[string]*userState{}, quotas: map[string]*store.Quota{}, buckets: map[string]*bucket{}, tokens: map[string]int64{}}
	a, err := st.CurrentAgreement(ctx)
	switch {
	case err == nil:
		d.agreement = &a
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("load agreement: %w", err)
	}
	if err := d.loadThresholds(ctx); err != nil {
		return nil, err
	}
	if err := d.loadTokens(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// user returns the loaded state of a user, locked; the caller unlocks.
func (d *Duties) user(ctx context.Context, id string) (*userState, error) {
	d.mu.Lock()
	u := d.users[id]
	if u == nil {
		if len(d.users) >= maxUsers {
			clear(d.users)
		}
		u = &userState{}
		d.users[id] = u
	}
	cur := d.agreement
	d.mu.Unlock()
	u.mu.Lock()
	if u.loaded {
		return u, nil
	}
	if err := d.load(ctx, u, id, cur); err != nil {
		u.mu.Unlock()
		return nil, err
	}
	u.loaded = true
	return u, nil
}

func (d *Duties) load(ctx context.Context, u *userState, id string, cur *store.Agreement) error {
	var err error
	if u.profile, err = d.st.Profile(ctx, id); err != nil {
		return fmt.Errorf("user %q: %w", id, err)
	}
	if u.standing, err = d.st.Standing(ctx, id); err != nil {
		return fmt.Errorf("load standing: %w", err)
	}
	u.usage, err = d.st.UsageTime(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		u.usage, err = store.UsageTime{UserID: id}, nil
	}
	if err != nil {
		return fmt.Errorf("load usage time: %w", err)
	}
	if cur != nil {
		_, err := d.st.Acceptance(ctx, id, cur.Version)
		switch {
		case err == nil:
			u.accepted = cur.Version
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("load acceptance: %w", err)
		}
	}
	return nil
}

// link makes an absolute link when a base URL is configured.
func (d *Duties) link(path string) string {
	if path == "" || path[0] != '/' {
		return path
	}
	return d.o.BaseURL + path
}

// Admit implements api.Admission: a user may call route now unless they are
// sanctioned, have not accepted the current agreement, are a minor outside
// the allowed time, or are over a quota. Checks run cheapest-first and the
// rate quota is consumed last, so only admitted requests count.
func (d *Duties) Admit(ctx context.Context, p Principal, route string) error {
	if p.UserID == "" {
		return nil
	}
	now := d.now()
	u, err := d.user(ctx, p.UserID)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if err := d.checkStanding(u, now, route); err != nil {
		return err
	}
	if err := d.checkAgreement(u); err != nil {
		return err
	}
	if err := d.checkMinors(ctx, u, now); err != nil {
		return err
	}
	return d.checkQuotas(ctx, p, d.effective(u.standing, now), now)
}

func (d *Duties) checkAgreement(u *userState) error {
	d.mu.Lock()
	cur := d.agreement
	d.mu.Unlock()
	if cur == nil || u.accepted == cur.Version {
		return nil
	}
	return &Refusal{Status: http.StatusForbidden, Code: "agreement_required", Link: d.link("/agreement"),
		Message: fmt.Sprintf("请先阅读并接受服务协议（版本 %s）。You must accept the service agreement (version %s) before using the service: read it at %s and accept it there or with POST /v1/agreement/accept.",
			cur.Version, cur.Version, d.link("/agreement"))}
}

// Notice is something an admitted user should be told with the response: a
// break reminder, a warning. Code is ASCII for a header.
type Notice struct {
	Code    string
	Message string
}

// Notice returns the notice for an admitted request, if any; it reads only
// the cached state Admit loaded.
func (d *Duties) Notice(ctx context.Context, p Principal) (Notice, bool) {
	if p.UserID == "" {
		return Notice{}, false
	}
	d.mu.Lock()
	u := d.users[p.UserID]
	d.mu.Unlock()
	if u == nil {
		return Notice{}, false
	}
	now := d.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.loaded {
		return Notice{}, false
	}
	if isMinor(d.band(u.profile)) && d.continuous(u, now) >= d.o.Minors.BreakAfter {
		return Notice{Code: "break_reminder", Message: fmt.Sprintf("您已连续使用超过%d分钟，请注意休息。You have used the service for over %d minutes without a break; please take a rest.",
			int(d.o.Minors.BreakAfter.Minutes()), int(d.o.Minors.BreakAfter.Minutes()))}, true
	}
	switch st := d.effective(u.standing, now); st.Status {
	case store.StatusWarned, store.StatusRestricted:
		return Notice{Code: "account_" + st.Status, Message: d.sanctionMessage(st)}, true
	}
	return Notice{}, false
}
