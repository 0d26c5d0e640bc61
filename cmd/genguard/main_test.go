package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// TestSIGTERMDrain runs the real binary, starts slow streams and a burst of
// requests, sends SIGTERM mid-stream, and checks that every stream finished,
// the process exited 0, and no audit record was lost.
func TestSIGTERMDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "genguard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "g.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\nupstreams:\n  - {name: demo, type: demo, tokens_per_second: 200}\nserver: {shutdown_timeout: 20s}\n"), 0o600)
	data := filepath.Join(dir, "data")
	out, err := exec.Command(bin, "users", "add", "--config", cfg, "--data", data, "drain").Output()
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(out))

	cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrRE := regexp.MustCompile(`"addr":"([^"]+)"`)
	sc := bufio.NewScanner(stderr)
	var url string
	var logs strings.Builder
	for sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			url = "http://" + m[1]
			break
		}
	}
	if url == "" {
		t.Fatalf("no listen line:\n%s", logs.String())
	}
	go io.Copy(io.Discard, stderr)

	body := func(stream bool, i int) string {
		b, _ := json.Marshal(map[string]any{"model": "demo", "stream": stream, "messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("问题 %d", i)}}})
		return string(b)
	}
	post := func(b string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		return http.DefaultClient.Do(req)
	}
	// A burst of quick requests first, then slow streams.
	const quick, streams = 60, 6
	var wg sync.WaitGroup
	for i := range quick {
		wg.Go(func() {
			resp, err := post(body(false, i))
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("quick request %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	started := make(chan struct{}, streams)
	results := make(chan string, streams)
	for i := range streams {
		go func() {
			resp, err := post(body(true, 1000+i))
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first, _ := br.ReadString('\n')
			started <- struct{}{}
			rest, _ := io.ReadAll(br)
			if resp.StatusCode != 200 {
				results <- fmt.Sprintf("status %d: %s%s", resp.StatusCode, first, rest)
				return
			}
			results <- string(rest)
		}()
	}
	for range streams {
		<-started
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := range streams {
		if r := <-results; !strings.HasSuffix(strings.TrimSpace(r), "data: [DONE]") {
			t.Errorf("stream %d was cut by the shutdown: ends %q", i, r[max(0, len(r)-300):])
		}
	}
	err = cmd.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Errorf("still accepting connections after exit")
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "genguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Events (e.g. the user creation above) share the log; count requests.
	recs, err := db.AuditRecords(context.Background(), store.AuditFilter{Kind: store.KindRequest})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != quick+streams {
		t.Errorf("audit has %d records, want %d: records were lost in the drain", len(recs), quick+streams)
	}
}
