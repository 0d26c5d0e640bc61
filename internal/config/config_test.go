package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	cfg, err := Load("", env(nil))
	if err != nil {
		t.Fatalf("Load(\"\"): %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.DataDir != "./genguard-data" || cfg.Server.MaxBodyBytes != 1<<20 {
		t.Errorf("defaults = %+v", cfg)
	}
	if len(cfg.Models) != 1 || cfg.Models[0].Name != "demo" || cfg.Models[0].Routes[0].Upstream != "demo" {
		t.Errorf("default models = %+v, want demo → demo", cfg.Models)
	}
}

func TestFullFile(t *testing.T) {
	cfg, err := Load("testdata/ok_full.yaml", env(map[string]string{"VLLM_KEY": "sk-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Upstreams[0].APIKey.Value != "sk-secret" || cfg.Upstreams[0].APIKey.Ref != "VLLM_KEY" {
		t.Errorf("secret not resolved: %+v", cfg.Upstreams[0].APIKey)
	}
	if got := cfg.Models[0].Routes[1].Model; got != "qwen" {
		t.Errorf("route model default = %q, want the public name qwen", got)
	}
	if cfg.Server.ShutdownTimeout.D() != 10*time.Second || !cfg.Audit.Strict || cfg.Audit.QueueSize != 8192 {
		t.Errorf("merge with defaults wrong: %+v %+v", cfg.Server, cfg.Audit)
	}
	if cfg.Upstreams[0].Timeout.D() != 120*time.Second {
		t.Errorf("upstream timeout default = %v", cfg.Upstreams[0].Timeout)
	}
}

func TestErrorsNameFileLineField(t *testing.T) {
	for _, name := range []string{"fail_many", "fail_unknown", "fail_type", "fail_label"} {
		t.Run(name, func(t *testing.T) {
			dir := "testdata"
			_, err := Load(filepath.Join(dir, name+".yaml"), env(nil))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load err = %v, want *config.Error", err)
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "") + "\n"
			golden := filepath.Join(dir, name+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	cfg, err := Load("testdata/ok_full.yaml", env(map[string]string{"VLLM_KEY": "sk-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Upstreams[0].APIKey.String()
	if strings.Contains(s, "sk-secret") {
		t.Errorf("Secret.String() leaks the value: %q", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"ok_full", "ok_label", "fail_many", "fail_unknown", "fail_type", "fail_label"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n+".yaml"))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		cfg, err := Parse("fuzz.yaml", data, env(nil))
		if err == nil && cfg.Listen == "" {
			t.Errorf("accepted config with empty listen")
		}
	})
}
