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
	keep     int // runes of tail kept between pieces of a long text
	segment  bool
	pool     sync.Pool
}

const (
	defaultGap  = 3
	chunkRunes  = 4096
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
	hs, he int // global normalized indices of the first and last rune
}

type span struct{ s, e int }

// scanner is per-call scratch, pooled so a scan allocates only its hits.
type scanner struct {
	tx      normalize.Text
	pending []pending
	allows  []span
}

// Find returns every occurrence of every term in text, overlapping ones
// included, ordered by where they end, in at most MaxHits hits. Memory use
// is bounded regardless of the length of text: it is scanned in pieces.
func (m *Matcher) Find(text string) []Hit {
	if m.ac == nil || text == "" {
		return nil
	}
	sc := m.pool.Get().(*scanner)
	defer m.pool.Put(sc)
	sc.tx.Reset()
	sc.pending, sc.allows = sc.pending[:0], sc.allows[:0]

	var hits []Hit
	tx := &sc.tx
	ac := m.ac
	nodes, bmpSym, pats := ac.nodes, ac.bmpSym, ac.pats
	_ = nodes
	maxGap := m.maxGap
	base, scanned, pos := 0, 0, 0
	state, prev := int32(0), int32(0)
	for {
		pos = m.norm.Append(tx, text, pos, tx.Len()+chunkRunes)
		eof := pos >= len(text)
		runes, flags := tx.Runes, tx.Flags
		for i := scanned - base; i < len(runes); i++ {
			if flags[i].Gap() > maxGap {
				state, prev = 0, 0
			}
			r := runes[i]
			var c int32
			if r < 0x10000 {
				c = bmpSym[r]
			} else {
				c = ac.astralSym[r]
			}
			if c == 0 {
				state, prev = 0, 0
				continue
			}
			state = ac.next(state, prev, c)
			prev = c
			for p := nodes[state].report; p >= 0; p = pats[p].next {
				pt := &pats[p]
				in := &m.infos[pt.info]
				he := base + i
				hs := he - int(pt.n) + 1
				if in.wordStart && !flags[hs-base].Boundary() {
					continue
				}
				if in.entry < 0 {
					sc.allows = append(sc.allows, span{hs, he})
				} else {
					sc.pending = append(sc.pending, pending{pt.info, hs, he})
				}
			}
		}
		scanned = base + len(runes)
		hits = m.decide(sc, hits, base, scanned, eof)
		if eof || len(hits) >= m.maxHits {
			return hits
		}
		if drop := tx.Len() - m.keep; drop > 0 {
			tx.Drop(drop)
			base += drop
		}
	}
}

// decide settles the pending hits that no later rune can change: their
// word-boundary look-ahead, any covering allow phrase, and segmentation.
func (m *Matcher) decide(sc *scanner, hits []Hit, base, scanned int, eof bool) []Hit {
	tx := &sc.tx
	done := 0
	for _, p := range sc.pending {
		if !eof && p.he+m.look >= scanned {
			break
		}
		done++
		if len(hits) >= m.maxHits {
			continue
		}
		in := &m.infos[p.info]
		if in.wordEnd && p.he+1 < scanned && !tx.Flags[p.he+1-base].Boundary() {
			continue
		}
		if covered(sc.allows, p.hs, p.he, m.maxAllow) {
			continue
		}
		if in.segment && !m.segmentOK(tx, base, scanned, p.hs, p.he) {
			continue
		}
		e := &m.entries[in.entry]
		hits = append(hits, Hit{
			Term: e.Term, Risk: e.Risk, Action: e.Action,
			Start: tx.Start[p.hs-base], End: tx.End[p.he-base],
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
