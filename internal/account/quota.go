package account

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/store"
)

// bucket is a token bucket holding up to rpm requests, refilled at rpm per
// minute: a burst of a minute's worth, then a steady rate.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one request from the bucket of subject, or returns how long
// until one is available.
func (d *Duties) take(subject string, rpm int, now time.Time) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buckets[subject]
	if b == nil {
		if len(d.buckets) >= maxBuckets {
			clear(d.buckets)
		}
		b = &bucket{tokens: float64(rpm), last: now}
		d.buckets[subject] = b
	}
	rate := float64(rpm) / float64(time.Minute)
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(rpm), b.tokens+rate*float64(el))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate)
}

// limits returns the quota for a subject: its override, else the default.
func (d *Duties) limits(ctx context.Context, kind, subject string) (store.Quota, error) {
	key := kind + ":" + subject
	d.mu.Lock()
	q, cached := d.quotas[key]
	d.mu.Unlock()
	if !cached {
		got, err := d.st.Quota(ctx, kind, subject)
		switch {
		case err == nil:
			q = &got
		case !errors.Is(err, store.ErrNotFound):
			return store.Quota{}, fmt.Errorf("load quota: %w", err)
		}
		d.mu.Lock()
		if len(d.quotas) >= maxUsers {
			clear(d.quotas)
		}
		d.quotas[key] = q
		d.mu.Unlock()
	}
	if q != nil {
		return *q, nil
	}
	if kind == store.QuotaUser {
		return store.Quota{Kind: kind, Subject: subject, RequestsPerMinute: d.o.Quotas.UserRPM, TokensPerDay: d.o.Quotas.UserTokensPerDay}, nil
	}
	return store.Quota{Kind: kind, Subject: subject, RequestsPerMinute: d.o.Quotas.KeyRPM, TokensPerDay: d.o.Quotas.KeyTokensPerDay}, nil
}

// nextDay is the start of the next local day after now.
func (d *Duties) nextDay(now time.Time) time.Time {
	y, m, dd := now.In(d.o.Location).Date()
	return time.Date(y, m, dd+1, 0, 0, 0, 0, d.o.Location)
}

func retryAfter(d time.Duration) time.Duration { return max(d, time.Second) }

// checkQuotas enforces tokens per day (counted from audit records) and then
// requests per minute, for the user and the key; a restricted user's rate is
// capped further.
func (d *Duties) checkQuotas(ctx context.Context, p Principal, st store.Standing, now time.Time) error {
	uq, err := d.limits(ctx, store.QuotaUser, p.UserID)
	if err != nil {
		return err
	}
	kq, err := d.limits(ctx, store.QuotaKey, p.KeyID)
	if err != nil {
		return err
	}
	if st.Status == store.StatusRestricted && d.o.Ladder.RestrictedRPM > 0 && (uq.RequestsPerMinute == 0 || uq.RequestsPerMinute > d.o.Ladder.RestrictedRPM) {
		uq.RequestsPerMinute = d.o.Ladder.RestrictedRPM
	}
	pseudo := d.o.Pseudonym(p.UserID)
	for _, c := range []struct {
		what, counter string
		limit         int64
	}{{"user", "user:" + pseudo, uq.TokensPerDay}, {"key", "key:" + p.KeyID, kq.TokensPerDay}} {
		if c.limit > 0 && d.tokensToday(c.counter, now) >= c.limit {
			wait := d.nextDay(now).Sub(now)
			return &Refusal{Status: http.StatusTooManyRequests, Code: "tokens_per_day_exceeded", RetryAfter: retryAfter(wait),
				Message: fmt.Sprintf("本%s今日的 token 配额（%d）已用完，将于当地时间零点恢复。The %s's quota of %d tokens per day is used up; it resets at midnight %s (in %d seconds).",
					map[string]string{"user": "账号", "key": "密钥"}[c.what], c.limit, c.what, c.limit, d.o.Location, int(math.Ceil(wait.Seconds())))}
		}
	}
	for _, c := range []struct {
		what, bucket string
		rpm          int
	}{{"user", "user:" + p.UserID, uq.RequestsPerMinute}, {"key", "key:" + p.KeyID, kq.RequestsPerMinute}} {
		if c.rpm <= 0 {
			continue
		}
		if wait := d.take(c.bucket, c.rpm, now); wait > 0 {
			return &Refusal{Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded", RetryAfter: retryAfter(wait),
				Message: fmt.Sprintf("请求过于频繁（每分钟最多 %d 次）。Rate limit reached for this %s: %d requests per minute; retry in %d seconds.",
					c.rpm, c.what, c.rpm, int(math.Ceil(retryAfter(wait).Seconds())))}
		}
	}
	return nil
}

// tokensToday reads a counter, resetting all counters when the day changed.
func (d *Duties) tokensToday(counter string, now time.Time) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rollTokens(now)
	return d.tokens[counter]
}

func (d *Duties) rollTokens(now time.Time) {
	if day := d.day(now); day != d.tokenDay {
		d.tokenDay = day
		clear(d.tokens)
	}
}

// loadTokens seeds today's counters from the audit records already written,
// so a restart does not hand out a fresh day's quota.
func (d *Duties) loadTokens(ctx context.Context) error {
	now := d.now()
	y, m, dd := now.In(d.o.Location).Date()
	usage, err := d.st.TokensSince(ctx, time.Date(y, m, dd, 0, 0, 0, 0, d.o.Location))
	if err != nil {
		return fmt.Errorf("load token usage: %w", err)
	}
	d.tokenDay = d.day(now)
	for _, u := range usage {
		if u.KeyID != "" {
			d.tokens["key:"+u.KeyID] += u.Tokens
		}
		if u.UserPseudonym != "" {
			d.tokens["user:"+u.UserPseudonym] += u.Tokens
		}
	}
	return nil
}

func (d *Duties) addTokens(p Principal, rec store.AuditRecord) {
	n := int64(rec.PromptTokens) + int64(rec.CompletionTokens)
	if n <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rollTokens(d.now())
	if len(d.tokens) >= maxTokens {
		d.log.Warn("token counters full; today's counts restart") // bounded memory beats exactness here
		clear(d.tokens)
	}
	d.tokens["user:"+d.o.Pseudonym(p.UserID)] += n
	d.tokens["key:"+p.KeyID] += n
}

// SetQuota overrides the quota of a user or key durably; rpm and tokens of 0
// mean unlimited.
func (d *Duties) SetQuota(ctx context.Context, q store.Quota) error {
	if q.RequestsPerMinute < 0 || q.RequestsPerMinute > 1_000_000 || q.TokensPerDay < 0 || q.TokensPerDay > 1<<50 {
		return invalid("requests_per_minute must be 0 … 1000000 and tokens_per_day 0 … 2^50 (0: unlimited)")
	}
	if err := d.st.SetQuota(ctx, q); err != nil {
		return fmt.Errorf("set quota: %w", err)
	}
	d.mu.Lock()
	d.quotas[q.Kind+":"+q.Subject] = &q
	delete(d.buckets, q.Kind+":"+q.Subject)
	d.mu.Unlock()
	return nil
}

// ClearQuota removes an override, returning the subject to the defaults.
func (d *Duties) ClearQuota(ctx context.Context, kind, subject string) error {
	if err := d.st.DeleteQuota(ctx, kind, subject); err != nil {
		return fmt.Errorf("clear quota: %w", err)
	}
	d.mu.Lock()
	delete(d.quotas, kind+":"+subject)
	delete(d.buckets, kind+":"+subject)
	d.mu.Unlock()
	return nil
}

// Quota returns the quota in force for a subject and today's tokens.
func (d *Duties) Quota(ctx context.Context, kind, subject string) (store.Quota, int64, error) {
	q, err := d.limits(ctx, kind, subject)
	if err != nil {
		return q, 0, err
	}
	counter := "key:" + subject
	if kind == store.QuotaUser {
		counter = "user:" + d.o.Pseudonym(subject)
	}
	return q, d.tokensToday(counter, d.now()), nil
}

// Observe implements api.Observer: it counts the request's tokens, a
// minor's activity until the response ended, and a blocked or reviewed
// decision against the user.
func (d *Duties) Observe(ctx context.Context, p Principal, rec store.AuditRecord, hits []moderation.Hit) {
	if p.UserID == "" {
		return
	}
	d.addTokens(p, rec)
	if d.o.Minors.Serve {
		if u, err := d.user(ctx, p.UserID); err == nil {
			if isMinor(d.band(u.profile)) {
				end := rec.Time.Add(time.Duration(rec.LatencyMicros) * time.Microsecond)
				if err := d.touch(ctx, u, end); err != nil {
					d.log.ErrorContext(ctx, "minors usage not saved", "err", err)
				}
			}
			u.mu.Unlock()
		}
	}
	if rec.Decision == "block" || rec.Decision == "review" {
		if err := d.countViolation(ctx, p.UserID, rec, weighAs(rec.Decision, hits)); err != nil {
			d.log.ErrorContext(ctx, "violation not counted", "record", rec.ID, "err", err)
		}
	}
}
