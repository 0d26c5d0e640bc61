package lexicon

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// settledKey identifies a hit for the settledness property; End is left out
// because a combining mark arriving later may still extend a hit's last rune.
type settledKey struct {
	Term  string
	Start int
}

func settled(hits []Hit, before int) []settledKey {
	var out []settledKey
	for _, h := range hits {
		if h.Start < before {
			out = append(out, settledKey{h.Term, h.Start})
		}
	}
	slices.SortFunc(out, func(a, b settledKey) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.Term, b.Term)
	})
	return out
}

// checkPending is the property a streaming moderator relies on: for every
// cut of s on a rune boundary, the bytes before Pending(s[:cut]) are settled:
// Find(s) reports exactly the hits starting there that Find(s[:cut]) does.
// So releasing them can never release part of a hit found later.
func checkPending(t *testing.T, m *Matcher, s string) {
	t.Helper()
	full := m.Find(s)
	if len(full) >= m.maxHits {
		return // truncated: Find(s) is not the whole truth
	}
	for cut := 0; cut <= len(s); cut++ {
		if cut < len(s) && !utf8.RuneStart(s[cut]) {
			continue
		}
		prefix := s[:cut]
		p := m.Pending(prefix)
		if p < 0 || p > cut || p < cut && !utf8.RuneStart(s[p]) {
			t.Fatalf("Pending(%q) = %d: not a rune boundary within the prefix", prefix, p)
		}
		if n := utf8.RuneCountInString(strings.TrimRightFunc(prefix[p:], func(r rune) bool { return !isTermRune(m, r) })); n > m.MaxSpan() {
			t.Fatalf("Pending(%q) holds %d runes, MaxSpan %d", prefix, n, m.MaxSpan())
		}
		got, want := settled(m.Find(prefix), p), settled(full, p)
		if !slices.Equal(got, want) {
			t.Fatalf("cut %q | %q: Pending = %d (%q held); hits starting before it: prefix %v, whole text %v",
				prefix, s[cut:], p, prefix[p:], got, want)
		}
	}
}

// isTermRune reports whether r normalizes to something a term can contain
// (trailing noise after a held partial is held too, but bounded by MaxGap).
func isTermRune(m *Matcher, r rune) bool {
	cl, _ := m.norm.Fold(r)
	return cl == 0
}

func TestPendingEveryCut(t *testing.T) {
	lib := testLib()
	lib.Entries = append(lib.Entries, Entry{Term: "mask词", Risk: "A.2.i", Action: Mask, Source: "t:9"})
	for _, pinyin := range []bool{false, true} {
		m, err := Compile(lib, Options{Pinyin: pinyin})
		if err != nil {
			t.Fatal(err)
		}
		tests := []string{
			"前文很长很长。炸药配方如下",
			"前文。炸 * 药🙂配\u200b方如下",          // noise inserted
			"先说fa lun gong再说flg结束",         // pinyin and initials
			"Java and avatar, but av here", // Latin boundaries
			"看av",                          // Latin term at the very end
			"这是特色情况，不是色情内容",                // allow phrase growing over a hit
			"毒品预防教育和毒品交易",                  // allow phrase, then the bare term
			"角色情感丰富的色情片",                   // boundary-flagged term
			"㍿诈骗与株式会社诈骗",                   // expansion
			"法 * * 法轮功",                    // noise run too long, restart
			"kill  yourself now",
			"ｋｉｌｌ　ｙｏｕｒｓｅｌｆ",
			"e\u0301av\u0301 mask词\u0301",
		}
		for _, s := range tests {
			t.Run(fmt.Sprintf("pinyin=%v/%s", pinyin, s), func(t *testing.T) { checkPending(t, m, s) })
		}
	}
}

func TestPendingHoldsLittle(t *testing.T) {
	m, err := Compile(testLib(), Options{Pinyin: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text, held string
	}{
		{"", ""},
		{"今天天气不错。", ""},
		{"我在练法轮", "法轮"},
		{"我在练法 * 轮 ", "法 * 轮 "},
		{"我在练法 * * 轮", ""}, // the gap before 轮 is too long; 轮 alone starts nothing
		{"这是特色", "特色"},     // may grow into the allow phrase 特色情况
		{"看 av", "av"},     // the next rune decides the word boundary
		{"看 av，", "av，"},
		{"java", ""}, // "a" could start "av", but not inside a word
		{"fa lun", "fa lun"},
	}
	for _, tt := range tests {
		p := m.Pending(tt.text)
		if got := tt.text[p:]; got != tt.held {
			t.Errorf("Pending(%q) holds %q, want %q", tt.text, got, tt.held)
		}
	}
}

// FuzzPending checks the settledness property on arbitrary text.
func FuzzPending(f *testing.F) {
	for _, s := range []string{"法 * 轮🙂功", "看av的 java", "ＫＩＬＬ　ｙｏｕｒｓｅｌｆ", "fa lun gong flg", "特色情况色情", "㍿诈骗", "\xff法\x00轮功", "毒品预防毒品"} {
		f.Add(s)
	}
	m, err := Compile(fuzzLib(), Options{Pinyin: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return // every cut is checked: keep it quadratic in something small
		}
		checkPending(t, m, s)
	})
}
