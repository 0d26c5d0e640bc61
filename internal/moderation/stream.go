package moderation

import (
	"context"
	"unicode/utf8"
)

// Stream moderates output that arrives in pieces. It never releases a
// character that could still turn out to be part of a blocked term: it holds
// back the last MaxSpan-1 runes, and every scan covers the held text plus the
// new piece (with a little released text before it as context, whose hits
// were already handled).
type Stream struct {
	p        *Pipeline
	scanner  Scanner
	hold     int
	released string // tail of released text kept as context (≤ hold runes)
	pending  string // not yet released
	// Delivered counts the runes released so far (for a retraction notice).
	Delivered int
	hits      []Hit
	stopped   bool
}

// NewStream starts moderating one output stream; the scanner in use now is
// kept for the whole stream so a reload mid-stream cannot shrink the holdback.
func (p *Pipeline) NewStream() *Stream {
	s := p.current()
	hold := 0
	if p.output {
		hold = max(s.MaxSpan()-1, 0)
	}
	return &Stream{p: p, scanner: s, hold: hold}
}

// Push adds a piece of output and returns the text that may be released now,
// and the verdict so far. On Block, nothing more may be released: stop the
// upstream and end the stream with a content_filter chunk.
func (s *Stream) Push(ctx context.Context, piece string) (string, Verdict) {
	if s.stopped {
		return "", s.verdict()
	}
	s.pending += piece
	return s.step(false)
}

// Finish releases what is still held at the end of the output.
func (s *Stream) Finish(ctx context.Context) (string, Verdict) {
	if s.stopped {
		return "", s.verdict()
	}
	return s.step(true)
}

// Hits returns every hit so far.
func (s *Stream) verdict() Verdict { return verdict(s.hits) }

func (s *Stream) step(final bool) (string, Verdict) {
	if !s.p.output {
		out := s.pending
		s.pending = ""
		s.Delivered += utf8.RuneCountInString(out)
		return out, Verdict{}
	}
	window := s.released + s.pending
	base := len(s.released)
	var masks []Hit
	for _, h := range s.scanner.Scan(window) {
		if h.End <= base {
			continue // entirely in already-released context: seen before
		}
		h.Start -= base
		h.End -= base
		s.hits = append(s.hits, h)
		switch {
		case h.Action == Block:
			s.stopped = true
			s.pending = ""
			return "", s.verdict()
		case h.Action == Mask:
			if h.Start < 0 {
				h.Start = 0
			}
			masks = append(masks, h)
		}
	}
	if len(masks) > 0 {
		s.pending = ApplyMask(s.pending, masks)
	}
	cut := len(s.pending)
	if !final {
		cut = cutKeepingRunes(s.pending, s.hold)
	}
	out := s.pending[:cut]
	s.pending = s.pending[cut:]
	s.Delivered += utf8.RuneCountInString(out)
	s.released = tailRunes(s.released+out, s.hold)
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
