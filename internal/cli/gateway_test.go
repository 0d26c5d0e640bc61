package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// syncBuffer is a goroutine-safe buffer for a running command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gateway is a whole genguard server started through the command line, on a
// random port with a temporary data directory.
type gateway struct {
	t        *testing.T
	url      string
	dataDir  string
	adminKey string
	stop     context.CancelFunc
	done     chan int
	stderr   *syncBuffer
}

var listenRE = regexp.MustCompile(`"msg":"genguard listening","addr":"([^"]+)"`)

// gatewayOption adjusts startGateway: withClock injects the gateway's clock,
// withDataDir reuses a data directory (a restart).
type gatewayOption func(*gatewayOptions)

type gatewayOptions struct {
	now     func() time.Time
	dataDir string
	lexicon string // lexicon file instead of testdata/e2e.lexicon.tsv
}

func withClock(now func() time.Time) gatewayOption {
	return func(o *gatewayOptions) { o.now = now }
}

func withDataDir(dir string) gatewayOption {
	return func(o *gatewayOptions) { o.dataDir = dir }
}

// startGateway runs `genguard serve` with the given YAML (listen and data
// dir are set here) and waits until it answers /readyz.
func startGateway(t *testing.T, configYAML string, opts ...gatewayOption) *gateway {
	t.Helper()
	var o gatewayOptions
	for _, f := range opts {
		f(&o)
	}
	dir := t.TempDir()
	lex, err := filepath.Abs("testdata/e2e.lexicon.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if o.lexicon != "" {
		lex = o.lexicon
	}
	cfg := "listen: 127.0.0.1:0\nauth: {cache_ttl: 0s}\nmoderation: {lexicon_file: " + lex + "}\n" + configYAML
	cfgPath := filepath.Join(dir, "genguard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, dataDir: filepath.Join(dir, "data"), done: make(chan int, 1), stderr: &syncBuffer{}}
	if o.dataDir != "" {
		g.dataDir = o.dataDir
	}
	stdout := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	g.stop = cancel
	go func() {
		g.done <- run(ctx, Env{Args: []string{"serve", "--config", cfgPath, "--data", g.dataDir}, Getenv: func(string) string { return "" },
			Stdin: strings.NewReader(""), Stdout: stdout, Stderr: g.stderr, Now: o.now})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(g.stderr.String()); m != nil {
			g.url = "http://" + m[1]
			break
		}
		select {
		case code := <-g.done:
			t.Fatalf("serve exited with %d before listening:\n%s", code, g.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", g.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		resp, err := http.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	g.adminKey = lines[len(lines)-1]
	if !strings.HasPrefix(g.adminKey, "gg-") && o.dataDir == "" {
		t.Fatalf("first start did not print an admin key: %q", stdout.String())
	}
	t.Cleanup(func() { g.shutdown() })
	return g
}

// shutdown stops the server like SIGTERM does and returns its exit code.
func (g *gateway) shutdown() int {
	g.stop()
	select {
	case code := <-g.done:
		g.done <- code // later calls see the same code
		return code
	case <-time.After(60 * time.Second):
		g.t.Fatalf("server did not stop")
		return -1
	}
}

// cli runs an operator command against the gateway's data directory.
func (g *gateway) cli(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	// Flags go before positional arguments: COMMAND SUB --data DIR ARGS…
	full := append(append(append([]string{}, args[:2]...), "--data", g.dataDir), args[2:]...)
	code := Run(context.Background(), full, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// newUser creates a user through the CLI and returns its key.
func (g *gateway) newUser(name string) string {
	g.t.Helper()
	args := []string{"users", "add", "--data", g.dataDir, name}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb); code != 0 {
		g.t.Fatalf("users add: %d %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %q", r.status, r.body)
	}
	return m
}

func (g *gateway) do(method, path, key string, body io.Reader, hdr ...string) response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (g *gateway) post(path, key, body string) response {
	return g.do("POST", path, key, strings.NewReader(body), "Content-Type", "application/json")
}

// auditRecords reads the request records of the audit table directly;
// events chained in the same table (sanctions, agreements) are left out.
func (g *gateway) auditRecords() []store.AuditRecord {
	g.t.Helper()
	return g.events(store.KindRequest)
}

// waitAudit polls until n records are written (the writer is asynchronous).
func (g *gateway) waitAudit(n int) []store.AuditRecord {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := g.auditRecords()
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sseEvents splits an SSE body into data payloads.
func sseEvents(body string) []string {
	var out []string
	for _, block := range strings.Split(body, "\n\n") {
		if d, ok := strings.CutPrefix(strings.TrimSpace(block), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func chat(content string, stream bool) string {
	b, _ := json.Marshal(map[string]any{"model": "demo", "stream": stream, "messages": []map[string]string{{"role": "user", "content": content}}})
	return string(b)
}
