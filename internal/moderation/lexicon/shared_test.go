package lexicon

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sharedDir finds ../shared next to the module root (the directory holding
// go.mod), or skips: the public lists and corpora are not in the repository.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the working directory; shared data unavailable")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "data")); err != nil {
		tb.Skipf("shared data not found at %s (the public lexicons and corpora are not in the repository)", shared)
	}
	return shared
}

type corpus struct {
	utterances []string
	text       string // utterances joined, with planted terms
	houbb      *Library
	houbbTerms []string
}

var (
	corpusOnce sync.Once
	corpusVal  *corpus
	corpusErr  error
)

// loadCorpus reads kdconv utterances and the houbb list once per test binary.
func loadCorpus(tb testing.TB) *corpus {
	tb.Helper()
	shared := sharedDir(tb)
	corpusOnce.Do(func() {
		c := &corpus{}
		f, err := os.Open(filepath.Join(shared, "data/benign/kdconv/utterances.jsonl"))
		if err != nil {
			corpusErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var u struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
				corpusErr = err
				return
			}
			c.utterances = append(c.utterances, u.Text)
		}
		d, err := os.Open(filepath.Join(shared, "data/lexicon/houbb/sensitive_word_dict.txt"))
		if err != nil {
			corpusErr = err
			return
		}
		defer d.Close()
		entries, _, err := Import(d, "houbb/sensitive_word_dict.txt", "A.1.h", Block)
		if err != nil {
			corpusErr = err
			return
		}
		c.houbb = &Library{Entries: entries}
		for _, e := range entries {
			c.houbbTerms = append(c.houbbTerms, e.Term)
		}
		// Plant one term after every 50 utterances, as in the reference
		// measurements (about 1 in 200 tokens).
		var b strings.Builder
		for i, u := range c.utterances {
			b.WriteString(u)
			if i%50 == 0 {
				b.WriteString(c.houbbTerms[(i*7919)%len(c.houbbTerms)])
			}
		}
		c.text = b.String()
		corpusVal = c
	})
	if corpusErr != nil {
		tb.Fatal(corpusErr)
	}
	return corpusVal
}
