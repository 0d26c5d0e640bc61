// Package normalize folds text so that evasive spellings of a keyword look
// like the keyword: NFKC and width folding (full-width, circled, mathematical
// letters, Kangxi radicals), case folding, Traditional→Simplified (OpenCC
// t2s, per character), Latin/Greek/Cyrillic homoglyphs and diacritics to
// ASCII, and removal of format characters such as zero-width spaces.
//
// Every folding is precomputed into one table, so normalizing costs a table
// lookup per rune. Each normalized rune keeps the byte span of the original
// rune it came from, so a match on normalized text maps back exactly to the
// original bytes, also when one rune expands to several (㍿ → 株式会社) or
// combining marks collapse into their base (é → e).
//
// Noise runes (spaces, punctuation, symbols, emoji) are not emitted; the rune
// after them records how many original runes were skipped, so a matcher can
// allow a bounded number of them between the characters of a term.
package normalize

import (
	"math"
	"sync"
	"unicode/utf8"
)

// Flag describes what precedes a normalized rune.
type Flag uint8

const (
	gapMask  = 0x7f
	boundBit = 0x80
	// BoundaryFlag is the bit of a Flag that Boundary reports; a scanner
	// that builds Flags itself sets it.
	BoundaryFlag Flag = boundBit
	// MaxGap is the largest skip count a Flag records; longer runs saturate.
	MaxGap = gapMask
	// MaxMarks bounds how many combining marks may extend a rune, so one
	// match never covers an unbounded run of original runes.
	MaxMarks = 4
)

// Gap is the number of original runes skipped (noise, format characters,
// surplus marks) between this rune and the previous normalized rune.
func (f Flag) Gap() int { return int(f & gapMask) }

// Boundary reports whether a word boundary precedes the rune: noise came
// before it, it is the first rune, or it or its predecessor is not a letter
// or digit of a space-separated script.
func (f Flag) Boundary() bool { return f&boundBit != 0 }

// Text is normalized text: parallel slices, one element per normalized rune.
// Start and End are byte offsets in the original text, so
// original[Start[i]:End[i]] is the original rune (plus absorbed combining
// marks) that produced Runes[i]. Reuse a Text across calls with Reset.
type Text struct {
	Runes []rune
	Start []int
	End   []int
	Flags []Flag

	// State carried between Append calls on consecutive pieces.
	gap      int
	noise    bool
	prevWord bool
	marks    int
}

// Reset empties t, keeping its buffers.
func (t *Text) Reset() {
	t.Runes, t.Start, t.End, t.Flags = t.Runes[:0], t.Start[:0], t.End[:0], t.Flags[:0]
	t.gap, t.noise, t.prevWord, t.marks = 0, false, false, 0
}

// Len returns the number of normalized runes.
func (t *Text) Len() int { return len(t.Runes) }

// Normalizer folds text. It is immutable and safe for concurrent use.
type Normalizer struct {
	t    *table
	pool sync.Pool // *Text scratch for String
}

// New returns a Normalizer. The shared table is built on first use.
func New() *Normalizer {
	return &Normalizer{t: defaultTable(), pool: sync.Pool{New: func() any { return new(Text) }}}
}

func (t *Text) emit(r rune, word bool, start, end int) {
	f := Flag(min(t.gap, MaxGap))
	if t.noise || !t.prevWord || !word {
		f |= boundBit
	}
	t.Runes = append(t.Runes, r)
	t.Start = append(t.Start, start)
	t.End = append(t.End, end)
	t.Flags = append(t.Flags, f)
	t.gap, t.noise, t.prevWord, t.marks = 0, false, word, 0
}

// Append normalizes s[pos:] into t until t holds at least limit runes or s
// ends, and returns the byte position where it stopped (always on a rune
// boundary of s). Offsets recorded in t are offsets into s. Invalid UTF-8
// bytes count as noise, one byte at a time.
func (n *Normalizer) Append(t *Text, s string, pos, limit int) int {
	tab := n.t
	bmp := tab.bmp
	// The common kinds run on local copies of t's slices and state, which
	// the compiler keeps in registers; the rare ones go through t.
	runes, starts, ends, flags := t.Runes, t.Start, t.End, t.Flags
	gap, noisy, prevWord := t.gap, t.noise, t.prevWord
	for pos < len(s) && len(runes) < limit {
		var r rune
		size := 1
		if c := s[pos]; c < utf8.RuneSelf {
			r = rune(c)
		} else if c&0xF0 == 0xE0 && pos+2 < len(s) && s[pos+1]&0xC0 == 0x80 && s[pos+2]&0xC0 == 0x80 {
			// Three-byte fast path: all of CJK.
			r = rune(c&0x0F)<<12 | rune(s[pos+1]&0x3F)<<6 | rune(s[pos+2]&0x3F)
			size = 3
			if r < 0x800 || r >= 0xD800 && r <= 0xDFFF {
				r, size = utf8.RuneError, 1
			}
		} else {
			r, size = utf8.DecodeRuneInString(s[pos:])
		}
		var e entry
		if r < 0x10000 {
			e = bmp[r]
		} else {
			e = tab.lookup(r)
		}
		end := pos + size
		switch k := e.kind(); k {
		case kindKeep, kindMap:
			if k == kindMap {
				r = rune(e.payload())
			}
			word := e.word()
			f := Flag(min(gap, MaxGap))
			if noisy || !prevWord || !word {
				f |= boundBit
			}
			runes = append(runes, r)
			starts = append(starts, pos)
			ends = append(ends, end)
			flags = append(flags, f)
			gap, noisy, prevWord = 0, false, word
			t.marks = 0
		case kindNoise:
			gap++
			noisy = true
		case kindDrop:
			gap++
		default:
			t.Runes, t.Start, t.End, t.Flags = runes, starts, ends, flags
			t.gap, t.noise, t.prevWord = gap, noisy, prevWord
			t.slow(tab, e, pos, end)
			runes, starts, ends, flags = t.Runes, t.Start, t.End, t.Flags
			gap, noisy, prevWord = t.gap, t.noise, t.prevWord
		}
		pos = end
	}
	t.Runes, t.Start, t.End, t.Flags = runes, starts, ends, flags
	t.gap, t.noise, t.prevWord = gap, noisy, prevWord
	return pos
}

// slow handles expansions and combining marks.
func (t *Text) slow(tab *table, e entry, pos, end int) {
	switch e.kind() {
	case kindExp:
		p := e.payload()
		for _, o := range tab.exp[p : p+e.n()] {
			t.emit(o, isWord(o), pos, end)
		}
	case kindMark:
		if k := len(t.End) - 1; k >= 0 && t.gap == 0 && t.End[k] == pos && t.marks < MaxMarks {
			t.End[k] = end
			t.marks++
		} else {
			t.gap++
		}
	}
}

// Normalize returns the normalized runes of s in a fresh Text.
func (n *Normalizer) Normalize(s string) *Text {
	t := &Text{}
	n.Append(t, s, 0, math.MaxInt)
	return t
}

// String returns the normalized runes of s without noise: the canonical form
// under which lexicon terms are compared.
func (n *Normalizer) String(s string) string {
	t := n.pool.Get().(*Text)
	defer n.pool.Put(t)
	t.Reset()
	n.Append(t, s, 0, math.MaxInt)
	return string(t.Runes)
}

// IsWord reports whether a normalized rune belongs to a space-separated
// script (Latin letters and digits after folding), where terms must match on
// word boundaries.
func IsWord(r rune) bool { return isWord(r) }

// Class says what an original rune contributes to normalized text.
type Class uint8

// Classes of original runes.
const (
	Emit  Class = iota // one or more normalized runes
	Noise              // nothing; a separator a matcher may skip
	Drop               // nothing (format characters); a skipped rune
	Mark               // nothing; a combining mark that extends the rune before
)

// Fold returns what r becomes on its own: its class and, for Emit, the
// normalized runes (one, or several for expansions such as ㍿). A matcher
// that fuses normalization into its scan builds its own table from this;
// the result must not be modified.
func (n *Normalizer) Fold(r rune) (Class, []rune) {
	e := n.t.lookup(r)
	switch e.kind() {
	case kindKeep:
		return Emit, []rune{r}
	case kindMap:
		return Emit, []rune{rune(e.payload())}
	case kindExp:
		p := e.payload()
		return Emit, n.t.exp[p : p+e.n() : p+e.n()]
	case kindMark:
		return Mark, nil
	case kindDrop:
		return Drop, nil
	}
	return Noise, nil
}
