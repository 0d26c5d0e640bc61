// Package account owns users and their API keys: issuing keys (shown once,
// stored as hashes), verifying them on every request, and revoking them.
package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/genguard/genguard/internal/store"
)

// Store is what accounts need from persistence.
type Store interface {
	CreateUser(ctx context.Context, u store.User) error
	User(ctx context.Context, id string) (store.User, error)
	UserByName(ctx context.Context, name string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	CreateKey(ctx context.Context, k store.APIKey) error
	Key(ctx context.Context, id string) (store.APIKey, error)
	Keys(ctx context.Context, userID string) ([]store.APIKey, error)
	CountKeys(ctx context.Context, scope string) (int, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
}

// Errors callers map to HTTP statuses.
var (
	ErrUnauthorized = errors.New("invalid API key")
	ErrInvalidName  = errors.New("invalid user name")
)

// Principal is who a verified key belongs to.
type Principal struct {
	KeyID  string
	UserID string // empty for admin keys
	Scope  string
	// PolicyGroup selects the moderation policy: PolicyMinor for users in
	// minors mode, else PolicyDefault.
	PolicyGroup string
}

// Admin reports whether the key may use the admin API.
func (p Principal) Admin() bool { return p.Scope == store.ScopeAdmin }

// Service manages users and keys. It caches verified keys for a short TTL so
// the request path rarely touches the store.
type Service struct {
	st       Store
	now      func() time.Time
	ttl      time.Duration
	pseudo   []byte // HMAC key for pseudonymous user ids
	extAdmin []byte // hash of a configured admin key, if any

	groups func(ctx context.Context, userID string) (string, error)

	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	key     store.APIKey
	group   string
	expires time.Time
}

// maxCache bounds the key cache; beyond it the cache is cleared, which only
// costs store reads.
const maxCache = 100_000

// Options configure a Service.
type Options struct {
	Now      func() time.Time
	CacheTTL time.Duration
	// PseudonymKey keys the HMAC that turns user ids into audit pseudonyms.
	PseudonymKey []byte
	// AdminKey is an extra admin key from config (empty: none).
	AdminKey string
	// PolicyGroup, when set, names a user's moderation policy group; it is
	// cached with the key, so a change shows within CacheTTL.
	PolicyGroup func(ctx context.Context, userID string) (string, error)
}

// New returns a Service.
func New(st Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{st: st, now: o.Now, ttl: o.CacheTTL, pseudo: o.PseudonymKey, groups: o.PolicyGroup, cache: map[string]cached{}}
	if o.AdminKey != "" {
		h := sha256.Sum256([]byte(o.AdminKey))
		s.extAdmin = h[:]
	}
	return s
}

// Key format: "gg-" + 16-char id + "." + 43-char secret. The id lets us find
// the stored hash without scanning; the secret has 256 bits of entropy, so a
// plain SHA-256 is a sufficient at-rest hash (no password stretching needed).
const keyPrefix = "gg-"

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}

func hashSecret(id, secret string) []byte {
	h := sha256.Sum256([]byte(id + "." + secret))
	return h[:]
}

func newKey(userID, scope string, now time.Time) (store.APIKey, string) {
	id := newID(10)
	sb := make([]byte, 32)
	rand.Read(sb)
	secret := base64.RawURLEncoding.EncodeToString(sb)
	k := store.APIKey{ID: id, UserID: userID, Scope: scope, Hash: hashSecret(id, secret), CreatedAt: now.UTC().Truncate(time.Microsecond)}
	return k, keyPrefix + id + "." + secret
}

// ValidateName checks a user name: 1–64 printable characters, no spaces at
// the ends, no control characters.
func ValidateName(name string) error {
	if name == "" || len(name) > 64 || strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: %q must be 1–64 characters without surrounding spaces", ErrInvalidName, name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%w: %q contains a control or invalid character", ErrInvalidName, name)
		}
	}
	return nil
}

// CreateUser creates a user and its first key, returning the key's secret
// form, which is shown once and never stored.
func (s *Service) CreateUser(ctx context.Context, name string) (store.User, string, error) {
	if err := ValidateName(name); err != nil {
		return store.User{}, "", err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	u := store.User{ID: "u_" + newID(10), Name: name, CreatedAt: now}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return store.User{}, "", fmt.Errorf("create user %q: %w", name, err)
	}
	k, secret := newKey(u.ID, store.ScopeUser, now)
	if err := s.st.CreateKey(ctx, k); err != nil {
		return store.User{}, "", fmt.Errorf("create key: %w", err)
	}
	return u, secret, nil
}

// IssueKey issues another key for an existing user.
func (s *Service) IssueKey(ctx context.Context, userID string) (store.APIKey, string, error) {
	if _, err := s.st.User(ctx, userID); err != nil {
		return store.APIKey{}, "", fmt.Errorf("issue key for %q: %w", userID, err)
	}
	k, secret := newKey(userID, store.ScopeUser, s.now())
	if err := s.st.CreateKey(ctx, k); err != nil {
		return store.APIKey{}, "", fmt.Errorf("issue key: %w", err)
	}
	return k, secret, nil
}

// EnsureAdminKey creates the first admin key if none exists yet and returns
// its secret; created is false (and secret empty) when one already existed.
func (s *Service) EnsureAdminKey(ctx context.Context) (secret string, created bool, err error) {
	n, err := s.st.CountKeys(ctx, store.ScopeAdmin)
	if err != nil {
		return "", false, fmt.Errorf("count admin keys: %w", err)
	}
	if n > 0 {
		return "", false, nil
	}
	k, secret := newKey("", store.ScopeAdmin, s.now())
	if err := s.st.CreateKey(ctx, k); err != nil {
		return "", false, fmt.Errorf("create admin key: %w", err)
	}
	return secret, true, nil
}

// Revoke revokes a key; it stops working in this process at once and in
// other processes within the cache TTL.
func (s *Service) Revoke(ctx context.Context, keyID string) error {
	if err := s.st.RevokeKey(ctx, keyID, s.now()); err != nil {
		return fmt.Errorf("revoke key %q: %w", keyID, err)
	}
	s.mu.Lock()
	delete(s.cache, keyID)
	s.mu.Unlock()
	return nil
}

// Users lists users.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.st.Users(ctx) }

// User returns one user.
func (s *Service) User(ctx context.Context, id string) (store.User, error) { return s.st.User(ctx, id) }

// Keys lists a user's keys (hashes included; callers must not show them).
func (s *Service) Keys(ctx context.Context, userID string) ([]store.APIKey, error) {
	return s.st.Keys(ctx, userID)
}

// Authenticate verifies a bearer token.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if s.extAdmin != nil {
		h := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(h[:], s.extAdmin) == 1 {
			return Principal{KeyID: "config", Scope: store.ScopeAdmin}, nil
		}
	}
	rest, ok := strings.CutPrefix(token, keyPrefix)
	if !ok {
		return Principal{}, ErrUnauthorized
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return Principal{}, ErrUnauthorized
	}
	now := s.now()
	s.mu.RLock()
	c, hit := s.cache[id]
	s.mu.RUnlock()
	if !hit || now.After(c.expires) {
		k, err := s.st.Key(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, ErrUnauthorized
		}
		if err != nil {
			return Principal{}, fmt.Errorf("look up key: %w", err)
		}
		c = cached{key: k, expires: now.Add(s.ttl)}
		if s.groups != nil && k.UserID != "" {
			if c.group, err = s.groups(ctx, k.UserID); err != nil {
				return Principal{}, fmt.Errorf("look up policy group: %w", err)
			}
		}
		s.mu.Lock()
		if len(s.cache) >= maxCache {
			clear(s.cache)
		}
		s.cache[id] = c
		s.mu.Unlock()
	}
	if subtle.ConstantTimeCompare(hashSecret(id, secret), c.key.Hash) != 1 || c.key.Revoked() {
		return Principal{}, ErrUnauthorized
	}
	return Principal{KeyID: c.key.ID, UserID: c.key.UserID, Scope: c.key.Scope, PolicyGroup: c.group}, nil
}

// Pseudonym returns the stable pseudonymous id used for userID in audit
// records, so the records name no one directly (Measures Art. 11).
func (s *Service) Pseudonym(userID string) string {
	if userID == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.pseudo)
	m.Write([]byte(userID))
	return "p_" + hex.EncodeToString(m.Sum(nil)[:12])
}

// ByKeyID returns who a stored, unrevoked key belongs to. Web sessions
// opened with a key use it, so revoking the key ends the session too.
func (s *Service) ByKeyID(ctx context.Context, keyID string) (Principal, error) {
	k, err := s.st.Key(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up key: %w", err)
	}
	if k.Revoked() {
		return Principal{}, ErrUnauthorized
	}
	return Principal{KeyID: k.ID, UserID: k.UserID, Scope: k.Scope}, nil
}

// SetPolicyGroups installs the lookup of users' moderation policy groups
// (Options.PolicyGroup) when it is built after the Service, as Duties is.
// Call it while wiring, before the Service handles requests.
func (s *Service) SetPolicyGroups(f func(ctx context.Context, userID string) (string, error)) {
	s.groups = f
}
