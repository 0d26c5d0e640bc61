package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/genguard/genguard/internal/label"
)

// inspectResult is one JSON line of genguard inspect: the label state of
// 标识办法 Art. 6 (is, may_be, suspected, none) with its evidence.
type inspectResult struct {
	File string `json:"file"`
	label.Report
}

// runInspect reports what a propagation platform must know about each
// uploaded file: whether it is, may be, or is suspected to be generated.
func runInspect(ctx context.Context, env Env, args []string) error {
	flags := newFlagSet("inspect", env)
	declared := flags.Bool("declared", false, "the uploader declared the content AI-generated (turns none into may_be)")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return fmt.Errorf("%w: genguard inspect [--declared] FILE|DIR…", errUsage)
	}
	files, err := collect(flags.Args())
	if err != nil {
		return err
	}
	return eachFile(env, "inspect", files, func(f inputFile) (any, bool) {
		rep, err := inspectFile(f.path, *declared)
		if err != nil {
			return fileError{File: f.path, Status: "error", Error: err.Error()}, false
		}
		return inspectResult{File: f.path, Report: rep}, true
	})
}

// inspectFile reports on one file. A truncated or malformed file is an
// error here, not a "suspected" trace: nothing can be said about it.
func inspectFile(path string, declared bool) (label.Report, error) {
	data, err := readFile(path)
	if err != nil {
		return label.Report{}, err
	}
	if _, _, err := label.Read(data, label.Options{}); errors.Is(err, label.ErrMalformed) || errors.Is(err, label.ErrUnknownFormat) {
		return label.Report{}, err
	}
	return label.Inspect(data, label.InspectOptions{Declared: declared})
}
