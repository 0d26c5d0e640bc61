package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/moderation/lexicon"
	"github.com/genguard/genguard/internal/risk"
	"github.com/genguard/genguard/internal/store"
)

// Store is everything the inspection pack and filing dossier read.
type Store interface {
	Source
	AuditCounts(ctx context.Context, from, to time.Time) ([]store.AuditCount, error)
	TrainingSources(ctx context.Context) ([]store.TrainingSource, error)
	AnnotationRules(ctx context.Context) ([]store.AnnotationRule, error)
	ModelCards(ctx context.Context) ([]store.ModelCard, error)
	TableExists(ctx context.Context, name string) (bool, error)
}

// Inputs are what the exports take from outside the store.
type Inputs struct {
	Meta         Meta
	FilingNumber string
	Mechanism    string        // Markdown; DefaultMechanism when empty
	Lexicon      lexicon.Stats // the serving keyword library
}

// DefaultMechanism describes genguard's own pipeline for the inspector.
const DefaultMechanism = `Every request passes: authentication and the service agreement check; input moderation (keyword library with normalisation of width, Traditional/Simplified, pinyin and inserted noise, on every dialogue turn); the model; output moderation on the complete answer or on every streamed chunk, holding back only what an open match needs, cutting the stream and retracting delivered text on a block; explicit and implicit AIGC labels (GB 45438-2025); and an audit record in a hash-chained, signed log. Blocked requests open incidents whose matched terms feed keyword-library and model-training review.`

// Inspection is the Art. 19 inspection pack.
type Inspection struct {
	Report       string            `json:"report"`
	Meta         Meta              `json:"meta"`
	FilingNumber string            `json:"filing_number"`
	TrainingData TrainingData      `json:"training_data"`
	Annotation   Annotation        `json:"annotation_rules"`
	Mechanism    string            `json:"algorithm_mechanism"`
	ModelCards   []store.ModelCard `json:"model_cards"`
	Keywords     Keywords          `json:"keyword_library"`
	Moderation   ModerationStats   `json:"moderation"`
	Complaints   Section           `json:"complaints"`
	Enforcement  Section           `json:"enforcement"`
	Labels       LabelCoverage     `json:"label_coverage"`
	Incidents    IncidentSummary   `json:"incidents"`
}

// TrainingData summarises the provenance registry (sources, scale, types).
type TrainingData struct {
	Sources     []store.TrainingSource `json:"sources"`
	Items       int64                  `json:"items"`
	Bytes       int64                  `json:"bytes"`
	ByType      map[string]int         `json:"by_type"`
	ByLanguage  map[string]int         `json:"by_language"`
	ByModality  map[string]int         `json:"by_modality"`
	Sampled     int                    `json:"sampled"`
	SampledBad  int                    `json:"sampled_illegal"`
	OverFivePct []string               `json:"sources_over_5_percent"` // TC260-003 §5.1: must not be used
	Unaudited   []string               `json:"sources_unaudited"`
}

// Annotation lists the rules documents and their risk coverage.
type Annotation struct {
	Rules           []RuleVersion `json:"rules"`
	SecurityCovered []string      `json:"security_risks_covered"`
	SecurityMissing []string      `json:"security_risks_missing"`
}

// RuleVersion is one version of a rules document, pinned by its hash.
type RuleVersion struct {
	ID         string    `json:"id"`
	Version    int       `json:"version"`
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
	Risks      []string  `json:"risks"`
	BodySHA256 string    `json:"body_sha256"`
	CreatedAt  time.Time `json:"created_at"`
}

// Keywords is the library's size, coverage and update history.
type Keywords struct {
	Total        int            `json:"total"`
	TotalMinimum int            `json:"total_minimum"`
	ByRisk       map[string]int `json:"by_risk"`
	Short        []string       `json:"risks_below_minimum"`
	Missing      []string       `json:"risks_without_terms"`
	Covered      int            `json:"risks_covered"` // of 31
	SHA256       string         `json:"sha256"`
	Updates      []Update       `json:"updates"`
	WeeklyMet    bool           `json:"weekly_updates_met"` // TC260-003 §8.1
}

// Update is a keyword-library version seen by the chain.
type Update struct {
	Time   time.Time `json:"time"`
	SHA256 string    `json:"sha256"`
	Terms  int       `json:"terms"`
}

// ModerationStats counts the period's decisions.
type ModerationStats struct {
	Requests   int64                       `json:"requests"`
	ByDecision map[string]int64            `json:"by_decision"`
	ByStage    map[string]int64            `json:"by_stage"`
	ByRisk     map[string]map[string]int64 `json:"by_risk"` // risk → decision → count
	ByEndpoint map[string]int64            `json:"by_endpoint"`
}

// Section is a part fed by another feature's events; Available is false,
// with a reason, when that feature is not installed.
type Section struct {
	Available      bool             `json:"available"`
	Note           string           `json:"note,omitempty"`
	Events         map[string]int64 `json:"events"`
	ByAction       map[string]int64 `json:"by_action,omitempty"`
	DeadlineMet    int64            `json:"deadline_met"`
	DeadlineMissed int64            `json:"deadline_missed"`
}

// LabelCoverage relates generated responses to label exceptions (events
// whose kind starts with "label.", e.g. label.explicit_omitted).
type LabelCoverage struct {
	Generated  map[string]int64 `json:"generated_by_endpoint"`
	Exceptions int64            `json:"label_exceptions"`
	Coverage   string           `json:"coverage"`
}

var labelledEndpoints = []string{"/v1/chat/completions", "/v1/completions", "/v1/images/generations", "/v1/audio/speech"}

// BuildInspection assembles the pack for in.Meta's period. Large parts
// (requests) are aggregated in the store; events are streamed.
func BuildInspection(ctx context.Context, s Store, in Inputs) (Inspection, error) {
	m := in.Meta
	p := Inspection{Report: "inspection", Meta: m, FilingNumber: in.FilingNumber, Mechanism: in.Mechanism}
	if p.Mechanism == "" {
		p.Mechanism = DefaultMechanism
	}
	var err error
	if p.TrainingData, err = trainingData(ctx, s); err != nil {
		return p, err
	}
	rules, err := s.AnnotationRules(ctx)
	if err != nil {
		return p, err
	}
	p.Annotation = annotation(rules)
	if p.ModelCards, err = s.ModelCards(ctx); err != nil {
		return p, err
	}
	if p.Keywords, err = keywords(ctx, s, in.Lexicon, m); err != nil {
		return p, err
	}
	counts, err := s.AuditCounts(ctx, m.From, m.To)
	if err != nil {
		return p, err
	}
	p.Moderation, p.Labels = moderationStats(counts)
	if p.Complaints, err = section(ctx, s, m, "complaints", "complaint.", "complaints (issue 6) are not installed in this build"); err != nil {
		return p, err
	}
	if p.Enforcement, err = section(ctx, s, m, "sanctions", "sanction.", "enforcement (issue 5) is not installed in this build"); err != nil {
		return p, err
	}
	p.Incidents, err = streamIncidents(ctx, s, store.AuditFilter{From: m.From, To: m.To}, func(Incident) error { return nil })
	return p, err
}

func trainingData(ctx context.Context, s Store) (TrainingData, error) {
	srcs, err := s.TrainingSources(ctx)
	if err != nil {
		return TrainingData{}, err
	}
	t := TrainingData{Sources: srcs, ByType: map[string]int{}, ByLanguage: map[string]int{}, ByModality: map[string]int{},
		OverFivePct: []string{}, Unaudited: []string{}}
	for _, s := range srcs {
		t.Items += s.VolumeItems
		t.Bytes += s.VolumeBytes
		t.ByType[s.Type]++
		for _, l := range s.Languages {
			t.ByLanguage[l]++
		}
		for _, md := range s.Modalities {
			t.ByModality[md]++
		}
		t.Sampled += s.SampleSize
		t.SampledBad += s.SampleIllegal
		switch {
		case s.SampleSize == 0:
			t.Unaudited = append(t.Unaudited, s.ID)
		case s.SampleIllegal*20 > s.SampleSize:
			t.OverFivePct = append(t.OverFivePct, s.ID)
		}
	}
	return t, nil
}

func annotation(rules []store.AnnotationRule) Annotation {
	a := Annotation{Rules: []RuleVersion{}}
	for _, r := range rules {
		sum := sha256.Sum256([]byte(r.Body))
		risks := r.Risks
		if risks == nil {
			risks = []string{}
		}
		a.Rules = append(a.Rules, RuleVersion{ID: r.ID, Version: r.Version, Kind: r.Kind, Title: r.Title, Risks: risks,
			BodySHA256: hex.EncodeToString(sum[:]), CreatedAt: r.CreatedAt})
	}
	a.SecurityCovered, a.SecurityMissing = SecurityRiskCoverage(rules)
	if a.SecurityCovered == nil {
		a.SecurityCovered = []string{}
	}
	return a
}

func keywords(ctx context.Context, s Source, st lexicon.Stats, m Meta) (Keywords, error) {
	k := Keywords{Total: st.Total, TotalMinimum: risk.KeywordTotalMinimum, ByRisk: map[string]int{}, Short: []string{}, Missing: []string{},
		SHA256: st.Hash, Updates: []Update{}}
	for c, n := range st.ByRisk {
		k.ByRisk[string(c)] = n
	}
	for _, c := range st.Short {
		k.Short = append(k.Short, string(c))
	}
	for _, c := range st.Missing {
		k.Missing = append(k.Missing, string(c))
	}
	k.Covered = len(risk.All()) - len(st.Missing)
	// The whole history up to the period's end: updates before the period
	// show which version served at its start.
	err := s.ScanAudit(ctx, store.AuditFilter{To: m.To, Kind: "lexicon.changed"}, func(r store.AuditRecord) error {
		var d struct {
			SHA256 string `json:"sha256"`
			Terms  int    `json:"terms"`
		}
		_ = json.Unmarshal(r.Details, &d)
		k.Updates = append(k.Updates, Update{Time: r.Time, SHA256: d.SHA256, Terms: d.Terms})
		return nil
	})
	if err != nil {
		return k, fmt.Errorf("keyword history: %w", err)
	}
	k.WeeklyMet = weekly(k.Updates, m.From, m.To)
	return k, nil
}

// weekly reports whether no 7-day stretch of [from, to) passed without an
// update (TC260-003 §8.1: at least weekly).
func weekly(us []Update, from, to time.Time) bool {
	last := time.Time{}
	for _, u := range us {
		if !u.Time.After(from) {
			last = u.Time // the version serving at the period's start
			continue
		}
		if last.IsZero() || u.Time.Sub(last) > 7*24*time.Hour {
			return false
		}
		last = u.Time
	}
	return !last.IsZero() && to.Sub(last) <= 7*24*time.Hour
}

func moderationStats(counts []store.AuditCount) (ModerationStats, LabelCoverage) {
	ms := ModerationStats{ByDecision: map[string]int64{}, ByStage: map[string]int64{}, ByRisk: map[string]map[string]int64{}, ByEndpoint: map[string]int64{}}
	lc := LabelCoverage{Generated: map[string]int64{}}
	for _, c := range counts {
		switch {
		case c.Kind == store.KindRequest:
			ms.Requests += c.N
			ms.ByDecision[c.Decision] += c.N
			if c.Stage != "" {
				ms.ByStage[c.Stage] += c.N
			}
			ms.ByEndpoint[c.Endpoint] += c.N
			if c.Risks != "" {
				for _, rk := range strings.Split(c.Risks, ",") {
					if ms.ByRisk[rk] == nil {
						ms.ByRisk[rk] = map[string]int64{}
					}
					ms.ByRisk[rk][c.Decision] += c.N
				}
			}
			if c.Status == 200 && c.Decision != "block" && slices.Contains(labelledEndpoints, c.Endpoint) {
				lc.Generated[c.Endpoint] += c.N
			}
		case strings.HasPrefix(c.Kind, "label."):
			// label.explicit_omitted and any other label exception.
			lc.Exceptions += c.N
		}
	}
	var gen int64
	for _, n := range lc.Generated {
		gen += n
	}
	lc.Coverage = "—"
	if gen > 0 {
		lc.Coverage = fmt.Sprintf("%.2f %%", 100*float64(gen-min(lc.Exceptions, gen))/float64(gen))
	}
	return ms, lc
}

func section(ctx context.Context, s Store, m Meta, table, prefix, missing string) (Section, error) {
	sec := Section{Events: map[string]int64{}}
	ok, err := s.TableExists(ctx, table)
	if err != nil {
		return sec, err
	}
	if !ok {
		sec.Note = "not available: " + missing
		return sec, nil
	}
	sec.Available = true
	err = s.ScanAudit(ctx, store.AuditFilter{From: m.From, To: m.To, Kind: prefix}, func(r store.AuditRecord) error {
		sec.Events[r.Kind]++
		var d struct {
			DeadlineMet *bool  `json:"deadline_met"`
			Action      string `json:"action"`
		}
		_ = json.Unmarshal(r.Details, &d)
		if d.DeadlineMet != nil {
			if *d.DeadlineMet {
				sec.DeadlineMet++
			} else {
				sec.DeadlineMissed++
			}
		}
		if d.Action != "" {
			if sec.ByAction == nil {
				sec.ByAction = map[string]int64{}
			}
			sec.ByAction[d.Action]++
		}
		return nil
	})
	return sec, err
}

// InspectionJSON writes the pack as indented JSON (maps sorted by key).
func InspectionJSON(w io.Writer, p Inspection) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// InspectionHTML writes the pack as a readable, escaped page.
func InspectionHTML(w io.Writer, p Inspection) error {
	t, err := pages()
	if err != nil {
		return err
	}
	return t.ExecuteTemplate(w, "inspection", p)
}
