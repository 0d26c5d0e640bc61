package lexicon

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// segmenter loads gse's simplified-Chinese dictionary on first use: it takes
// about a second and tens of megabytes, a price paid only by processes whose
// lexicon has a boundary-flagged term (see BENCHMARKS.md). The loaded
// segmenter is only read afterwards, so one copy serves every Matcher.
var segmenter = sync.OnceValues(func() (*gse.Segmenter, error) {
	seg, err := gse.NewEmbed("zh_s")
	if err != nil {
		return nil, fmt.Errorf("load gse dictionary: %w", err)
	}
	return &seg, nil
})

// segmentOK reports whether [hs, he] starts and ends on word boundaries of
// the segmented context around it. Segmenting only a small window per
// boundary-flagged hit keeps the cost off texts without such hits. If the
// dictionary cannot load, the hit stands: moderation fails closed.
func (m *Matcher) segmentOK(sc *scanner, text string, scanned, hs, he int) bool {
	seg, err := segmenter()
	if err != nil {
		return true
	}
	ring, mask := sc.ring, m.ringMask
	oldest := max(0, scanned-len(ring)+1)
	ws := hs
	for ws > oldest && hs-ws < segContext && ring[ws&mask].flag.Gap() == 0 {
		ws--
	}
	we := he + 1
	for we < scanned && we-he <= segContext && ring[we&mask].flag.Gap() == 0 {
		we++
	}
	// Align the window to whole original runes (an expansion shares one
	// span), then normalize it again: the ring keeps spans, not runes.
	for ws > oldest && ring[(ws-1)&mask].start == ring[ws&mask].start {
		ws--
	}
	for we < scanned && ring[we&mask].start == ring[(we-1)&mask].start {
		we++
	}
	window := m.norm.String(text[ring[ws&mask].start:ring[(we-1)&mask].end])
	if utf8.RuneCountInString(window) != we-ws {
		return true // cannot align the window: let the hit stand
	}
	start, end := hs-ws, he+1-ws
	okStart, okEnd := start == 0, end == we-ws
	pos := 0
	for _, w := range seg.Cut(window, false) {
		pos += utf8.RuneCountInString(w)
		okStart = okStart || pos == start
		okEnd = okEnd || pos == end
	}
	return okStart && okEnd
}

// WarmUp loads whatever the matcher loads lazily (the word segmenter, when
// a term is boundary-flagged), so a gateway can pay that cost at reload
// time instead of on the first request that needs it.
func (m *Matcher) WarmUp() error {
	if !m.segment {
		return nil
	}
	_, err := segmenter()
	return err
}
