package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/moderation/lexicon"
	"github.com/genguard/genguard/internal/risk"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a store with two blocked requests (one a hostile term), a
// passed one, a sanction citing the first, and an unrelated event.
func fixture(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reqs := []store.AuditRecord{
		{ID: "req-1", Time: t0, UserPseudonym: "u_aaa", Endpoint: "/v1/chat/completions", Model: "demo", Stage: "input", Decision: "block", Risks: []string{"A.1.d"}, Status: 200},
		{ID: "req-2", Time: t0.Add(time.Minute), UserPseudonym: "u_bbb", Endpoint: "/v1/chat/completions", Model: "demo", Stage: "output", Decision: "block", Risks: []string{"A.1.f"}, Status: 200, Stream: true},
		{ID: "req-3", Time: t0.Add(2 * time.Minute), UserPseudonym: "u_aaa", Endpoint: "/v1/chat/completions", Model: "demo", Decision: "pass", Status: 200},
	}
	if err := db.InsertAudit(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	hits := [][]audit.Match{
		{{Risk: "A.1.d", Term: "恐怖袭击", Action: "block", Start: 3, End: 15, Source: "starter:10"}, {Risk: "A.2.a", Term: "x", Action: "review", Start: 0, End: 1}},
		{{Risk: "A.1.f", Term: `<script>alert("x")</script>`, Action: "block", Start: 40, End: 46}},
	}
	var events []audit.Event
	for i, r := range reqs[:2] {
		e, ok := audit.IncidentEvent(r, hits[i])
		if !ok {
			t.Fatal("no incident for a block")
		}
		events = append(events, e)
	}
	events = append(events,
		audit.Event{ID: "sanction_1", Time: t0.Add(30 * time.Second), Kind: "sanction.issued", Actor: "system", Subject: "u_aaa",
			Details: map[string]any{"action": "warn", "to": "warned"}, Evidence: []string{"req-1"}},
		audit.Event{ID: "evt-x", Time: t0.Add(time.Hour), Kind: "admin.user_created", Actor: "cli", Subject: "u_ccc"},
	)
	if err := audit.Append(ctx, db, t0, events...); err != nil {
		t.Fatal(err)
	}
	return db
}

func meta() Meta {
	return Meta{Provider: "示例公司 <Example>", Service: "demo", Generated: t0.Add(24 * time.Hour), From: t0.Add(-time.Hour), To: t0.Add(23 * time.Hour)}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

func render(t *testing.T, f func(w *bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestIncidentsJSON(t *testing.T) {
	db := fixture(t)
	ctx := context.Background()
	got := render(t, func(w *bytes.Buffer) error { return IncidentsJSON(ctx, w, db, meta()) })
	golden(t, "incidents.json", got)
	// Same data, same bytes.
	if again := render(t, func(w *bytes.Buffer) error { return IncidentsJSON(ctx, w, db, meta()) }); !bytes.Equal(got, again) {
		t.Error("two renderings differ")
	}
	var doc struct {
		Incidents []Incident      `json:"incidents"`
		Sanctions []Sanction      `json:"sanctions"`
		Summary   IncidentSummary `json:"summary"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.Incidents) != 2 || doc.Summary.Incidents != 2 || doc.Summary.Sanctions != 1 || doc.Summary.Users != 2 {
		t.Fatalf("report = %+v", doc)
	}
	in := doc.Incidents[0]
	if in.User != "u_aaa" || in.RequestID != "req-1" || in.Stage != "input" || strings.Join(in.Actions, ",") != audit.ActionGenerationStopped ||
		len(in.Matches) != 1 || in.Matches[0].Term != "恐怖袭击" || strings.Join(in.Sanctions, ",") != "sanction_1" {
		t.Errorf("incident 1 = %+v", in)
	}
	if a := strings.Join(doc.Incidents[1].Actions, ","); a != "generation_stopped,transmission_stopped,content_removed" {
		t.Errorf("mid-stream block actions = %s", a)
	}
	if doc.Summary.ByRisk["A.1.d"] != 1 || doc.Summary.ByAction["generation_stopped"] != 2 {
		t.Errorf("summary = %+v", doc.Summary)
	}
}

func TestIncidentsHTMLEscapes(t *testing.T) {
	db := fixture(t)
	got := render(t, func(w *bytes.Buffer) error { return IncidentsHTML(context.Background(), w, db, meta()) })
	golden(t, "incidents.html", got)
	s := string(got)
	if strings.Contains(s, "<script>") || strings.Contains(s, "<Example>") {
		t.Error("HTML report contains unescaped user-controlled markup")
	}
	for _, want := range []string{"&lt;script&gt;", "恐怖袭击", "sanction_1", "content_removed", "示例公司 &lt;Example&gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}

func TestIncidentByID(t *testing.T) {
	db := fixture(t)
	ctx := context.Background()
	got := render(t, func(w *bytes.Buffer) error { return IncidentJSON(ctx, w, db, "inc_req-1") })
	golden(t, "incident.json", got)
	if !strings.Contains(string(got), `"sanction_1"`) {
		t.Errorf("incident lacks its sanction:\n%s", got)
	}
	if err := IncidentJSON(ctx, &bytes.Buffer{}, db, "inc_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IncidentJSON(missing) = %v, want ErrNotFound", err)
	}
}

func TestRemediationDataset(t *testing.T) {
	db := fixture(t)
	got := render(t, func(w *bytes.Buffer) error {
		return RemediationDataset(context.Background(), w, db, time.Time{}, time.Time{})
	})
	golden(t, "remediation.jsonl", got)
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"term":"恐怖袭击"`) || !strings.Contains(lines[0], `"start":3`) {
		t.Errorf("dataset = %q", lines)
	}
}

func inputs() Inputs {
	return Inputs{Meta: meta(), FilingNumber: "Beijing-Demo-202601", Lexicon: lexicon.Stats{Total: 3, ByRisk: map[risk.Code]int{"A.1.d": 2, "A.1.f": 1},
		Short: []risk.Code{"A.1.d", "A.1.f"}, Missing: []risk.Code{"A.1.a"}, Hash: "abc"}}
}

// registries fills the registries with one entry each, one of them hostile.
func registries(t *testing.T, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.PutTrainingSource(ctx, store.TrainingSource{ID: "wiki", Source: "<b>Wiki</b>", Type: "open_source", Licence: "CC BY-SA",
		PILawfulBasis: "public_information", VolumeItems: 10, VolumeBytes: 100, Languages: []string{"zh"}, Modalities: []string{"text"}, SampleSize: 100, SampleIllegal: 6}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAnnotationRule(ctx, store.AnnotationRule{ID: "sec", Kind: "security", Title: "安全", Body: "rules", Risks: []string{"A.1.a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutModelCard(ctx, store.ModelCard{ID: "m", Name: "demo", Architecture: "transformer", TrainingSummary: "SFT", FoundationModels: []string{"Qwen (filed)"}}); err != nil {
		t.Fatal(err)
	}
}

// Registry timestamps come from the store's clock; pin them for goldens.
func pinTimes(p *Inspection) {
	for i := range p.TrainingData.Sources {
		p.TrainingData.Sources[i].CreatedAt, p.TrainingData.Sources[i].UpdatedAt = t0, t0
	}
	for i := range p.Annotation.Rules {
		p.Annotation.Rules[i].CreatedAt = t0
	}
	for i := range p.ModelCards {
		p.ModelCards[i].CreatedAt, p.ModelCards[i].UpdatedAt = t0, t0
	}
}

func TestInspection(t *testing.T) {
	db := fixture(t)
	registries(t, db)
	ctx := context.Background()
	if err := audit.Append(ctx, db, t0, audit.Event{Time: t0.Add(-48 * time.Hour), Kind: "lexicon.changed", Details: map[string]any{"sha256": "abc", "terms": 3}},
		audit.Event{Time: t0.Add(2 * time.Hour), Kind: "complaint.closed", Subject: "c1", Details: map[string]any{"deadline_met": true}}); err != nil {
		t.Fatal(err)
	}
	p, err := BuildInspection(ctx, db, inputs())
	if err != nil {
		t.Fatal(err)
	}
	pinTimes(&p)
	j := render(t, func(w *bytes.Buffer) error { return InspectionJSON(w, p) })
	golden(t, "inspection.json", j)
	h := render(t, func(w *bytes.Buffer) error { return InspectionHTML(w, p) })
	golden(t, "inspection.html", h)

	if p.Moderation.Requests != 3 || p.Moderation.ByDecision["block"] != 2 || p.Moderation.ByRisk["A.1.d"]["block"] != 1 {
		t.Errorf("moderation = %+v", p.Moderation)
	}
	if !p.Complaints.Available || p.Complaints.DeadlineMet != 1 || p.Complaints.Events["complaint.closed"] != 1 {
		t.Errorf("complaints = %+v", p.Complaints)
	}
	if !p.Enforcement.Available || p.Enforcement.Events["sanction.issued"] != 1 || p.Enforcement.ByAction["warn"] != 1 {
		t.Errorf("enforcement = %+v", p.Enforcement)
	}
	if len(p.TrainingData.OverFivePct) != 1 || p.Annotation.SecurityMissing[0] != "A.1.b" || len(p.Keywords.Updates) != 1 || !p.Keywords.WeeklyMet {
		t.Errorf("registries/keywords = %+v %+v %+v", p.TrainingData, p.Annotation, p.Keywords)
	}
	if p.Labels.Generated["/v1/chat/completions"] != 1 || p.Labels.Coverage != "100.00 %" {
		t.Errorf("labels = %+v", p.Labels)
	}
	if strings.Contains(string(h), "<b>Wiki</b>") || !strings.Contains(string(h), "&lt;b&gt;Wiki&lt;/b&gt;") {
		t.Error("registry text not escaped in the HTML pack")
	}
}

// A build without issues 5 and 6 says so instead of reporting zeros.
func TestInspectionSectionsNotAvailable(t *testing.T) {
	db := fixture(t)
	p, err := BuildInspection(context.Background(), noTables{db}, inputs())
	if err != nil {
		t.Fatal(err)
	}
	if p.Complaints.Available || !strings.Contains(p.Complaints.Note, "not available") || p.Enforcement.Available {
		t.Errorf("sections = %+v %+v", p.Complaints, p.Enforcement)
	}
	h := render(t, func(w *bytes.Buffer) error { return InspectionHTML(w, p) })
	if !strings.Contains(string(h), "not available: complaints") {
		t.Error("HTML lacks the not-available note")
	}
}

type noTables struct{ *sqlite.DB }

func (noTables) TableExists(context.Context, string) (bool, error) { return false, nil }

func TestFilingDossier(t *testing.T) {
	db := fixture(t)
	registries(t, db)
	dir := t.TempDir()
	agreement := filepath.Join(t.TempDir(), "agreement.md")
	os.WriteFile(agreement, []byte("# 服务协议\n"), 0o600)
	lib := &lexicon.Library{Entries: []lexicon.Entry{{Term: "b", Risk: "A.1.f"}, {Term: "a", Risk: "A.1.d"}, {Term: "a", Risk: "A.1.d"}}}
	f, err := WriteFiling(context.Background(), dir, db, inputs(), lib, FilingFiles{Agreement: agreement})
	if err != nil {
		t.Fatal(err)
	}
	kw, _ := os.ReadFile(filepath.Join(dir, "attachments", "keywords.tsv"))
	if string(kw) != "# term\trisk (TC260-003 Appendix A)\na\tA.1.d\nb\tA.1.f\n" {
		t.Errorf("keyword list = %q", kw)
	}
	var got Filing
	b, _ := os.ReadFile(filepath.Join(dir, "dossier.json"))
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	byClause := map[string]Clause{}
	for _, c := range got.Clauses {
		byClause[c.Clause] = c
	}
	if c := byClause["8.1"]; c.Result != NotConforms || !strings.Contains(c.Evidence, "3 terms (minimum 10000)") || !strings.Contains(c.Evidence, "A.1.d 2/200") {
		t.Errorf("8.1 = %+v", c)
	}
	if c := byClause["5.1"]; c.Result != NotConforms || !strings.Contains(c.Evidence, "over 5 %: [wiki]") {
		t.Errorf("5.1 = %+v", c)
	}
	if c := byClause["8.2"]; c.Result != NotAssessed {
		t.Errorf("8.2 without results = %+v", c)
	}
	names := ""
	for _, a := range f.Attachments {
		names += a.Name + "|" + a.File + "|" + a.Note + "\n"
	}
	for _, want := range []string{"attachments/keywords.tsv", "attachments/annotation-rules.json", "attachments/service-agreement.md", "not available: report.assessment_file"} {
		if !strings.Contains(names, want) {
			t.Errorf("attachments lack %q:\n%s", want, names)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "dossier.html"))
	if !strings.Contains(string(html), "Beijing-Demo-202601") || !strings.Contains(string(html), "3 terms") {
		t.Error("dossier.html lacks the filled figures")
	}
}
