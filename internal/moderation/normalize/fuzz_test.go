package normalize

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize checks the normalizer on arbitrary bytes: it never panics,
// every offset lies on rune boundaries in order, and folding is idempotent.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "Ａ①法輪\u200b功", "fa\u0301l", "㍿", "\xff\xfe", "a\x00b", "🙂 , 𝐀"} {
		f.Add(s)
	}
	n := New()
	f.Fuzz(func(t *testing.T, s string) {
		tx := n.Normalize(s)
		checkOffsets(t, "fuzz", s, tx)
		once := n.String(s)
		if twice := n.String(once); twice != once {
			t.Errorf("not idempotent: %q → %q → %q", s, once, twice)
		}
	})
}

// FuzzOffsets checks the offset mapping: each normalized rune is what its
// original span normalizes to (locality), and normalizing in small pieces
// gives the same runes, spans and flags as normalizing at once.
func FuzzOffsets(f *testing.F) {
	for _, s := range []string{"Ｆａ\u0301 法輪 ㍿ ,x\u200by", "e\u0301\u0301\u0301\u0301\u0301\u0301", "⑴⒈½"} {
		f.Add(s, 3)
	}
	n := New()
	f.Fuzz(func(t *testing.T, s string, step int) {
		step = 1 + abs(step)%16
		whole := n.Normalize(s)
		for i, r := range whole.Runes {
			part := []rune(n.String(s[whole.Start[i]:whole.End[i]]))
			if !slices.Contains(part, r) {
				t.Fatalf("rune %d %q: its span %q normalizes to %q", i, r, s[whole.Start[i]:whole.End[i]], string(part))
			}
			if !utf8.ValidString(s[whole.Start[i]:whole.End[i]]) {
				t.Fatalf("rune %d: span %q is not valid UTF-8", i, s[whole.Start[i]:whole.End[i]])
			}
		}
		var tx Text
		for pos := 0; pos < len(s); {
			next := n.Append(&tx, s, pos, tx.Len()+step)
			if next <= pos {
				t.Fatalf("Append made no progress at %d", pos)
			}
			pos = next
		}
		if !slices.Equal(whole.Runes, tx.Runes) || !slices.Equal(whole.Start, tx.Start) ||
			!slices.Equal(whole.End, tx.End) || !slices.Equal(whole.Flags, tx.Flags) {
			t.Fatalf("pieces of %d differ from whole", step)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
