package label

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// DefaultNotice is the default text notice (GB 45438 §5.1).
const DefaultNotice = "「本内容由人工智能生成」"

// Position places an explicit text label.
type Position int

// Positions allowed by 标识办法 Art. 4(一): start, end or a suitable middle.
const (
	End Position = iota
	Start
	Middle
)

// explicitRE finds a notice that carries both elements of GB 45438: an AI
// element (人工智能 / AI) and a generation element (生成 / 合成).
var explicitRE = regexp.MustCompile(`(?i)(人工智能|\bAI|ＡＩ)[^\n]{0,12}?(生成|合成)|(生成|合成)[^\n]{0,6}?(人工智能|AI\b|ＡＩ)`)

// HasNoticeElements reports whether s contains both label elements.
func HasNoticeElements(s string) bool {
	return (strings.Contains(s, "人工智能") || strings.Contains(strings.ToUpper(s), "AI") || strings.Contains(s, "ＡＩ")) &&
		(strings.Contains(s, "生成") || strings.Contains(s, "合成"))
}

// FindNotice returns the first explicit text label in s, or "".
func FindNotice(s string) string {
	return explicitRE.FindString(s)
}

// ErrNoticeElements is returned for a notice lacking a required element.
var ErrNoticeElements = errors.New("notice must contain 人工智能 or AI and 生成 or 合成 (GB 45438 §5.1)")

// TextNotice adds notice (DefaultNotice when empty) to text at pos. Middle
// puts it at the paragraph break, else the sentence end, nearest the
// middle. Text that already carries a notice is returned unchanged.
func TextNotice(text string, pos Position, notice string) (string, error) {
	if notice == "" {
		notice = DefaultNotice
	}
	if !HasNoticeElements(notice) {
		return "", fmt.Errorf("%q: %w", notice, ErrNoticeElements)
	}
	if strings.Contains(text, notice) {
		return text, nil
	}
	switch pos {
	case Start:
		return notice + "\n\n" + text, nil
	case Middle:
		i := middleBreak(text)
		if i <= 0 || i >= len(text) {
			return text + "\n\n" + notice, nil
		}
		return text[:i] + "\n\n" + notice + "\n\n" + strings.TrimLeft(text[i:], "\n"), nil
	case End:
		return strings.TrimRight(text, "\n") + "\n\n" + notice, nil
	}
	return "", fmt.Errorf("text notice: unknown position %d", pos)
}

// middleBreak returns a byte offset near the middle of text at a paragraph
// break, else just after a sentence end, else at a rune boundary.
func middleBreak(text string) int {
	mid := len(text) / 2
	best := -1
	for _, sep := range []string{"\n\n", "。", "！", "？", ". ", "\n"} {
		for i := 0; ; {
			j := strings.Index(text[i:], sep)
			if j < 0 {
				break
			}
			at := i + j + len(sep)
			if best < 0 || abs(at-mid) < abs(best-mid) {
				best = at
			}
			i = at
		}
		if best > 0 {
			return best
		}
	}
	for mid > 0 && !utf8.RuneStart(text[mid]) {
		mid--
	}
	return mid
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
