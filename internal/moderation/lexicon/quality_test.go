package lexicon

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The quality tests measure what a keyword filter is for: catching evasive
// spellings (recall per evasion class, testdata/evasion.tsv) without refusing
// harmless text (false positives on kdconv chat and on the Interim Measures).
// Run with -v to see the numbers recorded in BENCHMARKS.md.

func TestEvasionRecall(t *testing.T) {
	lib, err := Starter()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(lib, Options{Pinyin: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/evasion.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, found, naive := map[string]int{}, map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("bad line %q", line)
		}
		class, text, want := cols[0], cols[1], cols[2]
		total[class]++
		ok := false
		for _, h := range m.Find(text) {
			ok = ok || h.Term == want
		}
		if strings.Contains(text, want) {
			naive[class]++ // what plain substring matching catches
		}
		if ok {
			found[class]++
		} else {
			t.Errorf("%s: Find(%q) misses %q", class, text, want)
		}
	}
	classes := make([]string, 0, len(total))
	for c := range total {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		t.Logf("recall %-12s %2d/%2d (plain substring: %2d/%2d)", c, found[c], total[c], naive[c], total[c])
	}
}

func TestStarterPassesMeasures(t *testing.T) {
	shared := sharedDir(t)
	files, err := filepath.Glob(filepath.Join(shared, "seeds", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Skipf("no seed texts in %s", shared)
	}
	lib, err := Starter()
	if err != nil {
		t.Fatal(err)
	}
	for _, pinyin := range []bool{false, true} {
		m, err := Compile(lib, Options{Pinyin: pinyin})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, h := range m.Find(text) {
				t.Errorf("pinyin=%v: %s: hit %q (%s) at %q", pinyin, filepath.Base(f), h.Term, h.Risk, text[h.Start:h.End])
			}
		}
	}
}

// fpRate returns the share of utterances with at least one hit, and the
// most frequent hit terms.
func fpRate(m *Matcher, utts []string) (float64, string) {
	n := 0
	terms := map[string]int{}
	for _, u := range utts {
		hits := m.Find(u)
		if len(hits) > 0 {
			n++
		}
		for _, h := range hits {
			terms[h.Term]++
		}
	}
	type tc struct {
		t string
		c int
	}
	var top []tc
	for t, c := range terms {
		top = append(top, tc{t, c})
	}
	slices.SortFunc(top, func(a, b tc) int { return b.c - a.c })
	var s []string
	for _, x := range top[:min(8, len(top))] {
		s = append(s, fmt.Sprintf("%s×%d", x.t, x.c))
	}
	return float64(n) / float64(len(utts)), strings.Join(s, " ")
}

func TestFalsePositives(t *testing.T) {
	c := loadCorpus(t)
	lib, err := Starter()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		lib  *Library
		opts Options
		max  float64 // share of utterances allowed a hit
	}{
		{"starter", lib, Options{}, 0.002},
		{"starter+pinyin", lib, Options{Pinyin: true}, 0.005},
		{"houbb-import", c.houbb, Options{}, 1},
		{"houbb-import+pinyin", c.houbb, Options{Pinyin: true}, 1},
	} {
		m, err := Compile(tc.lib, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		rate, top := fpRate(m, c.utterances)
		t.Logf("%-20s kdconv utterances with a hit: %.2f%% of %d; top: %s", tc.name, 100*rate, len(c.utterances), top)
		seeds, _ := filepath.Glob(filepath.Join(sharedDir(t), "seeds", "*.txt"))
		var lines []string
		for _, f := range seeds {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
		rate, top = fpRate(m, lines)
		t.Logf("%-20s Measures lines with a hit: %.1f%% of %d; top: %s", tc.name, 100*rate, len(lines), top)
		if rate > tc.max {
			t.Errorf("%s: false-positive rate %.3f%% above %.3f%%", tc.name, 100*rate, 100*tc.max)
		}
	}
}
