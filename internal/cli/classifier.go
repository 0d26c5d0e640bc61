package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/moderation/classify"
)

const classifierUsage = "genguard classifier train [--data DIR] [--out FILE] | classifier eval [--data DIR] [--model FILE]"

// defaultDataDir is where the public training sets live next to the repo.
const defaultDataDir = "../shared/data"

func runClassifier(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "train" && args[0] != "eval" {
		return fmt.Errorf("%w: %s", errUsage, classifierUsage)
	}
	fs := newFlagSet("classifier "+args[0], env)
	data := fs.String("data", defaultDataDir, "data directory with jade/, cold/ and benign/kdconv/")
	out := fs.String("out", "classifier.bin", "train: model file to write (point moderation.classifier_model at it)")
	model := fs.String("model", "", "eval: model file; empty: the embedded model")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*data, "jade")); err != nil {
		return fmt.Errorf("no training data in %s (want jade/, cold/ and benign/kdconv/; see --data): %w", *data, err)
	}
	var rep classify.Report
	switch args[0] {
	case "train":
		m, r, err := classify.TrainFromDir(*data, classify.TrainOptions{})
		if err != nil {
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := m.Save(f); err != nil {
			f.Close()
			return fmt.Errorf("save model: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
		fmt.Fprintf(env.Stderr, "wrote %s; set moderation.classifier_model: %s\n", *out, *out)
		rep = r
	case "eval":
		m, err := app.LoadClassifier(*model)
		if err != nil {
			return err
		}
		if rep, err = classify.EvalFromDir(m, *data); err != nil {
			return err
		}
	}
	return rep.WriteMarkdown(env.Stdout)
}
