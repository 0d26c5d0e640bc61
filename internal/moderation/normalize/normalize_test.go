package normalize

import (
	"flag"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/moderation/normalize/internal/foldgen"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "regenerate fold.txt")

// TestFoldTableUpToDate recomputes the table from OpenCC, x/text and
// confusables; with -update it rewrites fold.txt.
func TestFoldTableUpToDate(t *testing.T) {
	if testing.Short() && !*update {
		t.Skip("slow (OpenCC load); skipped with -short")
	}
	got, err := foldgen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("fold.txt", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(got) != foldTxt {
		t.Fatal("fold.txt is stale: run go test -run TestFoldTableUpToDate -update")
	}
}

func TestTableIdempotent(t *testing.T) {
	n := New()
	for r := rune(0); r < 0x30000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		once := n.String(string(r))
		if twice := n.String(once); once != twice {
			t.Errorf("%U: fold %q, fold again %q", r, once, twice)
		}
	}
}

type span struct {
	R          string
	Start, End int
}

func spans(tx *Text) []span {
	var out []span
	for i, r := range tx.Runes {
		out = append(out, span{string(r), tx.Start[i], tx.End[i]})
	}
	return out
}

func TestEvasionClasses(t *testing.T) {
	tests := []struct {
		class, in string
		want      []span
	}{
		{"ascii", "Ab", []span{{"a", 0, 1}, {"b", 1, 2}}},
		{"full-width", "ＡＢ", []span{{"a", 0, 3}, {"b", 3, 6}}},
		{"circled", "Ⓐ①", []span{{"a", 0, 3}, {"1", 3, 6}}},
		{"math-styled", "𝐀𝟏", []span{{"a", 0, 4}, {"1", 4, 8}}},
		{"kangxi", "⼈", []span{{"人", 0, 3}}},
		{"traditional", "法輪", []span{{"法", 0, 3}, {"轮", 3, 6}}},
		{"zero-width", "法\u200b轮", []span{{"法", 0, 3}, {"轮", 6, 9}}},
		{"noise", "法 ★轮", []span{{"法", 0, 3}, {"轮", 7, 10}}},
		{"homoglyph-cyrillic", "аv", []span{{"a", 0, 2}, {"v", 2, 3}}},
		{"homoglyph-greek", "Νο", []span{{"n", 0, 2}, {"o", 2, 4}}},
		{"diacritic-composed", "fá", []span{{"f", 0, 1}, {"a", 1, 3}}},
		{"diacritic-combining", "fa\u0301l", []span{{"f", 0, 1}, {"a", 1, 4}, {"l", 4, 5}}},
		{"expansion", "㍿", []span{{"株", 0, 3}, {"式", 0, 3}, {"会", 0, 3}, {"社", 0, 3}}},
		{"circled-ideograph", "㊙", []span{{"秘", 0, 3}}},
		{"invalid-utf8", "a\xffb", []span{{"a", 0, 1}, {"b", 2, 3}}},
		{"emoji", "法🙂轮", []span{{"法", 0, 3}, {"轮", 7, 10}}},
	}
	n := New()
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			got := spans(n.Normalize(tt.in))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Normalize(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	n := New()
	tx := n.Normalize("java 法 ,轮\u200bav")
	// j a v a | 法 | 轮 | a v
	wantGap := []int{0, 0, 0, 0, 1, 2, 1, 0}
	wantBound := []bool{true, false, false, false, true, true, true, false}
	for i := range tx.Runes {
		if g := tx.Flags[i].Gap(); g != wantGap[i] {
			t.Errorf("rune %d %q: Gap = %d, want %d", i, tx.Runes[i], g, wantGap[i])
		}
		if b := tx.Flags[i].Boundary(); b != wantBound[i] {
			t.Errorf("rune %d %q: Boundary = %v, want %v", i, tx.Runes[i], b, wantBound[i])
		}
	}
}

func TestPinyin(t *testing.T) {
	full, ini, ok := Pinyin("法轮功")
	if !ok || full != "falungong" || ini != "flg" {
		t.Errorf(`Pinyin("法轮功") = %q, %q, %v`, full, ini, ok)
	}
	if _, _, ok := Pinyin("a法"); ok {
		t.Error(`Pinyin("a法") ok, want not ok`)
	}
}

// TestAppendPieces checks that normalizing in pieces gives the same result
// as normalizing at once, which the matcher relies on.
func TestAppendPieces(t *testing.T) {
	n := New()
	in := strings.Repeat("Ｆａ\u0301 法輪 ㍿ ,x\u200by ", 50)
	whole := n.Normalize(in)
	var tx Text
	for pos := 0; pos < len(in); {
		pos = n.Append(&tx, in, pos, tx.Len()+3)
	}
	if d := cmp.Diff(whole.Runes, tx.Runes); d != "" {
		t.Errorf("runes differ:\n%s", d)
	}
	if d := cmp.Diff(whole.Flags, tx.Flags); d != "" {
		t.Errorf("flags differ:\n%s", d)
	}
	if d := cmp.Diff(whole.End, tx.End); d != "" {
		t.Errorf("ends differ:\n%s", d)
	}
}

// TestBadInput runs hostile inputs through the normalizer; it must finish and
// keep every offset on a rune boundary.
func TestBadInput(t *testing.T) {
	n := New()
	inputs := map[string]string{
		"nul":        strings.Repeat("\x00法", 1000),
		"invalid":    strings.Repeat("\xff\xfe\xc0", 10000),
		"separators": strings.Repeat(",", 1_000_000),
		"marks":      "a" + strings.Repeat("\u0301", 100000),
		"long-line":  strings.Repeat("法轮功", 10<<20/9),
	}
	var tx Text
	for name, in := range inputs {
		tx.Reset()
		n.Append(&tx, in, 0, 1<<30)
		checkOffsets(t, name, in, &tx)
	}
}

// boundaries returns the rune boundaries of s as Go decodes it (an invalid
// byte is a rune of its own).
func boundaries(s string) map[int]bool {
	b := map[int]bool{len(s): true}
	for i := range s {
		b[i] = true
	}
	return b
}

func checkOffsets(t *testing.T, name, in string, tx *Text) {
	t.Helper()
	var bounds map[int]bool
	if len(in) < 1<<16 {
		bounds = boundaries(in)
	}
	prev := 0
	for i := range tx.Runes {
		s, e := tx.Start[i], tx.End[i]
		if s < prev || e <= s || e > len(in) {
			t.Fatalf("%s: rune %d span [%d,%d) after %d, len %d", name, i, s, e, prev, len(in))
		}
		if bounds != nil && (!bounds[s] || !bounds[e]) || !utf8.RuneStart(in[s]) {
			t.Fatalf("%s: rune %d span [%d,%d) not on rune boundaries", name, i, s, e)
		}
		prev = s
	}
}
