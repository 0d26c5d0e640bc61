package audit

import (
	"slices"

	"github.com/genguard/genguard/internal/store"
)

// Match is one moderation hit as an incident keeps it: the library term and
// its offsets, never the surrounding text (Measures Art. 11).
type Match struct {
	Risk   string `json:"risk"`
	Term   string `json:"term"`
	Action string `json:"action"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Source string `json:"source,omitempty"`
}

// Incident actions (Measures Art. 14: 停止生成、停止传输、消除).
const (
	ActionGenerationStopped   = "generation_stopped"
	ActionTransmissionStopped = "transmission_stopped"
	ActionContentRemoved      = "content_removed"
)

// Remediation queues (Art. 14: 模型优化训练等措施进行整改).
const (
	RemediateLexicon = "keyword_library_review"
	RemediateModel   = "model_training_sample"
)

// MaxIncidentMatches caps the matches one incident keeps.
const MaxIncidentMatches = 32

// IncidentDetails is the Details of an incident event.
type IncidentDetails struct {
	RequestID   string   `json:"request_id"`
	Endpoint    string   `json:"endpoint"`
	Model       string   `json:"model,omitempty"`
	Stage       string   `json:"stage"`
	Stream      bool     `json:"stream"`
	Risks       []string `json:"risks"`
	Actions     []string `json:"actions"`
	Matches     []Match  `json:"matches"`
	Remediation []string `json:"remediation"`
}

// IncidentEvent builds the incident for a completed request, or reports
// false when the request found nothing illegal (only blocks open one).
func IncidentEvent(rec store.AuditRecord, hits []Match) (Event, bool) {
	if rec.Decision != "block" {
		return Event{}, false
	}
	d := IncidentDetails{RequestID: rec.ID, Endpoint: rec.Endpoint, Model: rec.Model, Stage: rec.Stage, Stream: rec.Stream,
		Risks: rec.Risks, Matches: []Match{}, Remediation: []string{RemediateLexicon, RemediateModel}}
	if d.Risks == nil {
		d.Risks = []string{}
	}
	switch {
	case rec.Stage == "input":
		// The prompt never reached the model.
		d.Actions = []string{ActionGenerationStopped}
	case rec.Stream:
		// Cut mid-stream: the model was stopped, the rest withheld, and
		// the client told to remove what it had shown.
		d.Actions = []string{ActionGenerationStopped, ActionTransmissionStopped, ActionContentRemoved}
	default:
		d.Actions = []string{ActionTransmissionStopped}
	}
	for _, h := range hits {
		if h.Action != "block" {
			continue
		}
		if len(d.Matches) == MaxIncidentMatches {
			break
		}
		h.Term = truncate(h.Term, 256)
		d.Matches = append(d.Matches, h)
	}
	slices.SortStableFunc(d.Matches, func(a, b Match) int { return a.Start - b.Start })
	return Event{ID: truncate("inc_"+rec.ID, MaxFieldLen), Time: rec.Time, Kind: KindIncident, Actor: "system",
		Subject: rec.UserPseudonym, Details: d, Evidence: nonEmpty(rec.ID)}, true
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{truncate(s, MaxEvidenceLen)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // keep UTF-8 whole
		n--
	}
	return s[:n]
}
