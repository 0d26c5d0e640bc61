package label

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixtures are the committed golden inputs (made with ffmpeg, see
// testdata/README.md) and whether ffprobe should decode them.
var fixtures = []struct {
	file   string
	format Format
	media  bool // audio/video: ffprobe must still decode the output
}{
	{"in.png", PNG, false},
	{"in.jpg", JPEG, false},
	{"in.webp", WebP, false},
	{"in_lossless.webp", WebP, false},
	{"in.wav", WAV, true},
	{"in.mp3", MP3, true},
	{"in.mp4", MP4, true},
	{"in.m4a", MP4, true},
	{"in.mov", MP4, true},
	{"in.flac", FLAC, true},
	{"in.ogg", Ogg, true},
	{"in.opus", Ogg, true},
	{"in.pdf", PDF, false},
	{"in.md", Markdown, false},
}

func testLabel() AIGC {
	return AIGC{
		Label: LabelIs, ContentProducer: "001191110102MAD55U9H0F10002", ProduceID: "gg-0001",
		ContentPropagator: "001191110102MAD55U9H0F10002", PropagateID: "gg-0001",
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t testing.TB, src []byte, a AIGC, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(&buf, src, a, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func payload(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Payload(&buf, data, Options{}); err != nil {
		t.Fatalf("Payload: %v", err)
	}
	return buf.Bytes()
}

func TestDetect(t *testing.T) {
	for _, fx := range fixtures {
		if got := Detect(readFixture(t, fx.file)); got != fx.format {
			t.Errorf("Detect(%s) = %q, want %q", fx.file, got, fx.format)
		}
	}
	if got := Detect([]byte{0, 1, 2, 3}); got != Unknown {
		t.Errorf("Detect(binary) = %q, want unknown", got)
	}
}

// TestRoundTrip writes, re-reads, relabels, and checks one label, an
// unchanged payload, and (when installed) exiftool and ffprobe.
func TestRoundTrip(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			src := readFixture(t, fx.file)
			if _, _, err := Read(src, Options{}); !errors.Is(err, ErrNoLabel) {
				t.Fatalf("Read(fixture) error = %v, want ErrNoLabel", err)
			}
			a := testLabel()
			out := write(t, src, a, Options{})
			got, f, err := Read(out, Options{})
			if err != nil || got != a || f != fx.format {
				t.Fatalf("Read = %+v, %q, %v; want %+v", got, f, err, a)
			}
			if !bytes.Equal(payload(t, src), payload(t, out)) {
				t.Error("payload changed by Write")
			}
			// Relabel: still one label, updated in place, same size class.
			b := a
			b.ProduceID = "gg-0002"
			out2 := write(t, out, b, Options{})
			if got, _, err := Read(out2, Options{}); err != nil || got != b {
				t.Fatalf("Read(relabelled) = %+v, %v; want %+v", got, err, b)
			}
			if d := len(out2) - len(out); d < -64 || d > 64 {
				t.Errorf("relabel changed size by %d bytes: label was duplicated?", d)
			}
			if !bytes.Equal(payload(t, src), payload(t, out2)) {
				t.Error("payload changed by relabel")
			}
			path := filepath.Join(t.TempDir(), "out"+filepath.Ext(fx.file))
			if err := os.WriteFile(path, out2, 0o600); err != nil {
				t.Fatal(err)
			}
			checkExiftool(t, path, fx.format, b)
			if fx.media {
				checkFFprobe(t, path)
			}
		})
	}
}

// checkExiftool reads the label back with exiftool, an independent reader.
func checkExiftool(t *testing.T, path string, f Format, want AIGC) {
	t.Helper()
	if _, err := exec.LookPath("exiftool"); err != nil {
		t.Log("exiftool not installed (apt-get install libimage-exiftool-perl): skipping independent read")
		return
	}
	if f == Markdown {
		return // exiftool has no Markdown front-matter reader
	}
	out, err := exec.Command("exiftool", "-j", "-G1", "-a", "-u", "-b", path).Output()
	if err != nil {
		t.Fatalf("exiftool: %v", err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil || len(docs) != 1 {
		t.Fatalf("exiftool JSON: %v", err)
	}
	var hits []string
	for k, v := range docs[0] {
		if !strings.Contains(strings.ToUpper(k), "AIGC") && !strings.Contains(k, "UserDefinedText") {
			continue
		}
		s, _ := v.(string)
		s = strings.TrimPrefix(s, "(AIGC) ")
		if b64, ok := strings.CutPrefix(s, "base64:"); ok { // -b: unknown chunks as binary
			raw, _ := base64.StdEncoding.DecodeString(b64)
			s = string(raw)
		}
		if a, err := ParseJSON([]byte(s)); err == nil && a == want {
			hits = append(hits, k)
		}
	}
	if len(hits) != 1 {
		t.Errorf("exiftool found the label in %d tags %v, want 1; output:\n%s", len(hits), hits, out)
	}
}

func checkFFprobe(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Log("ffprobe not installed (apt-get install ffmpeg): skipping decode check")
		return
	}
	// Decode every packet: a broken offset table fails here.
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decode of labelled file: %v\n%s", err, out)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", path).CombinedOutput()
	if err != nil {
		t.Errorf("ffprobe: %v\n%s", err, out)
	}
}
