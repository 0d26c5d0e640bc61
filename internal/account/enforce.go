package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/risk"
	"github.com/genguard/genguard/internal/store"
)

// rank orders the ladder.
var rank = map[string]int{store.StatusOK: 0, store.StatusWarned: 1, store.StatusRestricted: 2, store.StatusSuspended: 3, store.StatusTerminated: 4}

// Sanction actions an admin (or the complaint system) can take.
var actions = map[string]string{
	"warn": store.StatusWarned, "restrict": store.StatusRestricted, "suspend": store.StatusSuspended,
	"terminate": store.StatusTerminated, "lift": store.StatusOK,
}

// Limits on a sanction request.
const (
	maxReason      = 1000
	maxEvidence    = 64
	maxEvidenceLen = 128
	maxSuspension  = 10 * 365 * 24 * time.Hour
	// maxExport bounds one page of a sanctions export.
	maxExport = 10_000
)

// effective is the standing now: a suspension that has ended leaves the
// user restricted, so a suspended account does not return at full rights.
func (d *Duties) effective(st store.Standing, now time.Time) store.Standing {
	if st.Status == store.StatusSuspended && !st.Until.IsZero() && !now.Before(st.Until) {
		st.Status, st.Until = store.StatusRestricted, time.Time{}
	}
	return st
}

func (d *Duties) appeal() string {
	s := d.o.Ladder.Appeal
	if d.o.Ladder.AppealURL != "" {
		s += " " + d.link(d.o.Ladder.AppealURL)
	}
	return s
}

// sanctionMessage tells the user what happened, why, and how to appeal.
func (d *Duties) sanctionMessage(st store.Standing) string {
	var what string
	switch st.Status {
	case store.StatusWarned:
		what = "警告：您的账号存在违规记录。Warning: your account has violations on record."
	case store.StatusRestricted:
		what = "您的账号功能已受限（不能生成图片和语音，请求频率降低）。Your account is restricted (no image or speech generation, lower request rate)."
	case store.StatusSuspended:
		until := st.Until.In(d.o.Location).Format("2006-01-02 15:04")
		what = fmt.Sprintf("您的账号已被暂停服务至 %s（%s）。Your account is suspended until %s (%s).", until, d.o.Location, until, d.o.Location)
	case store.StatusTerminated:
		what = "您的账号已被终止服务。Your account has been terminated."
	}
	if st.Reason != "" {
		what += " 原因 Reason: " + st.Reason + "."
	}
	if st.SanctionID != 0 {
		what += " 案件编号 Case: " + CaseID(st.SanctionID) + "（申诉时请填写 quote it when you appeal）."
	}
	return what + " " + d.appeal()
}

// CaseID is the case number of a sanction: the id of its audit event, and
// what an appeal names as its enforcement_id.
func CaseID(id int64) string { return fmt.Sprintf("sanction_%d", id) }

// checkStanding refuses suspended and terminated users, and restricted
// users on restricted routes.
func (d *Duties) checkStanding(u *userState, now time.Time, route string) error {
	st := d.effective(u.standing, now)
	r := &Refusal{Status: http.StatusForbidden, Link: d.link(d.o.Ladder.AppealURL), Message: d.sanctionMessage(st)}
	switch st.Status {
	case store.StatusTerminated:
		r.Code = "account_terminated"
		return r
	case store.StatusSuspended:
		r.Code, r.RetryAfter = "account_suspended", st.Until.Sub(now)
		return r
	case store.StatusRestricted:
		if slices.Contains(d.o.Ladder.RestrictedRoutes, route) {
			r.Code = "feature_restricted"
			return r
		}
	}
	return nil
}

// points is what a decision counts against its user: the base points of
// the decision times the heaviest weight among its risks.
func (d *Duties) points(decision string, risks []string) int {
	base := 0
	switch decision {
	case "block":
		base = d.o.Ladder.BlockPoints
	case "review":
		base = d.o.Ladder.ReviewPoints
	}
	weight := 0
	for _, r := range risks {
		w, ok := d.o.Ladder.RiskWeights[r]
		if !ok {
			w, ok = d.o.Ladder.RiskWeights[string(risk.Code(r).Group())]
		}
		if !ok {
			w = 1
		}
		weight = max(weight, w)
	}
	if len(risks) == 0 {
		weight = 1
	}
	return base * weight
}

// target is the rung a number of points reaches.
func target(t Thresholds, points int) string {
	for _, r := range []struct {
		at     int
		status string
	}{{t.TerminateAt, store.StatusTerminated}, {t.SuspendAt, store.StatusSuspended}, {t.RestrictAt, store.StatusRestricted}, {t.WarnAt, store.StatusWarned}} {
		if r.at > 0 && points >= r.at {
			return r.status
		}
	}
	return store.StatusOK
}

// countViolation records a blocked or reviewed decision and moves the user
// up the ladder when its points reach a threshold.
// weighAs is the decision a violation is counted as: a block that only a
// model's judgement (classifier, guard) made weighs like a review, since a
// false positive there must not push a user up the ladder as fast as a
// matched keyword does.
func weighAs(decision string, hits []moderation.Hit) string {
	if decision != "block" {
		return decision
	}
	for _, h := range hits {
		if h.Action == moderation.Block && h.Source != "classifier" && h.Source != "guard" {
			return decision
		}
	}
	if len(hits) == 0 {
		return decision // nothing to say otherwise
	}
	return "review"
}

func (d *Duties) countViolation(ctx context.Context, userID string, rec store.AuditRecord, weighed string) error {
	pts := d.points(weighed, rec.Risks)
	if pts <= 0 {
		return nil
	}
	now := d.now()
	u, err := d.user(ctx, userID)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if _, err := d.st.AddViolation(ctx, store.Violation{UserID: userID, Time: rec.Time, RecordID: rec.ID, Decision: rec.Decision, Risks: rec.Risks, Points: pts}); err != nil {
		return fmt.Errorf("record violation: %w", err)
	}
	vs, total, err := d.st.Violations(ctx, userID, now.Add(-d.o.Ladder.Window), maxEvidence)
	if err != nil {
		return fmt.Errorf("read violations: %w", err)
	}
	d.mu.Lock()
	th := d.thresholds
	d.mu.Unlock()
	to := target(th, total)
	cur := d.effective(u.standing, now)
	if rank[to] <= rank[cur.Status] {
		return nil
	}
	evidence := make([]string, 0, len(vs))
	var risks []string
	for _, v := range vs {
		evidence = append(evidence, v.RecordID)
		for _, r := range v.Risks {
			if !slices.Contains(risks, r) {
				risks = append(risks, r)
			}
		}
	}
	slices.Sort(risks)
	req := SanctionRequest{UserID: userID, Action: actionFor(to), Actor: "system", Points: total, Evidence: evidence,
		Reason: fmt.Sprintf("%d violation points within %s from blocked or reviewed requests (risks %s)", total, d.o.Ladder.Window, strings.Join(risks, ", "))}
	if to == store.StatusSuspended {
		req.Until = now.Add(th.SuspendFor)
	}
	_, err = d.apply(ctx, u, req, now)
	return err
}

func actionFor(status string) string {
	for a, s := range actions {
		if s == status {
			return a
		}
	}
	return ""
}

// SanctionRequest is one step on the ladder taken by hand (an admin, an
// appeal decided in the complaint system) or by the automatic counter.
type SanctionRequest struct {
	UserID string
	// Action is warn, restrict, suspend, terminate or lift.
	Action string
	// Until ends a suspension (required for suspend, else empty).
	Until  time.Time
	Reason string
	// Actor is who decided: "admin:KEYID", "complaint:ID", "system".
	Actor    string
	Evidence []string // audit record ids, complaint ids
	Points   int
}

// Sanction applies req: it validates, records the transition durably with
// its evidence, updates the standing and appends it to the audit chain.
// Admins and appeals (the complaint system) use this same path.
func (d *Duties) Sanction(ctx context.Context, req SanctionRequest) (store.Sanction, error) {
	now := d.now()
	if _, ok := actions[req.Action]; !ok {
		return store.Sanction{}, invalid("action %q is not warn, restrict, suspend, terminate or lift", req.Action)
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > maxReason || !utf8.ValidString(req.Reason) {
		return store.Sanction{}, invalid("a reason of 1–%d bytes is required", maxReason)
	}
	if req.Actor == "" || len(req.Actor) > 128 {
		return store.Sanction{}, invalid("actor must be 1–128 bytes")
	}
	if req.Action == "suspend" {
		if !req.Until.After(now) || req.Until.Sub(now) > maxSuspension {
			return store.Sanction{}, invalid("suspend needs until: a time in the future, at most 10 years ahead")
		}
	} else if !req.Until.IsZero() {
		return store.Sanction{}, invalid("until is only for suspend")
	}
	if len(req.Evidence) > maxEvidence {
		return store.Sanction{}, invalid("at most %d evidence ids", maxEvidence)
	}
	for _, e := range req.Evidence {
		if e == "" || len(e) > maxEvidenceLen || !utf8.ValidString(e) {
			return store.Sanction{}, invalid("evidence ids must be 1–%d bytes", maxEvidenceLen)
		}
	}
	u, err := d.user(ctx, req.UserID)
	if err != nil {
		return store.Sanction{}, err
	}
	defer u.mu.Unlock()
	return d.apply(ctx, u, req, now)
}

func (d *Duties) apply(ctx context.Context, u *userState, req SanctionRequest, now time.Time) (store.Sanction, error) {
	sn := store.Sanction{UserID: req.UserID, Time: now.UTC().Truncate(time.Microsecond), To: actions[req.Action], Until: req.Until.UTC().Truncate(time.Microsecond),
		Actor: req.Actor, Reason: req.Reason, Points: req.Points, Evidence: req.Evidence}
	if req.Until.IsZero() {
		sn.Until = time.Time{}
	}
	sn, err := d.st.ApplySanction(ctx, sn)
	if err != nil {
		return store.Sanction{}, fmt.Errorf("apply sanction: %w", err)
	}
	u.standing = store.Standing{UserID: sn.UserID, Status: sn.To, Until: sn.Until, Reason: sn.Reason, UpdatedAt: sn.Time, SanctionID: sn.ID}
	kind := "sanction.issued"
	if sn.To == store.StatusOK {
		kind = "sanction.lifted"
	}
	details := map[string]any{"action": req.Action, "from": sn.From, "to": sn.To, "reason": sn.Reason, "points": sn.Points}
	if !sn.Until.IsZero() {
		details["until"] = sn.Until
	}
	ev := sn.Evidence
	if len(ev) > audit.MaxEvidence {
		ev = ev[:audit.MaxEvidence]
	}
	d.event(ctx, audit.Event{ID: CaseID(sn.ID), Time: sn.Time, Kind: kind, Actor: sn.Actor,
		Subject: d.o.Pseudonym(sn.UserID), Details: details, Evidence: ev})
	return sn, nil
}

// Standing returns a user's standing as it applies now.
func (d *Duties) Standing(ctx context.Context, userID string) (store.Standing, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return store.Standing{}, err
	}
	defer u.mu.Unlock()
	return d.effective(u.standing, d.now()), nil
}

// Points returns a user's points within the window.
func (d *Duties) Points(ctx context.Context, userID string) (int, error) {
	_, total, err := d.st.Violations(ctx, userID, d.now().Add(-d.o.Ladder.Window), 1)
	return total, err
}

// Sanctions exports transitions (at most 10 000 per call; page with AfterID).
func (d *Duties) Sanctions(ctx context.Context, f store.SanctionFilter) ([]store.Sanction, error) {
	if f.Limit <= 0 || f.Limit > maxExport {
		f.Limit = maxExport
	}
	return d.st.Sanctions(ctx, f)
}

// Thresholds returns the ladder's current thresholds.
func (d *Duties) Thresholds() Thresholds {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.thresholds
}

type thresholdsJSON struct {
	Thresholds
	SuspendFor string `json:"suspend_for"`
}

// SetThresholds changes the thresholds durably (they override the config
// from then on) and records the change in the audit chain.
func (d *Duties) SetThresholds(ctx context.Context, t Thresholds, actor string) error {
	if err := CheckThresholds(t); err != nil {
		return err
	}
	b, err := json.Marshal(thresholdsJSON{t, t.SuspendFor.String()})
	if err != nil {
		return err
	}
	if err := d.st.SetDutySetting(ctx, thresholdsSetting, string(b)); err != nil {
		return fmt.Errorf("save thresholds: %w", err)
	}
	d.mu.Lock()
	d.thresholds = t
	d.mu.Unlock()
	d.event(ctx, audit.Event{Kind: audit.KindConfigChanged, Actor: actor, Subject: thresholdsSetting, Details: json.RawMessage(b)})
	return nil
}

// CheckThresholds validates thresholds: each 0 (rung skipped) or positive,
// rising strictly over the rungs in use, and a positive suspension length.
func CheckThresholds(t Thresholds) error {
	prev := 0
	for i, v := range []int{t.WarnAt, t.RestrictAt, t.SuspendAt, t.TerminateAt} {
		name := [...]string{"warn_at", "restrict_at", "suspend_at", "terminate_at"}[i]
		switch {
		case v < 0 || v > 1_000_000:
			return invalid("%s %d is outside 0 … 1000000", name, v)
		case v == 0:
			continue
		case v <= prev:
			return invalid("%s %d must be above the lower rungs (%d)", name, v, prev)
		}
		prev = v
	}
	if t.SuspendFor <= 0 || t.SuspendFor > maxSuspension {
		return invalid("suspend_for must be positive and at most 10 years")
	}
	return nil
}

func (d *Duties) loadThresholds(ctx context.Context) error {
	v, err := d.st.DutySetting(ctx, thresholdsSetting)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load thresholds: %w", err)
	}
	var tj thresholdsJSON
	if err := json.Unmarshal([]byte(v), &tj); err != nil {
		return fmt.Errorf("stored thresholds are corrupt: %w", err)
	}
	tj.Thresholds.SuspendFor, err = time.ParseDuration(tj.SuspendFor)
	if err != nil {
		return fmt.Errorf("stored thresholds are corrupt: %w", err)
	}
	d.thresholds = tj.Thresholds
	return nil
}
