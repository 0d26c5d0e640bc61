package store

import "time"

// TrainingSource is one entry of the training-data provenance registry
// (Measures Art. 7, 19; TC260-003 §5.1).
type TrainingSource struct {
	ID               string    `json:"id"`
	Source           string    `json:"source"`            // name or URL
	Type             string    `json:"type"`              // open_source, self_collected, commercial, user_input
	Licence          string    `json:"licence"`           // licence, or contract reference for commercial data
	CollectionRecord string    `json:"collection_record"` // where the collection log is kept
	PILawfulBasis    string    `json:"pi_lawful_basis"`   // consent, separate_consent, contract, no_personal_information, other
	VolumeItems      int64     `json:"volume_items"`
	VolumeBytes      int64     `json:"volume_bytes"`
	Languages        []string  `json:"languages"`         // BCP 47: zh, en
	Modalities       []string  `json:"modalities"`        // text, image, audio, video
	SampleSize       int       `json:"sample_size"`       // items manually checked
	SampleIllegal    int       `json:"sample_illegal"`    // of which illegal or harmful
	SampleAuditedAt  string    `json:"sample_audited_at"` // YYYY-MM-DD
	Notes            string    `json:"notes,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// AnnotationRule is one version of an annotation-rules document
// (Measures Art. 8; TC260-003 §5.3: functional and security rules apart).
type AnnotationRule struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Kind      string    `json:"kind"` // functional or security
	Title     string    `json:"title"`
	Body      string    `json:"body"`  // the rules, Markdown
	Risks     []string  `json:"risks"` // security rules: the risk codes covered
	CreatedAt time.Time `json:"created_at"`
}

// ModelCard describes a served model (Measures Art. 17, 19).
type ModelCard struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Architecture     string    `json:"architecture"`
	TrainingSummary  string    `json:"training_summary"`
	FoundationModels []string  `json:"foundation_models"` // with their filing numbers where filed
	FilingNumber     string    `json:"filing_number"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}
