package main

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// subBits sets the histogram's precision: 2^subBits linear sub-buckets per
// power of two, so a recorded value is reported within 1/128 (< 0.8 %) of
// what was measured — far finer than the run-to-run noise of this machine —
// while the whole range from 1 ns to hours fits in a few thousand counters.
const (
	subBits  = 7
	subCount = 1 << subBits
)

// hist is an HDR-style log-linear latency histogram of non-negative
// durations. Unlike a sorted-sample list its size does not grow with the
// number of requests, so a long run at a high rate costs nothing extra.
// It is not safe for concurrent use; each recorder owns one and they are
// merged at the end.
type hist struct {
	counts []uint64
	n      uint64
	min    int64
	max    int64
	sum    float64
}

func newHist() *hist { return &hist{min: math.MaxInt64} }

// bucketOf maps v ≥ 0 to its bucket: values below subCount are exact, above
// that each power of two [2^e, 2^(e+1)) is split into subCount equal parts.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // ≥ subBits
	shift := e - subBits
	sub := int(uint64(v)>>shift) - subCount // in [0, subCount)
	return (shift+1)*subCount + sub
}

// bucketRange is the inclusive [lo, hi] range of values of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := i/subCount - 1
	sub := int64(i%subCount) + subCount
	lo = sub << shift
	hi = lo + (int64(1) << shift) - 1
	return lo, hi
}

// record adds one duration; negative values (clock steps) count as 0.
func (h *hist) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	i := bucketOf(v)
	if i >= len(h.counts) {
		h.counts = slices.Grow(h.counts, i+1-len(h.counts))[:i+1]
	}
	h.counts[i]++
	h.n++
	h.min = min(h.min, v)
	h.max = max(h.max, v)
	h.sum += float64(v)
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = slices.Grow(h.counts, len(o.counts)-len(h.counts))[:len(o.counts)]
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
	h.sum += o.sum
}

// quantile returns the value at quantile q in [0, 1] by the nearest-rank
// rule (the smallest value with at least q·n values at or below it),
// reported as the middle of its bucket and clamped to the exact min and max.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *hist) count() uint64 { return h.n }

func (h *hist) maxValue() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.max)
}

func (h *hist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// samples is an exact list of signed durations, for the paired
// gateway−direct differences, which can be negative and so do not fit the
// log histogram. A run holds at most rate×duration of them.
type samples []time.Duration

// quantile uses the same nearest-rank rule as hist.quantile; it sorts in
// place.
func (s samples) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}
