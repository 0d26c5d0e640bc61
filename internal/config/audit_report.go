package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Report configures the regulator exports: the filing dossier and the
// inspection pack take the provider's own documents from these files.
type Report struct {
	// Provider and Service name the filing entity and the service.
	Provider string `yaml:"provider"`
	Service  string `yaml:"service"`
	// FilingNumber is the algorithm or GenAI filing number, once granted.
	FilingNumber string `yaml:"filing_number"`
	// MechanismFile describes the algorithm's mechanism (Markdown or
	// text); empty: genguard's own pipeline description.
	MechanismFile string `yaml:"mechanism_file"`
	// AgreementFile is the service agreement attached to the dossier.
	AgreementFile string `yaml:"agreement_file"`
	// AssessmentFile holds test-bank results (JSON) once an assessment ran.
	AssessmentFile string `yaml:"assessment_file"`
}

// minRetention mirrors audit.MinRetention (CSL Art. 21: ≥ 6 months).
const minRetention = 183 * 24 * time.Hour

func (c *Config) validateAuditReport(file string, root *yaml.Node) []Problem {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	a := c.Audit
	if a.CheckpointEvery < 1 || a.CheckpointEvery > 1_000_000 {
		bad("audit.checkpoint_every", "%d is outside 1 … 1000000", a.CheckpointEvery)
	}
	if a.CheckpointInterval < Duration(time.Second) || a.CheckpointInterval > Duration(24*time.Hour) {
		bad("audit.checkpoint_interval", "%s is outside 1s … 24h", a.CheckpointInterval.D())
	}
	if a.PruneInterval < 0 {
		bad("audit.prune_interval", "must not be negative (0 turns automatic pruning off)")
	}
	if a.Retention < Duration(minRetention) {
		bad("audit.retention", "%s is shorter than six months (183 days, 4392h; Cybersecurity Law Art. 21)", a.Retention.D())
	}
	for _, f := range []struct{ path, v string }{{"report.provider", c.Report.Provider}, {"report.service", c.Report.Service}, {"report.filing_number", c.Report.FilingNumber}} {
		if len(f.v) > 256 {
			bad(f.path, "longer than 256 bytes")
		}
	}
	return probs
}
