package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genguard/genguard/internal/label"
)

func TestPropagate(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	// A labelled image (from the producer), and an unlabelled one.
	var labelled bytes.Buffer
	if _, err := label.Write(&labelled, label.DemoImage("猫", 64, 64), label.AIGC{Label: label.LabelIs, ContentProducer: "producer-1", ProduceID: "p-1"}, label.Options{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "gen.png"), labelled.Bytes(), 0o644)
	os.WriteFile(filepath.Join(in, "plain.png"), label.DemoImage("狗", 64, 64), 0o644)
	out := filepath.Join(dir, "out")

	stdout, stderr, code := runCLI("propagate", "--propagator", "platform-9", in, out)
	if code != 0 {
		t.Fatalf("propagate = %d: %s\n%s", code, stderr, stdout)
	}
	var lines []propagateResult
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r propagateResult
		json.Unmarshal([]byte(l), &r)
		lines = append(lines, r)
	}
	if len(lines) != 2 {
		t.Fatalf("output lines = %q", stdout)
	}
	got, _ := os.ReadFile(filepath.Join(out, "gen.png"))
	a, _, err := label.Read(got, label.Options{})
	if err != nil || a.ContentProducer != "producer-1" || a.Label != label.LabelIs || a.ContentPropagator != "platform-9" || a.PropagateID == "" {
		t.Errorf("propagated label = %+v, %v", a, err)
	}
	if _, err := os.Stat(filepath.Join(out, "plain.png")); !os.IsNotExist(err) {
		t.Errorf("an undeclared, unlabelled file was written: %v", err)
	}

	// Declared by the uploader: Label 2 ("may be").
	_, stderr, code = runCLI("propagate", "--propagator", "platform-9", "--declared", "--id", "post-42", filepath.Join(in, "plain.png"), filepath.Join(dir, "declared.png"))
	if code != 0 {
		t.Fatalf("propagate --declared = %d: %s", code, stderr)
	}
	got, _ = os.ReadFile(filepath.Join(dir, "declared.png"))
	if a, _, err := label.Read(got, label.Options{}); err != nil || a.Label != "2" || a.PropagateID != "post-42" {
		t.Errorf("declared label = %+v, %v", a, err)
	}
	if _, _, code := runCLI("propagate", in, out); code != 2 {
		t.Errorf("missing --propagator exit = %d, want 2", code)
	}
}

func TestLabelPropagateEndpoint(t *testing.T) {
	g := startGateway(t, "label: {producer: genguard-test}\n")
	key := g.newUser("platform")
	var labelled bytes.Buffer
	label.Write(&labelled, label.DemoImage("山", 64, 64), label.AIGC{Label: label.LabelIs, ContentProducer: "other-provider", ProduceID: "x1"}, label.Options{})

	r := g.do("POST", "/v1/labels/propagate?propagator=plat-1&propagate_id=post-7", key, bytes.NewReader(labelled.Bytes()), "Content-Type", "image/png")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Genguard-Label-State") != "is" {
		t.Fatalf("propagate = %d %v %.200s", r.status, r.header, r.body)
	}
	a, _, err := label.Read(r.body, label.Options{})
	if err != nil || a.ContentProducer != "other-provider" || a.ContentPropagator != "plat-1" || a.PropagateID != "post-7" {
		t.Errorf("label after propagate = %+v, %v", a, err)
	}
	plain := label.DemoImage("水", 64, 64)
	if r := g.do("POST", "/v1/labels/propagate", key, bytes.NewReader(plain), "Content-Type", "image/png"); r.status != 422 {
		t.Errorf("unlabelled, undeclared = %d %s", r.status, r.body)
	}
	r = g.do("POST", "/v1/labels/propagate?declared=true", key, bytes.NewReader(plain), "Content-Type", "image/png")
	if a, _, err := label.Read(r.body, label.Options{}); r.status != 200 || err != nil || a.Label != "2" || a.ContentPropagator != "genguard-test" {
		t.Errorf("declared = %d, %+v, %v", r.status, a, err)
	}
	for name, body := range map[string][]byte{"truncated": labelled.Bytes()[:40], "not a format": []byte("\x00\x01garbage")} {
		if r := g.do("POST", "/v1/labels/propagate", key, bytes.NewReader(body), "Content-Type", "application/octet-stream"); r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d, want 4xx", name, r.status)
		}
	}
	if r := g.do("POST", "/v1/labels/propagate?propagator=%E4%B8%AD", key, bytes.NewReader(labelled.Bytes()), "Content-Type", "image/png"); r.status != 400 {
		t.Errorf("non-ASCII propagator = %d", r.status)
	}
}
