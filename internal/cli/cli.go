// Package cli is genguard's command line: one file per subcommand. It parses
// flags and calls the domain packages; it holds no business logic.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/config"
)

// Env is the operating-system surface a command sees; tests pass their own.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now, when set, is the clock the gateway reads (tests drive it).
	Now func() time.Time
}

type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// commands is the table of subcommands; nested groups dispatch again.
func commands() map[string]command {
	return map[string]command{
		"serve":      {"run the gateway", runServe},
		"version":    {"print the version", runVersion},
		"config":     {"config check FILE: validate a config file", runConfig},
		"users":      {"users add NAME | users list: manage users", runUsers},
		"keys":       {"keys revoke KEY_ID: revoke an API key", runKeys},
		"label":      {"label --producer CODE [--explicit] IN OUT: add AIGC labels to a file or directory", runLabel},
		"verify":     {"verify [--pub KEY] FILE|DIR…: check AIGC labels and signatures (JSON lines)", runVerify},
		"report":     {"report inspection|filing|incidents [--from --to --out DIR]: regulator exports (JSON and HTML)", runReport},
		"audit":      {"audit verify [--pub KEY] | checkpoint | prune | pubkey: the hash-chained audit log", runAudit},
		"inspect":    {"inspect [--declared] FILE|DIR…: label state for a platform (JSON lines)", runInspect},
		"propagate":  {"propagate --propagator CODE IN OUT: add a platform's propagation fields, keeping one label", runPropagate},
		"lexicon":    {"lexicon stats | import --risk CODE LIST…: keyword library coverage and import", runLexicon},
		"scan":       {"scan [--lexicon F] [--allow F] [--policy NAME] [--no-classifier] [FILE…]: moderate text (JSON lines)", runScan},
		"classifier": {"classifier train|eval [--data DIR]: train or evaluate the content classifier", runClassifier},
	}
}

// errUsage marks errors caused by how the command was called (exit 2).
var errUsage = errors.New("usage")

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, Env{Args: args, Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// run runs the command line described by env.
func run(ctx context.Context, env Env) int {
	args, stderr := env.Args, env.Stderr
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "genguard: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "genguard %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "genguard — a compliance gateway for generative-AI services\n\nUsage: genguard COMMAND [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'genguard COMMAND -h' for a command's flags.")
}

// commonFlags are the flags every command that touches the data directory
// takes: --config and --data (which overrides data_dir).
type commonFlags struct {
	config string
	data   string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (YAML); empty: built-in defaults")
	fs.StringVar(&c.data, "data", "", "data directory (overrides data_dir from the config)")
}

func (c *commonFlags) load(env Env) (config.Config, error) {
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		return cfg, err
	}
	if c.data != "" {
		cfg.DataDir = c.data
	}
	return cfg, nil
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("genguard "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parse parses flags and wraps bad usage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(cfg.Log.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
