package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/genguard/genguard/internal/api"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/moderation/classify"
	"github.com/genguard/genguard/internal/moderation/classify/guard"
	"github.com/genguard/genguard/internal/moderation/lexicon"
	"github.com/genguard/genguard/internal/store"
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

// LibrarySource names where the configured library comes from.
func LibrarySource(cfg config.Moderation) string {
	var parts []string
	for _, f := range []string{cfg.LexiconFile, cfg.AllowFile} {
		if f != "" {
			parts = append(parts, f)
		}
	}
	if cfg.LexiconFile == "" {
		parts = append([]string{"starter"}, parts...)
	}
	return strings.Join(parts, ", ")
}

// compile builds the lexicon scanner of a library, loading what the matcher
// loads lazily (the segmenter) now rather than on a request.
func compile(cfg config.Moderation, lib *lexicon.Library) (*moderation.Lexicon, error) {
	gap := cfg.MaxGap
	if gap == 0 {
		gap = -1 // lexicon.Options: 0 means its default, negative means none
	}
	l, err := moderation.NewLexicon(lib, lexicon.Options{MaxGap: gap, Pinyin: cfg.Pinyin})
	if err != nil {
		return nil, err
	}
	if err := l.WarmUp(); err != nil {
		return nil, err
	}
	return l, nil
}

// loadScanner compiles the configured library for the pipeline.
func loadScanner(cfg config.Moderation) (moderation.Scanner, *lexicon.Library, error) {
	lib, err := LoadLibrary(cfg)
	if err != nil {
		return nil, nil, err
	}
	l, err := compile(cfg, lib)
	if err != nil {
		return nil, nil, err
	}
	return l, lib, nil
}

// BuildPipeline builds the moderation pipeline of a config: the lexicon,
// the classifier and the guard model when a policy runs them, and the
// policies and rules. noClassifier leaves the classifier out whatever the
// policies say (genguard scan --no-classifier).
func BuildPipeline(cfg config.Moderation, noClassifier bool) (*moderation.Pipeline, *lexicon.Library, error) {
	scanner, lib, err := loadScanner(cfg)
	if err != nil {
		return nil, nil, err
	}
	o := moderation.Options{Input: cfg.Input, Output: cfg.Output, Refusal: cfg.RefusalMessage, RetractionNotice: cfg.RetractionNotice}
	need := map[string]bool{}
	for name, p := range cfg.Policies {
		in, out := config.StageChecks(p.Input), config.StageChecks(p.Output)
		o.Policies = append(o.Policies, moderation.PolicySpec{
			Name: name, Input: checks(in), Output: checks(out),
			ClassifierThreshold: p.ClassifierThreshold,
			ClassifierAction:    action(p.ClassifierAction, moderation.Block),
			GuardAction:         action(p.GuardAction, moderation.Block),
			ReviewAs:            action(p.ReviewAs, moderation.Review),
			Refusals:            p.Refusals,
		})
		for _, c := range append(in, out...) {
			need[c] = true
		}
	}
	for _, r := range cfg.Rules {
		o.Rules = append(o.Rules, moderation.Rule{Route: r.Route, Group: r.Group, Policy: r.Policy})
	}
	if need[config.CheckClassifier] && !noClassifier {
		if o.Classifier, err = LoadClassifier(cfg.ClassifierModel); err != nil {
			return nil, nil, err
		}
	}
	if need[config.CheckGuard] {
		if o.Guard, err = buildGuard(cfg.Guard); err != nil {
			return nil, nil, err
		}
	}
	p, err := moderation.New(scanner, o)
	if err != nil {
		return nil, nil, err
	}
	return p, lib, nil
}

func checks(list []string) moderation.Checks {
	var c moderation.Checks
	for _, s := range list {
		switch s {
		case config.CheckLexicon:
			c.Lexicon = true
		case config.CheckClassifier:
			c.Classifier = true
		case config.CheckGuard:
			c.Guard = true
		}
	}
	return c
}

func action(s string, def moderation.Action) moderation.Action {
	if a, ok := moderation.ParseAction(s); ok && s != "" {
		return a
	}
	return def
}

// LoadClassifier loads a model file, or the embedded model when path is
// empty.
func LoadClassifier(path string) (*classify.Model, error) {
	if path == "" {
		m, err := classify.Default()
		if err != nil {
			return nil, fmt.Errorf("embedded classifier: %w", err)
		}
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open classifier model: %w", err)
	}
	defer f.Close()
	m, err := classify.Load(f)
	if err != nil {
		return nil, fmt.Errorf("classifier model %s: %w", path, err)
	}
	return m, nil
}

func buildGuard(g config.ModerationGuard) (moderation.Guard, error) {
	o := guard.Options{Endpoint: g.Endpoint, Model: g.Model, APIKey: g.APIKey.Value, Timeout: g.Timeout.D(),
		Policy: guard.FailOpen, CacheSize: g.CacheSize, CacheTTL: g.CacheTTL.D()}
	if g.OnFailure == "closed" {
		o.Policy = guard.FailClosed
	}
	if g.CacheSize == 0 {
		o.CacheSize = -1
	}
	switch g.Type {
	case "qwen":
		return guard.NewQwen(o, !g.Controversial)
	case "openai":
		return guard.NewOpenAI(o, g.ScoreThreshold)
	}
	return nil, fmt.Errorf("guard type %q is not qwen or openai", g.Type)
}

// version describes a library as a stored version.
func version(lib *lexicon.Library, source string, now time.Time) store.LexiconVersion {
	st := lib.Stats()
	byRisk := make(map[string]int, len(st.ByRisk))
	for c, n := range st.ByRisk {
		byRisk[string(c)] = n
	}
	return store.LexiconVersion{Hash: st.Hash, LoadedAt: now.UTC(), Source: source, Terms: st.Total, Allow: st.Allow, ByRisk: byRisk}
}

// lexiconVersions is the store of library versions.
type lexiconVersions interface {
	AddLexiconVersion(ctx context.Context, v store.LexiconVersion) (bool, error)
}

// eventLog appends audit events and waits for the commit.
type eventLog interface {
	Event(ctx context.Context, e audit.Event) error
}

// lexiconReloader reloads the keyword library into the running pipeline
// (POST /admin/lexicon/reload, SIGHUP). Compilation happens beside the
// traffic and the swap is one atomic store, so requests are neither dropped
// nor held; streams in flight finish with the library they started with.
type lexiconReloader struct {
	cfg      config.Moderation
	pipeline *moderation.Pipeline
	versions lexiconVersions
	events   eventLog
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex // one reload at a time
	current string     // hash of the library in use
}

var _ api.LexiconReloader = (*lexiconReloader)(nil)

// Reload reads and compiles the library files again and swaps them in. A
// file that does not parse keeps the library in use and returns an
// *api.InvalidLexicon naming file and line. A new version is stored and
// appended to the audit log as lexicon.changed.
func (l *lexiconReloader) Reload(ctx context.Context, actor string) (store.LexiconVersion, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	scanner, lib, err := loadScanner(l.cfg)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && !errors.Is(err, os.ErrNotExist) {
			return store.LexiconVersion{}, false, fmt.Errorf("reload lexicon: %w", err)
		}
		return store.LexiconVersion{}, false, &api.InvalidLexicon{Err: err}
	}
	v := version(lib, LibrarySource(l.cfg), l.now())
	changed := v.Hash != l.current
	if changed {
		l.pipeline.Swap(scanner)
		previous := l.current
		l.current = v.Hash
		l.log.Info("keyword library reloaded", "sha256", v.Hash, "terms", v.Terms, "actor", actor)
		if _, err := l.versions.AddLexiconVersion(ctx, v); err != nil {
			return v, true, fmt.Errorf("store lexicon version: %w", err)
		}
		if err := l.events.Event(context.WithoutCancel(ctx), lexiconEvent(v, previous, actor)); err != nil {
			return v, true, fmt.Errorf("audit lexicon change: %w", err)
		}
	}
	return v, changed, nil
}

func lexiconEvent(v store.LexiconVersion, previous, actor string) audit.Event {
	return audit.Event{Kind: audit.KindLexiconChange, Actor: actor, Subject: "keyword-library",
		Details: map[string]any{"sha256": v.Hash, "previous": previous, "terms": v.Terms, "allow": v.Allow,
			"by_risk": v.ByRisk, "source": v.Source}}
}

// start records the library loaded at startup as a version; its audit
// event is written by RecordChanges, which compares with the last one.
func (l *lexiconReloader) start(ctx context.Context, lib *lexicon.Library) error {
	if l.now == nil {
		l.now = time.Now
	}
	v := version(lib, LibrarySource(l.cfg), l.now())
	l.current = v.Hash
	if _, err := l.versions.AddLexiconVersion(ctx, v); err != nil {
		return fmt.Errorf("store lexicon version: %w", err)
	}
	return nil
}

// watchHangup reloads the library on every SIGHUP until ctx ends. Errors
// are logged: a bad file keeps the library in use.
func (l *lexiconReloader) watchHangup(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if _, _, err := l.Reload(ctx, "signal:SIGHUP"); err != nil {
				l.log.Error("keyword library reload failed; the previous version stays in use", "err", err)
			}
		}
	}
}
