package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke runs every mode for about a second at a low rate, in process,
// and checks that each section is reported with no errors. It asserts no
// timing: the machine is shared.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway and sends load for a few seconds")
	}
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{
		"-rate", "50", "-duration", "1s", "-warmup", "200ms", "-repeat", "1",
		"-conns", "2", "-sat-duration", "500ms", "-chunks", "5",
	}, &out, &errs)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errs.String())
	}
	s := out.String()
	for _, want := range []string{"#### Non-streaming", "#### Streaming", "#### Saturation", "TTFT: through gateway", "paired per-request difference"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(s, "Errors: direct 0; gateway 0.") {
		t.Errorf("report shows errors:\n%s", s)
	}
}

func TestServeWritesWrkScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway")
	}
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"-serve", "10ms", "-wrk-dir", dir}, &out, &errs); err != nil {
		t.Fatalf("run: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "gateway http://127.0.0.1:") {
		t.Errorf("serve output = %q", out.String())
	}
	for _, f := range []string{"direct-nonstream.lua", "gateway-stream.lua", "nonstream.json"} {
		if _, err := readFile(dir, f); err != nil {
			t.Error(err)
		}
	}
}

func TestFlagsRefuseNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"-mock-addr", "10.0.0.1:80"},
		{"-gateway-addr", "0.0.0.0:8080"},
		{"-duration", "31s"},
		{"-modes", "nonstream,bogus"},
	} {
		var errs bytes.Buffer
		if _, err := parseFlags(args, &errs); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-mock-addr", "[::1]:0", "-gateway-addr", "localhost:0"}, &bytes.Buffer{}); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
}

func readFile(dir, name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
