package moderation

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

const lex = "# test lexicon\n炸弹制作\tA.1.d\n坏词\tA.2.i\tmask\n留意\tA.5.b\treview\n记录\tA.5.b\tlog\n"

func pipeline(t *testing.T) *Pipeline {
	t.Helper()
	s, err := ParseSubstrings(strings.NewReader(lex), "test.tsv")
	if err != nil {
		t.Fatal(err)
	}
	return New(s, Options{Input: true, Output: true})
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

// TestStreamNeverLeaksSplitTerm feeds a blocked term split at every possible
// point and checks no part of it is ever released.
func TestStreamNeverLeaksSplitTerm(t *testing.T) {
	p := pipeline(t)
	full := "前文很长很长。炸弹制作方法如下"
	runes := []rune(full)
	for cut1 := 1; cut1 < len(runes); cut1++ {
		for cut2 := cut1; cut2 < len(runes); cut2++ {
			parts := []string{string(runes[:cut1]), string(runes[cut1:cut2]), string(runes[cut2:])}
			st := p.NewStream()
			var out strings.Builder
			blocked := false
			for _, part := range parts {
				rel, v := st.Push(context.Background(), part)
				out.WriteString(rel)
				if v.Decision == Block {
					blocked = true
					break
				}
			}
			if !blocked {
				t.Fatalf("cuts %d,%d: not blocked", cut1, cut2)
			}
			if strings.Contains(out.String(), "炸") {
				t.Fatalf("cuts %d,%d: released %q, which contains part of the term", cut1, cut2, out.String())
			}
			if st.Delivered != utf8.RuneCountInString(out.String()) {
				t.Fatalf("Delivered = %d, released %d runes", st.Delivered, utf8.RuneCountInString(out.String()))
			}
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
