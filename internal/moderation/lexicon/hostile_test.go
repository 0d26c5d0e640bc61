package lexicon

import (
	"strings"
	"sync"
	"testing"
)

// TestHostileInput scans inputs built to hurt: they must finish (no timed
// assertion: a hang fails the test run) and produce only valid hits.
func TestHostileInput(t *testing.T) {
	lib := testLib()
	lib.Allow = append(lib.Allow, "法轮功法轮功")
	m, err := Compile(lib, Options{Pinyin: true, MaxHits: 100})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{
		"10MB line":        strings.Repeat("今天天气不错我们去公园散步吧", 10<<20/42),
		"million commas":   strings.Repeat(",", 1_000_000),
		"noise between":    strings.Repeat("法,轮,功,", 200_000),
		"repetitive hits":  strings.Repeat("法轮功", 1_000_000),
		"repetitive allow": strings.Repeat("特色情况", 500_000),
		"nul":              strings.Repeat("法\x00轮\x00功\x00", 100_000),
		"invalid utf8":     strings.Repeat("\xff\xfe\xc0\xaf法", 200_000),
		"marks":            "法" + strings.Repeat("\u0301", 1_000_000) + "轮功",
		"zero width":       strings.Repeat("\u200b", 1_000_000) + "法轮功",
		"one long word":    strings.Repeat("a", 5_000_000) + " av",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			hits := m.Find(in)
			if len(hits) > 100 {
				t.Errorf("%d hits, MaxHits 100", len(hits))
			}
			for _, h := range hits {
				if h.Start < 0 || h.End <= h.Start || h.End > len(in) {
					t.Fatalf("bad span [%d,%d)", h.Start, h.End)
				}
			}
		})
	}
	// Covered by the allow phrase 法轮功法轮功 everywhere but possibly at
	// the very end: almost nothing may remain.
	if n := len(m.Find(strings.Repeat("法轮功", 100_000))); n > 1 {
		t.Errorf("allow phrase over repeated hits left %d hits", n)
	}
}

// TestConcurrentFind shares one Matcher between goroutines; run with -race.
func TestConcurrentFind(t *testing.T) {
	m, err := Compile(testLib(), Options{Pinyin: true})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"练法轮功", "fa lun gong", "角色情感 观看色情视频", "特色情况", strings.Repeat("av java ", 1000)}
	want := make([]int, len(texts))
	for i, s := range texts {
		want[i] = len(m.Find(s))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % len(texts)
				if n := len(m.Find(texts[k])); n != want[k] {
					t.Errorf("Find(%q) = %d hits, want %d", texts[k], n, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}
