package store

import "time"

// LexiconVersion is one version of the keyword library: a distinct content
// hash, when it was first loaded, from where, and its coverage.
type LexiconVersion struct {
	ID       int64
	Hash     string
	LoadedAt time.Time
	Source   string // files, or "starter"
	Terms    int
	Allow    int
	ByRisk   map[string]int
}
