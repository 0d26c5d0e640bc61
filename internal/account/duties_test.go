package account

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/store"
)

func newDuties(t *testing.T, o DutiesOptions) (*Duties, *Service, *clock) {
	t.Helper()
	s, db, c := newService(t)
	o.Now = c.now
	if o.Location == nil {
		o.Location = time.FixedZone("CST", 8*3600)
	}
	o.Minors = MinorsPolicy{Serve: true, UnknownAs: store.AgeAdult, DailyLimit16to18: 2 * time.Hour, DailyLimitUnder16: time.Hour,
		BreakAfter: 30 * time.Minute, IdleGap: 5 * time.Minute, CurfewStart: 22 * 60, CurfewEnd: 6 * 60}
	if o.Ladder.Window == 0 {
		o.Ladder = LadderPolicy{BlockPoints: 2, ReviewPoints: 1, RiskWeights: map[string]int{"A.1": 3, "A.2.a": 5}, Window: time.Hour,
			Thresholds: Thresholds{WarnAt: 4, RestrictAt: 8, SuspendAt: 12, SuspendFor: time.Hour}, RestrictedRPM: 1}
	}
	d, err := NewDuties(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	return d, s, c
}

func TestPoints(t *testing.T) {
	d, _, _ := newDuties(t, DutiesOptions{})
	for _, tc := range []struct {
		decision string
		risks    []string
		want     int
	}{
		{"block", []string{"A.1.d"}, 6},
		{"block", []string{"A.5.a", "A.2.a"}, 10},
		{"review", []string{"A.5.a"}, 1},
		{"block", nil, 2},
		{"mask", []string{"A.1.d"}, 0},
	} {
		if got := d.points(tc.decision, tc.risks); got != tc.want {
			t.Errorf("points(%s, %v) = %d, want %d", tc.decision, tc.risks, got, tc.want)
		}
	}
	th := Thresholds{WarnAt: 4, RestrictAt: 0, SuspendAt: 12, TerminateAt: 20}
	for pts, want := range map[int]string{0: "ok", 3: "ok", 4: "warned", 11: "warned", 12: "suspended", 25: "terminated"} {
		if got := target(th, pts); got != want {
			t.Errorf("target(%d) = %s, want %s", pts, got, want)
		}
	}
}

func TestCheckThresholds(t *testing.T) {
	ok := Thresholds{WarnAt: 1, RestrictAt: 0, SuspendAt: 3, TerminateAt: 4, SuspendFor: time.Hour}
	if err := CheckThresholds(ok); err != nil {
		t.Errorf("CheckThresholds(%+v) = %v", ok, err)
	}
	for _, bad := range []Thresholds{
		{WarnAt: -1, SuspendFor: time.Hour},
		{WarnAt: 5, RestrictAt: 5, SuspendFor: time.Hour},
		{WarnAt: 5, SuspendAt: 2, SuspendFor: time.Hour},
		{WarnAt: 1},
	} {
		if err := CheckThresholds(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckThresholds(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSpansAndHours(t *testing.T) {
	for _, tc := range []struct {
		m, s, e int
		want    bool
	}{{23 * 60, 22 * 60, 6 * 60, true}, {5*60 + 59, 22 * 60, 6 * 60, true}, {6 * 60, 22 * 60, 6 * 60, false}, {12 * 60, 8 * 60, 20 * 60, true}, {20 * 60, 8 * 60, 20 * 60, false}, {0, 0, 0, false}} {
		if got := inSpan(tc.m, tc.s, tc.e); got != tc.want {
			t.Errorf("inSpan(%d, %d, %d) = %v", tc.m, tc.s, tc.e, got)
		}
	}
	for _, bad := range []string{"", "8-20", "08:00", "08:00-08:00", "24:00-01:00", "08:00-20:00-21:00", "8:00-20:00"} {
		if _, _, err := ParseHours(bad); err == nil {
			t.Errorf("ParseHours(%q) accepted", bad)
		}
	}
	if s, e, err := ParseHours("20:30-07:15"); err != nil || s != 20*60+30 || e != 7*60+15 {
		t.Errorf("ParseHours = %d %d %v", s, e, err)
	}
}

// Concurrent requests of one user count activity once each and never lose
// a sanction to a racing update.
func TestDutiesConcurrent(t *testing.T) {
	ctx := context.Background()
	d, s, c := newDuties(t, DutiesOptions{Quotas: QuotaPolicy{UserRPM: 50}})
	c.t = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC) // 12:00 in UTC+8
	u, _, err := s.CreateUser(ctx, "kid")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetAgeBand(ctx, u.ID, store.AgeUnder16, ChannelAdmin); err != nil {
		t.Fatal(err)
	}
	p := Principal{UserID: u.ID, KeyID: "k"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	// Phase 1: 100 racing admissions against a limit of 50 per minute.
	// (Blocks are counted in phase 2: a suspension mid-way would refuse
	// admissions for another reason.)
	for range 100 {
		wg.Go(func() {
			if d.Admit(ctx, p, "POST /v1/chat/completions") == nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 50 {
		t.Errorf("admitted %d, want the 50 of the rate limit", admitted)
	}
	// Phase 2: 100 racing blocked decisions climb the ladder exactly once
	// per rung.
	for i := range 100 {
		wg.Go(func() {
			d.Observe(ctx, p, store.AuditRecord{ID: "r", Time: c.now(), Decision: "block", Risks: []string{"A.5.a"}, PromptTokens: i}, nil)
		})
	}
	wg.Wait()
	st, err := d.Standing(ctx, u.ID)
	if err != nil || st.Status != store.StatusSuspended {
		t.Errorf("standing after 100 blocks = %+v, %v", st, err)
	}
	ss, err := d.Sanctions(ctx, store.SanctionFilter{UserID: u.ID})
	if err != nil || len(ss) != 3 {
		t.Errorf("sanctions = %d, %v; want warn, restrict, suspend once each", len(ss), err)
	}
	if g, err := d.PolicyGroup(ctx, u.ID); err != nil || g != PolicyMinor {
		t.Errorf("PolicyGroup = %q, %v", g, err)
	}
}

func TestModelOnlyBlocksWeighLikeReviews(t *testing.T) {
	lex := moderation.Hit{Action: moderation.Block, Source: "lexicon:starter:12"}
	cls := moderation.Hit{Action: moderation.Block, Source: "classifier"}
	grd := moderation.Hit{Action: moderation.Block, Source: "guard"}
	rev := moderation.Hit{Action: moderation.Review, Source: "lexicon:x:1"}
	tests := []struct {
		decision string
		hits     []moderation.Hit
		want     string
	}{
		{"block", []moderation.Hit{lex}, "block"},
		{"block", []moderation.Hit{cls, lex}, "block"},
		{"block", []moderation.Hit{cls}, "review"},
		{"block", []moderation.Hit{cls, grd, rev}, "review"},
		{"block", nil, "block"},
		{"review", []moderation.Hit{rev}, "review"},
	}
	for _, tt := range tests {
		if got := weighAs(tt.decision, tt.hits); got != tt.want {
			t.Errorf("weighAs(%s, %v) = %s, want %s", tt.decision, tt.hits, got, tt.want)
		}
	}
}
