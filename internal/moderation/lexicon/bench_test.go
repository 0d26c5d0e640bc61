package lexicon

import (
	"runtime"
	"testing"

	anknown "github.com/anknown/ahocorasick"
	coregx "github.com/coregx/ahocorasick"
	"github.com/genguard/genguard/internal/moderation/normalize"
)

// The benchmarks compare our matcher with the two baselines of
// reference/libraries.md §1 on the same ~60k-term Chinese list (houbb, as
// imported) and the same text (kdconv utterances with planted terms).

func BenchmarkFind(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range []struct {
		name string
		opts Options
	}{{"normalized", Options{MaxHits: 1 << 30}}, {"normalized+pinyin", Options{MaxHits: 1 << 30, Pinyin: true}}} {
		m, err := Compile(c.houbb, bc.opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			loopCPU(b, len(c.text), func() { n = len(m.Find(c.text)) })
			b.ReportMetric(float64(n), "hits")
		})
	}
}

// BenchmarkAutomaton runs only the automaton over pre-normalized runes: the
// cost of matching without normalization, comparable to the baselines.
func BenchmarkFindAutomatonOnly(b *testing.B) {
	c := loadCorpus(b)
	m, err := Compile(c.houbb, Options{})
	if err != nil {
		b.Fatal(err)
	}
	runes := normalize.New().Normalize(c.text).Runes
	n := 0
	loopCPU(b, len(c.text), func() { n = countRaw(m.ac, runes) })
	b.ReportMetric(float64(n), "hits")
}

func BenchmarkFindCoregx(b *testing.B) {
	c := loadCorpus(b)
	ac, err := coregx.NewBuilder().AddStrings(c.houbbTerms).SetMatchKind(coregx.LeftmostFirst).Build()
	if err != nil {
		b.Fatal(err)
	}
	text := []byte(c.text)
	n := 0
	loopCPU(b, len(text), func() { n = len(ac.FindAllOverlapping(text)) })
	b.ReportMetric(float64(n), "hits")
}

func BenchmarkFindAnknown(b *testing.B) {
	c := loadCorpus(b)
	m := new(anknown.Machine)
	if err := m.Build(runeTerms(c.houbbTerms)); err != nil {
		b.Fatal(err)
	}
	n := 0
	loopCPU(b, len(c.text), func() { n = len(m.MultiPatternSearch([]rune(c.text), false)) })
	b.ReportMetric(float64(n), "hits")
}

func BenchmarkCompile(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range []struct {
		name string
		opts Options
	}{{"text", Options{}}, {"pinyin", Options{Pinyin: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compile(c.houbb, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(heapOf(func() any { m, _ := Compile(c.houbb, bc.opts); return m }))/(1<<20), "MB-heap")
		})
	}
}

func BenchmarkCompileCoregx(b *testing.B) {
	c := loadCorpus(b)
	for b.Loop() {
		if _, err := coregx.NewBuilder().AddStrings(c.houbbTerms).Build(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(heapOf(func() any { a, _ := coregx.NewBuilder().AddStrings(c.houbbTerms).Build(); return a }))/(1<<20), "MB-heap")
}

func BenchmarkCompileAnknown(b *testing.B) {
	c := loadCorpus(b)
	terms := runeTerms(c.houbbTerms)
	for b.Loop() {
		m := new(anknown.Machine)
		if err := m.Build(terms); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(heapOf(func() any { m := new(anknown.Machine); _ = m.Build(terms); return m }))/(1<<20), "MB-heap")
}

// heapOf returns the live heap that the value built by f retains.
func heapOf(f func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

func runeTerms(terms []string) [][]rune {
	out := make([][]rune, len(terms))
	for i, t := range terms {
		out[i] = []rune(t)
	}
	return out
}

// countRaw counts overlapping occurrences over runes as given, with no
// normalization, gaps, boundaries or allow phrases: the automaton alone.
func countRaw(a *automaton, runes []rune) int {
	n := 0
	state, prev := int32(0), int32(0)
	for _, r := range runes {
		c := a.sym(r)
		if c == 0 {
			state, prev = 0, 0
			continue
		}
		state = a.next(state, prev, c)
		prev = c
		for p := a.nodes[state].report; p >= 0; p = a.pats[p].next {
			n++
		}
	}
	return n
}

// BenchmarkNormalize is the normalization share of BenchmarkFind.
func BenchmarkNormalize(b *testing.B) {
	c := loadCorpus(b)
	n := normalize.New()
	var tx normalize.Text
	loopCPU(b, len(c.text), func() {
		for pos := 0; pos < len(c.text); {
			tx.Reset()
			pos = n.Append(&tx, c.text, pos, 4096)
		}
	})
}
