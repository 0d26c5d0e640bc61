package lexicon

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/moderation/normalize"
	"github.com/genguard/genguard/internal/risk"
)

// Options tune a Matcher.
type Options struct {
	// MaxGap is how many noise runes (spaces, punctuation, symbols, emoji,
	// zero-width characters) may stand between two characters of a term:
	// 0 means the default of 3, a negative value allows none.
	MaxGap int
	// Pinyin also matches each all-Chinese term written in toneless pinyin
	// ("falungong", "fa lun gong"), and terms of three or more characters
	// by their initials ("flg"), on word boundaries.
	Pinyin bool
	// MaxHits stops a scan after this many hits (0 means 1000), bounding
	// the work on adversarial, match-dense text.
	MaxHits int
}

// Via says how a hit matched.
type Via uint8

// Ways a term can match.
const (
	ViaText     Via = iota // the term's characters, after normalization
	ViaPinyin              // the term's full pinyin
	ViaInitials            // the initials of the term's pinyin
)

func (v Via) String() string {
	switch v {
	case ViaPinyin:
		return "pinyin"
	case ViaInitials:
		return "initials"
	}
	return "text"
}

// Hit is one occurrence of a term.
type Hit struct {
	Term   string // the lexicon term
	Risk   risk.Code
	Action Action
	// Start and End are byte offsets in the scanned text: text[Start:End]
	// is the original matched text, including noise skipped inside it.
	Start, End int
	Match      string // the normalized form that matched ("法轮功", "falungong")
	Via        Via
	Source     string // where the term was defined ("file:line")
}

// info describes what a pattern stands for.
type info struct {
	entry     int32 // index into Matcher.entries; -1 for an allow phrase
	via       Via
	wordStart bool // first rune is Latin: needs a word boundary before
	wordEnd   bool // last rune is Latin: needs a word boundary after
	segment   bool // FlagBoundary: needs segmenter word boundaries
	match     string
}

// Matcher finds lexicon terms in text. It is immutable after Compile and safe
// for concurrent use; replace it as a whole (e.g. with atomic.Pointer) on
// reload.
type Matcher struct {
	ac       *automaton
	infos    []info
	entries  []Entry
	norm     *normalize.Normalizer
	maxGap   int
	maxHits  int
	maxLen   int // longest pattern, in normalized runes
	maxAllow int // longest allow phrase, in normalized runes
	look     int // runes to scan past a hit before deciding it
	keep     int // normalized runes a pending hit may still need (ring size floor)
	segment  bool
	table    []uint32 // original BMP rune → scan entry (see entFast)
	ringMask int      // ring of recent rune spans, a power of two minus one
	pool     sync.Pool
}

const (
	defaultGap  = 3
	segContext  = 8 // runes of context either side given to the segmenter
	defaultHits = 1000
	// maxPinyinRunes limits pinyin spellings to terms of up to 8
	// characters: longer ones are phrases nobody romanizes, and their
	// spellings would inflate MaxSpan.
	maxPinyinRunes = 8
)

// Compile builds a Matcher. Terms that normalize to the same string are
// merged: the strongest action wins, and on a tie the first entry.
func Compile(lib *Library, opts Options) (*Matcher, error) {
	m := &Matcher{norm: normalize.New(), maxGap: opts.MaxGap, maxHits: opts.MaxHits}
	switch {
	case m.maxGap == 0:
		m.maxGap = defaultGap
	case m.maxGap < 0:
		m.maxGap = 0
	case m.maxGap > normalize.MaxGap-1:
		return nil, fmt.Errorf("compile lexicon: MaxGap %d above %d", m.maxGap, normalize.MaxGap-1)
	}
	if m.maxHits <= 0 {
		m.maxHits = defaultHits
	}

	var pats [][]rune
	var infos []int32
	byNorm := make(map[string]int) // normalized text pattern → info index
	add := func(rs []rune, in info) {
		in.wordStart = normalize.IsWord(rs[0])
		in.wordEnd = normalize.IsWord(rs[len(rs)-1])
		in.match = string(rs)
		infos = append(infos, int32(len(m.infos)))
		m.infos = append(m.infos, in)
		pats = append(pats, rs)
		m.maxLen = max(m.maxLen, len(rs))
	}
	var errs []error
	for _, e := range lib.Entries {
		if !e.Risk.Valid() {
			errs = append(errs, fmt.Errorf("%s: term %q: invalid risk %q", e.Source, e.Term, e.Risk))
			continue
		}
		key, err := checkText(m.norm, e.Term)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: term %q: %w", e.Source, e.Term, err))
			continue
		}
		if j, ok := byNorm[key]; ok {
			old := &m.entries[m.infos[j].entry]
			if e.Action < old.Action {
				*old = e
			}
			continue
		}
		byNorm[key] = len(m.infos)
		m.entries = append(m.entries, e)
		in := info{entry: int32(len(m.entries) - 1), segment: e.Flags&FlagBoundary != 0}
		m.segment = m.segment || in.segment
		add([]rune(key), in)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("compile lexicon: %w", errors.Join(errs...))
	}
	if opts.Pinyin {
		// Added after all text patterns so a literal Latin term wins over a
		// pinyin spelling of another term.
		for j := range len(m.infos) {
			in := m.infos[j]
			full, initials, ok := normalize.Pinyin(in.match)
			if n := utf8.RuneCountInString(in.match); !ok || n < 2 || n > maxPinyinRunes {
				continue
			}
			variants := []struct {
				s   string
				via Via
			}{{full, ViaPinyin}}
			if utf8.RuneCountInString(in.match) >= 3 {
				variants = append(variants, struct {
					s   string
					via Via
				}{initials, ViaInitials})
			}
			for _, v := range variants {
				key := m.norm.String(v.s)
				if _, dup := byNorm[key]; dup || key == "" {
					continue
				}
				byNorm[key] = len(m.infos)
				add([]rune(key), info{entry: in.entry, via: v.via})
			}
		}
	}
	for _, a := range lib.Allow {
		key, err := checkText(m.norm, a)
		if err != nil {
			errs = append(errs, fmt.Errorf("allow phrase %q: %w", a, err))
			continue
		}
		rs := []rune(key)
		m.maxAllow = max(m.maxAllow, len(rs))
		add(rs, info{entry: -1})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("compile lexicon: %w", errors.Join(errs...))
	}
	if len(pats) > 0 {
		ac, err := buildAutomaton(pats, infos)
		if err != nil {
			return nil, fmt.Errorf("compile lexicon: %w", err)
		}
		m.ac = ac
	}
	m.look = max(1, m.maxAllow)
	if m.segment {
		m.look = max(m.look, segContext)
	}
	m.keep = m.maxLen + m.look + segContext + 1
	m.buildTable()
	m.pool.New = func() any { return new(scanner) }
	return m, nil
}

// MaxSpan is the largest number of original runes one match can cover:
// the longest term or allow phrase, up to MaxGap skipped runes between each
// two of its characters, combining marks absorbed by each character, and one
// rune of look-ahead for the word-boundary check. A streaming moderator that
// holds back this many trailing runes of its output (and rescans them with
// the next chunk) never misses a match or an allow phrase split across
// chunks. Expansions (㍿ → 株式会社) only shorten a match in original runes.
func (m *Matcher) MaxSpan() int {
	l := max(m.maxLen, m.maxAllow)
	if l == 0 {
		return 0
	}
	return l*(1+normalize.MaxMarks) + m.maxGap*(l-1) + 1
}

// Len returns the number of distinct terms after merging duplicates.
func (m *Matcher) Len() int { return len(m.entries) }

type pending struct {
	info   int32
	hs, he int // normalized indices of the first and last rune
}

type span struct{ s, e int }

// rec is what the scan remembers of one normalized rune.
type rec struct {
	start, end int // byte span in the original text
	flag       normalize.Flag
}

// scanner is per-call scratch, pooled so a scan allocates only its hits.
type scanner struct {
	ring    []rec // the last len(ring) normalized runes, by index&mask
	pending []pending
	allows  []span
	// Scan state, kept here only across calls to the slow path.
	gap, marks int
	noisy      bool
	prevWord   bool
}

// Entries of Matcher.table: how the scan treats an original BMP rune.
const (
	entFast    = iota // one normalized rune; the low bits hold its symbol
	entNoise          // skipped, separates words
	entDrop           // skipped
	entMark           // extends the previous rune
	entSlow           // expansion: ask the normalizer
	entShift   = 29
	entWord    = 1 << 28
	entFirst   = 1 << 27 // some pattern starts with this symbol
	entReport1 = 1 << 26 // a one-rune pattern is this symbol
	entSymMask = 1<<26 - 1
	decideMask = 1023 // settle pending hits every 1024 runes
)

func (m *Matcher) entry(r rune) uint32 {
	cl, out := m.norm.Fold(r)
	switch {
	case cl == normalize.Noise:
		return entNoise << entShift
	case cl == normalize.Drop:
		return entDrop << entShift
	case cl == normalize.Mark:
		return entMark << entShift
	case len(out) != 1:
		return entSlow << entShift
	}
	e := uint32(0)
	if m.ac != nil {
		if c := m.ac.sym(out[0]); c != 0 {
			e = uint32(c)
			if t := m.ac.nodes[0].base + c; m.ac.nodes[t].check == 0 {
				e |= entFirst
				if m.ac.nodes[t].report >= 0 {
					e |= entReport1
				}
			}
		}
	}
	if normalize.IsWord(out[0]) {
		e |= entWord
	}
	return e
}

func (m *Matcher) buildTable() {
	m.table = make([]uint32, 0x10000)
	for r := range rune(0x10000) {
		m.table[r] = m.entry(r)
	}
	n := 1
	for n < m.keep+decideMask+64 {
		n <<= 1
	}
	m.ringMask = n - 1
}

// Find returns every occurrence of every term in text, overlapping ones
// included, ordered by where they end, in at most MaxHits hits. Memory use
// is bounded regardless of the length of text.
//
// Normalization is fused into the scan: one table lookup per original rune
// yields the automaton symbol of its normalized form, and only a ring of
// recent rune spans is kept, for mapping hits back to the original.
func (m *Matcher) Find(text string) []Hit {
	if m.ac == nil || text == "" {
		return nil
	}
	sc := m.pool.Get().(*scanner)
	defer m.pool.Put(sc)
	hits, end := m.scan(sc, text)
	if end.truncated {
		return hits
	}
	return m.decide(sc, hits, text, end.idx, true)
}

// scanEnd is where a scan stopped: normalized runes seen, the automaton
// state, the noise run since the last normalized rune, and whether MaxHits
// cut the scan short.
type scanEnd struct {
	idx       int
	state     int32
	gap       int
	truncated bool
}

// scan runs the automaton over text and settles the hits it can without
// knowing whether text ends here; the caller decides the rest.
func (m *Matcher) scan(sc *scanner, text string) ([]Hit, scanEnd) {
	if len(sc.ring) != m.ringMask+1 {
		sc.ring = make([]rec, m.ringMask+1)
	}
	sc.pending, sc.allows = sc.pending[:0], sc.allows[:0]
	sc.gap, sc.marks, sc.noisy, sc.prevWord = 0, 0, false, false

	var hits []Hit
	ac, table, ring, mask := m.ac, m.table, sc.ring, m.ringMask
	nodes := ac.nodes
	maxGap := m.maxGap
	idx := 0 // normalized runes so far
	state, prev := int32(0), int32(0)
	shallow := true // state is the root or a child of it
	rootBase := nodes[0].base
	gap, noisy, prevWord := 0, false, false
	for pos := 0; pos < len(text); {
		// The decoding of normalize.Append, copied by hand: a shared
		// helper is over the inlining budget, and this is the hot loop.
		var r rune
		size := 1
		if c := text[pos]; c < utf8.RuneSelf {
			r = rune(c)
		} else if c&0xF0 == 0xE0 && pos+2 < len(text) && text[pos+1]&0xC0 == 0x80 && text[pos+2]&0xC0 == 0x80 {
			r = rune(c&0x0F)<<12 | rune(text[pos+1]&0x3F)<<6 | rune(text[pos+2]&0x3F)
			size = 3
			if r < 0x800 || r >= 0xD800 && r <= 0xDFFF {
				r, size = utf8.RuneError, 1
			}
		} else {
			r, size = utf8.DecodeRuneInString(text[pos:])
		}
		var e uint32
		if r < 0x10000 {
			e = table[r]
		} else {
			e = m.entry(r)
		}
		end := pos + size
		switch e >> entShift {
		case entFast:
			word := e&entWord != 0
			f := normalize.Flag(min(gap, normalize.MaxGap))
			if noisy || !prevWord || !word {
				f |= normalize.BoundaryFlag
			}
			ring[idx&mask] = rec{pos, end, f}
			if gap > maxGap {
				state, prev, shallow = 0, 0, true
			}
			if c := int32(e & entSymMask); c == 0 {
				state, prev, shallow = 0, 0, true
			} else {
				// The common case, inlined: no pattern continues from
				// here with the pair (prev, c), so the next state is the
				// root's child for c, known from the table entry alone.
				if shallow && (prev == 0 || !ac.maybeHead(prev, c)) || !shallow && !ac.maybePair(prev, c) {
					state, shallow = 0, true
					if e&entFirst != 0 {
						state = rootBase + c
						if e&entReport1 != 0 {
							m.collect(sc, state, idx)
						}
					}
				} else {
					state = ac.walk(state, c)
					shallow = state == 0 || nodes[state].check == 0
					if nodes[state].report >= 0 {
						m.collect(sc, state, idx)
					}
				}
				prev = c
			}
			idx++
			gap, noisy, prevWord = 0, false, word
			sc.marks = 0
			if idx&decideMask == 0 {
				if hits = m.decide(sc, hits, text, idx, false); len(hits) >= m.maxHits {
					return hits, scanEnd{idx: idx, truncated: true}
				}
			}
		case entNoise:
			gap++
			noisy = true
		case entDrop:
			gap++
		case entMark:
			if p := &ring[(idx-1)&mask]; idx > 0 && gap == 0 && p.end == pos && sc.marks < normalize.MaxMarks {
				p.end = end
				sc.marks++
			} else {
				gap++
			}
		default:
			sc.gap, sc.noisy, sc.prevWord = gap, noisy, prevWord
			idx, state, prev = m.expand(sc, r, pos, end, idx, state, prev)
			shallow = state == 0 || nodes[state].check == 0
			gap, noisy, prevWord = sc.gap, sc.noisy, sc.prevWord
			if hits = m.decide(sc, hits, text, idx, false); len(hits) >= m.maxHits {
				return hits, scanEnd{idx: idx, truncated: true}
			}
		}
		pos = end
	}
	return hits, scanEnd{idx: idx, state: state, gap: gap}
}

// Pending returns the byte offset in text from which a streaming moderator
// must still hold text back, because more text could yet change what is
// found there; everything before it is settled: Find on any continuation of
// text reports exactly the hits that Find(text) reports starting before it.
// It is len(text) when nothing is open, and the earliest start of:
//
//   - a partial match that more text could complete (a term, a pinyin
//     spelling, or an allow phrase that could grow over a hit), including
//     noise skipped inside it while the noise run is still within MaxGap;
//   - a Latin term ending at the last rune, whose word boundary the next
//     rune decides;
//   - a boundary-flagged term whose right-hand segmentation context is not
//     complete yet.
//
// The held tail is never longer than MaxSpan runes plus trailing noise. When
// the text is so dense with hits that MaxHits cuts the scan short, nothing
// is settled and Pending returns 0. text is assumed to end on a rune
// boundary (a stream's pieces are whole runes).
func (m *Matcher) Pending(text string) int {
	if m.ac == nil || text == "" {
		return len(text)
	}
	sc := m.pool.Get().(*scanner)
	defer m.pool.Put(sc)
	_, end := m.scan(sc, text)
	if end.truncated {
		return 0
	}
	first := end.idx // earliest normalized index still open
	if end.gap <= m.maxGap {
		// The deepest state with a way to grow: every open partial match
		// is a suffix of it, so its start is the earliest. A partial that
		// starts inside a Latin word can never be reported (Latin terms
		// need a word boundary before), so a shorter one is looked for.
		nodes := m.ac.nodes
		for s := end.state; s != 0; s = nodes[s].fail {
			if nodes[s].base == 0 {
				continue
			}
			if start := end.idx - int(m.ac.depth[s]); sc.ring[start&m.ringMask].flag.Boundary() {
				first = start
				break
			}
		}
	}
	for _, p := range sc.pending {
		in := &m.infos[p.info]
		if in.wordEnd && p.he+1 >= end.idx || in.segment && p.he+segContext >= end.idx {
			first = min(first, p.hs)
		}
	}
	if first >= end.idx {
		return len(text)
	}
	return sc.ring[first&m.ringMask].start
}

// expand scans the runes of an expansion (㍿ → 株式会社), each with the span
// of the original rune. It is the slow path of Find's loop body.
func (m *Matcher) expand(sc *scanner, r rune, pos, end, idx int, state, prev int32) (int, int32, int32) {
	_, out := m.norm.Fold(r)
	for _, o := range out {
		word := normalize.IsWord(o)
		f := normalize.Flag(min(sc.gap, normalize.MaxGap))
		if sc.noisy || !sc.prevWord || !word {
			f |= normalize.BoundaryFlag
		}
		sc.ring[idx&m.ringMask] = rec{pos, end, f}
		if sc.gap > m.maxGap {
			state, prev = 0, 0
		}
		if c := m.ac.sym(o); c == 0 {
			state, prev = 0, 0
		} else {
			state = m.ac.next(state, prev, c)
			prev = c
			if m.ac.nodes[state].report >= 0 {
				m.collect(sc, state, idx)
			}
		}
		idx++
		sc.gap, sc.noisy, sc.prevWord, sc.marks = 0, false, word, 0
	}
	return idx, state, prev
}

// collect records the patterns ending at normalized index he.
func (m *Matcher) collect(sc *scanner, state int32, he int) {
	pats := m.ac.pats
	for p := m.ac.nodes[state].report; p >= 0; p = pats[p].next {
		pt := &pats[p]
		in := &m.infos[pt.info]
		hs := he - int(pt.n) + 1
		if in.wordStart && !sc.ring[hs&m.ringMask].flag.Boundary() {
			continue
		}
		if in.entry < 0 {
			sc.allows = append(sc.allows, span{hs, he})
		} else {
			sc.pending = append(sc.pending, pending{pt.info, hs, he})
		}
	}
}

// decide settles the pending hits that no later rune can change: their
// word-boundary look-ahead, any covering allow phrase, and segmentation.
// scanned is the number of normalized runes seen so far.
func (m *Matcher) decide(sc *scanner, hits []Hit, text string, scanned int, eof bool) []Hit {
	done := 0
	mask := m.ringMask
	for _, p := range sc.pending {
		if !eof && p.he+m.look >= scanned {
			break
		}
		done++
		if len(hits) >= m.maxHits {
			continue
		}
		in := &m.infos[p.info]
		if in.wordEnd && p.he+1 < scanned && !sc.ring[(p.he+1)&mask].flag.Boundary() {
			continue
		}
		if covered(sc.allows, p.hs, p.he, m.maxAllow) {
			continue
		}
		if in.segment && !m.segmentOK(sc, text, scanned, p.hs, p.he) {
			continue
		}
		e := &m.entries[in.entry]
		hits = append(hits, Hit{
			Term: e.Term, Risk: e.Risk, Action: e.Action,
			Start: sc.ring[p.hs&mask].start, End: sc.ring[p.he&mask].end,
			Match: in.match, Via: in.via, Source: e.Source,
		})
	}
	sc.pending = append(sc.pending[:0], sc.pending[done:]...)
	// An allow phrase matters only while it can still cover a hit: one
	// ending before every undecided hit can be dropped.
	low := scanned
	if len(sc.pending) > 0 {
		low = min(low, sc.pending[0].he)
	}
	k := 0
	for _, a := range sc.allows {
		if a.e >= low {
			sc.allows[k] = a
			k++
		}
	}
	sc.allows = sc.allows[:k]
	return hits
}

// covered reports whether an allow span covers [hs, he]. Spans are sorted
// by end (the scan finds them in that order), and one that covers the hit
// ends within maxAllow runes of hs, so only a short window is examined even
// when a text repeats an allow phrase a million times.
func covered(allows []span, hs, he, maxAllow int) bool {
	i, _ := slices.BinarySearchFunc(allows, he, func(a span, e int) int { return a.e - e })
	for ; i < len(allows) && allows[i].e < hs+maxAllow; i++ {
		if allows[i].s <= hs {
			return true
		}
	}
	return false
}
