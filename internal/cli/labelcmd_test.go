package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genguard/genguard/internal/label"
)

const fixtureDir = "../label/testdata"

// copyFixtures copies label fixtures into dir (name → fixture).
func copyFixtures(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, fx := range files {
		b, err := os.ReadFile(filepath.Join(fixtureDir, fx))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonLines decodes stdout, one object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var res []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		res = append(res, m)
	}
	return res
}

func byFile(lines []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, l := range lines {
		m[filepath.Base(l["file"].(string))] = l
	}
	return m
}

func keyPair(t *testing.T) (priv, pub string) {
	t.Helper()
	s, err := label.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	b, _ := s.PrivateKeyPEM()
	os.WriteFile(priv, b, 0o600)
	os.WriteFile(pub, s.PublicKeyPEM(), 0o644)
	return priv, pub
}

func TestLabelVerifyFile(t *testing.T) {
	priv, pub := keyPair(t)
	dir := t.TempDir()
	in, out := filepath.Join(fixtureDir, "in.png"), filepath.Join(dir, "out.png")
	stdout, stderr, code := runCLI("label", "--producer", testProducer, "--key", priv, in, out)
	if code != 0 {
		t.Fatalf("label = %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress bar drawn on a non-terminal: %q", stderr)
	}
	lines := jsonLines(t, stdout)
	if len(lines) != 1 || lines[0]["out"] != out || lines[0]["format"] != "png" || lines[0]["signed"] != true {
		t.Errorf("label output = %s", stdout)
	}
	b, _ := os.ReadFile(out)
	a, _, err := label.Read(b, label.Options{})
	if err != nil || a.ContentProducer != testProducer || !strings.HasPrefix(a.ProduceID, "gg-") {
		t.Errorf("written label = %+v, %v", a, err)
	}

	stdout, stderr, code = runCLI("verify", "--pub", pub, out)
	v := jsonLines(t, stdout)
	if code != 0 || len(v) != 1 || v[0]["status"] != "valid" || v[0]["format"] != "png" || !strings.Contains(v[0]["reason"].(string), "pinned") {
		t.Errorf("verify = %d %s %s", code, stdout, stderr)
	}
	// Another key: the pinned check fails.
	_, otherPub := keyPair(t)
	stdout, _, code = runCLI("verify", "--pub", otherPub, out)
	if v := jsonLines(t, stdout); code != 1 || v[0]["status"] != "invalid" {
		t.Errorf("verify with another key = %d %s", code, stdout)
	}
	// Directory as OUT: the file keeps its name.
	if _, stderr, code := runCLI("label", "--producer", testProducer, in, dir); code != 0 {
		t.Errorf("label into a directory = %d %s", code, stderr)
	} else if _, err := os.Stat(filepath.Join(dir, "in.png")); err != nil {
		t.Errorf("label into a directory: %v", err)
	}
}

func TestLabelDirectory(t *testing.T) {
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	copyFixtures(t, in, map[string]string{
		"a.png": "in.png", "b.jpg": "in.jpg", "sub/c.wav": "in.wav", "sub/deep/d.mp3": "in.mp3",
		"sub/e.pdf": "in.pdf", "notes.md": "in.md", "sub/f.flac": "in.flac", ".hidden.png": "in.png",
	})
	os.WriteFile(filepath.Join(in, "sub", "junk.bin"), []byte{0, 1, 2, 3, 0xff}, 0o644)

	stdout, stderr, code := runCLI("label", "--producer", testProducer, in, out)
	if code != 1 || !strings.Contains(stderr, "1 of 8 files failed") {
		t.Errorf("label dir = %d, stderr %q; want exit 1 and the one bad file counted", code, stderr)
	}
	lines := byFile(jsonLines(t, stdout))
	if len(lines) != 8 || lines["junk.bin"]["error"] == nil {
		t.Fatalf("label dir stdout = %s", stdout)
	}
	for _, rel := range []string{"a.png", "b.jpg", "sub/c.wav", "sub/deep/d.mp3", "sub/e.pdf", "notes.md", "sub/f.flac"} {
		b, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Errorf("%s not mirrored: %v", rel, err)
			continue
		}
		if a, _, err := label.Read(b, label.Options{}); err != nil || a.ContentProducer != testProducer {
			t.Errorf("%s: label %+v, %v", rel, a, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".hidden.png")); err == nil {
		t.Errorf("hidden file was labelled")
	}

	// verify over the output tree: all unsigned, exit 0.
	stdout, stderr, code = runCLI("verify", out)
	for _, l := range jsonLines(t, stdout) {
		if l["status"] != "unsigned" || l["label"] == nil {
			t.Errorf("verify %v", l)
		}
	}
	if code != 0 {
		t.Errorf("verify out dir = %d %s", code, stderr)
	}
	// OUT inside IN is refused.
	if _, stderr, code := runCLI("label", "--producer", testProducer, in, filepath.Join(in, "labelled")); code != 2 {
		t.Errorf("OUT inside IN = %d %s, want 2", code, stderr)
	}
}

func TestLabelExplicit(t *testing.T) {
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	copyFixtures(t, in, map[string]string{"a.png": "in.png", "b.webp": "in.webp", "c.wav": "in.wav", "d.md": "in.md", "e.mp3": "in.mp3"})
	stdout, _, code := runCLI("label", "--producer", testProducer, "--explicit", in, out)
	lines := byFile(jsonLines(t, stdout))
	if code != 1 || lines["e.mp3"]["error"] == nil || !strings.Contains(lines["e.mp3"]["error"].(string), "no explicit label for mp3") {
		t.Errorf("mp3 --explicit = %d %v; want a per-file error", code, lines["e.mp3"])
	}
	if lines["b.webp"]["out"] != filepath.Join(out, "b.png") {
		t.Errorf("WebP is re-encoded as PNG: out = %v", lines["b.webp"]["out"])
	}
	src, _ := os.ReadFile(filepath.Join(in, "c.wav"))
	wav, _ := os.ReadFile(filepath.Join(out, "c.wav"))
	if len(wav) < len(src)+8000 { // ≥ 0.5 s of rhythm label at 8 kHz
		t.Errorf("WAV grew %d → %d bytes: no rhythm label?", len(src), len(wav))
	}
	md, _ := os.ReadFile(filepath.Join(out, "d.md"))
	if !strings.Contains(string(md), label.DefaultNotice) || !strings.HasPrefix(string(md), "---") {
		t.Errorf("Markdown = %q; want front matter and the notice", md)
	}
	for _, name := range []string{"a.png", "b.png", "c.wav", "d.md"} {
		b, _ := os.ReadFile(filepath.Join(out, name))
		if a, _, err := label.Read(b, label.Options{}); err != nil || a.Label != "1" {
			t.Errorf("%s: %+v %v", name, a, err)
		}
	}
}

func TestVerifyStatuses(t *testing.T) {
	priv, _ := keyPair(t)
	dir := t.TempDir()
	copyFixtures(t, dir, map[string]string{"plain.png": "in.png"})
	signed := filepath.Join(dir, "signed.wav")
	if _, errs, code := runCLI("label", "--producer", testProducer, "--key", priv, filepath.Join(fixtureDir, "in.wav"), signed); code != 0 {
		t.Fatal(errs)
	}
	b, _ := os.ReadFile(signed)
	i := bytes.Index(b, []byte("data"))
	b[i+8+100] ^= 0xff // change one sample
	tampered := filepath.Join(dir, "tampered.wav")
	os.WriteFile(tampered, b, 0o644)
	golden, _ := os.ReadFile(filepath.Join(fixtureDir, "golden", "in.png"))
	os.WriteFile(filepath.Join(dir, "truncated.png"), golden[:len(golden)/2], 0o644)

	stdout, stderr, code := runCLI("verify", dir, filepath.Join(dir, "missing.png"))
	got := byFile(jsonLines(t, stdout))
	want := map[string]string{"plain.png": "none", "signed.wav": "valid", "tampered.wav": "invalid", "truncated.png": "error", "missing.png": "error"}
	for f, st := range want {
		if got[f]["status"] != st {
			t.Errorf("verify %s = %v, want %s", f, got[f], st)
		}
	}
	if r, _ := got["tampered.wav"]["reason"].(string); !strings.Contains(r, "content digest differs") {
		t.Errorf("tampered reason = %q", r)
	}
	if code != 1 || !strings.Contains(stderr, "4 of 5 files failed") {
		t.Errorf("verify exit = %d, stderr %q", code, stderr)
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	golden, _ := os.ReadFile(filepath.Join(fixtureDir, "golden", "in.png"))
	os.WriteFile(filepath.Join(dir, "truncated.png"), golden[:len(golden)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "ai.md"), []byte("# 标题\n\n一段文字。\n\n本内容由AI生成\n"), 0o644)
	labelled := filepath.Join(fixtureDir, "golden", "in.png")
	plain := filepath.Join(fixtureDir, "in.jpg")

	stdout, _, code := runCLI("inspect", labelled, plain, filepath.Join(dir, "ai.md"))
	got := byFile(jsonLines(t, stdout))
	if code != 0 || got["in.png"]["state"] != "is" || got["in.jpg"]["state"] != "none" || got["ai.md"]["state"] != "suspected" {
		t.Errorf("inspect = %d %s", code, stdout)
	}
	if ev, _ := got["ai.md"]["evidence"].([]any); len(ev) == 0 || !strings.Contains(stdout, `"kind":"explicit"`) {
		t.Errorf("ai.md evidence = %v", got["ai.md"]["evidence"])
	}
	stdout, _, code = runCLI("inspect", "--declared", plain)
	if l := jsonLines(t, stdout); code != 0 || l[0]["state"] != "may_be" {
		t.Errorf("inspect --declared = %d %s", code, stdout)
	}
	stdout, stderr, code := runCLI("inspect", filepath.Join(dir, "truncated.png"))
	if l := jsonLines(t, stdout); code != 1 || l[0]["status"] != "error" || !strings.Contains(l[0]["error"].(string), "malformed") || !strings.Contains(stderr, "1 of 1 files failed") {
		t.Errorf("inspect truncated = %d %s %s", code, stdout, stderr)
	}
}

func TestLabelUsage(t *testing.T) {
	tests := []struct {
		args  []string
		code  int
		errIn string
	}{
		{[]string{"label", "in", "out"}, 2, "--producer CODE"},
		{[]string{"label", "--producer", "X"}, 2, "IN OUT"},
		{[]string{"label", "--producer", "有 空格", "a", "b"}, 2, "--producer"},
		{[]string{"label", "--producer", "X", "--notice", "请注意", "a", "b"}, 2, "--notice"},
		{[]string{"label", "--producer", "X", "/nonexistent/in.png", "out.png"}, 1, "no such file"},
		{[]string{"label", "--producer", "X", "--key", "/nonexistent.pem", "a", "b"}, 1, "SM2 private key"},
		{[]string{"verify"}, 2, "genguard verify"},
		{[]string{"verify", "--bogus", "x"}, 2, "flag provided but not defined"},
		{[]string{"verify", "--pub", "/nonexistent.pem", "x"}, 1, "no such file"},
		{[]string{"inspect"}, 2, "genguard inspect"},
	}
	for _, tt := range tests {
		_, errs, code := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.errIn) {
			t.Errorf("genguard %v = %d, stderr %q; want %d, %q", tt.args, code, errs, tt.code, tt.errIn)
		}
	}
}

func TestProgressOnlyOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	if p := newProgress(&buf, 3); p.on {
		t.Errorf("progress on for a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := newProgress(f, 3); p.on {
		t.Errorf("progress on for a regular file")
	}
	var out, errb bytes.Buffer
	Run(context.Background(), []string{"inspect", filepath.Join(fixtureDir, "in.png")}, os.Getenv, strings.NewReader(""), &out, &errb)
	if errb.Len() != 0 {
		t.Errorf("stderr = %q, want nothing on success without a terminal", errb.String())
	}
}
