package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/moderation"
)

// maxScanLine bounds one input line of genguard scan.
const maxScanLine = 1 << 20

type scanHit struct {
	Term     string   `json:"term"`
	Risk     string   `json:"risk"`
	Action   string   `json:"action"`
	Start    int      `json:"start"`
	End      int      `json:"end"`
	Text     string   `json:"text"`
	Source   string   `json:"source"`
	Evidence []string `json:"evidence,omitempty"`
}

type scanLine struct {
	File       string                       `json:"file,omitempty"`
	Line       int                          `json:"line"`
	Decision   string                       `json:"decision"`
	Hits       []scanHit                    `json:"hits"`
	Classifier *moderation.ClassifierResult `json:"classifier,omitempty"`
}

// runScan moderates text line by line as input under a policy and prints
// one JSON object per line. Verdicts do not change the exit status; only
// errors do.
func runScan(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("scan", env)
	cfgFile := fs.String("config", "", "config file (YAML); empty: built-in defaults")
	lex := fs.String("lexicon", "", "lexicon file (overrides moderation.lexicon_file)")
	allow := fs.String("allow", "", "allow-list file (overrides moderation.allow_file)")
	policy := fs.String("policy", "default", "moderation policy (a name under moderation.policies)")
	noClassifier := fs.Bool("no-classifier", false, "do not run the classifier")
	classifier := fs.Bool("classifier", true, "run the classifier even if the policy does not (report only its judgement)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgFile, env.Getenv)
	if err != nil {
		return err
	}
	m := cfg.Moderation
	if *lex != "" {
		m.LexiconFile = *lex
	}
	if *allow != "" {
		m.AllowFile = *allow
	}
	if _, ok := m.Policies[*policy]; !ok {
		return fmt.Errorf("%w: no policy %q in the config", errUsage, *policy)
	}
	// The scan shows the classifier's judgement unless told not to: a
	// policy that does not run it still gets it reported, with action log.
	if !*noClassifier && *classifier {
		p := m.Policies[*policy]
		if in := config.StageChecks(p.Input); !contains(in, config.CheckClassifier) {
			p.Input = append(in, config.CheckClassifier)
			p.ClassifierAction = "log"
			m.Policies = clonePolicies(m.Policies)
			m.Policies[*policy] = p
		}
	}
	m.Input = true
	pipeline, _, err := app.BuildPipeline(m, *noClassifier)
	if err != nil {
		return err
	}
	pol := pipeline.Policy("", *policy)
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	scan := func(name string, r io.Reader) error {
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			line, err := readLine(br)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s:%d: %w", name, n, err)
			}
			v := pol.Check(ctx, moderation.Input, line)
			out := scanLine{Line: n, Decision: v.Decision.String(), Hits: []scanHit{}, Classifier: v.Classifier}
			if name != "-" {
				out.File = name
			}
			for _, h := range v.Hits {
				out.Hits = append(out.Hits, scanHit{Term: h.Term, Risk: string(h.Risk), Action: h.Action.String(),
					Start: h.Start, End: h.End, Text: line[h.Start:h.End], Source: h.Source, Evidence: h.Evidence})
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
		}
	}
	if fs.NArg() == 0 {
		return scan("-", env.Stdin)
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = scan(name, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// errLineTooLong is a scan input line over maxScanLine bytes.
var errLineTooLong = fmt.Errorf("line longer than %d bytes; split the input", maxScanLine)

// readLine reads one line without its end, bounded by maxScanLine.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxScanLine+2 {
			return "", errLineTooLong
		}
		buf = append(buf, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return trimEOL(buf), nil
		case err != nil:
			return "", err
		}
		return trimEOL(buf), nil
	}
}

func trimEOL(b []byte) string {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) > maxScanLine {
		return string(b[:maxScanLine])
	}
	return string(b)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func clonePolicies(m map[string]config.ModerationPolicy) map[string]config.ModerationPolicy {
	out := make(map[string]config.ModerationPolicy, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
