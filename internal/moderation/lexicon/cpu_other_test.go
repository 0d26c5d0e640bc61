//go:build !linux

package lexicon

import "testing"

func loopCPU(b *testing.B, bytes int, f func()) {
	b.SetBytes(int64(bytes))
	for b.Loop() {
		f()
	}
}
