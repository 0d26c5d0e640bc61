package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/report"
)

// runReport writes the regulator exports into --out.
func runReport(ctx context.Context, env Env, args []string) error {
	const use = "genguard report inspection|filing|incidents [--from DATE] [--to DATE] [--out DIR]"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	fs := newFlagSet("report "+args[0], env)
	var c commonFlags
	c.register(fs)
	fromS := fs.String("from", "", "period start, YYYY-MM-DD or RFC 3339 (default: 30 days before --to)")
	toS := fs.String("to", "", "period end, exclusive (default: now)")
	out := fs.String("out", ".", "directory to write the report files into")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	now := time.Now().UTC()
	to, err := parseDay(*toS, now)
	if err != nil {
		return fmt.Errorf("%w: --to: %v", errUsage, err)
	}
	from, err := parseDay(*fromS, to.Add(-30*24*time.Hour))
	if err != nil || !from.Before(to) {
		return fmt.Errorf("%w: --from must be a date before --to", errUsage)
	}
	cfg, err := c.load(env)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	db, err := app.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	meta := report.Meta{Provider: cfg.Report.Provider, Service: cfg.Report.Service, Generated: now, From: from, To: to}
	write := func(name string, fn func(io.Writer) error) error {
		f, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, filepath.Join(*out, name))
		return nil
	}
	switch args[0] {
	case "incidents":
		if err := write("incidents.json", func(w io.Writer) error { return report.IncidentsJSON(ctx, w, db, meta) }); err != nil {
			return err
		}
		if err := write("incidents.html", func(w io.Writer) error { return report.IncidentsHTML(ctx, w, db, meta) }); err != nil {
			return err
		}
		return write("remediation.jsonl", func(w io.Writer) error { return report.RemediationDataset(ctx, w, db, from, to) })
	case "inspection", "filing":
		lib, err := app.LoadLibrary(cfg.Moderation)
		if err != nil {
			return err
		}
		in := report.Inputs{Meta: meta, FilingNumber: cfg.Report.FilingNumber, Lexicon: lib.Stats()}
		if p := cfg.Report.MechanismFile; p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("report.mechanism_file: %w", err)
			}
			in.Mechanism = string(b)
		}
		if args[0] == "filing" {
			if _, err := report.WriteFiling(ctx, *out, db, in, lib, report.FilingFiles{Agreement: cfg.Report.AgreementFile, Assessment: cfg.Report.AssessmentFile}); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, filepath.Join(*out, "dossier.json"))
			fmt.Fprintln(env.Stdout, filepath.Join(*out, "dossier.html"))
			return nil
		}
		p, err := report.BuildInspection(ctx, db, in)
		if err != nil {
			return err
		}
		if err := write("inspection.json", func(w io.Writer) error { return report.InspectionJSON(w, p) }); err != nil {
			return err
		}
		return write("inspection.html", func(w io.Writer) error { return report.InspectionHTML(w, p) })
	}
	return fmt.Errorf("%w: unknown report %q (inspection, filing, incidents)", errUsage, args[0])
}

func parseDay(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse("2006-01-02", s)
}
