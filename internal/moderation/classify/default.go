package classify

import (
	"bytes"
	_ "embed"
)

// defaultModel is the model trained by `go test -run TestDefaultModel
// -update` (TrainFromDir with zero TrainOptions on ../shared/data).
//
//go:embed model.bin
var defaultModel []byte

// Default returns a fresh copy of the model embedded in the binary. Each call
// decodes it (≈ 4 MB in memory), so callers load it once and share it.
func Default() (*Model, error) {
	return Load(bytes.NewReader(defaultModel))
}
