package lexicon

import (
	"strings"
	"testing"

	"github.com/genguard/genguard/internal/risk"
	"github.com/google/go-cmp/cmp"
)

func testLib() *Library {
	return &Library{
		Entries: []Entry{
			{Term: "法轮功", Risk: "A.1.h", Source: "t:1"},
			{Term: "色情", Risk: "A.1.f", Flags: FlagBoundary, Source: "t:2"},
			{Term: "av", Risk: "A.1.f", Action: Review, Source: "t:3"},
			{Term: "kill yourself", Risk: "A.4.a", Source: "t:4"},
			{Term: "炸药配方", Risk: "A.1.d", Source: "t:5"},
			{Term: "株式会社诈骗", Risk: "A.3.e", Source: "t:6"},
			{Term: "A片", Risk: "A.1.f", Source: "t:7"},
			{Term: "毒品", Risk: "A.1.h", Source: "t:8"},
		},
		Allow: []string{"特色情况", "毒品预防"},
	}
}

type got struct {
	Term string
	Orig string
	Via  Via
}

func find(t *testing.T, m *Matcher, text string) []got {
	t.Helper()
	var out []got
	for _, h := range m.Find(text) {
		out = append(out, got{h.Term, text[h.Start:h.End], h.Via})
	}
	return out
}

func TestFindEvasions(t *testing.T) {
	m, err := Compile(testLib(), Options{Pinyin: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		class, text string
		want        []got
	}{
		{"plain", "我在练法轮功。", []got{{"法轮功", "法轮功", ViaText}}},
		{"traditional", "法輪功好", []got{{"法轮功", "法輪功", ViaText}}},
		{"zero-width", "法\u200b轮\u200d功", []got{{"法轮功", "法\u200b轮\u200d功", ViaText}}},
		{"noise", "法 * 轮 🙂功", []got{{"法轮功", "法 * 轮 🙂功", ViaText}}},
		{"noise-too-long", "法 * * 轮功", nil},
		{"noise-too-long-restart", "法 * * 法轮功", []got{{"法轮功", "法轮功", ViaText}}},
		{"noise-too-long-restart-latin", "ki . . . kill yourself", []got{{"kill yourself", "kill yourself", ViaText}}},
		{"kangxi+fullwidth", "Ａ⽚", []got{{"A片", "Ａ⽚", ViaText}}},
		{"circled+case", "Ⓐ片 和 a片", []got{{"A片", "Ⓐ片", ViaText}, {"A片", "a片", ViaText}}},
		{"homoglyph", "just аv here", []got{{"av", "аv", ViaText}}},
		{"latin-boundary", "java avatar have", nil},
		{"latin-boundary-cjk", "看av的", []got{{"av", "av", ViaText}}},
		{"latin-phrase", "Go KILL  YOURSELF!", []got{{"kill yourself", "KILL  YOURSELF", ViaText}}},
		{"latin-phrase-no-space", "killyourself", []got{{"kill yourself", "killyourself", ViaText}}},
		{"pinyin", "练 fa lun gong 吗", []got{{"法轮功", "fa lun gong", ViaPinyin}}},
		{"pinyin-initials", "FLG!", []got{{"法轮功", "FLG", ViaInitials}}},
		{"pinyin-inside-word", "falungongs", nil},
		{"expansion", "㍿诈骗", []got{{"株式会社诈骗", "㍿诈骗", ViaText}}},
		{"allow", "特色情况", nil},
		{"allow-partial", "毒品预防教育，拒绝毒品", []got{{"毒品", "毒品", ViaText}}},
		{"segment-boundary", "角色情感很丰富", nil},
		{"segment-hit", "观看色情视频", []got{{"色情", "色情", ViaText}}},
		{"overlap", "炸药配方法轮功", []got{{"炸药配方", "炸药配方", ViaText}, {"法轮功", "法轮功", ViaText}}},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			if d := cmp.Diff(tt.want, find(t, m, tt.text)); d != "" {
				t.Errorf("Find(%q) (-want +got):\n%s", tt.text, d)
			}
		})
	}
}

func TestFindNoPinyin(t *testing.T) {
	m, err := Compile(testLib(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := m.Find("fa lun gong flg"); len(h) != 0 {
		t.Errorf("pinyin off: got %v", h)
	}
}

func TestHitFields(t *testing.T) {
	m, err := Compile(testLib(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	hits := m.Find("xx av")
	want := []Hit{{Term: "av", Risk: "A.1.f", Action: Review, Start: 3, End: 5, Match: "av", Via: ViaText, Source: "t:3"}}
	if d := cmp.Diff(want, hits); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestMergeDuplicates(t *testing.T) {
	lib := &Library{Entries: []Entry{
		{Term: "法輪功", Risk: "A.1.h", Action: Log},
		{Term: "法轮功", Risk: "A.1.a", Action: Block},
	}}
	m, err := Compile(lib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
	h := m.Find("法轮功")
	if len(h) != 1 || h[0].Action != Block || h[0].Risk != risk.Code("A.1.a") {
		t.Errorf("got %+v, want the Block entry", h)
	}
}

func TestMaxSpan(t *testing.T) {
	m, err := Compile(testLib(), Options{MaxGap: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Longest pattern: "killyourself", 12 runes.
	if got, want := m.MaxSpan(), 12*5+2*11+1; got != want {
		t.Errorf("MaxSpan = %d, want %d", got, want)
	}
}

// TestLongTextPieces plants terms across the piece boundaries of a long
// scan and checks every one is found once, at the right offset.
func TestLongTextPieces(t *testing.T) {
	m, err := Compile(testLib(), Options{MaxHits: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var want []int
	for i := range 3000 {
		b.WriteString("今天天气不错")
		if i%7 == 0 {
			want = append(want, b.Len())
			b.WriteString("法 轮\u200b功")
		}
	}
	text := b.String()
	var starts []int
	for _, h := range m.Find(text) {
		starts = append(starts, h.Start)
	}
	if d := cmp.Diff(want, starts); d != "" {
		t.Errorf("starts (-want +got):\n%s", d)
	}
}
