package normalize

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// fold.txt is generated from OpenCC t2s, x/text NFKC and width folding, case
// folding and UTS #39 confusables (see internal/foldgen). Precomputing it turns
// every normalization step into one table lookup per rune.
//
//go:embed fold.txt
var foldTxt string

// Kinds of table entries: what one original rune becomes.
const (
	kindKeep  = iota // the rune itself
	kindMap          // one other rune (payload)
	kindExp          // several runes: exp[payload : payload+len]
	kindDrop         // nothing (format characters); counts as a skipped rune
	kindMark         // nothing (combining mark); extends the previous rune
	kindNoise        // nothing, and a separator the matcher may skip
)

const (
	kindShift = 29
	wordBit   = 1 << 28
	lenShift  = 23
	lenMask   = 0x1f
	payMask   = 1<<lenShift - 1
)

type entry uint32

func (e entry) kind() uint32 { return uint32(e) >> kindShift }
func (e entry) word() bool   { return e&wordBit != 0 }
func (e entry) payload() int { return int(e & payMask) }
func (e entry) n() int       { return int(uint32(e)>>lenShift) & lenMask }

func mk(kind uint32, word bool, n, payload int) entry {
	e := entry(kind<<kindShift | uint32(n&lenMask)<<lenShift | uint32(payload)&payMask)
	if word {
		e |= wordBit
	}
	return e
}

// table is immutable once built and shared by every Normalizer.
type table struct {
	bmp    []entry // indexed by rune < 0x10000
	astral map[rune]entry
	exp    []rune
}

// defaultTable builds the table once per process (about 2 ms); it is read-only
// afterwards, so sharing it is safe.
var defaultTable = sync.OnceValue(func() *table {
	t, err := buildTable(foldTxt)
	if err != nil {
		// fold.txt is embedded and checked by TestFoldTableUpToDate; a
		// parse failure is a build defect, not a runtime condition.
		panic(fmt.Sprintf("normalize: embedded fold table: %v", err))
	}
	return t
})

// noise reports whether r separates words: spaces, punctuation, symbols,
// emoji, controls, private-use and invalid input.
func noise(r rune) bool {
	if r < 0x80 {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}
	return r == unicode.ReplacementChar || unicode.In(r, unicode.Z, unicode.P, unicode.S, unicode.C)
}

// isWord reports whether r belongs to a script written with spaces between
// words, where a term must sit on word boundaries (term "av" never in "java").
func isWord(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return r < 0x2E80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func classify(r rune) entry {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return mk(kindMark, false, 0, 0)
	case unicode.Is(unicode.Cf, r):
		return mk(kindDrop, false, 0, 0)
	case noise(r):
		return mk(kindNoise, false, 0, 0)
	}
	return mk(kindKeep, isWord(r), 0, 0)
}

func buildTable(src string) (*table, error) {
	t := &table{bmp: make([]entry, 0x10000), astral: make(map[rune]entry)}
	for r := range rune(0x10000) {
		t.bmp[r] = classify(r)
	}
	for i, line := range strings.Split(src, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("line %d: missing tab", i+1)
		}
		r, err := parseHex(k)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		var out []rune
		for f := range strings.FieldsSeq(v) {
			o, err := parseHex(f)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			// Noise inside an expansion ("⑴" → "(1)") carries no meaning.
			if !noise(o) {
				out = append(out, o)
			}
		}
		var e entry
		switch {
		case v == "":
			e = classify(r)
			if e.kind() != kindMark {
				e = mk(kindDrop, false, 0, 0)
			}
		case len(out) == 0:
			e = mk(kindNoise, false, 0, 0)
		case len(out) == 1:
			e = mk(kindMap, isWord(out[0]), 0, int(out[0]))
		case len(out) > lenMask:
			return nil, fmt.Errorf("line %d: expansion of %d runes", i+1, len(out))
		default:
			e = mk(kindExp, false, len(out), len(t.exp))
			t.exp = append(t.exp, out...)
		}
		if r < 0x10000 {
			t.bmp[r] = e
		} else {
			t.astral[r] = e
		}
	}
	return t, nil
}

func parseHex(s string) (rune, error) {
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || n > unicode.MaxRune {
		return 0, fmt.Errorf("bad rune %q", s)
	}
	return rune(n), nil
}

func (t *table) lookup(r rune) entry {
	if r < 0x10000 {
		return t.bmp[r]
	}
	if e, ok := t.astral[r]; ok {
		return e
	}
	return classify(r)
}
