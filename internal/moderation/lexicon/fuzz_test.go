package lexicon

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func fuzzLib() *Library {
	lib := testLib()
	// Segmentation depends on context beyond a hit, so the substring
	// property below does not hold for boundary-flagged terms.
	var es []Entry
	for _, e := range lib.Entries {
		if e.Flags&FlagBoundary == 0 {
			es = append(es, e)
		}
	}
	lib.Entries = append(es, Entry{Term: "色情", Risk: "A.1.f"})
	return lib
}

// FuzzFind checks every hit: its span is a non-empty slice of the input on
// rune boundaries, no longer than MaxSpan, and scanning just that slice finds
// the same term over the whole slice.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"法 * 轮🙂功", "看av的 java", "ＫＩＬＬ　ｙｏｕｒｓｅｌｆ", "fa lun gong flg", "特色情况色情", "㍿诈骗", "\xff法\x00轮功"} {
		f.Add(s)
	}
	m, err := Compile(fuzzLib(), Options{Pinyin: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bounds := map[int]bool{len(s): true}
		for i := range s {
			bounds[i] = true
		}
		for _, h := range m.Find(s) {
			if h.Start < 0 || h.End <= h.Start || h.End > len(s) {
				t.Fatalf("hit %q: bad span [%d,%d) of %d bytes", h.Term, h.Start, h.End, len(s))
			}
			if !bounds[h.Start] || !bounds[h.End] {
				t.Fatalf("hit %q: span [%d,%d) not on rune boundaries", h.Term, h.Start, h.End)
			}
			sub := s[h.Start:h.End]
			if n := utf8.RuneCountInString(sub); n > m.MaxSpan() {
				t.Fatalf("hit %q covers %d runes, MaxSpan %d", h.Term, n, m.MaxSpan())
			}
			again := false
			for _, h2 := range m.Find(sub) {
				again = again || h2.Term == h.Term && h2.Start == 0 && h2.End == len(sub)
			}
			if !again {
				t.Fatalf("hit %q at %q: not found again in the slice alone", h.Term, sub)
			}
		}
	})
}

// FuzzParse feeds arbitrary files to the parsers: errors are fine, panics
// are not, and whatever parses must compile.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"法轮功\tA.1.h\tblock\n# c\n\n色情\tA.1.f\tmask\tboundary\n",
		"x\tA.9.z\n", "\x00\tA.1.a\n", "a\tb\tc\td\te\n", "\xff\n", strings.Repeat("长", 70) + "\tA.1.a\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := Parse(strings.NewReader(s), "fuzz", "A.1.h")
		if err != nil {
			return
		}
		allow, _ := ParseAllow(strings.NewReader(s), "fuzz")
		imported, _, _ := Import(strings.NewReader(s), "fuzz", "A.1.h", Log)
		if _, err := Compile(&Library{Entries: append(es, imported...), Allow: allow}, Options{Pinyin: true}); err != nil {
			t.Fatalf("parsed but does not compile: %v", err)
		}
	})
}
