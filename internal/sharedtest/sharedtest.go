// Package sharedtest locates the project's shared data (../shared beside the
// repository: public word lists, datasets and the Measures text), which is
// never copied into the repository. Tests that need it skip, with a message
// saying what is missing, when it is absent.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared directory and checks that each of need (paths
// relative to it, e.g. "data/jade") exists; otherwise it skips the test.
func Dir(tb testing.TB, need ...string) string {
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
			tb.Skip("no go.mod above the working directory; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	for _, n := range append([]string{"data"}, need...) {
		if _, err := os.Stat(filepath.Join(shared, n)); err != nil {
			tb.Skipf("shared data not available (%v): the public lists and datasets are not in the repository; place them under %s", err, shared)
		}
	}
	return shared
}
