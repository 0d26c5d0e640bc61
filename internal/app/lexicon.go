package app

import (
	"strings"

	"github.com/genguard/genguard/internal/moderation"
)

// defaultScanner is the built-in lexicon used when the config names none.
func defaultScanner() (moderation.Scanner, error) {
	return moderation.ParseSubstrings(strings.NewReader(""), "builtin")
}
