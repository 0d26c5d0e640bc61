package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCLI(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, func(k string) string {
		if k == "TEST_KEY" {
			return "from-env"
		}
		return ""
	}, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		out, errIn string
	}{
		{nil, 2, "", "Usage: genguard"},
		{[]string{"help"}, 0, "", "Commands:"},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"version"}, 0, "genguard ", ""},
		{[]string{"config"}, 2, "", "config check FILE"},
		{[]string{"config", "check", "../config/testdata/ok_full.yaml"}, 1, "", "VLLM_KEY is not set"},
		{[]string{"config", "check", "../config/testdata/fail_unknown.yaml"}, 1, "", "fail_unknown.yaml:3: server.max_body_byte: unknown field"},
		{[]string{"config", "check", "/nonexistent.yaml"}, 1, "", "no such file"},
		{[]string{"users"}, 2, "", "users add NAME"},
		{[]string{"users", "frob"}, 2, "", "unknown users subcommand"},
		{[]string{"users", "add", "--bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"keys", "delete"}, 2, "", "keys revoke"},
		{[]string{"serve", "--config", "../config/testdata/fail_many.yaml"}, 1, "", "fail_many.yaml:1: listen"},
	}
	for _, tt := range tests {
		out, errs, code := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errIn) {
			t.Errorf("genguard %v = %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out, errs, tt.code, tt.out, tt.errIn)
		}
	}
}

func TestAdminKeyPrintedOnlyOnFirstStart(t *testing.T) {
	dir := t.TempDir()
	for i, wantKey := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb syncBuffer
		done := make(chan int)
		go func() {
			done <- Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data", dir}, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
		}()
		waitFor(t, "listening", func() bool { return strings.Contains(errb.String(), "genguard listening") })
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("start %d exited %d: %s", i, code, errb.String())
		}
		if got := strings.Contains(out.String(), "gg-"); got != wantKey {
			t.Errorf("start %d printed admin key = %v, want %v (stdout %q)", i, got, wantKey, out.String())
		}
	}
}
