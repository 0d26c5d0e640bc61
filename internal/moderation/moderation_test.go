package moderation

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/moderation/lexicon"
)

const lex = "# test lexicon\n炸弹制作\tA.1.d\n坏词\tA.2.i\tmask\n留意\tA.5.b\treview\n记录\tA.5.b\tlog\n"

func pipeline(t *testing.T) *Pipeline {
	t.Helper()
	s, err := ParseSubstrings(strings.NewReader(lex), "test.tsv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(s, Options{Input: true, Output: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	p := pipeline(t)
	tests := []struct {
		text  string
		want  Action
		risks string
	}{
		{"今天天气不错", Pass, ""},
		{"教我炸弹制作的方法", Block, "A.1.d"},
		{"这是坏词", Mask, "A.2.i"},
		{"请留意", Review, "A.5.b"},
		{"记录一下", Log, ""},
		{"坏词和炸弹制作", Block, "A.1.d,A.2.i"},
	}
	for _, tt := range tests {
		v := p.Check(context.Background(), Input, tt.text)
		if v.Decision != tt.want || strings.Join(v.Risks(), ",") != tt.risks {
			t.Errorf("Check(%q) = %v %v, want %v %q", tt.text, v.Decision, v.Risks(), tt.want, tt.risks)
		}
	}
}

func TestApplyMask(t *testing.T) {
	p := pipeline(t)
	text := "说坏词，再说坏词。"
	v := p.Check(context.Background(), Output, text)
	if got := ApplyMask(text, v.Hits); got != "说＊＊，再说＊＊。" {
		t.Errorf("ApplyMask = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"term\n", "term\tA.9.z\n", "term\tA.1.a\tnuke\n", "\tA.1.a\n", "x\xff\tA.1.a\n"} {
		if _, err := ParseSubstrings(strings.NewReader(in), "bad.tsv"); err == nil || !strings.HasPrefix(err.Error(), "bad.tsv:1:") {
			t.Errorf("ParseSubstrings(%q) err = %v, want bad.tsv:1: …", in, err)
		}
	}
}

// starterPipeline is the gateway's default: the starter lexicon with pinyin.
func starterPipeline(t testing.TB) *Pipeline {
	t.Helper()
	lib, err := lexicon.Starter()
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLexicon(lib, lexicon.Options{Pinyin: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(l, Options{Input: true, Output: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// streamCuts feeds text in three pieces split at every pair of rune cuts
// and returns, per split, what was released and whether it was blocked.
func streamCuts(t *testing.T, p *Pipeline, text string, each func(cut1, cut2 int, released string, blocked bool)) {
	t.Helper()
	runes := []rune(text)
	for cut1 := 0; cut1 <= len(runes); cut1++ {
		for cut2 := cut1; cut2 <= len(runes); cut2++ {
			parts := []string{string(runes[:cut1]), string(runes[cut1:cut2]), string(runes[cut2:])}
			st := p.NewStream()
			var out strings.Builder
			blocked := false
			for _, part := range parts {
				rel, v := st.Push(context.Background(), part)
				out.WriteString(rel)
				if blocked = v.Decision == Block; blocked {
					break
				}
			}
			if !blocked {
				rel, v := st.Finish(context.Background())
				out.WriteString(rel)
				blocked = v.Decision == Block
			}
			if st.Delivered != utf8.RuneCountInString(out.String()) {
				t.Fatalf("cuts %d,%d: Delivered = %d, released %d runes", cut1, cut2, st.Delivered, utf8.RuneCountInString(out.String()))
			}
			each(cut1, cut2, out.String(), blocked)
		}
	}
}

// TestStreamNeverLeaksSplitTerm feeds blocked terms, written plainly and in
// evasive forms, split at every pair of points, through the real lexicon,
// and checks that no character of the term is ever released: what goes out
// is a prefix of the text that ends before the term starts.
func TestStreamNeverLeaksSplitTerm(t *testing.T) {
	p := starterPipeline(t)
	tests := []struct {
		name, text, term string // term: the original text of the blocked hit
	}{
		{"plain", "前文很长很长。炸弹制作方法如下", "炸弹制作方法"},
		{"noise-inserted", "前文。炸 * 弹🙂制\u200b作方法如下", "炸 * 弹🙂制\u200b作方法"},
		{"traditional+fullwidth", "好的：炸彈製作方法", "炸彈製作方法"},
		{"pinyin", "ok zha dan zhi zuo fang fa ok", "zha dan zhi zuo fang fa"},
		{"latin", "Java avatar. kill yourself now", "kill yourself"},
		{"latin-at-end", "you should kill yourself", "kill yourself"},
		{"after-allow-phrase", "如何预防自杀方法？自杀方法是", "自杀方法"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := strings.LastIndex(tt.text, tt.term)
			if at < 0 {
				t.Fatalf("term %q not in %q", tt.term, tt.text)
			}
			streamCuts(t, p, tt.text, func(cut1, cut2 int, out string, blocked bool) {
				if !blocked {
					t.Fatalf("cuts %d,%d: not blocked", cut1, cut2)
				}
				if !strings.HasPrefix(tt.text, out) || len(out) > at {
					t.Fatalf("cuts %d,%d: released %q, which reaches into the term at byte %d", cut1, cut2, out, at)
				}
			})
		})
	}
}

// TestStreamAllowPhraseNeverBlocked: a hit inside an allow phrase split
// anywhere is never blocked, and everything is released unchanged.
func TestStreamAllowPhraseNeverBlocked(t *testing.T) {
	p := starterPipeline(t)
	for _, text := range []string{"如何预防自杀方法？", "我们要防范非法集资。", "Java and avatars are fine"} {
		streamCuts(t, p, text, func(cut1, cut2 int, out string, blocked bool) {
			if blocked || out != text {
				t.Fatalf("%q cut at %d,%d: blocked=%v, released %q", text, cut1, cut2, blocked, out)
			}
		})
	}
}

// TestStreamHoldsLittle: with the real lexicon, benign text is released as
// it arrives, and a partial match is held only from where it starts.
func TestStreamHoldsLittle(t *testing.T) {
	p := starterPipeline(t)
	tests := []struct {
		pieces []string
		held   int // runes held after the last piece
	}{
		{[]string{"今天", "天气", "不错。"}, 0},
		{[]string{"这是一个", "关于", "炸弹"}, 2},
		{[]string{"kill", " your"}, 9},
		{[]string{"非常", "好的，"}, 0},
	}
	for _, tt := range tests {
		st := p.NewStream()
		for _, piece := range tt.pieces {
			st.Push(context.Background(), piece)
		}
		if got := st.Held(); got != tt.held {
			t.Errorf("after %q: %d runes held, want %d", tt.pieces, got, tt.held)
		}
	}
}

func TestStreamReleasesEverythingWhenClean(t *testing.T) {
	p := pipeline(t)
	st := p.NewStream()
	var out strings.Builder
	text := "这是一个正常的回答，说了坏词也只是被遮住。"
	for _, r := range text {
		rel, v := st.Push(context.Background(), string(r))
		if v.Decision == Block {
			t.Fatal("blocked clean text")
		}
		out.WriteString(rel)
	}
	rel, _ := st.Finish(context.Background())
	out.WriteString(rel)
	if want := "这是一个正常的回答，说了＊＊也只是被遮住。"; out.String() != want {
		t.Errorf("stream output = %q, want %q", out.String(), want)
	}
}
