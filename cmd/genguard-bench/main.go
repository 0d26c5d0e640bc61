// Command genguard-bench measures the latency genguard adds to a request.
// It starts a mock OpenAI-compatible upstream and the real gateway on
// loopback, sends the same 1 KB Chinese chat request to the mock directly
// and through the gateway, interleaved in one open-loop run at a fixed rate,
// and reports both latency distributions, their difference, and the
// per-request paired difference; streaming runs report time to first token
// too. A closed-loop run finds each path's saturation throughput, and -serve
// keeps both servers up for an external tool such as wrk. See BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "genguard-bench:", err)
		}
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	modes       string
	rate        int
	duration    time.Duration
	warmup      time.Duration
	repeat      int
	promptBytes int
	chunks      int
	chunkDelay  time.Duration
	conns       int
	satDuration time.Duration
	maxInFlight int
	timeout     time.Duration
	moderation  bool
	lexicon     string
	gatewayBin  string
	mockAddr    string
	gatewayAddr string
	cpuProfile  string
	serve       time.Duration
	wrkDir      string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("genguard-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.modes, "modes", "nonstream,stream,saturate", "comma-separated runs: nonstream, stream (open loop, side by side), saturate (closed loop)")
	fs.IntVar(&o.rate, "rate", 2000, "open loop: requests per second to EACH target (the client sends twice this in all)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "open loop: measured time per run (keep ≤ 30s on a shared machine)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load sent before measuring, per run (connections, caches, GC pacing)")
	fs.IntVar(&o.repeat, "repeat", 3, "runs of each mode; the report gives the median")
	fs.IntVar(&o.promptBytes, "prompt-bytes", 1024, "size of the user message in bytes (Chinese text)")
	fs.IntVar(&o.chunks, "chunks", 20, "content deltas per streamed answer")
	fs.DurationVar(&o.chunkDelay, "chunk-delay", 0, "mock: pause between streamed deltas (0: none)")
	fs.IntVar(&o.conns, "conns", 32, "saturate: concurrent closed-loop connections")
	fs.DurationVar(&o.satDuration, "sat-duration", 5*time.Second, "saturate: measured time per target per run")
	fs.IntVar(&o.maxInFlight, "max-inflight", 4096, "open loop: cap on requests in flight; sends over it are counted as dropped")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.moderation, "moderation", true, "gateway: moderate input and output")
	fs.StringVar(&o.lexicon, "lexicon", "starter", `gateway lexicon: "starter" (embedded starter library), "builtin" (the gateway's default), or a file`)
	fs.StringVar(&o.gatewayBin, "gateway-bin", "", "run this genguard binary as a subprocess instead of the gateway in this process")
	fs.StringVar(&o.mockAddr, "mock-addr", "127.0.0.1:0", "mock upstream listen address (loopback only)")
	fs.StringVar(&o.gatewayAddr, "gateway-addr", "127.0.0.1:0", "gateway listen address (loopback only)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured runs (in-process gateway goroutines are labelled role=gateway)")
	fs.DurationVar(&o.serve, "serve", 0, "instead of measuring, keep the mock and gateway up this long (for wrk), then exit")
	fs.StringVar(&o.wrkDir, "wrk-dir", "", "with -serve: write wrk Lua scripts and request bodies here")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, a := range []string{o.mockAddr, o.gatewayAddr} {
		if err := checkLoopback(a); err != nil {
			return o, err
		}
	}
	switch {
	case o.rate < 1:
		return o, errors.New("-rate must be at least 1")
	case o.repeat < 1:
		return o, errors.New("-repeat must be at least 1")
	case o.conns < 1:
		return o, errors.New("-conns must be at least 1")
	case o.duration <= 0 || o.satDuration <= 0 || o.warmup < 0:
		return o, errors.New("durations must be positive")
	case o.duration > 30*time.Second || o.satDuration > 30*time.Second || o.serve > 10*time.Minute:
		// Other people share this machine: runs stay short and bounded.
		return o, errors.New("-duration and -sat-duration are capped at 30s, -serve at 10m")
	}
	for _, m := range strings.Split(o.modes, ",") {
		switch m {
		case "nonstream", "stream", "saturate":
		default:
			return o, fmt.Errorf("unknown mode %q in -modes", m)
		}
	}
	return o, nil
}

// checkLoopback refuses any listen address off loopback: the load this tool
// makes must never leave the machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not on loopback", addr)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "genguard-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	m, err := newMock(o.mockAddr, mockOptions{Chunks: o.chunks, ChunkDelay: o.chunkDelay})
	if err != nil {
		return err
	}
	pprof.Do(ctx, pprof.Labels("role", "mock"), func(context.Context) { m.start() })
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if serr := m.stop(sctx); serr != nil && err == nil {
			err = serr
		}
	}()

	g, err := startGateway(ctx, gatewayOptions{Addr: o.gatewayAddr, Dir: dir, UpstreamV1: m.url() + "/v1",
		Moderation: o.moderation, Lexicon: o.lexicon, Bin: o.gatewayBin})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if serr := g.stop(sctx); serr != nil && err == nil {
			err = serr
		}
	}()

	targets := [2]target{
		{name: "direct", url: m.url() + "/v1/chat/completions", key: "unused"},
		{name: "gateway", url: g.url + "/v1/chat/completions", key: g.key, gateway: true},
	}
	c, err := newClient(o.timeout, o.promptBytes)
	if err != nil {
		return err
	}
	defer c.close()

	if o.serve > 0 {
		return serve(ctx, o, c, targets, stdout)
	}
	return measure(ctx, o, c, targets, g, stdout, stderr)
}

func measure(ctx context.Context, o options, c *client, targets [2]target, g *gateway, stdout, stderr io.Writer) (err error) {
	// A quick check that both paths answer before any load.
	for _, stream := range []bool{false, true} {
		for _, t := range targets {
			if r := c.do(ctx, t, stream); !r.ok {
				return fmt.Errorf("probe %s (stream %t): %s (gateway log: %s)", t.name, stream, r.err, g.log)
			}
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	loadBefore := loadavg()
	modes := map[string]bool{}
	for _, m := range strings.Split(o.modes, ",") {
		modes[m] = true
	}
	var non, str []openStats
	var satD, satG []satStats
	for rep := 1; rep <= o.repeat; rep++ {
		for _, stream := range []bool{false, true} {
			name := map[bool]string{false: "nonstream", true: "stream"}[stream]
			if !modes[name] {
				continue
			}
			fmt.Fprintf(stderr, "run %d/%d: %s open loop, %d req/s per target, %s (+%s warm-up)\n", rep, o.repeat, name, o.rate, o.duration, o.warmup)
			r, err := openLoop(ctx, c, targets, openLoopOptions{Rate: o.rate, Duration: o.duration, Warmup: o.warmup, Stream: stream, MaxInFlight: o.maxInFlight})
			if err != nil {
				return err
			}
			s := summarizeOpen(r, stream)
			if stream {
				str = append(str, s)
			} else {
				non = append(non, s)
			}
			settle(ctx)
		}
		if modes["saturate"] {
			for k, t := range targets {
				fmt.Fprintf(stderr, "run %d/%d: saturate %s, %d connections, %s (+1s warm-up)\n", rep, o.repeat, t.name, o.conns, o.satDuration)
				rs, err := closedLoop(ctx, c, t, o.conns, time.Second, o.satDuration, false)
				if err != nil {
					return err
				}
				s := summarizeClosed(rs, o.satDuration)
				if k == 0 {
					satD = append(satD, s)
				} else {
					satG = append(satG, s)
				}
				settle(ctx)
			}
		}
	}
	how := "in process"
	if o.gatewayBin != "" {
		how = "subprocess " + filepath.Base(o.gatewayBin)
	}
	fmt.Fprintf(stdout, "\ngenguard-bench: gateway %s, moderation %t (lexicon %s), request body %d bytes, %d chunks, chunk delay %s, GOMAXPROCS %d, %s; load average before %s, after %s\n",
		how, o.moderation, o.lexicon, len(c.bodies[0]), o.chunks, o.chunkDelay, runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339), loadBefore, loadavg())
	writeOpen(stdout, fmt.Sprintf("Non-streaming, open loop, %d req/s per target, %s per run", o.rate, o.duration), non)
	writeOpen(stdout, fmt.Sprintf("Streaming (%d deltas, delay %s), open loop, %d req/s per target, %s per run", o.chunks, o.chunkDelay, o.rate, o.duration), str)
	writeSat(stdout, fmt.Sprintf("Saturation, closed loop, %d connections, non-streaming, %s per target per run", o.conns, o.satDuration), satD, satG)
	return nil
}

// loadavg is the 1, 5 and 15-minute load average, to show how busy the
// shared machine was during a run ("?" where /proc is absent).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// settle pauses between runs so the audit writer catches up and one run's
// tail does not leak into the next.
func settle(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

// serve keeps both servers up for an external load tool and writes the wrk
// scripts it needs.
func serve(ctx context.Context, o options, c *client, targets [2]target, stdout io.Writer) error {
	if o.wrkDir != "" {
		if err := writeWrk(o.wrkDir, c, targets); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "direct  %s\ngateway %s\nkey     %s\n", targets[0].url, targets[1].url, targets[1].key)
	if o.wrkDir != "" {
		fmt.Fprintf(stdout, "wrk scripts in %s\n", o.wrkDir)
	}
	fmt.Fprintf(stdout, "ready; serving for %s\n", o.serve)
	select {
	case <-ctx.Done():
	case <-time.After(o.serve):
	}
	return nil
}

// writeWrk writes the request bodies and a wrk script per (target, stream).
// The script reads its body from a file so the Chinese text needs no Lua
// escaping.
func writeWrk(dir string, c *client, targets [2]target) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wrk dir: %w", err)
	}
	for i, kind := range []string{"nonstream", "stream"} {
		body := filepath.Join(dir, kind+".json")
		if err := os.WriteFile(body, c.bodies[i], 0o644); err != nil {
			return fmt.Errorf("wrk body: %w", err)
		}
		for _, t := range targets {
			lua := fmt.Sprintf(`-- genguard-bench: POST the %s benchmark request to the %s target.
local f = assert(io.open(%q, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
`, kind, t.name, body, t.key)
			if err := os.WriteFile(filepath.Join(dir, t.name+"-"+kind+".lua"), []byte(lua), 0o644); err != nil {
				return fmt.Errorf("wrk script: %w", err)
			}
		}
	}
	return nil
}
