package classify

import (
	"path/filepath"
	"testing"

	"github.com/genguard/genguard/internal/sharedtest"
)

// sharedDataDir is ../shared/data with JADE, COLD and KdConv, or skips.
func sharedDataDir(tb testing.TB) string {
	return filepath.Join(sharedtest.Dir(tb, "data/jade", "data/cold", "data/benign/kdconv"), "data")
}
