// Package app wires genguard together and runs it: it opens the store,
// builds accounts, upstreams, moderation and the audit writer, serves HTTP,
// and on shutdown drains in order — stop accepting, let in-flight requests
// and streams finish up to a deadline, flush the audit queue, close the store.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/api"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/metrics"
	"github.com/genguard/genguard/internal/store/sqlite"
	"github.com/genguard/genguard/internal/upstream"
)

// DBFile is the SQLite file inside the data directory.
const DBFile = "genguard.db"

// OpenStore opens the data directory's database, creating the directory.
func OpenStore(ctx context.Context, dataDir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, DBFile))
}

// Accounts builds the account service over db, creating the pseudonym key on
// first use.
func Accounts(ctx context.Context, db *sqlite.DB, cfg config.Config) (*account.Service, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := db.SetMetaIfAbsent(ctx, "pseudonym_key", hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("init pseudonym key: %w", err)
	}
	k, err := db.Meta(ctx, "pseudonym_key")
	if err != nil {
		return nil, fmt.Errorf("read pseudonym key: %w", err)
	}
	key, err := hex.DecodeString(k)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key is corrupt: %w", err)
	}
	return account.New(db, account.Options{CacheTTL: cfg.Auth.CacheTTL.D(), PseudonymKey: key, AdminKey: cfg.Auth.AdminKey.Value}), nil
}

// App is a running gateway.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	db       *sqlite.DB
	now      func() time.Time
	audit    *audit.Log
	server   *http.Server
	listener net.Listener
	draining atomic.Bool
	inflight sync.WaitGroup
	upstream []interface{ CloseIdle() }
	issue6   *complaintParts // complaints, PI requests, text store
	lexicon  *lexiconReloader
}

// New builds the gateway and binds its listener. The admin key is generated
// and written to out on the first start only.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer, opts ...Option) (*App, error) {
	o := buildOptions(opts)
	db, err := OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, db: db, now: o.now}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	accounts, err := Accounts(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	secret, created, err := accounts.EnsureAdminKey(ctx)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(out, "genguard: first start — admin key (shown once, keep it safe):\n%s\n", secret)
	}

	m := metrics.New()
	signKey, err := AuditSigningKey(cfg)
	if err != nil {
		return nil, err
	}
	auditOpts := auditOptions(cfg, db, signKey, o.now)
	auditOpts.Logger = log
	a.audit = audit.New(db, auditOpts)
	if err := RecordChanges(ctx, db, cfg, "serve"); err != nil {
		return nil, err
	}
	m.Register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "genguard_audit_queue_length", Help: "Audit records waiting to be written."}, func() float64 { return float64(a.audit.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "genguard_audit_records_written_total", Help: "Audit records committed."}, func() float64 { return float64(a.audit.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "genguard_audit_write_failures_total", Help: "Failed audit batch writes (retried)."}, func() float64 { return float64(a.audit.Failures()) }),
	)

	router, err := a.buildRouter(cfg, m)
	if err != nil {
		return nil, err
	}
	pipeline, lib, err := BuildPipeline(cfg.Moderation, false)
	if err != nil {
		return nil, err
	}
	a.lexicon = &lexiconReloader{cfg: cfg.Moderation, pipeline: pipeline, versions: db, events: a.audit, log: log, now: o.now}
	if err := a.lexicon.start(ctx, lib); err != nil {
		return nil, err
	}

	labels, err := labelOptions(cfg)
	if err != nil {
		return nil, err
	}
	duties, pages, err := buildDuties(ctx, db, cfg, accounts, log, o.now)
	if err != nil {
		return nil, err
	}
	a.issue6, err = buildComplaints(ctx, db, cfg, accounts, duties, m, log, o.now)
	if err != nil {
		return nil, err
	}
	handler := api.NewServer(api.Deps{
		Logger: log, Accounts: accounts, Router: router, Moderation: pipeline, Audit: a.audit, Metrics: m,
		Ready:            a.ready,
		MaxBodyBytes:     cfg.Server.MaxBodyBytes,
		StrictAudit:      cfg.Audit.Strict,
		RefusalMessage:   cfg.Moderation.RefusalMessage,
		RetractionNotice: cfg.Moderation.RetractionNotice,
		Labels:           labels,
		Admission:        duties,
		Observers:        []api.Observer{duties, incidents{a.audit}},
		Registry:         db,
		Events:           a.audit,
		Reports:          db,
		ReportProvider:   cfg.Report.Provider,
		ReportService:    cfg.Report.Service,
		Duties:           duties,
		Pages:            pages,
		Complaints:       a.issue6.complaints,
		ComplaintPages:   a.issue6.pages,
		ComplaintLimiter: a.issue6.limiter,
		Privacy:          a.issue6.requests,
		TextSink:         a.issue6.textSink(),
		Lexicon:          a.lexicon,
		Now:              o.now,
	})
	a.server = &http.Server{
		Handler:           a.track(handler),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.D(),
		IdleTimeout:       cfg.Server.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	a.listener, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	ok = true
	return a, nil
}

func (a *App) buildRouter(cfg config.Config, m *metrics.Metrics) (*upstream.Router, error) {
	ups := map[string]upstream.Upstream{}
	breakers := map[string]*upstream.Breaker{}
	for _, u := range cfg.Upstreams {
		switch u.Type {
		case "demo":
			ups[u.Name] = upstream.NewDemo(u.Name, u.TokensPerSecond)
		case "openai":
			o := upstream.NewOpenAI(upstream.OpenAIOptions{Name: u.Name, BaseURL: u.BaseURL, APIKey: u.APIKey.Value, Headers: u.Headers,
				ConnectTimeout: u.ConnectTimeout.D(), HeaderTimeout: u.Timeout.D()})
			ups[u.Name] = o
			a.upstream = append(a.upstream, o)
		default:
			return nil, fmt.Errorf("upstream %s: unknown type %q", u.Name, u.Type)
		}
		name := u.Name
		gauge := m.BreakerState.WithLabelValues(name)
		gauge.Set(0)
		breakers[name] = upstream.NewBreaker(cfg.Breaker.FailureThreshold, cfg.Breaker.Cooldown.D(), nil, func(s upstream.BreakerState) {
			gauge.Set(float64(s))
			a.log.Warn("upstream breaker", "upstream", name, "state", s.String())
		})
	}
	models := map[string][]upstream.Target{}
	for _, mdl := range cfg.Models {
		for _, r := range mdl.Routes {
			models[mdl.Name] = append(models[mdl.Name], upstream.Target{Upstream: ups[r.Upstream], Model: r.Model})
		}
	}
	return upstream.NewRouter(models, breakers, m), nil
}

// track counts handlers in flight, so shutdown knows when none can still
// queue an audit record.
func (a *App) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.inflight.Add(1)
		defer a.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

func (a *App) ready(ctx context.Context) error {
	if a.draining.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return a.db.Ping(ctx)
}

// Addr is the address the gateway listens on.
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// Store exposes the store (for tests and operator commands in process).
func (a *App) Store() *sqlite.DB { return a.db }

// Run serves until ctx ends, then drains and returns nil on a clean stop.
func (a *App) Run(ctx context.Context) error {
	auditStop, forceStop := context.WithCancel(context.Background())
	defer forceStop()
	auditDone := make(chan struct{})
	go func() {
		defer close(auditDone)
		a.audit.Run(auditStop)
	}()
	textStop, stopTexts := context.WithCancel(context.Background())
	defer stopTexts()
	waitTexts := a.issue6.start(textStop)

	// SIGHUP reloads the keyword library; the watcher stops before the
	// audit log closes, since a reload appends to it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupStop, stopHup := context.WithCancel(context.Background())
	defer stopHup()
	hupDone := make(chan struct{})
	go func() {
		defer close(hupDone)
		a.lexicon.watchHangup(hupStop, hup)
	}()

	// Pruning appends to the audit log too: it stops before the log closes.
	pruneStop, stopPrune := context.WithCancel(context.Background())
	defer stopPrune()
	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		a.pruneLoop(pruneStop)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.listener) }()
	a.log.Info("genguard listening", "addr", a.Addr().String(), "data_dir", a.cfg.DataDir)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	a.draining.Store(true)
	a.log.Info("draining", "timeout", a.cfg.Server.ShutdownTimeout.D().String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout.D())
	defer cancel()
	if shutErr := a.server.Shutdown(sctx); shutErr != nil {
		a.log.Warn("drain deadline passed; closing remaining connections", "err", shutErr)
		a.server.Close()
	}
	// Handlers cut by Close still return and queue their records.
	a.inflight.Wait()
	stopTexts() // no handler can queue text any more; write what is queued
	waitTexts()
	stopHup()
	<-hupDone
	stopPrune()
	<-pruneDone
	for _, u := range a.upstream {
		u.CloseIdle()
	}
	cctx, ccancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout.D())
	defer ccancel()
	if cerr := a.audit.Close(cctx); cerr != nil {
		a.log.Error("audit queue not drained before deadline", "queued", a.audit.Len(), "err", cerr)
		forceStop()
	}
	<-auditDone
	a.log.Info("audit flushed", "written", a.audit.Written())
	if cerr := a.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	return err
}

// Close releases resources of an App that was built but never Run.
func (a *App) Close() error {
	a.listener.Close()
	return a.db.Close()
}

// pruneLoop prunes audit records past the retention period every
// audit.prune_interval (never when it is 0) until stop ends.
func (a *App) pruneLoop(stop context.Context) {
	every := a.cfg.Audit.PruneInterval.D()
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		anchor, deleted, err := audit.Prune(stop, a.db, a.now(), a.cfg.Audit.Retention.D(), "system")
		if errors.Is(err, sqlite.ErrNoAnchor) {
			continue // no checkpoint older than the retention yet: nothing may go
		}
		if err != nil {
			a.log.Error("audit prune failed", "err", err)
			continue
		}
		if deleted > 0 {
			a.log.Info("audit pruned", "deleted", deleted, "anchor_seq", anchor)
		}
	}
}
