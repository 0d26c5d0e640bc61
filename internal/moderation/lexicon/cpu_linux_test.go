package lexicon

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time used by the calling OS thread. The machine
// is shared, so benchmarks also report throughput per CPU-second of the
// benchmarking thread, which other load does not inflate.
func threadCPU() float64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loopCPU runs f in a b.Loop on one locked thread and reports MB per
// CPU-second as "cpu-MB/s".
func loopCPU(b *testing.B, bytes int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(bytes))
	n := 0
	start := threadCPU()
	for b.Loop() {
		f()
		n++
	}
	if cpu := threadCPU() - start; cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(n)/cpu/1e6, "cpu-MB/s")
	}
}
