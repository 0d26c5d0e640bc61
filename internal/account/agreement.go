package account

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store"
)

// AgreementTemplate is the built-in service agreement; it states how
// generated content is labelled (标识办法 Art. 8).
//
//go:embed templates/agreement.md
var AgreementTemplate string

// Limits on an agreement.
const (
	MaxAgreementBytes   = 256 << 10
	maxAgreementVersion = 64
	maxAgreementsListed = 1000
)

// Acceptance channels.
const (
	ChannelAPI   = "api"
	ChannelWeb   = "web"
	ChannelAdmin = "admin"
)

// labellingTerms are the words of which an agreement must contain one: it
// has to tell users how generated content is labelled (标识办法 Art. 8).
var labellingTerms = []string{"标识", "label"}

// Publish stores a new agreement version and makes it current; from then
// on users must accept it. It is durable before it returns.
func (d *Duties) Publish(ctx context.Context, version, body, actor string) (store.Agreement, error) {
	if version == "" || len(version) > maxAgreementVersion || strings.TrimSpace(version) != version || !utf8.ValidString(version) ||
		strings.ContainsAny(version, "/?#") {
		return store.Agreement{}, invalid("version must be 1–%d characters without spaces at the ends or / ? #", maxAgreementVersion)
	}
	if strings.TrimSpace(body) == "" || len(body) > MaxAgreementBytes || !utf8.ValidString(body) {
		return store.Agreement{}, invalid("text must be non-empty UTF-8 of at most %d bytes", MaxAgreementBytes)
	}
	lower := strings.ToLower(body)
	labelled := false
	for _, t := range labellingTerms {
		labelled = labelled || strings.Contains(lower, t)
	}
	if !labelled {
		return store.Agreement{}, invalid("the agreement must state how generated content is labelled (标识办法 Art. 8): it mentions neither 标识 nor label")
	}
	sum := sha256.Sum256([]byte(body))
	a := store.Agreement{Version: version, Body: body, SHA256: hex.EncodeToString(sum[:]), PublishedAt: d.now().UTC().Truncate(time.Microsecond)}
	if err := d.st.PublishAgreement(ctx, a); err != nil {
		return store.Agreement{}, fmt.Errorf("publish agreement %q: %w", version, err)
	}
	// Cached acceptances name older versions, so everyone must accept anew.
	d.mu.Lock()
	d.agreement = &a
	d.mu.Unlock()
	d.event(ctx, audit.Event{Kind: "agreement.published", Actor: actor, Subject: version, Details: map[string]string{"sha256": a.SHA256}})
	return a, nil
}

// PublishIfAbsent publishes version unless it exists (start-up from config).
func (d *Duties) PublishIfAbsent(ctx context.Context, version, body string) error {
	if _, err := d.st.Agreement(ctx, version); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up agreement %q: %w", version, err)
	}
	_, err := d.Publish(ctx, version, body, "config")
	return err
}

// CurrentAgreement returns the current version; store.ErrNotFound when
// none is published.
func (d *Duties) CurrentAgreement(ctx context.Context) (store.Agreement, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.agreement == nil {
		return store.Agreement{}, fmt.Errorf("no service agreement published: %w", store.ErrNotFound)
	}
	return *d.agreement, nil
}

// Agreement returns one version.
func (d *Duties) Agreement(ctx context.Context, version string) (store.Agreement, error) {
	return d.st.Agreement(ctx, version)
}

// Agreements lists published versions, newest first.
func (d *Duties) Agreements(ctx context.Context) ([]store.Agreement, error) {
	return d.st.Agreements(ctx, maxAgreementsListed)
}

// Accept records that userID accepted version through channel. The version
// must be the current one: accepting an older text does not count.
func (d *Duties) Accept(ctx context.Context, userID, version, channel string) (store.Acceptance, error) {
	cur, err := d.CurrentAgreement(ctx)
	if err != nil {
		return store.Acceptance{}, err
	}
	if version == "" {
		version = cur.Version
	}
	if version != cur.Version {
		return store.Acceptance{}, invalid("version %q is not the current agreement (%s)", version, cur.Version)
	}
	u, err := d.user(ctx, userID)
	if err != nil {
		return store.Acceptance{}, err
	}
	defer u.mu.Unlock()
	a := store.Acceptance{UserID: userID, Version: cur.Version, SHA256: cur.SHA256, Channel: channel, AcceptedAt: d.now().UTC().Truncate(time.Microsecond)}
	if err := d.st.AcceptAgreement(ctx, a); err != nil {
		return store.Acceptance{}, fmt.Errorf("accept agreement: %w", err)
	}
	u.accepted = cur.Version
	if got, err := d.st.Acceptance(ctx, userID, cur.Version); err == nil {
		a = got // the first acceptance is the one on record
	}
	d.event(ctx, audit.Event{Kind: "agreement.accepted", Actor: channel, Subject: d.o.Pseudonym(userID),
		Details: map[string]string{"version": a.Version, "sha256": a.SHA256}})
	return a, nil
}

// AgreementStatus returns the current version and the user's acceptance of
// it (ok false when not accepted or none is published).
func (d *Duties) AgreementStatus(ctx context.Context, userID string) (cur store.Agreement, acc store.Acceptance, ok bool, err error) {
	cur, err = d.CurrentAgreement(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return cur, acc, false, nil
	}
	if err != nil {
		return cur, acc, false, err
	}
	acc, err = d.st.Acceptance(ctx, userID, cur.Version)
	if errors.Is(err, store.ErrNotFound) {
		return cur, acc, false, nil
	}
	return cur, acc, err == nil, err
}

// event appends to the audit chain; a failure is logged, the domain record
// is already durable.
func (d *Duties) event(ctx context.Context, e audit.Event) error {
	if d.o.Events == nil {
		return nil
	}
	if err := d.o.Events.Event(context.WithoutCancel(ctx), e); err != nil {
		d.log.ErrorContext(ctx, "audit event not written", "kind", e.Kind, "err", err)
		return err
	}
	return nil
}
