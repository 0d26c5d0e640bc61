package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/moderation/lexicon"
)

// benchModel is the public model name the gateway routes to the mock.
const benchModel = "bench"

// gatewayOptions say how to run the gateway under test.
type gatewayOptions struct {
	Addr       string // listen address, loopback
	Dir        string // scratch directory for the data dir, config, logs
	UpstreamV1 string // the mock's base URL, ending in /v1
	Moderation bool
	// Lexicon is "starter" (the embedded starter library, written out as
	// a lexicon file), "builtin" (the gateway's own default) or a path.
	Lexicon string
	// Bin, when set, runs that genguard binary as a subprocess instead of
	// the gateway in this process.
	Bin string
}

// gateway is a running gateway with one user key.
type gateway struct {
	url  string
	key  string
	log  string // where its log lines go
	stop func(ctx context.Context) error
}

// writeConfig writes the gateway's YAML config and returns its path. YAML
// (parsed by config.Parse) rather than a hand-built struct, so defaults and
// validation are exactly those of `genguard serve`.
func writeConfig(o gatewayOptions) (path string, cfg config.Config, err error) {
	lex := ""
	switch o.Lexicon {
	case "builtin", "":
	case "starter":
		lex = filepath.Join(o.Dir, "starter.lexicon.tsv")
		if err := writeStarterLexicon(lex); err != nil {
			return "", cfg, err
		}
	default:
		lex, err = filepath.Abs(o.Lexicon)
		if err != nil {
			return "", cfg, fmt.Errorf("lexicon path: %w", err)
		}
	}
	y := fmt.Sprintf(`listen: %q
data_dir: %q
log: {level: info, format: json}
moderation: {input: %t, output: %t, lexicon_file: %q}
upstreams:
  - {name: mock, type: openai, base_url: %q}
models:
  - {name: %s, routes: [{upstream: mock}]}
`, o.Addr, filepath.Join(o.Dir, "data"), o.Moderation, o.Moderation, lex, o.UpstreamV1, benchModel)
	path = filepath.Join(o.Dir, "genguard.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		return "", cfg, fmt.Errorf("write config: %w", err)
	}
	cfg, err = config.Parse(path, []byte(y), func(string) string { return "" })
	if err != nil {
		return "", cfg, fmt.Errorf("gateway config: %w", err)
	}
	return path, cfg, nil
}

// writeStarterLexicon writes the embedded starter library as a lexicon file
// (term, risk, action, flags — the starter's own format), so moderation
// scans a few hundred real terms rather than an empty list.
func writeStarterLexicon(path string) error {
	lib, err := lexicon.Starter()
	if err != nil {
		return fmt.Errorf("starter lexicon: %w", err)
	}
	var b bytes.Buffer
	for _, e := range lib.Entries {
		flags := ""
		if e.Flags != 0 {
			flags = e.Flags.String()
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", e.Term, e.Risk, e.Action, flags)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write lexicon: %w", err)
	}
	return nil
}

// startGateway starts the gateway and creates the bench user.
func startGateway(ctx context.Context, o gatewayOptions) (*gateway, error) {
	cfgPath, cfg, err := writeConfig(o)
	if err != nil {
		return nil, err
	}
	var g *gateway
	if o.Bin != "" {
		g, err = startSubprocess(ctx, o.Bin, cfgPath, o.Dir)
	} else {
		g, err = startInProcess(ctx, cfg, o.Dir)
	}
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, g.url); err != nil {
		g.stop(context.Background())
		return nil, err
	}
	return g, nil
}

// startInProcess runs app.App in this process, its goroutines labelled
// role=gateway so a CPU profile can be focused on them
// (go tool pprof -tagfocus role=gateway).
func startInProcess(ctx context.Context, cfg config.Config, dir string) (*gateway, error) {
	logPath := filepath.Join(dir, "gateway.log")
	// Like `genguard serve` with stderr sent to a file: the access log is
	// part of the per-request cost.
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("gateway log: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(ctx, cfg, log, io.Discard)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	acc, err := app.Accounts(ctx, a.Store(), cfg)
	if err != nil {
		a.Close()
		lf.Close()
		return nil, fmt.Errorf("gateway accounts: %w", err)
	}
	_, key, err := acc.CreateUser(ctx, "bench")
	if err != nil {
		a.Close()
		lf.Close()
		return nil, fmt.Errorf("create bench user: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go pprof.Do(runCtx, pprof.Labels("role", "gateway"), func(ctx context.Context) {
		done <- a.Run(ctx)
	})
	stop := func(wait context.Context) error {
		cancel()
		defer lf.Close()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("gateway run: %w", err)
			}
			return nil
		case <-wait.Done():
			return fmt.Errorf("gateway drain: %w", wait.Err())
		}
	}
	return &gateway{url: "http://" + a.Addr().String(), key: key, log: logPath, stop: stop}, nil
}

var listeningRE = regexp.MustCompile(`"msg":"genguard listening","addr":"([^"]+)"`)

// startSubprocess runs the built binary, as an operator would, with its
// stderr (the JSON log) in a file.
func startSubprocess(ctx context.Context, bin, cfgPath, dir string) (*gateway, error) {
	out, err := exec.CommandContext(ctx, bin, "users", "add", "--config", cfgPath, "bench").Output()
	if err != nil {
		return nil, fmt.Errorf("%s users add: %w", bin, err)
	}
	key := strings.TrimSpace(string(out))
	logPath := filepath.Join(dir, "gateway.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("gateway log: %w", err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout = io.Discard
	pr, pw, err := os.Pipe()
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("pipe: %w", err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		lf.Close()
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	pw.Close()
	// The copier owns the pipe's read end; it ends when the child exits and
	// the pipe closes. Until the address is seen it also scans the lines.
	addrCh := make(chan string, 1)
	copyDone := make(chan struct{})
	go func() {
		defer close(copyDone)
		defer pr.Close()
		br := bufio.NewReader(pr)
		found := false
		for {
			line, err := br.ReadBytes('\n')
			lf.Write(line)
			if !found {
				if m := listeningRE.FindSubmatch(line); m != nil {
					addrCh <- string(m[1])
					found = true
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func(wait context.Context) error {
		defer lf.Close()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("signal gateway: %w", err)
		}
		var err error
		select {
		case err = <-exited:
		case <-wait.Done():
			cmd.Process.Kill()
			err = <-exited
		}
		<-copyDone
		if err != nil {
			return fmt.Errorf("gateway exit: %w", err)
		}
		return nil
	}
	select {
	case addr := <-addrCh:
		return &gateway{url: "http://" + addr, key: key, log: logPath, stop: stop}, nil
	case err := <-exited:
		exited <- err // let stop see it too
		stop(context.Background())
		return nil, fmt.Errorf("gateway exited before listening (log: %s): %w", logPath, err)
	case <-time.After(20 * time.Second):
		stop(context.Background())
		return nil, fmt.Errorf("gateway did not report its address within 20s (log: %s)", logPath)
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("readyz: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway not ready: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
