// Package report builds the regulator exports: incident reports (Measures
// Art. 14), the inspection pack (Art. 19) and the filing dossier (Art. 17),
// as JSON and as escaped HTML. Same data, same bytes; long periods are
// streamed from the store, never held whole.
package report

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/risk"
	"github.com/genguard/genguard/internal/store"
)

// ErrInvalid wraps every registry validation failure.
var ErrInvalid = errors.New("invalid registry entry")

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Limits on registry fields.
const (
	maxShort = 256
	maxText  = 8 << 10
	maxDoc   = 256 << 10
	maxList  = 64
)

// Allowed values.
var (
	sourceTypes   = []string{"open_source", "self_collected", "commercial", "user_input"}
	lawfulBases   = []string{"consent", "separate_consent", "contract", "legal_duty", "public_information", "no_personal_information", "other"}
	modalities    = []string{"text", "image", "audio", "video"}
	ruleKinds     = []string{"functional", "security"}
	languageRE    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	isoDateLayout = "2006-01-02"
)

type checker struct{ errs []error }

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func (c *checker) text(field, v string, max int, required bool) {
	switch {
	case required && v == "":
		c.fail(field, "is required")
	case len(v) > max:
		c.fail(field, "longer than %d bytes", max)
	case !utf8.ValidString(v):
		c.fail(field, "is not UTF-8")
	}
}

func (c *checker) oneOf(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.fail(field, "%q is not one of %v", v, allowed)
	}
}

func (c *checker) list(field string, vs []string, max int, each func(string) bool) {
	if len(vs) > maxList {
		c.fail(field, "more than %d items", maxList)
		return
	}
	for _, v := range vs {
		if len(v) > max || !utf8.ValidString(v) || !each(v) {
			c.fail(field, "bad item %q", v)
			return
		}
	}
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(c.errs...))
}

// CheckTrainingSource validates a training-data source.
func CheckTrainingSource(t store.TrainingSource) error {
	var c checker
	if !idRE.MatchString(t.ID) {
		c.fail("id", "must match %s", idRE)
	}
	c.text("source", t.Source, maxShort, true)
	c.oneOf("type", t.Type, sourceTypes)
	c.text("licence", t.Licence, maxText, t.Type == "open_source" || t.Type == "commercial")
	c.text("collection_record", t.CollectionRecord, maxText, t.Type == "self_collected" || t.Type == "user_input")
	c.oneOf("pi_lawful_basis", t.PILawfulBasis, lawfulBases)
	if t.VolumeItems < 0 || t.VolumeBytes < 0 {
		c.fail("volume", "must not be negative")
	}
	if len(t.Languages) == 0 {
		c.fail("languages", "at least one")
	}
	c.list("languages", t.Languages, 16, languageRE.MatchString)
	if len(t.Modalities) == 0 {
		c.fail("modalities", "at least one")
	}
	c.list("modalities", t.Modalities, 16, func(s string) bool { return slices.Contains(modalities, s) })
	if t.SampleSize < 0 || t.SampleIllegal < 0 || t.SampleIllegal > t.SampleSize {
		c.fail("sample_illegal", "must be between 0 and sample_size")
	}
	if t.SampleAuditedAt != "" {
		if _, err := time.Parse(isoDateLayout, t.SampleAuditedAt); err != nil {
			c.fail("sample_audited_at", "%q is not YYYY-MM-DD", t.SampleAuditedAt)
		}
	}
	c.text("notes", t.Notes, maxText, false)
	return c.err()
}

// CheckAnnotationRule validates an annotation-rules document.
func CheckAnnotationRule(r store.AnnotationRule) error {
	var c checker
	if !idRE.MatchString(r.ID) {
		c.fail("id", "must match %s", idRE)
	}
	c.oneOf("kind", r.Kind, ruleKinds)
	c.text("title", r.Title, maxShort, true)
	c.text("body", r.Body, maxDoc, true)
	c.list("risks", r.Risks, 16, func(s string) bool { return risk.Code(s).Valid() })
	if r.Kind == "functional" && len(r.Risks) > 0 {
		c.fail("risks", "only security rules cover risks")
	}
	return c.err()
}

// CheckModelCard validates a model card.
func CheckModelCard(m store.ModelCard) error {
	var c checker
	if !idRE.MatchString(m.ID) {
		c.fail("id", "must match %s", idRE)
	}
	c.text("name", m.Name, maxShort, true)
	c.text("architecture", m.Architecture, maxText, true)
	c.text("training_summary", m.TrainingSummary, maxText, true)
	c.list("foundation_models", m.FoundationModels, maxShort, func(s string) bool { return s != "" })
	c.text("filing_number", m.FilingNumber, maxShort, false)
	return c.err()
}

// SecurityRiskCoverage returns the risk codes the latest version of every
// security rules document covers, and those of the 31 it misses
// (TC260-003 §5.3 b: security annotation rules cover all 31 risks).
func SecurityRiskCoverage(rules []store.AnnotationRule) (covered, missing []string) {
	latest := map[string]store.AnnotationRule{}
	for _, r := range rules {
		if r.Kind == "security" && r.Version >= latest[r.ID].Version {
			latest[r.ID] = r
		}
	}
	seen := map[string]bool{}
	for _, r := range latest {
		for _, c := range r.Risks {
			seen[c] = true
		}
	}
	for _, rk := range risk.All() {
		if seen[string(rk.Code)] {
			covered = append(covered, string(rk.Code))
		} else {
			missing = append(missing, string(rk.Code))
		}
	}
	return covered, missing
}
