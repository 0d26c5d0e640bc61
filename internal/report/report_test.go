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
