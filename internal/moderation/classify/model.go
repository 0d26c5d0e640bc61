package classify

import (
	"math"
	"slices"

	"github.com/genguard/genguard/internal/risk"
)

// maxClasses bounds the class count so Predict can keep logits on the stack
// and Load can bound what a hostile file asks for.
const maxClasses = 32

// Model is a trained classifier. It is immutable, so Predict is safe for
// concurrent use.
type Model struct {
	classes   []Class
	safe      int       // index of the Safe class
	bits      int       // log2 of the number of hash buckets
	minN      int       // lowest n-gram order
	maxN      int       // highest n-gram order
	threshold float32   // flag when P(not safe) ≥ threshold
	scales    []float32 // per-class dequantisation scale (weight = q·scale)
	bias      []float32
	// q holds the int8 weights, bucket-major (q[b*K+k]). Predict sums them
	// as integers and scales once per class: 4× less memory traffic than
	// float32 weights, and the same arithmetic since every feature of a
	// text carries the same value.
	q []int8
}

// Prediction is the model's answer for one text.
type Prediction struct {
	// Flagged reports Unsafe ≥ the model's threshold.
	Flagged bool
	// Unsafe is 1 − P(safe): the probability mass on all risk classes.
	Unsafe float32
	// Scores holds every class's probability, in the model's class order.
	Scores []ClassScore
	// Risks lists the codes of the likeliest risk classes when Flagged, most
	// likely first; nil otherwise.
	Risks []risk.Code
	// Evidence lists the n-grams that pushed hardest toward the top risk
	// class, strongest first; empty when not Flagged.
	Evidence []Evidence
}

// ClassScore is one class's probability.
type ClassScore struct {
	Class string
	Prob  float32
}

// Evidence is one n-gram of the input (as written, a substring of it) and
// how much it raised the top risk class's log-odds against safe.
type Evidence struct {
	NGram  string
	Weight float32
}

// maxEvidence is how many n-grams a prediction explains itself with.
const maxEvidence = 5

// minRiskShare is the fraction of the threshold a secondary class needs to
// be named in Risks; it keeps co-occurring risks visible without noise.
const minRiskShare = 0.5

// Classes returns the model's classes (a copy).
func (m *Model) Classes() []Class {
	out := make([]Class, len(m.classes))
	for i, c := range m.classes {
		out[i] = Class{Name: c.Name, Risks: slices.Clone(c.Risks)}
	}
	return out
}

// Threshold returns the probability of "not safe" at which Predict flags.
func (m *Model) Threshold() float32 { return m.threshold }

// WithThreshold returns a model sharing m's weights that flags at t. Operators
// trade refusals against false refusals with it without retraining.
func (m *Model) WithThreshold(t float32) *Model {
	c := *m
	c.threshold = min(max(t, 0), 1)
	return &c
}

// Predict classifies text.
func (m *Model) Predict(text string) Prediction {
	k := len(m.classes)
	n := ngramCount(countRunes(text), m.minN, m.maxN)
	if n == 0 {
		// Nothing to judge (empty, blank or invisible text): safe by
		// definition rather than by the class priors in the bias.
		p := Prediction{Scores: make([]ClassScore, k)}
		for j, c := range m.classes {
			p.Scores[j].Class = c.Name
		}
		p.Scores[m.safe].Prob = 1
		return p
	}
	var acc [maxClasses]int32
	g := newNgrams(text, m.minN, m.maxN, uint32(1)<<m.bits-1)
	for {
		b, _, _, ok := g.next()
		if !ok {
			break
		}
		row := m.q[int(b)*k : int(b)*k+k]
		for j, q := range row {
			acc[j] += int32(q)
		}
	}
	// 1/sqrt(n) keeps long and short texts on one scale.
	scale := float32(1 / math.Sqrt(float64(n)))
	var logits [maxClasses]float32
	for j := range k {
		logits[j] = m.bias[j] + scale*m.scales[j]*float32(acc[j])
	}
	probs := softmax(logits[:k])

	p := Prediction{Scores: make([]ClassScore, k)}
	top := -1
	for j := range k {
		p.Scores[j] = ClassScore{Class: m.classes[j].Name, Prob: probs[j]}
		if j != m.safe && (top < 0 || probs[j] > probs[top]) {
			top = j
		}
	}
	p.Unsafe = 1 - probs[m.safe]
	p.Flagged = p.Unsafe >= m.threshold && top >= 0
	if !p.Flagged {
		return p
	}
	p.Risks = m.risks(probs, top)
	p.Evidence = m.explain(text, top)
	return p
}

// risks names the top class's codes and those of any other risk class close
// enough to the threshold to matter, most likely first.
func (m *Model) risks(probs []float32, top int) []risk.Code {
	order := make([]int, 0, len(probs))
	for j, pr := range probs {
		if j == top || (j != m.safe && pr >= m.threshold*minRiskShare) {
			order = append(order, j)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	var out []risk.Code
	for _, j := range order {
		for _, c := range m.classes[j].Risks {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// explain re-walks the n-grams and keeps the strongest pushes toward class
// top relative to safe. A second pass only runs for flagged texts, so the
// common benign path stays cheap.
func (m *Model) explain(text string, top int) []Evidence {
	var best [maxEvidence]Evidence
	n := 0
	g := newNgrams(text, m.minN, m.maxN, uint32(1)<<m.bits-1)
	for {
		b, s, e, ok := g.next()
		if !ok {
			break
		}
		w := m.weight(b, top) - m.weight(b, m.safe)
		if w <= 0 || (n == maxEvidence && w <= best[n-1].Weight) {
			continue
		}
		gram := text[s:e]
		if slices.ContainsFunc(best[:n], func(ev Evidence) bool { return ev.NGram == gram }) {
			continue
		}
		i := n
		if n < maxEvidence {
			n++
		} else {
			i = maxEvidence - 1
		}
		for i > 0 && best[i-1].Weight < w {
			best[i] = best[i-1]
			i--
		}
		best[i] = Evidence{NGram: gram, Weight: w}
	}
	if n == 0 {
		return nil
	}
	return slices.Clone(best[:n])
}

// weight is the dequantised weight of bucket b for class j.
func (m *Model) weight(b uint32, j int) float32 {
	return float32(m.q[int(b)*len(m.classes)+j]) * m.scales[j]
}

// softmax turns logits into probabilities in place and returns them.
func softmax(z []float32) []float32 {
	hi := z[0]
	for _, v := range z[1:] {
		hi = max(hi, v)
	}
	var sum float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - hi)))
		z[i] = e
		sum += e
	}
	for i := range z {
		z[i] /= sum
	}
	return z
}
