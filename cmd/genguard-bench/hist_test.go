package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	// Every value lands in a bucket whose range holds it, buckets are
	// ordered, and the range is within 1/subCount of the value.
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 123456789, 1<<40 + 12345} {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if i < prev {
			t.Errorf("bucket of %d (%d) before bucket of a smaller value (%d)", v, i, prev)
		}
		prev = i
		if width := hi - lo; float64(width) > float64(v)/subCount {
			t.Errorf("value %d: bucket width %d exceeds 1/%d of it", v, width, subCount)
		}
	}
	for i := range 5000 {
		lo, hi := bucketRange(i)
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d = [%d, %d] maps back to %d, %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if i > 0 {
			_, phi := bucketRange(i - 1)
			if phi+1 != lo {
				t.Fatalf("gap or overlap between bucket %d (ends %d) and %d (starts %d)", i-1, phi, i, lo)
			}
		}
	}
}

func TestQuantileMatchesSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHist()
	var exact samples
	for range 20000 {
		// Log-normal-ish latencies from 10 µs to ~100 ms.
		d := time.Duration(float64(10*time.Microsecond) * (1 + rng.ExpFloat64()*rng.ExpFloat64()*50))
		h.record(d)
		exact = append(exact, d)
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		want := exact.quantile(q)
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff > 1.0/subCount || diff < -1.0/subCount {
			t.Errorf("q%.3f = %v, exact %v (%.2f%% off)", q, got, want, diff*100)
		}
	}
	if h.maxValue() != slices.Max(exact) || h.count() != uint64(len(exact)) {
		t.Errorf("max %v count %d, want %v %d", h.maxValue(), h.count(), slices.Max(exact), len(exact))
	}
}

func TestQuantileSmall(t *testing.T) {
	h := newHist()
	if h.quantile(0.5) != 0 || h.maxValue() != 0 || h.mean() != 0 {
		t.Error("empty histogram should report zeros")
	}
	for _, v := range []time.Duration{5, 1, 4, 2, 3, -7} { // -7 counts as 0
		h.record(v)
	}
	// Nearest rank over {0,1,2,3,4,5}: p50 is the 3rd value.
	if got := h.quantile(0.5); got != 2 {
		t.Errorf("p50 = %v, want 2", got)
	}
	if got := h.quantile(1); got != 5 {
		t.Errorf("p100 = %v, want 5", got)
	}
	if got := h.quantile(0); got != 0 {
		t.Errorf("p0 = %v, want 0", got)
	}
}

func TestMerge(t *testing.T) {
	a, b, all := newHist(), newHist(), newHist()
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
		all.record(d)
	}
	a.merge(b)
	a.merge(newHist())
	for _, q := range quantiles {
		if a.quantile(q) != all.quantile(q) {
			t.Errorf("merged q%.3f = %v, want %v", q, a.quantile(q), all.quantile(q))
		}
	}
	if a.count() != all.count() || a.maxValue() != all.maxValue() || a.mean() != all.mean() {
		t.Errorf("merged count/max/mean differ")
	}
}

func TestSignedSamples(t *testing.T) {
	s := samples{-30, 10, -10, 20, 0}
	if got := s.quantile(0.5); got != 0 {
		t.Errorf("p50 = %v, want 0", got)
	}
	if d := samplesDist(s); d[0] != 0 || d[4] != 20 {
		t.Errorf("dist = %v", d)
	}
	if (samples{}).quantile(0.5) != 0 {
		t.Error("empty samples should report 0")
	}
}

func TestMedian(t *testing.T) {
	if got := medianDur([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := medianDur([]time.Duration{4, 1, 2, 3}); got != 2 {
		t.Errorf("even median = %v, want 2 (integer mean of 2 and 3)", got)
	}
	if got := medianFloat([]float64{1, 5}); got != 3 {
		t.Errorf("medianFloat = %v", got)
	}
}
