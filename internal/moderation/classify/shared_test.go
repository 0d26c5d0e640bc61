package classify

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDataDir finds ../shared/data next to the module root (the directory
// holding go.mod, found by walking up from the working directory) or skips.
func sharedDataDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the working directory; cannot locate ../shared/data")
		}
		dir = parent
	}
	data := filepath.Join(filepath.Dir(dir), "shared", "data")
	for _, sub := range []string{"jade", "cold", filepath.Join("benign", "kdconv")} {
		if _, err := os.Stat(filepath.Join(data, sub)); err != nil {
			tb.Skipf("shared datasets not available (%v): skipping; place JADE, COLD and KdConv under %s", err, data)
		}
	}
	return data
}
