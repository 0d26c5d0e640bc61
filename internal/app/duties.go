package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/store/sqlite"
	"github.com/genguard/genguard/internal/web"
)

// Option adjusts how New builds the gateway.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the gateway read the time from now: end-to-end tests
// drive curfews, daily limits, quotas and suspensions with it.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// buildDuties wires the duties towards users (agreements, minors mode, the
// enforcement ladder, quotas) and their public pages.
func buildDuties(ctx context.Context, db *sqlite.DB, cfg config.Config, accounts *account.Service, log *slog.Logger, now func() time.Time) (*account.Duties, *web.UserPages, error) {
	if now == nil {
		now = time.Now
	}
	u := cfg.Users
	loc, err := u.Location()
	if err != nil {
		return nil, nil, fmt.Errorf("users.timezone: %w", err)
	}
	start, err1 := config.ParseClock(u.Minors.CurfewStart)
	end, err2 := config.ParseClock(u.Minors.CurfewEnd)
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("users.minors curfew: %v %v", err1, err2)
	}
	e := u.Enforcement
	duties, err := account.NewDuties(ctx, db, account.DutiesOptions{
		Now: now, Location: loc, BaseURL: strings.TrimSuffix(u.BaseURL, "/"), Pseudonym: accounts.Pseudonym, Logger: log,
		// Straight to the store, one transaction per event: durable before
		// the decision is acknowledged, and usable before the audit writer
		// runs (an agreement published at start).
		Events: audit.NewDirect(db),
		Minors: account.MinorsPolicy{Serve: u.Minors.Serve, UnknownAs: u.Minors.UnknownAs,
			DailyLimit16to18: u.Minors.DailyLimit16to18.D(), DailyLimitUnder16: u.Minors.DailyLimitUnder16.D(),
			BreakAfter: u.Minors.BreakAfter.D(), IdleGap: u.Minors.IdleGap.D(), CurfewStart: start, CurfewEnd: end},
		Ladder: account.LadderPolicy{BlockPoints: e.BlockPoints, ReviewPoints: e.ReviewPoints, RiskWeights: e.RiskWeights,
			Window: e.Window.D(), Thresholds: e.Thresholds(), RestrictedRPM: e.RestrictedRPM,
			RestrictedRoutes: []string{"POST /v1/images/generations", "POST /v1/audio/speech"}, Appeal: e.Appeal, AppealURL: e.AppealURL},
		Quotas: account.QuotaPolicy{UserRPM: u.Quotas.UserRPM, UserTokensPerDay: u.Quotas.UserTokensPerDay,
			KeyRPM: u.Quotas.KeyRPM, KeyTokensPerDay: u.Quotas.KeyTokensPerDay},
	})
	if err != nil {
		return nil, nil, err
	}
	accounts.SetPolicyGroups(duties.PolicyGroup)
	if v := u.Agreement.Version; v != "" {
		body := account.AgreementTemplate
		if f := u.Agreement.File; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, fmt.Errorf("users.agreement.file: %w", err)
			}
			body = string(b)
		}
		if err := duties.PublishIfAbsent(ctx, v, body); err != nil {
			return nil, nil, fmt.Errorf("users.agreement: %w", err)
		}
	}
	key, err := secret(ctx, db, "web_key")
	if err != nil {
		return nil, nil, err
	}
	d := u.Disclosure
	pages, err := web.NewUserPages(web.UserPagesOptions{Key: key, Now: now, SecureCookie: strings.HasPrefix(u.BaseURL, "https://"),
		Duties: duties, Keys: accounts, Logger: log,
		Disclosure: web.Disclosure{ServiceName: d.ServiceName, Provider: d.Provider, IntendedUsers: d.IntendedUsers, Scenarios: d.Scenarios,
			Uses: d.Uses, Limitations: d.Limitations, ModelSummary: d.ModelSummary, FoundationModels: nonNil(d.FoundationModels),
			FiledModelName: d.FiledModelName, FilingNumber: d.FilingNumber, Complaints: nonNil(d.Complaints), Regulator: d.Regulator,
			TrainingUse: d.TrainingUse, ServesMinors: u.Minors.Serve}})
	if err != nil {
		return nil, nil, err
	}
	return duties, pages, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// secret returns a 32-byte secret kept in the meta table, creating it on
// first use (two processes racing agree on the first one stored).
func secret(ctx context.Context, db *sqlite.DB, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := db.SetMetaIfAbsent(ctx, name, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("init %s: %w", name, err)
	}
	v, err := db.Meta(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", name, err)
	}
	return key, nil
}
