package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version; a build from a tagged module reports the
// module version instead.
const version = "0.1.0-dev"

func runVersion(ctx context.Context, env Env, args []string) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(env.Stdout, "genguard %s (%s %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
