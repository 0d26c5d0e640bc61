package classify

import (
	"unicode"
	"unicode/utf8"
)

// foldRune maps a rune to the form the model sees, or returns -1 to drop it.
// Full-width ASCII and upper case are folded so "ＡＢＣ" and "abc" share
// features; whitespace and invisible format characters (zero-width joiners,
// BOMs) are dropped because evasion inserts them between characters.
func foldRune(r rune) rune {
	if r >= 0x4E00 && r <= 0x9FFF { // CJK ideographs, the common case
		return r
	}
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case r == 0x3000:
		return -1
	}
	if r >= 'A' && r <= 'Z' {
		return r + ('a' - 'A')
	}
	if r < 0x80 {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}
	if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
		return -1
	}
	return r
}

// countRunes returns how many runes of s survive foldRune.
func countRunes(s string) int {
	n := 0
	for _, r := range s {
		if foldRune(r) >= 0 {
			n++
		}
	}
	return n
}

// ngramCount is the number of n-grams of order minN..maxN over n runes.
func ngramCount(n, minN, maxN int) int {
	total := 0
	for k := minN; k <= maxN && k <= n; k++ {
		total += n - k + 1
	}
	return total
}

// maxOrder bounds the n-gram order so the ring below stays fixed-size.
const maxOrder = 4

// ngrams walks the hashed character n-grams of a text without allocating.
// For each kept rune it yields the n-grams ending there, shortest first, with
// their byte span in the original text (for explanations).
type ngrams struct {
	text  string
	pos   int // byte offset of the next rune to read
	minN  int
	maxN  int
	mask  uint32
	fill  int            // runes currently in the ring (≤ maxN)
	runes [maxOrder]rune // last runes, most recent at index 0
	start [maxOrder]int  // their byte offsets
	order int            // next order to yield for the current rune
	end   int            // byte offset just past the current rune
}

func newNgrams(text string, minN, maxN int, mask uint32) ngrams {
	return ngrams{text: text, minN: minN, maxN: maxN, mask: mask}
}

// next returns the next n-gram's bucket and byte span; ok is false at the end.
func (g *ngrams) next() (bucket uint32, start, end int, ok bool) {
	for g.order == 0 || g.order > g.fill {
		if !g.advance() {
			return 0, 0, 0, false
		}
	}
	n := g.order
	g.order++
	return hashGram(g.runes[:n]) & g.mask, g.start[n-1], g.end, true
}

// advance reads the next kept rune into the ring.
func (g *ngrams) advance() bool {
	for g.pos < len(g.text) {
		r, size := utf8.DecodeRuneInString(g.text[g.pos:])
		at := g.pos
		g.pos += size
		f := foldRune(r)
		if f < 0 {
			continue
		}
		copy(g.runes[1:g.maxN], g.runes[:g.maxN-1])
		copy(g.start[1:g.maxN], g.start[:g.maxN-1])
		g.runes[0], g.start[0] = f, at
		if g.fill < g.maxN {
			g.fill++
		}
		g.end = g.pos
		g.order = g.minN
		return true
	}
	return false
}

// hashGram hashes runes (most recent first) FNV-1a style with the length
// mixed in, then finalises so the low bits used as the bucket are well spread.
func hashGram(rs []rune) uint32 {
	h := uint64(0xcbf29ce484222325) ^ uint64(len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		h ^= uint64(rs[i])
		h *= 0x100000001b3
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return uint32(h)
}
