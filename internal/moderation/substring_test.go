package moderation

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/risk"
)

// Substrings is the simplest scanner: exact, case-sensitive substrings. The
// pipeline tests use it as a scanner without Pending (the fixed hold-back
// path); the gateway uses the lexicon engine.
type Substrings struct {
	terms   []subTerm
	maxSpan int
}

type subTerm struct {
	term   string
	risk   risk.Code
	action Action
}

// ParseSubstrings reads "term<TAB>risk<TAB>action" lines (action defaults to
// block; # comments and blank lines are skipped).
func ParseSubstrings(r io.Reader, name string) (*Substrings, error) {
	s := &Substrings{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !utf8.ValidString(text) {
			return nil, fmt.Errorf("%s:%d: invalid UTF-8", name, line)
		}
		f := strings.Split(text, "\t")
		if len(f) < 2 || f[0] == "" {
			return nil, fmt.Errorf("%s:%d: want term<TAB>risk[<TAB>action]", name, line)
		}
		code, err := risk.Parse(f[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		act := Block
		if len(f) > 2 && f[2] != "" {
			a, ok := ParseAction(f[2])
			if !ok || a == Pass {
				return nil, fmt.Errorf("%s:%d: action %q is not block, mask, review or log", name, line, f[2])
			}
			act = a
		}
		s.terms = append(s.terms, subTerm{f[0], code, act})
		s.maxSpan = max(s.maxSpan, utf8.RuneCountInString(f[0]))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return s, nil
}

// Scan reports every occurrence of every term.
func (s *Substrings) Scan(text string) []Hit {
	var hits []Hit
	for _, t := range s.terms {
		for off := 0; ; {
			i := strings.Index(text[off:], t.term)
			if i < 0 {
				break
			}
			start := off + i
			hits = append(hits, Hit{Term: t.term, Risk: t.risk, Action: t.action, Start: start, End: start + len(t.term), Source: "substring"})
			_, size := utf8.DecodeRuneInString(text[start:])
			off = start + size
		}
	}
	return hits
}

// MaxSpan is the longest term in runes.
func (s *Substrings) MaxSpan() int { return s.maxSpan }
