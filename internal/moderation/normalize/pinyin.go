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
	var f, in strings.Builder
	args := pinyin.NewArgs()
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return "", "", false
		}
		p := pinyin.SinglePinyin(r, args)
		if len(p) == 0 || p[0] == "" {
			return "", "", false
		}
		f.WriteString(p[0])
		in.WriteByte(p[0][0])
	}
	if f.Len() == 0 {
		return "", "", false
	}
	return f.String(), in.String(), true
}
