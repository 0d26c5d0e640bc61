package normalize

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Pinyin returns the toneless pinyin of a Han-only string, whole ("falungong")
// and as first letters ("flg"), the two ways people spell a term to slip past
// a character filter. It takes the most common reading of each character;
// ok is false when s holds anything but Han characters.
func Pinyin(s string) (full, initials string, ok bool) {
	t := defaultTable()
	var f, in strings.Builder
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return "", "", false
		}
		// The dictionary directly: go-pinyin's style functions run
		// regular expressions per character, too slow for 60k terms.
		p := pinyin.PinyinDict[int(r)]
		if i := strings.IndexByte(p, ','); i >= 0 {
			p = p[:i]
		}
		first := true
		for _, c := range p {
			// Tone marks fold away with the diacritics: fǎ → fa.
			switch e := t.lookup(c); e.kind() {
			case kindKeep:
			case kindMap:
				c = rune(e.payload())
			default:
				continue
			}
			f.WriteRune(c)
			if first {
				in.WriteRune(c)
				first = false
			}
		}
		if first {
			return "", "", false
		}
	}
	if f.Len() == 0 {
		return "", "", false
	}
	return f.String(), in.String(), true
}
