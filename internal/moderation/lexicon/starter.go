package lexicon

import (
	"embed"
	"fmt"
)

//go:embed starter/terms.tsv starter/allow.txt
var starterFS embed.FS

// Starter returns the embedded starter library: a few hundred precise
// phrases written for this project covering all 31 risks, and an allow-list.
// It is a seed, far below the TC260-003 §8.1 minimums (see Stats); operators
// add their own files and imported lists to it. Each call returns a fresh
// copy the caller may modify.
func Starter() (*Library, error) {
	f, err := starterFS.Open("starter/terms.tsv")
	if err != nil {
		return nil, fmt.Errorf("starter lexicon: %w", err)
	}
	defer f.Close()
	entries, err := Parse(f, "starter/terms.tsv", "")
	if err != nil {
		return nil, fmt.Errorf("starter lexicon: %w", err)
	}
	a, err := starterFS.Open("starter/allow.txt")
	if err != nil {
		return nil, fmt.Errorf("starter allow-list: %w", err)
	}
	defer a.Close()
	allow, err := ParseAllow(a, "starter/allow.txt")
	if err != nil {
		return nil, fmt.Errorf("starter allow-list: %w", err)
	}
	return &Library{Entries: entries, Allow: allow}, nil
}
