package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/moderation/lexicon"
	"github.com/genguard/genguard/internal/risk"
)

const lexiconUsage = "genguard lexicon stats [--config F] [--data DIR] | lexicon import --risk CODE [--action ACTION] [--out FILE] LIST…"

// weeklyUpdate is TC260-003 §8.1's update interval for the keyword library.
const weeklyUpdate = 7 * 24 * time.Hour

func runLexicon(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, lexiconUsage)
	}
	switch args[0] {
	case "stats":
		return lexiconStats(ctx, env, args[1:])
	case "import":
		return lexiconImport(env, args[1:])
	}
	return fmt.Errorf("%w: %s", errUsage, lexiconUsage)
}

// lexiconStats prints the configured library's coverage against the
// TC260-003 §8.1 minimums and the age of its last update (from the stored
// versions, which the server records at start and on every reload).
func lexiconStats(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("lexicon stats", env)
	var c commonFlags
	c.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(env)
	if err != nil {
		return err
	}
	lib, err := app.LoadLibrary(cfg.Moderation)
	if err != nil {
		return err
	}
	st := lib.Stats()
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "library\t%s\nsha256\t%s\n", app.LibrarySource(cfg.Moderation), st.Hash)
	fmt.Fprintf(w, "terms\t%d\t(TC260-003 §8.1: ≥ %d)\t%s\n", st.Total, risk.KeywordTotalMinimum, okShort(!st.TotalShort))
	fmt.Fprintf(w, "allow phrases\t%d\n\nrisk\tterms\tminimum\tstatus\n", st.Allow)
	for _, r := range risk.All() {
		n, min := st.ByRisk[r.Code], risk.KeywordMinimum(r.Code)
		status := okShort(n >= min)
		if min == 0 {
			status = "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", r.Code, n, min, status)
	}
	w.Flush()

	db, err := app.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	vs, err := db.LexiconVersions(ctx, 1)
	if err != nil {
		return err
	}
	now := time.Now()
	if env.Now != nil {
		now = env.Now()
	}
	switch {
	case len(vs) == 0:
		fmt.Fprintln(env.Stdout, "\nlast update: none recorded (the server records a version at start and on reload)")
	default:
		age := now.Sub(vs[0].LoadedAt)
		status := "ok"
		if age > weeklyUpdate {
			status = "OVERDUE: TC260-003 §8.1 asks for an update at least weekly"
		}
		fmt.Fprintf(env.Stdout, "\nlast update: %s (%s ago, version %s from %s) — %s\n",
			vs[0].LoadedAt.Format(time.RFC3339), age.Round(time.Minute), vs[0].Hash[:12], vs[0].Source, status)
		if vs[0].Hash != st.Hash {
			fmt.Fprintln(env.Stdout, "note: the files differ from the last loaded version; reload the server (SIGHUP or POST /admin/lexicon/reload)")
		}
	}
	return nil
}

func okShort(ok bool) string {
	if ok {
		return "ok"
	}
	return "SHORT"
}

// lexiconImport turns plain word lists into the lexicon file format with one
// risk and action, and reports what it skipped and why on stderr.
func lexiconImport(env Env, args []string) error {
	fs := newFlagSet("lexicon import", env)
	code := fs.String("risk", "", "risk code of every imported word (e.g. A.1.h)")
	act := fs.String("action", "review", "block | mask | review | log; public lists are noisy, so review is the default")
	out := fs.String("out", "", "output file (default: stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *code == "" || fs.NArg() == 0 {
		return fmt.Errorf("%w: genguard lexicon import --risk CODE [--action ACTION] [--out FILE] LIST…", errUsage)
	}
	rc, err := risk.Parse(*code)
	if err != nil {
		return fmt.Errorf("%w: --risk: %v", errUsage, err)
	}
	action, err := lexicon.ParseAction(*act)
	if err != nil {
		return fmt.Errorf("%w: --action: %v", errUsage, err)
	}
	var all []lexicon.Entry
	total := lexicon.ImportReport{Skipped: map[string]int{}}
	seen := map[string]bool{}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		es, rep, err := lexicon.Import(f, name, rc, action)
		f.Close()
		if err != nil {
			return err
		}
		total.Lines += rep.Lines
		for k, n := range rep.Skipped {
			total.Skipped[k] += n
		}
		for _, e := range es {
			if seen[e.Term] {
				total.Skipped["duplicate"]++
				continue
			}
			seen[e.Term] = true
			all = append(all, e)
		}
	}
	total.Imported = len(all)
	w := env.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := writeEntries(w, all, fs.Args()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "imported %d of %d lines as %s %s\n", total.Imported, total.Lines, rc, action)
	reasons := make([]string, 0, len(total.Skipped))
	for k := range total.Skipped {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(env.Stderr, "  skipped %-22s %d\n", k+":", total.Skipped[k])
	}
	return nil
}

func writeEntries(w io.Writer, es []lexicon.Entry, from []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# imported by genguard lexicon import from %s\n# term\trisk\taction\n", strings.Join(from, ", "))
	for _, e := range es {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", e.Term, e.Risk, e.Action)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write lexicon: %w", err)
	}
	return nil
}
