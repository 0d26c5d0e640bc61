package account

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// ValidAgeBand reports whether band is one of the four bands.
func ValidAgeBand(band string) bool {
	switch band {
	case store.AgeUnknown, store.AgeAdult, store.Age16to18, store.AgeUnder16:
		return true
	}
	return false
}

func isMinor(band string) bool { return band == store.Age16to18 || band == store.AgeUnder16 }

// band is the band rules apply to: unknown counts as configured.
func (d *Duties) band(p store.Profile) string {
	if p.AgeBand == store.AgeUnknown || p.AgeBand == "" {
		return d.o.Minors.UnknownAs
	}
	return p.AgeBand
}

// PolicyGroup is the moderation policy group of a user: "minor" for users
// in minors mode. account.Service puts it on every Principal.
func (d *Duties) PolicyGroup(ctx context.Context, userID string) (string, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return "", err
	}
	defer u.mu.Unlock()
	if isMinor(d.band(u.profile)) {
		return PolicyMinor, nil
	}
	return PolicyDefault, nil
}

// dailyLimit is the band's limit, tightened by the guardian's.
func (d *Duties) dailyLimit(p store.Profile) time.Duration {
	lim := d.o.Minors.DailyLimit16to18
	if d.band(p) == store.AgeUnder16 {
		lim = d.o.Minors.DailyLimitUnder16
	}
	if g := p.GuardianDailyLimit; g > 0 && g < lim {
		lim = g
	}
	return lim
}

// inSpan reports whether minute m of the day is in [start, end), wrapping
// past midnight when start > end; an empty span (start == end) holds nothing.
func inSpan(m, start, end int) bool {
	if start <= end {
		return m >= start && m < end
	}
	return m >= start || m < end
}

// ParseHours parses guardian hours "HH:MM-HH:MM" into minutes of the day.
func ParseHours(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, invalid("allowed hours %q are not HH:MM-HH:MM", s)
	}
	if start, err = parseClock(a); err == nil {
		end, err = parseClock(b)
	}
	if err != nil || start == end {
		return 0, 0, invalid("allowed hours %q are not HH:MM-HH:MM with different ends", s)
	}
	return start, end, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, invalid("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// allowedAt reports whether a minor may be served at t: outside the curfew
// and inside the guardian's hours.
func (d *Duties) allowedAt(p store.Profile, t time.Time) bool {
	lt := t.In(d.o.Location)
	m := lt.Hour()*60 + lt.Minute()
	if inSpan(m, d.o.Minors.CurfewStart, d.o.Minors.CurfewEnd) {
		return false
	}
	if p.GuardianHours != "" {
		if s, e, err := ParseHours(p.GuardianHours); err == nil && !inSpan(m, s, e) {
			return false
		}
	}
	return true
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func (d *Duties) day(t time.Time) string { return t.In(d.o.Location).Format("2006-01-02") }

// usedOn is the use counted for t's day.
func (d *Duties) usedOn(u *userState, t time.Time) time.Duration {
	if u.usage.Day != d.day(t) {
		return 0
	}
	return u.usage.Used
}

// resumeAt finds the first minute from now at which a minor may be served
// again, looking two days ahead; zero when there is none (guardian hours
// that never open).
func (d *Duties) resumeAt(u *userState, now time.Time) time.Time {
	lim := d.dailyLimit(u.profile)
	t := now.Truncate(time.Minute).Add(time.Minute)
	for range 2 * 24 * 60 {
		if d.allowedAt(u.profile, t) && d.usedOn(u, t) < lim {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

func (d *Duties) minorsRefusal(u *userState, now time.Time, code, why string) *Refusal {
	r := &Refusal{Status: http.StatusForbidden, Code: code, Link: d.link("/disclosure")}
	at := d.resumeAt(u, now)
	if at.IsZero() {
		r.Message = why + " 当前监护人设置下无可用时段。No time is allowed under the current guardian settings."
		return r
	}
	r.RetryAfter = at.Sub(now)
	local := at.In(d.o.Location).Format("2006-01-02 15:04")
	r.Message = fmt.Sprintf("%s 服务将于 %s（%s）恢复。Service resumes at %s (%s).", why, local, d.o.Location, local, d.o.Location)
	return r
}

// checkMinors applies minors mode and counts the request as activity.
func (d *Duties) checkMinors(ctx context.Context, u *userState, now time.Time) error {
	m := d.o.Minors
	if !m.Serve {
		switch {
		case u.profile.AgeBand == store.AgeUnknown || u.profile.AgeBand == "":
			return &Refusal{Status: http.StatusForbidden, Code: "age_confirmation_required", Link: d.link("/settings"),
				Message: "本服务不面向未成年人，请先确认您已年满18周岁。This service is not for minors: confirm that you are 18 or older at " + d.link("/settings") + "."}
		case isMinor(u.profile.AgeBand):
			return &Refusal{Status: http.StatusForbidden, Code: "minors_not_served", Link: d.link("/disclosure"),
				Message: "本服务不面向未成年人。This service is not available to minors."}
		}
		return nil
	}
	if !isMinor(d.band(u.profile)) {
		return nil
	}
	if !d.allowedAt(u.profile, now) {
		return d.minorsRefusal(u, now, "minors_curfew", fmt.Sprintf("未成年人模式：%s至%s及监护人设定时段以外不提供服务。Minors mode: no service from %s to %s or outside the hours a guardian allowed.",
			hhmm(m.CurfewStart), hhmm(m.CurfewEnd), hhmm(m.CurfewStart), hhmm(m.CurfewEnd)))
	}
	if d.usedOn(u, now) >= d.dailyLimit(u.profile) {
		return d.minorsRefusal(u, now, "minors_daily_limit", fmt.Sprintf("未成年人模式：今日使用时长已达%d分钟上限。Minors mode: today's limit of %d minutes is used up.",
			int(d.dailyLimit(u.profile).Minutes()), int(d.dailyLimit(u.profile).Minutes())))
	}
	return d.touch(ctx, u, now)
}

// touch counts activity at t: time since the last activity is use when the
// gap is at most the idle gap, otherwise t starts a new session. The
// counter is stored so it survives restarts.
func (d *Duties) touch(ctx context.Context, u *userState, t time.Time) error {
	us := &u.usage
	if !t.After(us.LastActive) && !us.LastActive.IsZero() {
		return nil // an earlier request's end: already counted
	}
	if day := d.day(t); us.Day != day {
		us.Day, us.Used = day, 0
	}
	if gap := t.Sub(us.LastActive); !us.LastActive.IsZero() && gap <= d.o.Minors.IdleGap {
		us.Used += gap
	} else {
		us.SessionStart = t
	}
	us.LastActive = t
	if err := d.st.SaveUsageTime(ctx, *us); err != nil {
		return fmt.Errorf("save usage time: %w", err)
	}
	return nil
}

// continuous is how long the current session has run without an idle gap.
func (d *Duties) continuous(u *userState, now time.Time) time.Duration {
	us := u.usage
	if us.LastActive.IsZero() || now.Sub(us.LastActive) > d.o.Minors.IdleGap {
		return 0
	}
	return us.LastActive.Sub(us.SessionStart)
}

// Guardian settings: a tighter daily limit and allowed hours.
type Guardian struct {
	DailyLimit time.Duration
	Hours      string // "HH:MM-HH:MM" or empty
}

// SetAgeBand sets a user's band (admin, or the user confirming adulthood on
// the web page: channel names which).
func (d *Duties) SetAgeBand(ctx context.Context, userID, band, channel string) (store.Profile, error) {
	if !ValidAgeBand(band) {
		return store.Profile{}, invalid("age band %q is not adult, 16-18, under16 or unknown", band)
	}
	return d.updateProfile(ctx, userID, func(p *store.Profile) error {
		p.AgeBand = band
		if channel == ChannelWeb {
			p.AgeConfirmedAt = d.now().UTC()
		}
		return nil
	})
}

// SetGuardian sets guardian settings; they may only tighten the band's
// limit, and the hours must parse.
func (d *Duties) SetGuardian(ctx context.Context, userID string, g Guardian) (store.Profile, error) {
	if g.DailyLimit < 0 || g.DailyLimit > d.o.Minors.DailyLimit16to18 {
		return store.Profile{}, invalid("daily limit %s is outside 0 … %s (guardians can only tighten the limit)", g.DailyLimit, d.o.Minors.DailyLimit16to18)
	}
	if g.Hours != "" {
		if _, _, err := ParseHours(g.Hours); err != nil {
			return store.Profile{}, err
		}
	}
	return d.updateProfile(ctx, userID, func(p *store.Profile) error {
		p.GuardianDailyLimit, p.GuardianHours = g.DailyLimit.Round(time.Second), g.Hours
		return nil
	})
}

// SetTrainingOptOut records whether the user's input may be used for
// training (TC260-003 §7 c).
func (d *Duties) SetTrainingOptOut(ctx context.Context, userID string, optOut bool) (store.Profile, error) {
	return d.updateProfile(ctx, userID, func(p *store.Profile) error {
		p.TrainingOptOut = optOut
		return nil
	})
}

// Profile returns a user's profile.
func (d *Duties) Profile(ctx context.Context, userID string) (store.Profile, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return store.Profile{}, err
	}
	defer u.mu.Unlock()
	return u.profile, nil
}

// updateProfile changes a profile durably, then the cached copy.
func (d *Duties) updateProfile(ctx context.Context, userID string, change func(*store.Profile) error) (store.Profile, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return store.Profile{}, err
	}
	defer u.mu.Unlock()
	p := u.profile
	if err := change(&p); err != nil {
		return store.Profile{}, err
	}
	p.UpdatedAt = d.now().UTC().Truncate(time.Microsecond)
	p.AgeConfirmedAt = p.AgeConfirmedAt.Truncate(time.Microsecond)
	if err := d.st.SaveProfile(ctx, p); err != nil {
		return store.Profile{}, fmt.Errorf("save profile: %w", err)
	}
	u.profile = p
	return p, nil
}

// Usage is what minors mode has counted for a user today.
type Usage struct {
	Band       string
	Minor      bool
	UsedToday  time.Duration
	DailyLimit time.Duration
	Continuous time.Duration
	AllowedNow bool
	ResumesAt  time.Time
}

// Usage reports a user's minors-mode counters.
func (d *Duties) Usage(ctx context.Context, userID string) (Usage, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return Usage{}, err
	}
	defer u.mu.Unlock()
	now := d.now()
	us := Usage{Band: d.band(u.profile), UsedToday: d.usedOn(u, now), Continuous: d.continuous(u, now), AllowedNow: true}
	us.Minor = isMinor(us.Band)
	if us.Minor {
		us.DailyLimit = d.dailyLimit(u.profile)
		us.AllowedNow = d.allowedAt(u.profile, now) && us.UsedToday < us.DailyLimit
		if !us.AllowedNow {
			us.ResumesAt = d.resumeAt(u, now)
		}
	}
	return us, nil
}
