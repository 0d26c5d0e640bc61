package classify

import (
	"strings"
	"testing"
)

// prompt1KB is a 1 KB Chinese prompt written for this benchmark.
func prompt1KB() string {
	const para = "我下个月要带父母去云南旅行，一共七天，预算两万元左右。父亲膝盖不太好，不能走太多山路，母亲喜欢拍照和看花。" +
		"请帮我规划一条从昆明出发，经过大理和丽江的路线，推荐适合老人的酒店、当地特色美食，以及每天的行程安排和注意事项。"
	var b strings.Builder
	for b.Len() < 1024 {
		b.WriteString(para)
	}
	s := b.String()
	for i := 1024; i < len(s); i++ {
		if s[i]&0xc0 != 0x80 { // cut on a rune boundary
			return s[:i]
		}
	}
	return s
}

func BenchmarkPredict1KB(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	text := prompt1KB()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(text)
	}
}

// BenchmarkPredict1KBFlagged measures the slower path that also explains.
func BenchmarkPredict1KBFlagged(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	m = m.WithThreshold(0)
	text := prompt1KB()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(text)
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}
