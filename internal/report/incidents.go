package report

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"io"
	"slices"
	"time"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store"
)

// Source is what the exports read: the audit chain, streamed.
type Source interface {
	ScanAudit(ctx context.Context, f store.AuditFilter, fn func(store.AuditRecord) error) error
}

// Meta heads every export. Generated is passed in, not read from a clock,
// so the same data and meta give the same bytes.
type Meta struct {
	Provider  string    `json:"provider,omitempty"`
	Service   string    `json:"service,omitempty"`
	Generated time.Time `json:"generated"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
}

// Incident is one incident as reports show it.
type Incident struct {
	ID          string        `json:"id"`
	Seq         int64         `json:"seq"`
	Time        time.Time     `json:"time"`
	User        string        `json:"user"` // pseudonym
	RequestID   string        `json:"request_id"`
	Endpoint    string        `json:"endpoint"`
	Model       string        `json:"model,omitempty"`
	Stage       string        `json:"stage"`
	Stream      bool          `json:"stream"`
	Risks       []string      `json:"risks"`
	Actions     []string      `json:"actions"`
	Matches     []audit.Match `json:"matches"`
	Remediation []string      `json:"remediation"`
	Sanctions   []string      `json:"sanctions"` // ids of sanctions citing its request
}

// Sanction is an enforcement action from the chain (issue 5 writes them).
type Sanction struct {
	ID       string          `json:"id"`
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind"`
	User     string          `json:"user"`
	Actor    string          `json:"actor"`
	Details  json.RawMessage `json:"details"`
	Evidence []string        `json:"evidence"`
}

// IncidentSummary counts a period's incidents.
type IncidentSummary struct {
	Incidents int            `json:"incidents"`
	Sanctions int            `json:"sanctions"`
	ByRisk    map[string]int `json:"by_risk"`
	ByAction  map[string]int `json:"by_action"`
	ByStage   map[string]int `json:"by_stage"`
	Users     int            `json:"users"`
}

// maxLinked bounds the request→sanction index a report builds.
const maxLinked = 200_000

func toIncident(r store.AuditRecord) Incident {
	var d audit.IncidentDetails
	_ = json.Unmarshal(r.Details, &d) // a malformed detail shows as empty fields; verify catches edits
	inc := Incident{ID: r.ID, Seq: r.Seq, Time: r.Time, User: r.Subject, RequestID: d.RequestID, Endpoint: d.Endpoint, Model: d.Model,
		Stage: d.Stage, Stream: d.Stream, Risks: d.Risks, Actions: d.Actions, Matches: d.Matches, Remediation: d.Remediation, Sanctions: []string{}}
	for _, p := range []*[]string{&inc.Risks, &inc.Actions, &inc.Remediation} {
		if *p == nil {
			*p = []string{}
		}
	}
	if inc.Matches == nil {
		inc.Matches = []audit.Match{}
	}
	return inc
}

func toSanction(r store.AuditRecord) Sanction {
	d := json.RawMessage(r.Details)
	if len(d) == 0 {
		d = json.RawMessage("{}")
	}
	ev := r.Evidence
	if ev == nil {
		ev = []string{}
	}
	return Sanction{ID: r.ID, Seq: r.Seq, Time: r.Time, Kind: r.Kind, User: r.Subject, Actor: r.Actor, Details: d, Evidence: ev}
}

// sanctionIndex maps request and incident ids to the sanctions citing them.
func sanctionIndex(ctx context.Context, src Source, from, to time.Time) (map[string][]string, error) {
	idx := map[string][]string{}
	n := 0
	err := src.ScanAudit(ctx, store.AuditFilter{From: from, To: to, Kind: "sanction."}, func(r store.AuditRecord) error {
		for _, ev := range r.Evidence {
			if n < maxLinked {
				idx[ev] = append(idx[ev], r.ID)
				n++
			}
		}
		return nil
	})
	return idx, err
}

// sanctionWindow is how long after an incident a sanction citing it is
// looked for.
const sanctionWindow = 30 * 24 * time.Hour

// streamIncidents calls fn for each incident of [from, to) with its linked
// sanctions, then returns the summary.
func streamIncidents(ctx context.Context, src Source, f store.AuditFilter, fn func(Incident) error) (IncidentSummary, error) {
	sum := IncidentSummary{ByRisk: map[string]int{}, ByAction: map[string]int{}, ByStage: map[string]int{}}
	to := f.To
	if !to.IsZero() {
		to = to.Add(sanctionWindow)
	}
	idx, err := sanctionIndex(ctx, src, f.From, to)
	if err != nil {
		return sum, err
	}
	users := map[string]bool{}
	f.Kind = audit.KindIncident
	err = src.ScanAudit(ctx, f, func(r store.AuditRecord) error {
		inc := toIncident(r)
		inc.Sanctions = append(inc.Sanctions, idx[inc.RequestID]...)
		inc.Sanctions = append(inc.Sanctions, idx[inc.ID]...)
		slices.Sort(inc.Sanctions)
		inc.Sanctions = slices.Compact(inc.Sanctions)
		sum.Incidents++
		for _, k := range inc.Risks {
			sum.ByRisk[k]++
		}
		for _, a := range inc.Actions {
			sum.ByAction[a]++
		}
		sum.ByStage[inc.Stage]++
		if len(users) < maxLinked {
			users[inc.User] = true
		}
		return fn(inc)
	})
	sum.Users = len(users)
	return sum, err
}

// IncidentsJSON streams the incidents of a period, then the period's
// sanctions, then the summary, as one JSON document.
func IncidentsJSON(ctx context.Context, w io.Writer, src Source, m Meta) error {
	bw := bufio.NewWriter(w)
	meta, err := json.Marshal(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n\"report\": \"incidents\",\n\"meta\": %s,\n\"incidents\": [", meta)
	first := true
	item := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.WriteString("\n")
		_, err = bw.Write(b)
		return err
	}
	sum, err := streamIncidents(ctx, src, store.AuditFilter{From: m.From, To: m.To}, func(i Incident) error { return item(i) })
	if err != nil {
		return fmt.Errorf("incident report: %w", err)
	}
	bw.WriteString("\n],\n\"sanctions\": [")
	first = true
	err = src.ScanAudit(ctx, store.AuditFilter{From: m.From, To: m.To, Kind: "sanction."}, func(r store.AuditRecord) error {
		sum.Sanctions++
		return item(toSanction(r))
	})
	if err != nil {
		return fmt.Errorf("incident report: %w", err)
	}
	sb, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "\n],\n\"summary\": %s\n}\n", sb)
	return bw.Flush()
}

// IncidentJSON writes one incident, with the sanctions citing it, or
// store.ErrNotFound.
func IncidentJSON(ctx context.Context, w io.Writer, src Source, id string) error {
	inc, sanctions, err := findIncident(ctx, src, id)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"report": "incident", "incident": inc, "sanctions": sanctions})
}

func findIncident(ctx context.Context, src Source, id string) (Incident, []Sanction, error) {
	var inc *Incident
	err := src.ScanAudit(ctx, store.AuditFilter{Kind: audit.KindIncident, ID: id, Limit: 1}, func(r store.AuditRecord) error {
		i := toIncident(r)
		inc = &i
		return nil
	})
	if err != nil {
		return Incident{}, nil, fmt.Errorf("incident %s: %w", id, err)
	}
	if inc == nil {
		return Incident{}, nil, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	sanctions := []Sanction{}
	err = src.ScanAudit(ctx, store.AuditFilter{From: inc.Time, To: inc.Time.Add(sanctionWindow), Kind: "sanction."}, func(r store.AuditRecord) error {
		if slices.Contains(r.Evidence, inc.RequestID) || slices.Contains(r.Evidence, inc.ID) {
			sanctions = append(sanctions, toSanction(r))
			inc.Sanctions = append(inc.Sanctions, r.ID)
		}
		return nil
	})
	return *inc, sanctions, err
}

// RemediationDataset streams the period's remediation samples as JSON
// lines: one line per matched term, with its risk and offsets — the queue
// for keyword-library review and model training. No prompt text is stored
// (Measures Art. 11), so a sample is the term, never the conversation.
func RemediationDataset(ctx context.Context, w io.Writer, src Source, from, to time.Time) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	type sample struct {
		Incident    string   `json:"incident"`
		Time        string   `json:"time"`
		Stage       string   `json:"stage"`
		Risk        string   `json:"risk"`
		Term        string   `json:"term"`
		Start       int      `json:"start"`
		End         int      `json:"end"`
		Source      string   `json:"source,omitempty"`
		Remediation []string `json:"remediation"`
	}
	err := src.ScanAudit(ctx, store.AuditFilter{From: from, To: to, Kind: audit.KindIncident}, func(r store.AuditRecord) error {
		inc := toIncident(r)
		for _, m := range inc.Matches {
			if err := enc.Encode(sample{Incident: inc.ID, Time: inc.Time.Format(time.RFC3339Nano), Stage: inc.Stage, Risk: m.Risk, Term: m.Term,
				Start: m.Start, End: m.End, Source: m.Source, Remediation: inc.Remediation}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remediation dataset: %w", err)
	}
	return bw.Flush()
}

// IncidentsHTML streams the same report as a readable, escaped page.
func IncidentsHTML(ctx context.Context, w io.Writer, src Source, m Meta) error {
	t, err := pages()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := t.ExecuteTemplate(bw, "incidents-head", m); err != nil {
		return err
	}
	sum, err := streamIncidents(ctx, src, store.AuditFilter{From: m.From, To: m.To}, func(i Incident) error {
		return t.ExecuteTemplate(bw, "incident-row", i)
	})
	if err != nil {
		return fmt.Errorf("incident report: %w", err)
	}
	if err := t.ExecuteTemplate(bw, "incidents-mid", nil); err != nil {
		return err
	}
	err = src.ScanAudit(ctx, store.AuditFilter{From: m.From, To: m.To, Kind: "sanction."}, func(r store.AuditRecord) error {
		sum.Sanctions++
		return t.ExecuteTemplate(bw, "sanction-row", toSanction(r))
	})
	if err != nil {
		return fmt.Errorf("incident report: %w", err)
	}
	if err := t.ExecuteTemplate(bw, "incidents-foot", summaryView(sum)); err != nil {
		return err
	}
	return bw.Flush()
}

// kv is a sorted map entry for templates.
type kv struct {
	K string
	V int
}

func sorted(m map[string]int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int {
		if a.K < b.K {
			return -1
		}
		if a.K > b.K {
			return 1
		}
		return 0
	})
	return out
}

func summaryView(s IncidentSummary) map[string]any {
	return map[string]any{"S": s, "ByRisk": sorted(s.ByRisk), "ByAction": sorted(s.ByAction), "ByStage": sorted(s.ByStage)}
}
