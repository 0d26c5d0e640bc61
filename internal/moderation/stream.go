package moderation

import (
	"context"
	"strings"
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
//
// The classifier judges each sentence when it ends (。！？.!? or a newline,
// or every maxSentenceBytes without one) and the guard model the whole
// output at the end. They do not hold text back — that would delay every
// answer by a sentence — so a flag from them cuts the stream after the
// fact, and the caller retracts what was delivered (Delivered).
type Stream struct {
	pol     *Policy
	checks  Checks
	scanner Scanner
	pender  Pender
	hold    int    // MaxSpan-1, for scanners without Pending
	context string // tail of released text (≤ contextRunes runes)
	held    string // not yet released
	offset  int    // bytes released so far
	// sentence is the text arrived since the last sentence end, starting
	// at byte sentenceAt of the arrived output.
	sentence   string
	sentenceAt int
	whole      strings.Builder // arrived output for the guard, ≤ maxGuardBytes
	// Delivered counts the runes released so far (for a retraction notice).
	Delivered int
	hits      []Hit
	stopped   bool
}

const (
	// maxSentenceBytes forces a classifier check on text without sentence
	// ends, so unpunctuated output cannot grow unjudged.
	maxSentenceBytes = 2048
	// maxGuardBytes bounds the output kept for the guard's final check.
	maxGuardBytes = 32 << 10
)

// NewStream starts moderating one output stream under the policy; the
// scanner in use now is kept for the whole stream so a reload mid-stream
// cannot change the rules halfway through a term.
func (pol *Policy) NewStream() *Stream {
	s := pol.p.current()
	st := &Stream{pol: pol, checks: pol.uses(Output), scanner: s, hold: max(s.MaxSpan()-1, 0)}
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
	if s.judge(ctx, piece, false) {
		return "", s.verdict()
	}
	return s.step(false)
}

// Finish releases what is still held at the end of the output.
func (s *Stream) Finish(ctx context.Context) (string, Verdict) {
	if s.stopped {
		return "", s.verdict()
	}
	if s.judge(ctx, "", true) {
		return "", s.verdict()
	}
	return s.step(true)
}

// Held returns the number of runes held back right now.
func (s *Stream) Held() int { return utf8.RuneCountInString(s.held) }

func (s *Stream) verdict() Verdict { return verdict(s.hits) }

// judge runs the classifier on every sentence the piece completes (all of
// what is left at the end) and the guard on the whole output at the end. It
// reports whether the stream was stopped.
func (s *Stream) judge(ctx context.Context, piece string, final bool) bool {
	if !s.pol.p.output || !s.checks.Classifier && !s.checks.Guard {
		return false
	}
	if s.checks.Guard && s.whole.Len() < maxGuardBytes {
		s.whole.WriteString(piece[:min(len(piece), maxGuardBytes-s.whole.Len())])
	}
	var found []Hit
	if s.checks.Classifier {
		s.sentence += piece
		for {
			end := sentenceEnd(s.sentence)
			if end < 0 && len(s.sentence) >= maxSentenceBytes {
				end = maxSentenceBytes
				for end > 0 && !utf8.RuneStart(s.sentence[end]) {
					end--
				}
			}
			if end < 0 && final {
				end = len(s.sentence)
			}
			if end <= 0 {
				break
			}
			// A short sentence ("好的。") is judged with the next one.
			for end < len(s.sentence) && !substantial(s.sentence[:end]) {
				next := sentenceEnd(s.sentence[end:])
				if next < 0 {
					break
				}
				end += next
			}
			if !substantial(s.sentence[:end]) && !final {
				break
			}
			_, h := s.pol.classify(s.sentence[:end], s.sentenceAt)
			found = append(found, h...)
			s.sentence, s.sentenceAt = s.sentence[end:], s.sentenceAt+end
		}
	}
	if final && s.checks.Guard {
		found = append(found, s.pol.askGuard(ctx, s.whole.String(), 0)...)
	}
	for _, h := range found {
		h = s.pol.act(h)
		s.hits = append(s.hits, h)
		if h.Action == Block {
			s.stopped, s.held = true, ""
		}
	}
	return s.stopped
}

// sentenceEnd returns the byte offset just after the first sentence end in
// s (and any closing quotes or further terminators after it), or -1.
func sentenceEnd(s string) int {
	i := strings.IndexFunc(s, isSentenceEnd)
	if i < 0 {
		return -1
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSentenceEnd(r) && !strings.ContainsRune("\"'”’」』）)", r) {
			break
		}
		i += size
	}
	return i
}

func isSentenceEnd(r rune) bool {
	switch r {
	case '。', '！', '？', '.', '!', '?', '\n', '；', '…':
		return true
	}
	return false
}

func (s *Stream) step(final bool) (string, Verdict) {
	if !s.pol.p.output || !s.checks.Lexicon {
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
		h = s.pol.act(h)
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
