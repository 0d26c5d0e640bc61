package classify

import "github.com/genguard/genguard/internal/risk"

// Class is one output of the model and the Appendix A risks it stands for.
// A class may stand for several codes when the training data cannot tell them
// apart (privacy vs personal information).
type Class struct {
	Name  string
	Risks []risk.Code
}

// Safe is the name of the class that maps to no risk.
const Safe = "safe"

// Built-in class names, the labels the dataset loaders emit.
const (
	ClassTerrorism      = "terrorism"
	ClassViolenceSex    = "violence_sex"
	ClassMisinformation = "misinformation"
	ClassCrime          = "crime"
	ClassDiscEthnic     = "discrimination_ethnic"
	ClassDiscNation     = "discrimination_nationality"
	ClassDiscRegion     = "discrimination_region"
	ClassDiscGender     = "discrimination_gender"
	ClassDiscOther      = "discrimination_other"
	ClassBusiness       = "business_ethics"
	ClassHealthHarm     = "health_harm"
	ClassPrivacy        = "privacy"
	ClassRightsOther    = "rights_other"
)

// defaultClasses is the class set the public data supports. A.1.a–c (politics)
// are absent because every public Chinese set leaves them out
// (regulations.md §5); the lexicon has to cover them.
var defaultClasses = []Class{
	{Safe, nil},
	{ClassTerrorism, []risk.Code{"A.1.d"}},
	{ClassViolenceSex, []risk.Code{"A.1.f"}},
	{ClassMisinformation, []risk.Code{"A.1.g"}},
	{ClassCrime, []risk.Code{"A.1.h"}},
	{ClassDiscEthnic, []risk.Code{"A.2.a"}},
	{ClassDiscNation, []risk.Code{"A.2.c"}},
	{ClassDiscRegion, []risk.Code{"A.2.d"}},
	{ClassDiscGender, []risk.Code{"A.2.e"}},
	{ClassDiscOther, []risk.Code{"A.2.i"}},
	{ClassBusiness, []risk.Code{"A.3.b"}},
	{ClassHealthHarm, []risk.Code{"A.4.a"}},
	{ClassPrivacy, []risk.Code{"A.4.e", "A.4.f"}},
	{ClassRightsOther, []risk.Code{"A.4.g"}},
}

// DefaultClasses returns the built-in class set (a deep copy), safe first.
func DefaultClasses() []Class {
	out := make([]Class, len(defaultClasses))
	for i, c := range defaultClasses {
		out[i] = Class{Name: c.Name, Risks: append([]risk.Code(nil), c.Risks...)}
	}
	return out
}
