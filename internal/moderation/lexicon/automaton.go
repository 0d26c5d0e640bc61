package lexicon

import (
	"fmt"
	"math/bits"
	"slices"
)

// automaton is an Aho-Corasick automaton over normalized runes, stored as a
// double-array trie. Runes are first mapped to dense symbols (frequent runes
// get small ids), so a transition is one array lookup and a rune that occurs
// in no pattern resets the scan at once.
type automaton struct {
	bmpSym    []int32        // rune < 0x10000 → symbol, 0 = not in any pattern
	astralSym map[rune]int32 // other runes
	nodes     []dnode
	depth     []uint16 // per cell: runes from the root (read by Pending only)
	pats      []pattern
	// pairs is a Bloom-style bitset of the symbol pairs adjacent in some
	// pattern. When the last two text symbols are not a pair, no pattern
	// prefix longer than one rune can end here, so the scan jumps straight
	// to the root's child instead of walking failure links through cells
	// spread over megabytes: most runes of benign text take this path.
	pairs     []uint64
	pairShift uint
	// heads is the same for the first two symbols of each pattern only:
	// from a depth-1 state (the common case) it is the exact question, and
	// far fewer pairs start a pattern than occur in one.
	heads     []uint64
	headShift uint
}

func pairHash(x, y int32, shift uint) uint64 {
	return (uint64(uint32(x))<<32 | uint64(uint32(y))) * 0x9E3779B97F4A7C15 >> shift
}

// maybeHead reports whether some pattern may start with x then y.
func (a *automaton) maybeHead(x, y int32) bool {
	h := pairHash(x, y, a.headShift)
	return a.heads[h>>6]&(1<<(h&63)) != 0
}

func newFilter(n int) ([]uint64, uint) {
	bitsLog := uint(12)
	for bitsLog < 24 && 1<<bitsLog < n*8 {
		bitsLog++
	}
	return make([]uint64, 1<<bitsLog/64), 64 - bitsLog
}

func setBit(b []uint64, h uint64) { b[h>>6] |= 1 << (h & 63) }

// maybePair reports whether x then y may occur in a pattern (false
// positives only).
func (a *automaton) maybePair(x, y int32) bool {
	h := pairHash(x, y, a.pairShift)
	return a.pairs[h>>6]&(1<<(h&63)) != 0
}

// next returns the state after symbol c (non-zero) from state, with prev the
// symbol before c (0 if none).
func (a *automaton) next(state, prev, c int32) int32 {
	nodes := a.nodes
	if prev == 0 || !a.maybePair(prev, c) || nodes[state].check == 0 && !a.maybeHead(prev, c) {
		if t := nodes[0].base + c; nodes[t].check == 0 {
			return t
		}
		return 0
	}
	return a.walk(state, c)
}

// walk follows failure links from state until one has a transition on c.
func (a *automaton) walk(state, c int32) int32 {
	nodes := a.nodes
	for {
		t := nodes[state].base + c
		if nodes[t].check == state {
			return t
		}
		if state == 0 {
			return 0
		}
		state = nodes[state].fail
	}
}

// dnode keeps everything a step touches in one 16-byte cell.
type dnode struct {
	base   int32 // children of this state live at base+symbol
	check  int32 // the parent state owning this cell, -1 when free
	fail   int32
	report int32 // first pattern to report in this state (own, then via fail links), -1 if none
}

// pattern is one normalized string the automaton finds.
type pattern struct {
	n    int32 // length in runes
	next int32 // next pattern to report in the same state, -1 at the end
	info int32 // index into Matcher.infos
}

func (a *automaton) sym(r rune) int32 {
	if r < 0x10000 {
		return a.bmpSym[r]
	}
	return a.astralSym[r]
}

// buildAutomaton compiles the patterns; infos[i] describes pats[i].
func buildAutomaton(pats [][]rune, infos []int32) (*automaton, error) {
	a := &automaton{bmpSym: make([]int32, 0x10000), astralSym: make(map[rune]int32)}

	// Symbols by descending frequency keep the double array dense.
	freq := make(map[rune]int)
	for _, p := range pats {
		for _, r := range p {
			freq[r]++
		}
	}
	alpha := make([]rune, 0, len(freq))
	for r := range freq {
		alpha = append(alpha, r)
	}
	slices.SortFunc(alpha, func(x, y rune) int {
		if freq[x] != freq[y] {
			return freq[y] - freq[x]
		}
		return int(x - y)
	})
	for i, r := range alpha {
		if r < 0x10000 {
			a.bmpSym[r] = int32(i + 1)
		} else {
			a.astralSym[r] = int32(i + 1)
		}
	}

	npairs, nheads := 0, 0
	for _, p := range pats {
		npairs += max(len(p)-1, 0)
		nheads += min(len(p)-1, 1)
	}
	a.pairs, a.pairShift = newFilter(npairs)
	a.heads, a.headShift = newFilter(nheads)
	for _, p := range pats {
		for j := 1; j < len(p); j++ {
			x, y := a.sym(p[j-1]), a.sym(p[j])
			setBit(a.pairs, pairHash(x, y, a.pairShift))
			if j == 1 {
				setBit(a.heads, pairHash(x, y, a.headShift))
			}
		}
	}

	// A plain trie first, built from the patterns in symbol order so each
	// insertion only extends the last path (no child search at the root).
	seqs := make([][]int32, len(pats))
	order := make([]int, len(pats))
	for i, p := range pats {
		s := make([]int32, len(p))
		for j, r := range p {
			s[j] = a.sym(r)
		}
		seqs[i] = s
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return slices.Compare(seqs[x], seqs[y]) })

	type tnode struct {
		kids []int32 // trie node ids, in symbol order
		sym  int32
		own  []int32 // patterns ending here
	}
	trie := []tnode{{}}
	var path []int32 // path[d] = node at depth d+1 of the previous pattern
	var prev []int32
	for _, pi := range order {
		s := seqs[pi]
		if len(s) == 0 {
			return nil, fmt.Errorf("empty pattern %d", pi)
		}
		lcp := 0
		for lcp < len(s) && lcp < len(prev) && s[lcp] == prev[lcp] {
			lcp++
		}
		path = path[:lcp]
		cur := int32(0)
		if lcp > 0 {
			cur = path[lcp-1]
		}
		for _, c := range s[lcp:] {
			id := int32(len(trie))
			trie = append(trie, tnode{sym: c})
			trie[cur].kids = append(trie[cur].kids, id)
			path = append(path, id)
			cur = id
		}
		trie[cur].own = append(trie[cur].own, int32(pi))
		prev = s
	}

	// Place the trie into the double array in breadth-first order.
	used := newBitset(len(trie) * 2)
	used.set(0)
	cells := make([]dnode, 1, len(trie)+len(alpha)+1)
	cells[0] = dnode{check: -1}
	where := make([]int32, len(trie)) // trie node → cell
	depth := make([]uint16, len(trie))
	queue := []int32{0}
	firstFree := 1
	for len(queue) > 0 {
		tn := queue[0]
		queue = queue[1:]
		kids := trie[tn].kids
		if len(kids) == 0 {
			continue
		}
		c0 := int(trie[kids[0]].sym)
		firstFree = used.nextFree(firstFree)
		start := used.nextFree(max(firstFree, c0+1))
		base, tried := 0, 0
		for p := start; ; p = used.nextFree(p + 1) {
			tried++
			b := p - c0
			ok := true
			for _, k := range kids[1:] {
				if used.get(b + int(trie[k].sym)) {
					ok = false
					break
				}
			}
			if ok {
				base = b
				// Darts' heuristic: once the region searched is nearly
				// full, stop searching it again for later nodes.
				if span := p - firstFree + 1; span > 64 && float64(span-tried)/float64(span) >= 0.95 {
					firstFree = p
				}
				break
			}
		}
		if base+len(alpha)+1 > 1<<31-1 {
			return nil, fmt.Errorf("automaton too large")
		}
		parent := where[tn]
		cells[parent].base = int32(base)
		for _, k := range kids {
			slot := base + int(trie[k].sym)
			used.set(slot)
			for len(cells) <= slot {
				cells = append(cells, dnode{check: -1, report: -1})
			}
			cells[slot].check = parent
			where[k] = int32(slot)
			depth[k] = depth[tn] + 1
			queue = append(queue, k)
		}
	}
	// Every state's base+symbol must stay inside the array.
	for need := int(maxBase(cells)) + len(alpha) + 1; len(cells) < need; {
		cells = append(cells, dnode{check: -1, report: -1})
	}
	cells[0].report = -1

	// Patterns, grouped per state so a state's own patterns are contiguous.
	a.pats = make([]pattern, 0, len(pats))
	ownFirst := make([]int32, len(cells))
	ownLast := make([]int32, len(cells))
	for i := range ownFirst {
		ownFirst[i], ownLast[i] = -1, -1
	}
	for tn := range trie {
		for _, pi := range trie[tn].own {
			id := int32(len(a.pats))
			a.pats = append(a.pats, pattern{n: int32(len(seqs[pi])), next: -1, info: infos[pi]})
			cell := where[tn]
			if ownFirst[cell] < 0 {
				ownFirst[cell] = id
			} else {
				a.pats[ownLast[cell]].next = id
			}
			ownLast[cell] = id
		}
	}

	// Failure links and report chains, breadth first so a state's fail
	// target is complete before the state itself.
	bfs := []int32{0} // trie nodes
	for len(bfs) > 0 {
		tn := bfs[0]
		bfs = bfs[1:]
		s := where[tn]
		for _, k := range trie[tn].kids {
			c := trie[k].sym
			t := where[k]
			f := int32(0)
			if s != 0 {
				f = cells[s].fail
				for {
					if u := cells[f].base + c; cells[u].check == f {
						f = u
						break
					}
					if f == 0 {
						break
					}
					f = cells[f].fail
				}
			}
			cells[t].fail = f
			inherited := cells[f].report
			if ownFirst[t] >= 0 {
				a.pats[ownLast[t]].next = inherited
				cells[t].report = ownFirst[t]
			} else {
				cells[t].report = inherited
			}
			bfs = append(bfs, k)
		}
	}
	a.nodes = cells
	a.depth = make([]uint16, len(cells))
	for tn, cell := range where {
		a.depth[cell] = depth[tn]
	}
	return a, nil
}

func maxBase(cells []dnode) int32 {
	m := int32(0)
	for _, c := range cells {
		m = max(m, c.base)
	}
	return m
}

type bitset struct{ w []uint64 }

func newBitset(n int) *bitset { return &bitset{w: make([]uint64, n/64+1)} }

func (b *bitset) get(i int) bool {
	if i/64 >= len(b.w) {
		return false
	}
	return b.w[i/64]&(1<<(i%64)) != 0
}

func (b *bitset) set(i int) {
	for i/64 >= len(b.w) {
		b.w = append(b.w, 0)
	}
	b.w[i/64] |= 1 << (i % 64)
}

// nextFree returns the first unset index ≥ i, skipping full words.
func (b *bitset) nextFree(i int) int {
	for w := i / 64; w < len(b.w); w++ {
		free := ^b.w[w]
		if w == i/64 {
			free &= ^uint64(0) << (i % 64)
		}
		if free != 0 {
			return w*64 + bits.TrailingZeros64(free)
		}
	}
	return max(i, len(b.w)*64)
}
