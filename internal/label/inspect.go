package label

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// State is the label state of 标识办法 Art. 6.
type State string

// Label states, with the metadata Label value each corresponds to.
const (
	StateIs        State = "is"        // Label "1": metadata says it is generated
	StateMayBe     State = "may_be"    // Label "2": the user declared it
	StateSuspected State = "suspected" // Label "3": explicit label or traces found
	StateNone      State = "none"
)

// Evidence is one finding behind a state.
type Evidence struct {
	Kind   string `json:"kind"` // "metadata", "explicit", "trace", "declaration"
	Where  string `json:"where"`
	Detail string `json:"detail"`
}

// Report is the result of [Inspect].
type Report struct {
	Format   Format     `json:"format"`
	State    State      `json:"state"`
	Label    *AIGC      `json:"label,omitempty"`
	Evidence []Evidence `json:"evidence"`
	// Problems lists compliance defects: duplicate labels, invalid JSON.
	Problems []string `json:"problems,omitempty"`
}

// InspectOptions carries the user's declaration (标识办法 Art. 6(二)).
type InspectOptions struct {
	Options
	Declared bool
}

// traces are byte patterns that other generators leave in files.
var traces = []struct{ pattern, detail string }{
	{"trainedAlgorithmicMedia", "IPTC DigitalSourceType says trained algorithmic media"},
	{"c2pa", "C2PA manifest present (may carry an AI assertion)"},
	{"\x00parameters\x00", "Stable Diffusion generation parameters"},
	{"prompt\x00{", "ComfyUI prompt graph"},
	{"AIGC", "an AIGC field outside a recognised label"},
}

// Inspect reports the label state of a file for a propagation platform.
// Metadata takes precedence; then the user's declaration; then explicit
// labels (text notices) and other generation traces.
func Inspect(data []byte, opts InspectOptions) (Report, error) {
	r := Report{Format: Unknown, State: StateNone}
	a, f, err := Read(data, opts.Options)
	r.Format = f
	switch {
	case err == nil || errors.Is(err, ErrMultipleLabels):
		r.Label = &a
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		}
		r.State = map[string]State{LabelIs: StateIs, LabelMayBe: StateMayBe, LabelSuspected: StateSuspected}[a.Label]
		r.Evidence = append(r.Evidence, Evidence{Kind: "metadata", Where: string(f), Detail: string(a.JSON())})
		return r, nil
	case errors.Is(err, ErrTooLarge):
		return r, err
	case errors.Is(err, ErrNoLabel), errors.Is(err, ErrUnknownFormat):
	default:
		// A label that is present but broken is itself a trace.
		r.Problems = append(r.Problems, err.Error())
		r.Evidence = append(r.Evidence, Evidence{Kind: "trace", Where: string(f), Detail: "unreadable label: " + err.Error()})
	}
	if f == Markdown {
		if n := FindNotice(string(data)); n != "" {
			r.Evidence = append(r.Evidence, Evidence{Kind: "explicit", Where: "text", Detail: n})
		}
	} else {
		for _, t := range traces {
			if bytes.Contains(data, []byte(t.pattern)) {
				r.Evidence = append(r.Evidence, Evidence{Kind: "trace", Where: string(f), Detail: t.detail})
			}
		}
	}
	switch {
	case opts.Declared:
		r.State = StateMayBe
		r.Evidence = append(r.Evidence, Evidence{Kind: "declaration", Where: "user", Detail: "user declared the content AI-generated"})
	case len(r.Evidence) > 0:
		r.State = StateSuspected
	}
	return r, nil
}

// PropagateOptions identify the platform and the upload.
type PropagateOptions struct {
	InspectOptions
	ContentPropagator string // platform name or code
	PropagateID       string // the platform's content number
}

// ErrNotGenerated is returned by Propagate when nothing indicates the
// content is generated: Art. 6 asks for no label then.
var ErrNotGenerated = errors.New("no label, declaration or generation trace: nothing to label")

// Propagate writes the platform's propagation fields (and, with
// Options.Propagator, a ReservedCode2 signature) while keeping exactly one
// label: an existing label keeps its producer fields and Label; otherwise
// Label is "2" for a declaration and "3" for detected traces.
func Propagate(dst io.Writer, src []byte, opts PropagateOptions) (AIGC, Report, error) {
	r, err := Inspect(src, opts.InspectOptions)
	if err != nil {
		return AIGC{}, r, err
	}
	var a AIGC
	switch {
	case r.Label != nil:
		a = *r.Label
	case r.State == StateMayBe:
		a.Label = LabelMayBe
	case r.State == StateSuspected:
		a.Label = LabelSuspected
	default:
		return AIGC{}, r, ErrNotGenerated
	}
	a.ContentPropagator, a.PropagateID, a.ReservedCode2 = opts.ContentPropagator, opts.PropagateID, ""
	wopts := opts.Options
	wopts.Producer = nil // never re-sign the producer's fields
	a, err = Write(dst, src, a, wopts)
	if err != nil {
		return AIGC{}, r, fmt.Errorf("propagate: %w", err)
	}
	return a, r, nil
}
