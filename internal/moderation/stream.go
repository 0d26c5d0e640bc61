package moderation

import (
	"context"
	"unicode/utf8"
)

// Pender is an optional extension of a Scanner: Pending returns the byte
// offset of text from which more text could still change what Scan finds
// (the start of a partial match, a hit waiting for its word boundary or for
// an allow phrase that could still cover it). Everything before it is
// settled. A scanner without it is held back by MaxSpan-1 runes.
type Pender interface {
	Pending(text string) int
}

// contextRunes is how much released text a stream keeps in front of what it
// holds, so the next scan sees what precedes a match: the word boundary
// before a Latin term and the segmenter's left context (8 runes).
const contextRunes = 32

// Stream moderates output that arrives in pieces. It never releases a
// character that could still turn out to be part of a blocked term: each
// push scans the held text plus the new piece (after a little released
// context), acts on the hits that are settled, and releases text up to the
// scanner's Pending offset — usually all of it, since most text starts no
// partial match — or, for scanners that cannot tell, all but MaxSpan-1
// runes.
type Stream struct {
	p       *Pipeline
	scanner Scanner
	pender  Pender
	hold    int    // MaxSpan-1, for scanners without Pending
	context string // tail of released text (≤ contextRunes runes)
	held    string // not yet released
	offset  int    // bytes released so far
	// Delivered counts the runes released so far (for a retraction notice).
	Delivered int
	hits      []Hit
	stopped   bool
}

// NewStream starts moderating one output stream; the scanner in use now is
// kept for the whole stream so a reload mid-stream cannot change the rules
// halfway through a term.
func (p *Pipeline) NewStream() *Stream {
	s := p.current()
	st := &Stream{p: p, scanner: s, hold: max(s.MaxSpan()-1, 0)}
	st.pender, _ = s.(Pender)
	return st
}

// Push adds a piece of output and returns the text that may be released now,
// and the verdict so far. On Block, nothing more may be released: stop the
// upstream and end the stream with a content_filter chunk.
func (s *Stream) Push(ctx context.Context, piece string) (string, Verdict) {
	if s.stopped {
		return "", s.verdict()
	}
	s.held += piece
	return s.step(false)
}

// Finish releases what is still held at the end of the output.
func (s *Stream) Finish(ctx context.Context) (string, Verdict) {
	if s.stopped {
		return "", s.verdict()
	}
	return s.step(true)
}

// Held returns the number of runes held back right now.
func (s *Stream) Held() int { return utf8.RuneCountInString(s.held) }

func (s *Stream) verdict() Verdict { return verdict(s.hits) }

func (s *Stream) step(final bool) (string, Verdict) {
	if !s.p.output {
		out := s.held
		s.held = ""
		s.Delivered += utf8.RuneCountInString(out)
		return out, Verdict{}
	}
	window := s.context + s.held
	base := len(s.context)
	cut := len(window)
	if !final {
		if s.pender != nil {
			cut = s.pender.Pending(window)
		} else {
			cut = cutKeepingRunes(window, s.hold)
		}
		cut = max(cut, base)
	}
	var masks []Hit
	for _, h := range s.scanner.Scan(window) {
		// Hits starting in the context were settled by an earlier step;
		// hits starting at or after the cut are not settled yet and will
		// be found again by the next step.
		if h.Start < base || h.Start >= cut {
			continue
		}
		mask := h
		mask.Start, mask.End = h.Start-base, h.End-base
		// Reported offsets are into the whole released output.
		h.Start, h.End = mask.Start+s.offset, mask.End+s.offset
		s.hits = append(s.hits, h)
		switch h.Action {
		case Block:
			s.stopped = true
			s.held = ""
			return "", s.verdict()
		case Mask:
			masks = append(masks, mask)
		}
	}
	n := cut - base
	if len(masks) > 0 {
		// A mask hit may run past the cut; masking the held part now keeps
		// it masked when it is released later. Masking keeps the rune
		// count, not the byte count, so the cut is carried over in runes.
		runes := utf8.RuneCountInString(s.held[:n])
		s.held = ApplyMask(s.held, masks)
		n = len(s.held) - len(tailRunes(s.held, utf8.RuneCountInString(s.held)-runes))
	}
	out := s.held[:n]
	s.held = s.held[n:]
	s.Delivered += utf8.RuneCountInString(out)
	s.offset += len(out)
	s.context = tailRunes(s.context+out, contextRunes)
	return out, s.verdict()
}

// cutKeepingRunes returns the byte index that leaves the last n runes of s.
func cutKeepingRunes(s string, n int) int {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

func tailRunes(s string, n int) string { return s[cutKeepingRunes(s, n):] }
