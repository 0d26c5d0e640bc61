package app

import (
	"fmt"
	"os"

	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/moderation/lexicon"
)

// LoadLibrary reads the configured keyword library: the files named in the
// config, or the built-in starter lexicon and allow-list.
func LoadLibrary(cfg config.Moderation) (*lexicon.Library, error) {
	lib, err := lexicon.Starter()
	if err != nil {
		return nil, fmt.Errorf("starter lexicon: %w", err)
	}
	if cfg.LexiconFile != "" {
		f, err := os.Open(cfg.LexiconFile)
		if err != nil {
			return nil, fmt.Errorf("open lexicon: %w", err)
		}
		defer f.Close()
		entries, err := lexicon.Parse(f, cfg.LexiconFile, "")
		if err != nil {
			return nil, err
		}
		lib = &lexicon.Library{Entries: entries}
	}
	if cfg.AllowFile != "" {
		f, err := os.Open(cfg.AllowFile)
		if err != nil {
			return nil, fmt.Errorf("open allow-list: %w", err)
		}
		defer f.Close()
		allow, err := lexicon.ParseAllow(f, cfg.AllowFile)
		if err != nil {
			return nil, err
		}
		lib.Allow = allow
	}
	return lib, nil
}

// loadScanner compiles the configured library for the pipeline.
func loadScanner(cfg config.Moderation) (moderation.Scanner, error) {
	lib, err := LoadLibrary(cfg)
	if err != nil {
		return nil, err
	}
	gap := cfg.MaxGap
	if gap == 0 {
		gap = -1 // lexicon.Options: 0 means its default, negative means none
	}
	return moderation.NewLexicon(lib, lexicon.Options{MaxGap: gap, Pinyin: cfg.Pinyin})
}
