package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/genguard/genguard/internal/label"
)

// verifyResult is one JSON line of genguard verify. Status is valid,
// invalid or unsigned for a labelled file (invalid wins over valid, valid
// over unsigned, across the producer and propagator signatures), none for a
// file without a label, and error for a file that cannot be read.
type verifyResult struct {
	File       string       `json:"file"`
	Format     string       `json:"format"`
	Status     string       `json:"status"`
	Reason     string       `json:"reason"`
	Label      *label.AIGC  `json:"label"`
	Producer   *label.Check `json:"producer,omitempty"`
	Propagator *label.Check `json:"propagator,omitempty"`
}

// runVerify checks the implicit label and its ReservedCode1/2 signatures of
// every file. It fails (exit 1) when a file is unreadable, has no label, or
// has an invalid signature.
func runVerify(ctx context.Context, env Env, args []string) error {
	flags := newFlagSet("verify", env)
	pub := flags.String("pub", "", "SM2 public key (PEM) the producer signature must use; default: trust the key embedded in the file")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return fmt.Errorf("%w: genguard verify [--pub KEY.pem] FILE|DIR…", errUsage)
	}
	var opts label.VerifyOptions
	if *pub != "" {
		k, err := label.LoadPublicKey(*pub)
		if err != nil {
			return err
		}
		opts.Producer = k
	}
	files, err := collect(flags.Args())
	if err != nil {
		return err
	}
	return eachFile(env, "verify", files, func(f inputFile) (any, bool) {
		r := verifyFile(f.path, opts)
		return r, r.Status == string(label.Valid) || r.Status == string(label.Unsigned)
	})
}

func verifyFile(path string, opts label.VerifyOptions) verifyResult {
	r := verifyResult{File: path}
	data, err := readFile(path)
	if err != nil {
		r.Status, r.Reason = "error", err.Error()
		return r
	}
	v, err := label.Verify(data, opts)
	r.Format = string(v.Format)
	switch {
	case errors.Is(err, label.ErrNoLabel):
		r.Status, r.Reason = "none", "no AIGC label"
		return r
	case err != nil:
		r.Status, r.Reason = "error", err.Error()
		return r
	}
	r.Label, r.Producer, r.Propagator = &v.Label, &v.Producer, &v.Propagator
	switch {
	case v.Producer.Status == label.Invalid:
		r.Status, r.Reason = string(label.Invalid), "producer: "+v.Producer.Reason
	case v.Propagator.Status == label.Invalid:
		r.Status, r.Reason = string(label.Invalid), "propagator: "+v.Propagator.Reason
	case v.Producer.Status == label.Valid:
		r.Status, r.Reason = string(label.Valid), "producer: "+v.Producer.Reason
	case v.Propagator.Status == label.Valid:
		r.Status, r.Reason = string(label.Valid), "propagator: "+v.Propagator.Reason
	default:
		r.Status, r.Reason = string(label.Unsigned), "producer: "+v.Producer.Reason
	}
	if opts.Producer != nil && v.Producer.Status == label.Unsigned {
		// A pinned key asks for a signature: an unsigned label fails.
		r.Status, r.Reason = string(label.Invalid), "producer: unsigned, but --pub requires a signature"
	}
	return r
}
