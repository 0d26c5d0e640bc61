package lexicon

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/genguard/genguard/internal/sharedtest"
)

// sharedDir is ../shared (the public lists and corpora), or skips.
func sharedDir(tb testing.TB) string { return sharedtest.Dir(tb) }

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
