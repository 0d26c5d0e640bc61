package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genguard/genguard/internal/label"
)

// propagateResult is one JSON line of genguard propagate.
type propagateResult struct {
	File  string      `json:"file"`
	Out   string      `json:"out,omitempty"`
	State string      `json:"state"`
	Label *label.AIGC `json:"label,omitempty"`
}

// runPropagate is the propagation platform's duty (labelling Measures
// Art. 6): for each uploaded file that is, may be or is suspected to be
// generated, write the platform's ContentPropagator and PropagateID (signed
// in ReservedCode2 with --key) while keeping exactly one label; a file with
// no label and no trace is left alone unless the uploader declared it
// generated (then it gets Label 2).
func runPropagate(ctx context.Context, env Env, args []string) error {
	flags := newFlagSet("propagate", env)
	propagator := flags.String("propagator", "", "ContentPropagator: the platform's name or code (printable ASCII; required)")
	id := flags.String("id", "", "PropagateID: the platform's content number (default: a random id per file)")
	keyFile := flags.String("key", "", "SM2 private key (PEM) to sign ReservedCode2")
	declared := flags.Bool("declared", false, "the uploader declared the content AI-generated")
	if err := parse(flags, args); err != nil {
		return err
	}
	usage := fmt.Errorf("%w: genguard propagate --propagator CODE [--id ID] [--key SM2.pem] [--declared] IN OUT", errUsage)
	if flags.NArg() != 2 || *propagator == "" {
		return usage
	}
	if err := (label.AIGC{Label: label.LabelIs, ContentPropagator: *propagator, PropagateID: *id}).Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	signer, err := optionalSigner(*keyFile)
	if err != nil {
		return err
	}
	jobs, err := planInOut(flags.Arg(0), flags.Arg(1))
	if err != nil {
		return err
	}
	if *id != "" && len(jobs) > 1 {
		return fmt.Errorf("%w: --id names one file's content; leave it out for a directory", errUsage)
	}
	return eachFile(env, "propagate", jobs, func(f inputFile) (any, bool) {
		data, err := readFile(f.path)
		if err != nil {
			return fileError{File: f.path, Status: "error", Error: err.Error()}, false
		}
		pid := *id
		if pid == "" {
			pid = newProduceID()
		}
		var buf bytes.Buffer
		a, rep, err := label.Propagate(&buf, data, label.PropagateOptions{
			InspectOptions:    label.InspectOptions{Declared: *declared, Options: label.Options{Propagator: signer}},
			ContentPropagator: *propagator, PropagateID: pid,
		})
		if errors.Is(err, label.ErrNotGenerated) {
			return propagateResult{File: f.path, State: string(rep.State)}, true
		}
		if err != nil {
			return fileError{File: f.path, Status: "error", Error: err.Error()}, false
		}
		if err := os.MkdirAll(filepath.Dir(f.out), 0o755); err != nil {
			return fileError{File: f.path, Status: "error", Error: err.Error()}, false
		}
		if err := writeFileAtomic(f.out, buf.Bytes()); err != nil {
			return fileError{File: f.path, Status: "error", Error: err.Error()}, false
		}
		return propagateResult{File: f.path, Out: f.out, State: string(rep.State), Label: &a}, true
	})
}
