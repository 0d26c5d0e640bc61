// Package lexicon holds the keyword library of the moderation pipeline: its
// file format, an importer for public word lists, coverage statistics against
// TC260-003 §8.1, an embedded starter library, and a multi-pattern matcher
// that finds terms in text after evasion-resistant normalization (package
// normalize) and reports every hit with its exact byte span in the original.
package lexicon

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/genguard/genguard/internal/risk"
)

// Action is what the pipeline should do with a hit, from strongest to weakest.
type Action uint8

// Actions, strongest first; the zero value is Block so that an entry
// without an explicit action fails safe.
const (
	Block  Action = iota // refuse the request or cut the stream
	Mask                 // replace the matched span
	Review               // let it pass, queue for human review
	Log                  // record only
)

var actionNames = [...]string{Block: "block", Mask: "mask", Review: "review", Log: "log"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", a)
}

// ParseAction parses "block", "mask", "review" or "log"; empty means block.
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "block":
		return Block, nil
	case "mask":
		return Mask, nil
	case "review":
		return Review, nil
	case "log":
		return Log, nil
	}
	return 0, fmt.Errorf("unknown action %q (want block, mask, review or log)", s)
}

// Flags modify how a term matches.
type Flags uint8

// FlagBoundary makes a Chinese term match only where a word segmenter puts
// word boundaries around it: 色情 hits 观看色情视频 but not 角色情感.
const FlagBoundary Flags = 1 << iota

func (f Flags) String() string {
	if f&FlagBoundary != 0 {
		return "boundary"
	}
	return ""
}

// MaxTermRunes caps the length of a term or allow phrase; longer lines are
// almost always pasted prose, and the cap bounds what a streaming moderator
// must hold back.
const MaxTermRunes = 64

// Entry is one term of the library.
type Entry struct {
	Term   string
	Risk   risk.Code
	Action Action
	Flags  Flags
	Source string // "file:line", for explaining a hit
}

// Library is a set of terms and of allow phrases. An allow phrase that covers
// a hit suppresses it (特色情况 allows the 色情 inside it).
type Library struct {
	Entries []Entry
	Allow   []string
}

// Stats is the coverage of a library against TC260-003 §8.1.
type Stats struct {
	Total   int               // distinct terms
	Allow   int               // distinct allow phrases
	ByRisk  map[risk.Code]int // distinct terms per risk
	Short   []risk.Code       // risks below risk.KeywordMinimum, in taxonomy order
	Missing []risk.Code       // risks with no term at all
	// TotalShort reports Total < risk.KeywordTotalMinimum.
	TotalShort bool
	// Hash is the hex sha256 of the canonical form (sorted unique
	// "term\trisk\taction\tflags" lines, then "allow\tphrase" lines), so
	// the same library loaded from differently ordered files has one version.
	Hash string
}

// Stats computes coverage counts and the content hash.
func (l *Library) Stats() Stats {
	st := Stats{ByRisk: make(map[risk.Code]int)}
	var lines []string
	seen := make(map[string]bool)
	for _, e := range l.Entries {
		line := e.Term + "\t" + string(e.Risk) + "\t" + e.Action.String() + "\t" + e.Flags.String()
		if seen[line] {
			continue
		}
		seen[line] = true
		lines = append(lines, line)
	}
	terms := make(map[string]bool)
	for _, e := range l.Entries {
		k := e.Term + "\x00" + string(e.Risk)
		if !terms[k] {
			terms[k] = true
			st.ByRisk[e.Risk]++
			st.Total++
		}
	}
	slices.Sort(lines)
	var allow []string
	for _, a := range l.Allow {
		allow = append(allow, "allow\t"+a)
	}
	slices.Sort(allow)
	allow = slices.Compact(allow)
	st.Allow = len(allow)
	h := sha256.New()
	for _, s := range append(lines, allow...) {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	st.Hash = hex.EncodeToString(h.Sum(nil))
	for _, r := range risk.All() {
		n := st.ByRisk[r.Code]
		if n == 0 {
			st.Missing = append(st.Missing, r.Code)
		}
		if n < risk.KeywordMinimum(r.Code) {
			st.Short = append(st.Short, r.Code)
		}
	}
	st.TotalShort = st.Total < risk.KeywordTotalMinimum
	return st
}
