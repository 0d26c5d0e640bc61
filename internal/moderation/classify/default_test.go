package classify

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "retrain the embedded model.bin and rewrite fuzz seed corpora")

// TestDefaultModel checks the embedded model, and with -update retrains it
// from ../shared/data and rewrites model.bin.
func TestDefaultModel(t *testing.T) {
	if *update {
		dir := sharedDataDir(t)
		start := time.Now()
		m, rep, err := TrainFromDir(dir, TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("trained in %v", time.Since(start))
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("model.bin", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("model.bin: %d bytes", buf.Len())
		var md bytes.Buffer
		rep.WriteMarkdown(&md)
		t.Log("\n" + md.String())
		t.Log("model.bin rewritten; the embedded copy is stale until the next build")
		return
	}
	m, err := Default()
	if err != nil {
		t.Fatalf("Default() error: %v", err)
	}
	got := m.Classes()
	want := DefaultClasses()
	if !slices.EqualFunc(got, want, func(a, b Class) bool { return a.Name == b.Name && slices.Equal(a.Risks, b.Risks) }) {
		t.Errorf("Default().Classes() = %v, want %v", got, want)
	}
}
