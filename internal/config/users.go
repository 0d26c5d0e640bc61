package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	// Embedded zone data: the minors' curfew and the daily counters use the
	// configured zone even on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/risk"
)

// Users configures the duties towards users (Measures Art. 9, 10, 14 ¶2;
// TC260-003 §7 a–c): the service agreement, the disclosure page, minors
// mode, the enforcement ladder and quotas.
type Users struct {
	// Timezone is the zone of the minors' curfew and of "per day" counters.
	Timezone string `yaml:"timezone"`
	// BaseURL prefixes links in API errors (e.g. https://ai.example.cn);
	// empty: links are paths such as /agreement.
	BaseURL     string           `yaml:"base_url"`
	Agreement   UsersAgreement   `yaml:"agreement"`
	Disclosure  UsersDisclosure  `yaml:"disclosure"`
	Minors      UsersMinors      `yaml:"minors"`
	Enforcement UsersEnforcement `yaml:"enforcement"`
	Quotas      UsersQuotas      `yaml:"quotas"`
}

// UsersAgreement publishes a service agreement at start.
type UsersAgreement struct {
	// Version, when set and not yet published, is published at start from
	// File (or the built-in template). Empty: agreements are published only
	// through the admin API; until one is, nobody has to accept anything.
	Version string `yaml:"version"`
	// File is a Markdown file; empty: the built-in template.
	File string `yaml:"file"`
}

// UsersDisclosure is what /disclosure publishes (Art. 10; TC260-003 §7 b).
type UsersDisclosure struct {
	ServiceName      string   `yaml:"service_name"`
	Provider         string   `yaml:"provider"`
	IntendedUsers    string   `yaml:"intended_users"`
	Scenarios        string   `yaml:"scenarios"`
	Uses             string   `yaml:"uses"`
	Limitations      string   `yaml:"limitations"`
	ModelSummary     string   `yaml:"model_summary"`
	FoundationModels []string `yaml:"foundation_models"`
	FiledModelName   string   `yaml:"filed_model_name"`
	FilingNumber     string   `yaml:"filing_number"`
	Complaints       []string `yaml:"complaints"`
	Regulator        string   `yaml:"regulator"`
	// TrainingUse says whether user input is used for training (unless the
	// user opts out on /settings).
	TrainingUse bool `yaml:"training_use"`
}

// UsersMinors configures minors mode (CAC minors-mode guide 2024-11).
type UsersMinors struct {
	// Serve false: the service is not for minors; users must confirm they
	// are adults, and minors are refused.
	Serve bool `yaml:"serve"`
	// UnknownAs is the band users of unknown age are treated as: adult,
	// 16-18 or under16.
	UnknownAs         string   `yaml:"unknown_as"`
	DailyLimit16to18  Duration `yaml:"daily_limit_16_18"`
	DailyLimitUnder16 Duration `yaml:"daily_limit_under16"`
	// BreakAfter is the continuous use after which a break is suggested.
	BreakAfter Duration `yaml:"break_after"`
	// IdleGap separates sessions: a longer pause is not counted as use.
	IdleGap     Duration `yaml:"idle_gap"`
	CurfewStart string   `yaml:"curfew_start"`
	CurfewEnd   string   `yaml:"curfew_end"`
}

// UsersEnforcement configures the ladder warn → restrict → suspend →
// terminate (Art. 14 ¶2). A threshold of 0 skips that rung.
type UsersEnforcement struct {
	BlockPoints  int `yaml:"block_points"`
	ReviewPoints int `yaml:"review_points"`
	// RiskWeights multiply the points of a decision by its heaviest risk
	// (key: a group such as A.1 or a code such as A.1.d); default 1.
	RiskWeights map[string]int `yaml:"risk_weights"`
	// Window is how long a decision counts against the user.
	Window      Duration `yaml:"window"`
	WarnAt      int      `yaml:"warn_at"`
	RestrictAt  int      `yaml:"restrict_at"`
	SuspendAt   int      `yaml:"suspend_at"`
	TerminateAt int      `yaml:"terminate_at"`
	SuspendFor  Duration `yaml:"suspend_for"`
	// RestrictedRPM caps a restricted user's requests per minute; restricted
	// users cannot generate images or speech.
	RestrictedRPM int `yaml:"restricted_rpm"`
	// Appeal tells a sanctioned user how to appeal; AppealURL is linked.
	Appeal    string `yaml:"appeal"`
	AppealURL string `yaml:"appeal_url"`
}

// UsersQuotas are the default limits; the admin API overrides them per user
// and per key. 0 means unlimited.
type UsersQuotas struct {
	UserRPM          int   `yaml:"user_rpm"`
	UserTokensPerDay int64 `yaml:"user_tokens_per_day"`
	KeyRPM           int   `yaml:"key_rpm"`
	KeyTokensPerDay  int64 `yaml:"key_tokens_per_day"`
}

func defaultUsers() Users {
	return Users{
		Timezone: "Asia/Shanghai",
		Disclosure: UsersDisclosure{
			ServiceName:   "生成式人工智能服务 Generative AI service",
			IntendedUsers: "面向成年人的通用问答与写作辅助。General question answering and writing help for adults.",
			Scenarios:     "日常学习、工作与生活。Everyday study, work and life; not for medical, legal, financial or psychological advice.",
			Uses:          "文本生成、图片与语音生成。Text, image and speech generation.",
			Limitations:   "生成内容可能不准确或过时，请核实重要信息。Output may be wrong or outdated; check anything important.",
			ModelSummary:  "基于Transformer架构的大语言模型，经预训练和指令微调。A Transformer language model, pre-trained and instruction-tuned.",
			Complaints:    []string{"页面 Web form: /complaints/new"},
			Regulator:     "12377 违法和不良信息举报中心 https://www.12377.cn",
		},
		Minors: UsersMinors{
			Serve:             true,
			UnknownAs:         "adult",
			DailyLimit16to18:  Duration(2 * time.Hour),
			DailyLimitUnder16: Duration(time.Hour),
			BreakAfter:        Duration(30 * time.Minute),
			IdleGap:           Duration(5 * time.Minute),
			CurfewStart:       "22:00",
			CurfewEnd:         "06:00",
		},
		Enforcement: UsersEnforcement{
			BlockPoints:   2,
			ReviewPoints:  1,
			RiskWeights:   map[string]int{"A.1": 3, "A.2": 2},
			Window:        Duration(30 * 24 * time.Hour),
			WarnAt:        4,
			RestrictAt:    12,
			SuspendAt:     24,
			TerminateAt:   60,
			SuspendFor:    Duration(7 * 24 * time.Hour),
			RestrictedRPM: 5,
			Appeal:        "如有异议，请通过投诉渠道申诉。To appeal, use the complaint channels listed on the disclosure page.",
			AppealURL:     "/disclosure#complaints",
		},
	}
}

// Thresholds returns the ladder's rungs.
func (e UsersEnforcement) Thresholds() account.Thresholds {
	return account.Thresholds{WarnAt: e.WarnAt, RestrictAt: e.RestrictAt, SuspendAt: e.SuspendAt, TerminateAt: e.TerminateAt, SuspendFor: e.SuspendFor.D()}
}

// Location loads Timezone.
func (u Users) Location() (*time.Location, error) { return time.LoadLocation(u.Timezone) }

// ParseClock parses "HH:MM" into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Limits on sizes the users section may set.
const (
	maxDisclosureText = 8 << 10
	maxDisclosureList = 32
)

func (c *Config) validateUsers(file string, root *yaml.Node) []Problem {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	u := &c.Users
	if _, err := u.Location(); err != nil || u.Timezone == "" {
		bad("users.timezone", "%q is not a known time zone (e.g. Asia/Shanghai)", u.Timezone)
	}
	if u.BaseURL != "" {
		p, err := url.Parse(u.BaseURL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("users.base_url", "%q is not an http(s) URL", u.BaseURL)
		}
	}
	if len(u.Agreement.Version) > 64 || strings.TrimSpace(u.Agreement.Version) != u.Agreement.Version {
		bad("users.agreement.version", "must be at most 64 characters without surrounding spaces")
	}
	if u.Agreement.File != "" && u.Agreement.Version == "" {
		bad("users.agreement.file", "needs users.agreement.version")
	}
	d := u.Disclosure
	for path, s := range map[string]string{"service_name": d.ServiceName, "provider": d.Provider, "intended_users": d.IntendedUsers,
		"scenarios": d.Scenarios, "uses": d.Uses, "limitations": d.Limitations, "model_summary": d.ModelSummary,
		"filed_model_name": d.FiledModelName, "filing_number": d.FilingNumber, "regulator": d.Regulator} {
		if len(s) > maxDisclosureText {
			bad("users.disclosure."+path, "longer than %d bytes", maxDisclosureText)
		}
	}
	if len(d.FoundationModels) > maxDisclosureList {
		bad("users.disclosure.foundation_models", "more than %d entries", maxDisclosureList)
	}
	if len(d.Complaints) > maxDisclosureList {
		bad("users.disclosure.complaints", "more than %d entries", maxDisclosureList)
	}
	m := u.Minors
	switch m.UnknownAs {
	case "adult", "16-18", "under16":
	default:
		bad("users.minors.unknown_as", "%q is not adult, 16-18 or under16", m.UnknownAs)
	}
	for path, v := range map[string]Duration{"daily_limit_16_18": m.DailyLimit16to18, "daily_limit_under16": m.DailyLimitUnder16} {
		if v <= 0 || v > Duration(24*time.Hour) {
			bad("users.minors."+path, "must be a duration in (0, 24h]")
		}
	}
	if m.DailyLimitUnder16 > m.DailyLimit16to18 {
		bad("users.minors.daily_limit_under16", "must not exceed daily_limit_16_18")
	}
	if m.BreakAfter <= 0 {
		bad("users.minors.break_after", "must be a positive duration")
	}
	if m.IdleGap <= 0 || m.IdleGap > Duration(time.Hour) {
		bad("users.minors.idle_gap", "must be a duration in (0, 1h]")
	}
	for path, s := range map[string]string{"curfew_start": m.CurfewStart, "curfew_end": m.CurfewEnd} {
		if _, err := ParseClock(s); err != nil {
			bad("users.minors."+path, "%v", err)
		}
	}
	e := u.Enforcement
	if e.BlockPoints < 0 || e.BlockPoints > 1000 {
		bad("users.enforcement.block_points", "%d is outside 0 … 1000", e.BlockPoints)
	}
	if e.ReviewPoints < 0 || e.ReviewPoints > 1000 {
		bad("users.enforcement.review_points", "%d is outside 0 … 1000", e.ReviewPoints)
	}
	if len(e.RiskWeights) > 64 {
		bad("users.enforcement.risk_weights", "more than 64 entries")
	}
	for k, w := range e.RiskWeights {
		if !validRiskKey(k) {
			bad("users.enforcement.risk_weights", "%q is not a risk group (A.1 … A.5) or code (e.g. A.1.d)", k)
		}
		if w < 0 || w > 100 {
			bad("users.enforcement.risk_weights", "weight %d for %s is outside 0 … 100", w, k)
		}
	}
	if e.Window <= 0 {
		bad("users.enforcement.window", "must be a positive duration")
	}
	if err := account.CheckThresholds(e.Thresholds()); err != nil {
		bad("users.enforcement.warn_at", "%v", err)
	}
	if e.RestrictedRPM < 1 || e.RestrictedRPM > 1_000_000 {
		bad("users.enforcement.restricted_rpm", "%d is outside 1 … 1000000", e.RestrictedRPM)
	}
	if len(e.Appeal) > 2000 {
		bad("users.enforcement.appeal", "longer than 2000 bytes")
	}
	q := u.Quotas
	for path, v := range map[string]int64{"user_rpm": int64(q.UserRPM), "key_rpm": int64(q.KeyRPM),
		"user_tokens_per_day": q.UserTokensPerDay, "key_tokens_per_day": q.KeyTokensPerDay} {
		if v < 0 {
			bad("users.quotas."+path, "must not be negative (0 means unlimited)")
		}
	}
	return probs
}

func validRiskKey(k string) bool {
	for _, g := range risk.Groups() {
		if string(g) == k {
			return true
		}
	}
	return risk.Code(k).Valid()
}
