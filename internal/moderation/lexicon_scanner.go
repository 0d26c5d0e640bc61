package moderation

import (
	"github.com/genguard/genguard/internal/moderation/lexicon"
)

// Lexicon adapts the keyword engine (normalization against evasion, noise
// skipping, allow-list, word boundaries) to the pipeline's Scanner.
type Lexicon struct {
	m *lexicon.Matcher
}

// NewLexicon compiles lib into a scanner.
func NewLexicon(lib *lexicon.Library, o lexicon.Options) (*Lexicon, error) {
	m, err := lexicon.Compile(lib, o)
	if err != nil {
		return nil, err
	}
	return &Lexicon{m: m}, nil
}

// Scan finds lexicon hits.
func (l *Lexicon) Scan(text string) []Hit {
	found := l.m.Find(text)
	if len(found) == 0 {
		return nil
	}
	hits := make([]Hit, len(found))
	for i, h := range found {
		hits[i] = Hit{Term: h.Term, Risk: h.Risk, Action: fromLexicon(h.Action), Start: h.Start, End: h.End, Source: "lexicon:" + h.Source}
	}
	return hits
}

// MaxSpan is the most original runes one hit can cover.
func (l *Lexicon) MaxSpan() int { return l.m.MaxSpan() }

func fromLexicon(a lexicon.Action) Action {
	switch a {
	case lexicon.Block:
		return Block
	case lexicon.Mask:
		return Mask
	case lexicon.Review:
		return Review
	}
	return Log
}

// Pending is the byte offset of text from which a stream must still hold
// text back (see lexicon.Matcher.Pending).
func (l *Lexicon) Pending(text string) int { return l.m.Pending(text) }

// WarmUp loads what the matcher would load on first use (the segmenter for
// boundary-flagged terms), so a reload pays it instead of a request.
func (l *Lexicon) WarmUp() error { return l.m.WarmUp() }
