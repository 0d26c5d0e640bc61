package moderation

import (
	"context"
	"testing"
	"unicode/utf8"
)

// benchAnswer is a model-like answer: benign Chinese prose with Latin,
// numbers and punctuation, about 1 KB.
const benchAnswer = "生成式人工智能服务提供者应当依法开展预训练、优化训练等训练数据处理活动。" +
	"In practice, a provider checks every input and every output against the 31 risks of Appendix A. " +
	"关于这个问题，我们可以从三个方面来看：第一，数据来源要合法；第二，要尊重知识产权；" +
	"第三，涉及个人信息的，应当取得个人同意。总的来说，2024年以来监管要求越来越细，" +
	"企业需要建立关键词库、分类模型和人工审核相结合的机制，并且每周更新关键词库。" +
	"如果你还有其他问题，欢迎继续提问！The answer above is for reference only."

// maxSpanOnly hides Pending, which is how a stream treated every scanner
// before Pending existed: a fixed holdback of MaxSpan-1 runes.
type maxSpanOnly struct{ Scanner }

// chunks splits text into pieces of n runes, the size of model tokens.
func chunks(text string, n int) []string {
	var out []string
	rs := []rune(text)
	for i := 0; i < len(rs); i += n {
		out = append(out, string(rs[i:min(i+n, len(rs))]))
	}
	return out
}

// BenchmarkStream measures moderation cost per streamed chunk (3-rune
// pieces of a 1 KB answer) and reports the lag: the mean number of runes
// held back after each chunk, and the runes of the answer that arrived
// before its first rune was released.
func BenchmarkStream(b *testing.B) {
	p := starterPipeline(b)
	fixed, err := New(maxSpanOnly{p.current()}, Options{Input: true, Output: true})
	if err != nil {
		b.Fatal(err)
	}
	pieces := chunks(benchAnswer, 3)
	for _, mode := range []struct {
		name string
		p    *Pipeline
	}{
		{"maxspan", fixed},
		{"pending", p},
	} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			var held, first, n int
			for b.Loop() {
				st := mode.p.NewStream()
				arrived, released := 0, false
				for _, c := range pieces {
					out, v := st.Push(ctx, c)
					if v.Decision == Block {
						b.Fatal("blocked a benign answer")
					}
					arrived += utf8.RuneCountInString(c)
					if !released && out != "" {
						released = true
						first += arrived
					}
					held += st.Held()
					n++
				}
				st.Finish(ctx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/chunk")
			b.ReportMetric(float64(held)/float64(n), "held-runes/chunk")
			b.ReportMetric(float64(first)/float64(b.N), "runes-before-first-release")
		})
	}
}
