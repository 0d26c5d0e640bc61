package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// quantiles are the reported points; dist holds them plus the maximum.
var quantiles = []float64{0.5, 0.9, 0.99, 0.999}

var distNames = []string{"p50", "p90", "p99", "p99.9", "max"}

type dist [5]time.Duration

func histDist(h *hist) dist {
	var d dist
	for i, q := range quantiles {
		d[i] = h.quantile(q)
	}
	d[4] = h.maxValue()
	return d
}

func samplesDist(s samples) dist {
	var d dist
	for i, q := range quantiles {
		d[i] = s.quantile(q)
	}
	if len(s) > 0 {
		d[4] = s[len(s)-1] // sorted by quantile
	}
	return d
}

func (d dist) minus(o dist) dist {
	var r dist
	for i := range d {
		r[i] = d[i] - o[i]
	}
	return r
}

// pathStats summarise one target's side of an open-loop run.
type pathStats struct {
	OK     int
	Errors map[string]int
	Rate   float64 // successful responses completed per second in the window
	Lag    dist    // how late sends left (client-side scheduling)
	TTFT   dist    // streaming: first content delta
	Total  dist    // whole response
}

// openStats summarise one open-loop run.
type openStats struct {
	Stream  bool
	Direct  pathStats
	Gateway pathStats
	// Paired are per-request differences gateway − direct within each
	// pair (both OK), sent a half period apart.
	PairedTotal dist
	PairedTTFT  dist
	Pairs       int
	Dropped     int
}

func summarizeOpen(r *openRun, stream bool) openStats {
	st := openStats{Stream: stream, Dropped: r.dropped}
	window := r.to.Sub(r.from).Seconds()
	var dTotal, dTTFT samples
	for k, ps := range []*pathStats{&st.Direct, &st.Gateway} {
		lag, ttft, total := newHist(), newHist(), newHist()
		ps.Errors = map[string]int{}
		done := 0
		for _, p := range r.pairs {
			// Throughput counts every completion inside the window,
			// including those of warm-up sends that finished late.
			if p[k].ok && !p[k].end.Before(r.from) && !p[k].end.After(r.to) {
				done++
			}
		}
		for _, p := range r.measured() {
			res := p[k]
			if !res.ok {
				ps.Errors[res.err]++
				continue
			}
			ps.OK++
			lag.record(res.lag)
			ttft.record(res.ttft)
			total.record(res.total)
		}
		ps.Rate = float64(done) / window
		ps.Lag, ps.TTFT, ps.Total = histDist(lag), histDist(ttft), histDist(total)
	}
	for _, p := range r.measured() {
		if p[0].ok && p[1].ok {
			dTotal = append(dTotal, p[1].total-p[0].total)
			dTTFT = append(dTTFT, p[1].ttft-p[0].ttft)
		}
	}
	st.Pairs = len(dTotal)
	st.PairedTotal, st.PairedTTFT = samplesDist(dTotal), samplesDist(dTTFT)
	return st
}

// satStats summarise one closed-loop run against one target.
type satStats struct {
	OK     int
	Errors int
	Rate   float64
	Total  dist
}

func summarizeClosed(rs []result, d time.Duration) satStats {
	var s satStats
	h := newHist()
	for _, r := range rs {
		if !r.ok {
			s.Errors++
			continue
		}
		s.OK++
		h.record(r.total)
	}
	s.Rate = float64(s.OK) / d.Seconds()
	s.Total = histDist(h)
	return s
}

// median of durations; even counts average the middle two.
func medianDur(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianFloat(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDist(ds []dist) dist {
	var out dist
	for i := range out {
		col := make([]time.Duration, len(ds))
		for j, d := range ds {
			col[j] = d[i]
		}
		out[i] = medianDur(col)
	}
	return out
}

// us formats a signed duration in µs, switching to ms and s where µs
// digits would only be noise.
func us(d time.Duration) string {
	v := float64(d) / float64(time.Microsecond)
	switch a := max(v, -v); {
	case a >= 1e6:
		return fmt.Sprintf("%.2f s", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1f ms", v/1e3)
	case a >= 1000:
		return fmt.Sprintf("%.0f µs", v)
	}
	return fmt.Sprintf("%.1f µs", v)
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func row(w io.Writer, name string, cells ...string) {
	fmt.Fprintf(w, "| %s | %s |\n", name, strings.Join(cells, " | "))
}

func distCells(d dist) []string {
	out := make([]string, len(d))
	for i, v := range d {
		out[i] = us(v)
	}
	return out
}

func errSummary(runs []openStats, k int) string {
	total := map[string]int{}
	for _, r := range runs {
		ps := r.Direct
		if k == 1 {
			ps = r.Gateway
		}
		for e, n := range ps.Errors {
			total[e] += n
		}
	}
	if len(total) == 0 {
		return "0"
	}
	var parts []string
	for _, e := range slices.Sorted(maps.Keys(total)) {
		parts = append(parts, fmt.Sprintf("%d × %s", total[e], e))
	}
	return strings.Join(parts, ", ")
}

// writeOpen prints the median of the runs as a Markdown table, with every
// run's key numbers below it so the spread is visible.
func writeOpen(w io.Writer, title string, runs []openStats) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### %s — median of %d runs\n\n", title, len(runs))
	type metric struct {
		name           string
		direct, gw, pd func(openStats) dist
	}
	metrics := []metric{{"total", func(s openStats) dist { return s.Direct.Total }, func(s openStats) dist { return s.Gateway.Total }, func(s openStats) dist { return s.PairedTotal }}}
	if runs[0].Stream {
		metrics = append([]metric{{"TTFT", func(s openStats) dist { return s.Direct.TTFT }, func(s openStats) dist { return s.Gateway.TTFT }, func(s openStats) dist { return s.PairedTTFT }}}, metrics...)
	}
	fmt.Fprintf(w, "| | %s |\n|---|%s\n", strings.Join(distNames, " | "), strings.Repeat("---:|", len(distNames)))
	for _, m := range metrics {
		var ds, gs, ads, pds []dist
		for _, r := range runs {
			ds, gs, pds = append(ds, m.direct(r)), append(gs, m.gw(r)), append(pds, m.pd(r))
			ads = append(ads, m.gw(r).minus(m.direct(r)))
		}
		d, g := medianDist(ds), medianDist(gs)
		row(w, m.name+": direct to mock", distCells(d)...)
		row(w, m.name+": through gateway", distCells(g)...)
		row(w, "**"+m.name+": added (gateway − direct, per percentile)**", distCells(medianDist(ads))...)
		var rc []string
		for i := range g {
			rc = append(rc, ratio(g[i], d[i]))
		}
		row(w, m.name+": ratio gateway / direct", rc...)
		row(w, m.name+": paired per-request difference", distCells(medianDist(pds))...)
	}
	var dr, gr []float64
	var lagD, lagG []time.Duration
	pairs, dropped := 0, 0
	for _, r := range runs {
		dr, gr = append(dr, r.Direct.Rate), append(gr, r.Gateway.Rate)
		lagD, lagG = append(lagD, r.Direct.Lag[2]), append(lagG, r.Gateway.Lag[2])
		pairs += r.Pairs
		dropped += r.Dropped
	}
	fmt.Fprintf(w, "\nAchieved rate (median): direct %.0f req/s, gateway %.0f req/s. Errors: direct %s; gateway %s. Dropped sends (client cap): %d. Pairs compared: %d. Client send lag p99 (median): direct %s, gateway %s.\n",
		medianFloat(dr), medianFloat(gr), errSummary(runs, 0), errSummary(runs, 1), dropped, pairs, us(medianDur(lagD)), us(medianDur(lagG)))
	fmt.Fprintf(w, "\nPer run (added = gateway − direct):\n\n")
	for i, r := range runs {
		m := metrics[0]
		add := m.gw(r).minus(m.direct(r))
		fmt.Fprintf(w, "- run %d: %s added p50 %s, p99 %s, p99.9 %s; paired p50 %s, p99 %s; direct p50/p99 %s / %s; gateway p50/p99 %s / %s; rates %.0f / %.0f req/s\n",
			i+1, m.name, us(add[0]), us(add[2]), us(add[3]), us(m.pd(r)[0]), us(m.pd(r)[2]),
			us(m.direct(r)[0]), us(m.direct(r)[2]), us(m.gw(r)[0]), us(m.gw(r)[2]), r.Direct.Rate, r.Gateway.Rate)
	}
}

// writeSat prints the closed-loop results.
func writeSat(w io.Writer, title string, direct, gw []satStats) {
	if len(direct) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### %s — median of %d runs\n\n", title, len(direct))
	fmt.Fprintf(w, "| | req/s | p50 | p99 | p99.9 | errors |\n|---|---:|---:|---:|---:|---:|\n")
	med := func(ss []satStats) (float64, dist, int) {
		var rates []float64
		var ds []dist
		errs := 0
		for _, s := range ss {
			rates, ds, errs = append(rates, s.Rate), append(ds, s.Total), errs+s.Errors
		}
		return medianFloat(rates), medianDist(ds), errs
	}
	dr, dd, de := med(direct)
	gr, gd, ge := med(gw)
	fmt.Fprintf(w, "| direct to mock | %.0f | %s | %s | %s | %d |\n", dr, us(dd[0]), us(dd[2]), us(dd[3]), de)
	fmt.Fprintf(w, "| through gateway | %.0f | %s | %s | %s | %d |\n", gr, us(gd[0]), us(gd[2]), us(gd[3]), ge)
	if dr > 0 {
		fmt.Fprintf(w, "| ratio gateway / direct | %.2f× | %s | %s | %s | |\n", gr/dr, ratio(gd[0], dd[0]), ratio(gd[2], dd[2]), ratio(gd[3], dd[3]))
	}
	var parts []string
	for i := range direct {
		parts = append(parts, fmt.Sprintf("run %d: %.0f / %.0f req/s", i+1, direct[i].Rate, gw[i].Rate))
	}
	fmt.Fprintf(w, "\nPer run (direct / gateway): %s.\n", strings.Join(parts, "; "))
}
