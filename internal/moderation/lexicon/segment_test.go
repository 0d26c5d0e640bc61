package lexicon

import (
	"runtime"
	"testing"
	"time"

	"github.com/go-ego/gse"
)

// TestSegmenterCost measures what the first boundary-flagged hit costs a
// process (the numbers in BENCHMARKS.md). Run with -v.
func TestSegmenterCost(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the gse dictionary; skipped with -short")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	seg, err := gse.NewEmbed("zh_s")
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("gse zh_s dictionary: load %v, retained heap %.0f MB", took.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	if got := seg.Cut("角色情感很丰富", false); len(got) < 2 {
		t.Errorf("Cut = %q", got)
	}
	runtime.KeepAlive(seg)
}
