package classify

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Example is one labelled text.
type Example struct {
	Text string
	// Label is a class name (Safe or one of the model's risk classes).
	Label string
	// Source names the set the example came from ("jade", "cold",
	// "kdconv/question", …); Eval reports refusal rates per source.
	Source string
	// Key decides the train/held-out split; examples with the same key land
	// on the same side (a KdConv dialogue, for instance). Empty means Text.
	Key string
	// Weight multiplies the example's loss in training; 0 means 1.
	Weight float32
}

// TrainOptions tunes Train. The zero value gives the defaults in brackets.
//
// The defaults were chosen on a validation split carved out of the training
// data (never the held-out set): they trade JADE refusals against false
// refusals on hand-written sensitive-topic questions.
type TrainOptions struct {
	Classes      []Class // class set, Safe included [DefaultClasses()]
	Bits         int     // log2 of hash buckets [18]
	MinN         int     // lowest character n-gram order [1]
	MaxN         int     // highest character n-gram order [3]
	Epochs       int     // passes over the data [10]
	LearningRate float64 // AdaGrad step [0.3]
	L2           float64 // L2 penalty on touched weights [1e-5]
	// ClassWeightPower reweights each class by (mean class size / its size)
	// raised to this power, so the few hundred JADE rows of a risk are not
	// drowned by tens of thousands of chat lines [0.5].
	ClassWeightPower float64
	Threshold        float32 // P(not safe) at which to flag [0.4]
	Seed             uint64  // shuffling seed; equal seeds give equal models
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Classes == nil {
		o.Classes = DefaultClasses()
	}
	if o.Bits == 0 {
		o.Bits = 18
	}
	if o.MinN == 0 {
		o.MinN = 1
	}
	if o.MaxN == 0 {
		o.MaxN = 3
	}
	if o.Epochs == 0 {
		o.Epochs = 10
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.3
	}
	if o.L2 == 0 {
		o.L2 = 1e-5
	}
	if o.ClassWeightPower == 0 {
		o.ClassWeightPower = 0.5
	}
	if o.Threshold == 0 {
		o.Threshold = 0.4
	}
	return o
}

// Train fits a multinomial logistic regression on hashed character n-grams
// with AdaGrad, then quantises the weights to int8 so the trained model and a
// saved-and-loaded copy predict identically.
func Train(examples []Example, opts TrainOptions) (*Model, error) {
	o := opts.withDefaults()
	m, err := newModel(o.Classes, o.Bits, o.MinN, o.MaxN, o.Threshold)
	if err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, errors.New("train: no examples")
	}
	if o.Epochs < 0 || o.LearningRate < 0 || o.L2 < 0 || o.ClassWeightPower < 0 {
		return nil, errors.New("train: negative epochs, learning rate or L2")
	}
	index := make(map[string]int, len(m.classes))
	for i, c := range m.classes {
		index[c.Name] = i
	}
	k := len(m.classes)
	labels := make([]int, len(examples))
	counts := make([]int, k)
	for i, ex := range examples {
		j, ok := index[ex.Label]
		if !ok {
			return nil, fmt.Errorf("train: example %d has unknown label %q", i, ex.Label)
		}
		labels[i] = j
		counts[j]++
	}
	weights := classWeights(counts, o.ClassWeightPower)
	feats := featurize(examples, m)

	w := make([]float32, len(m.q))
	g2 := make([]float32, len(m.q))
	bias := make([]float32, k)
	b2 := make([]float32, k)
	lr, l2 := float32(o.LearningRate), float32(o.L2)
	grad := make([]float32, k)
	logits := make([]float32, k)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	for range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			idx, val := feats.row(i)
			copy(logits, bias)
			for f, b := range idx {
				row := w[int(b)*k : int(b)*k+k]
				for j, wj := range row {
					logits[j] += val[f] * wj
				}
			}
			softmax(logits)
			cw := weights[labels[i]]
			if ew := examples[i].Weight; ew > 0 {
				cw *= ew
			}
			for j := range grad {
				grad[j] = cw * logits[j]
			}
			grad[labels[i]] -= cw
			for j, gj := range grad {
				b2[j] += gj * gj
				bias[j] -= lr * gj / sqrt32(b2[j]+1e-8)
			}
			for f, b := range idx {
				base := int(b) * k
				for j, gj := range grad {
					gw := gj*val[f] + l2*w[base+j]
					g2[base+j] += gw * gw
					w[base+j] -= lr * gw / sqrt32(g2[base+j]+1e-8)
				}
			}
		}
	}
	m.bias = bias
	m.quantise(w)
	return m, nil
}

// newModel validates the shape and allocates an all-zero model.
func newModel(classes []Class, bits, minN, maxN int, threshold float32) (*Model, error) {
	if bits < minBits || bits > maxBits {
		return nil, fmt.Errorf("bits %d out of range [%d, %d]", bits, minBits, maxBits)
	}
	if minN < 1 || maxN < minN || maxN > maxOrder {
		return nil, fmt.Errorf("n-gram orders %d..%d out of range [1, %d]", minN, maxN, maxOrder)
	}
	if len(classes) < 2 || len(classes) > maxClasses {
		return nil, fmt.Errorf("%d classes, want 2 to %d", len(classes), maxClasses)
	}
	if (1<<bits)*len(classes) > maxWeights {
		return nil, fmt.Errorf("%d buckets × %d classes exceeds %d weights", 1<<bits, len(classes), maxWeights)
	}
	if !(threshold >= 0 && threshold <= 1) {
		return nil, fmt.Errorf("threshold %v out of [0, 1]", threshold)
	}
	m := &Model{safe: -1, bits: bits, minN: minN, maxN: maxN, threshold: threshold}
	seen := make(map[string]bool, len(classes))
	for i, c := range classes {
		if c.Name == "" || len(c.Name) > maxNameLen || seen[c.Name] {
			return nil, fmt.Errorf("class %d: empty, too long or duplicate name %q", i, c.Name)
		}
		seen[c.Name] = true
		if len(c.Risks) > maxClassRisks {
			return nil, fmt.Errorf("class %q: %d risk codes, at most %d", c.Name, len(c.Risks), maxClassRisks)
		}
		for _, r := range c.Risks {
			if !r.Valid() {
				return nil, fmt.Errorf("class %q: invalid risk code %q", c.Name, r)
			}
		}
		if c.Name == Safe {
			if len(c.Risks) > 0 {
				return nil, errors.New("class safe must map to no risk")
			}
			m.safe = i
		}
		m.classes = append(m.classes, Class{Name: c.Name, Risks: slices.Clone(c.Risks)})
	}
	if m.safe < 0 {
		return nil, errors.New("no class named safe")
	}
	m.q = make([]int8, (1<<bits)*len(classes))
	m.scales = make([]float32, len(classes))
	m.bias = make([]float32, len(classes))
	return m, nil
}

// quantise stores w as int8 with one scale per class. Per-class scales keep rare classes' small weights
// from collapsing to zero next to a dominant class.
func (m *Model) quantise(w []float32) {
	k := len(m.classes)
	for j := range k {
		var hi float32
		for i := j; i < len(w); i += k {
			hi = max(hi, abs32(w[i]))
		}
		m.scales[j] = hi / 127
	}
	for i, v := range w {
		s := m.scales[i%k]
		if s == 0 {
			m.q[i] = 0
		} else {
			m.q[i] = int8(math.Round(float64(v / s)))
		}
	}
}

// classWeights returns (mean class size / size)^power per class.
func classWeights(counts []int, power float64) []float32 {
	total, present := 0, 0
	for _, c := range counts {
		total += c
		if c > 0 {
			present++
		}
	}
	out := make([]float32, len(counts))
	for j, c := range counts {
		if c > 0 {
			out[j] = float32(math.Pow(float64(total)/float64(present)/float64(c), power))
		}
	}
	return out
}

// featureSet holds every example's merged, scaled features in flat arrays,
// computed once so epochs only do arithmetic.
type featureSet struct {
	idx []uint32
	val []float32
	off []int
}

func (fs *featureSet) row(i int) ([]uint32, []float32) {
	return fs.idx[fs.off[i]:fs.off[i+1]], fs.val[fs.off[i]:fs.off[i+1]]
}

func featurize(examples []Example, m *Model) *featureSet {
	fs := &featureSet{off: make([]int, 1, len(examples)+1)}
	var buf []uint32
	for _, ex := range examples {
		buf = buf[:0]
		g := newNgrams(ex.Text, m.minN, m.maxN, uint32(1)<<m.bits-1)
		for {
			b, _, _, ok := g.next()
			if !ok {
				break
			}
			buf = append(buf, b)
		}
		if len(buf) > 0 {
			scale := float32(1 / math.Sqrt(float64(len(buf))))
			slices.Sort(buf)
			for i := 0; i < len(buf); {
				j := i
				for j < len(buf) && buf[j] == buf[i] {
					j++
				}
				fs.idx = append(fs.idx, buf[i])
				fs.val = append(fs.val, scale*float32(j-i))
				i = j
			}
		}
		fs.off = append(fs.off, len(fs.idx))
	}
	return fs
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
