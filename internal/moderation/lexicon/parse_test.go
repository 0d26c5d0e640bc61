package lexicon

import (
	"strings"
	"testing"

	"github.com/genguard/genguard/internal/risk"
	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := "\uFEFF# comment\n\n法轮功\tA.1.h\n色情\ta.1 f\tmask\tboundary\r\n  av \t\treview\n"
	got, err := Parse(strings.NewReader(in), "x.tsv", "A.1.f")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Term: "法轮功", Risk: "A.1.h", Action: Block, Source: "x.tsv:3"},
		{Term: "色情", Risk: "A.1.f", Action: Mask, Flags: FlagBoundary, Source: "x.tsv:4"},
		{Term: "av", Risk: "A.1.f", Action: Review, Source: "x.tsv:5"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown risk", "a\tA.9.z\n", "x.tsv:1: unknown risk code"},
		{"no risk", "ok\n", "x.tsv:1: missing risk code"},
		{"bad action", "ab\tA.1.a\tdelete\n", "x.tsv:1: unknown action"},
		{"bad flag", "ab\tA.1.a\tblock\tfuzzy\n", "x.tsv:1: unknown flag"},
		{"columns", "a\tA.1.a\tblock\t\textra\n", "x.tsv:1: 5 columns"},
		{"nul", "# ok\na\x00b\tA.1.a\n", "x.tsv:2: control character"},
		{"utf8", "a\xffb\tA.1.a\n", "x.tsv:1: invalid UTF-8"},
		{"too long", strings.Repeat("长", 65) + "\tA.1.a\n", "x.tsv:1: term longer than 64 runes"},
		{"only noise", "!!!\tA.1.a\n", "x.tsv:1: term is empty after normalization"},
		{"long line", strings.Repeat("a", 10<<20) + "\n", "x.tsv:1: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "x.tsv", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestParseErrorCap(t *testing.T) {
	_, err := Parse(strings.NewReader(strings.Repeat("x\tbad\n", 1000)), "x.tsv", "")
	if err == nil || !strings.Contains(err.Error(), "980 more problems") {
		t.Errorf("error = %v, want a capped list", err)
	}
}

func TestParseAllow(t *testing.T) {
	got, err := ParseAllow(strings.NewReader("# c\n 特色情况 \n\n毒品预防\n"), "allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"特色情况", "毒品预防"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := ParseAllow(strings.NewReader("ok\n\x00\n"), "allow.txt"); err == nil || !strings.Contains(err.Error(), "allow.txt:2:") {
		t.Errorf("error = %v, want allow.txt:2", err)
	}
}

func TestImport(t *testing.T) {
	in := strings.Join([]string{
		"法轮功", " 法輪功 ", "色", "http://bad.example", "www.x.cn", "example.com", "12345",
		"", "# c", "a\x00b", "\xff\xfe", strings.Repeat("长", 70), "性交*", "word\tcategory",
		strings.Repeat("z", 5000), "av",
	}, "\n")
	got, rep, err := Import(strings.NewReader(in), "list.txt", "A.1.f", Review)
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	for _, e := range got {
		terms = append(terms, e.Term)
		if e.Risk != "A.1.f" || e.Action != Review {
			t.Errorf("%q: risk %s action %s", e.Term, e.Risk, e.Action)
		}
	}
	if d := cmp.Diff([]string{"法轮功", "性交", "word", "av"}, terms); d != "" {
		t.Errorf("imported (-want +got):\n%s", d)
	}
	wantSkip := map[string]int{
		"duplicate": 1, "single character": 1, "URL or domain": 3, "number or no letters": 1,
		"empty or comment": 2, "control character": 1, "invalid UTF-8": 1, "too long": 2,
	}
	if d := cmp.Diff(wantSkip, rep.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if rep.Lines != 16 || rep.Imported != 4 {
		t.Errorf("report %+v", rep)
	}
	if _, _, err := Import(strings.NewReader("x"), "list.txt", "A.7.a", Block); err == nil {
		t.Error("invalid risk accepted")
	}
}

func TestStats(t *testing.T) {
	a := &Library{
		Entries: []Entry{{Term: "法轮功", Risk: "A.1.h"}, {Term: "色情", Risk: "A.1.f", Source: "a:1"}, {Term: "色情", Risk: "A.1.f", Source: "b:9"}},
		Allow:   []string{"特色情况", "毒品预防"},
	}
	b := &Library{
		Entries: []Entry{{Term: "色情", Risk: "A.1.f"}, {Term: "法轮功", Risk: "A.1.h"}},
		Allow:   []string{"毒品预防", "特色情况"},
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Hash != sb.Hash {
		t.Error("hash depends on order or provenance")
	}
	if sa.Total != 2 || sa.Allow != 2 || sa.ByRisk["A.1.f"] != 1 {
		t.Errorf("stats %+v", sa)
	}
	if len(sa.Missing) != 29 || len(sa.Short) != 17 || !sa.TotalShort {
		t.Errorf("missing %d short %d totalShort %v", len(sa.Missing), len(sa.Short), sa.TotalShort)
	}
	b.Entries[0].Action = Log
	if b.Stats().Hash == sa.Hash {
		t.Error("hash ignores the action")
	}
}

func TestStarterCoverage(t *testing.T) {
	lib, err := Starter()
	if err != nil {
		t.Fatal(err)
	}
	st := lib.Stats()
	if len(st.Missing) != 0 {
		t.Errorf("starter lacks risks %v", st.Missing)
	}
	for _, r := range risk.All() {
		if st.ByRisk[r.Code] < 5 {
			t.Errorf("%s: only %d starter terms", r.Code, st.ByRisk[r.Code])
		}
	}
	if _, err := Compile(lib, Options{Pinyin: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("starter: %d terms, %d allow phrases, hash %s", st.Total, st.Allow, st.Hash[:16])
}
