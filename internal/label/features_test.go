package label

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// TestGolden pins the exact bytes each writer produces for a fixed label.
func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			out := write(t, readFixture(t, fx.file), testLabel(), Options{})
			path := filepath.Join("testdata", "golden", fx.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("Write(%s) differs from %s", fx.file, path)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*AIGC)
		ok   bool
	}{
		{"valid", func(*AIGC) {}, true},
		{"label 2", func(a *AIGC) { a.Label = "2" }, true},
		{"label 4", func(a *AIGC) { a.Label = "4" }, false},
		{"numeric-looking empty", func(a *AIGC) { a.Label = "" }, false},
		{"space", func(a *AIGC) { a.ProduceID = "a b" }, false},
		{"chinese", func(a *AIGC) { a.ContentProducer = "某公司" }, false},
		{"control", func(a *AIGC) { a.PropagateID = "x\n" }, false},
		{"no provider", func(a *AIGC) { a.ContentProducer, a.ContentPropagator = "", "" }, false},
		{"quote ok", func(a *AIGC) { a.ReservedCode1 = `{"k":"v"}` }, true},
	}
	for _, tt := range tests {
		a := testLabel()
		tt.mod(&a)
		err := a.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidLabel) {
			t.Errorf("%s: error %v does not wrap ErrInvalidLabel", tt.name, err)
		}
	}
}

func TestJSONOrder(t *testing.T) {
	a := testLabel()
	a.ReservedCode1 = `<&>`
	want := `{"AIGC":{"Label":"1","ContentProducer":"001191110102MAD55U9H0F10002","ProduceID":"gg-0001","ReservedCode1":"<&>","ContentPropagator":"001191110102MAD55U9H0F10002","PropagateID":"gg-0001","ReservedCode2":""}}`
	if got := string(a.JSON()); got != want {
		t.Errorf("JSON() =\n%s\nwant\n%s", got, want)
	}
	if b, err := ParseJSON(a.InnerJSON()); err != nil || b != a {
		t.Errorf("ParseJSON(inner) = %+v, %v", b, err)
	}
}

func TestSignVerify(t *testing.T) {
	prod, err := GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := prod.PrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if prod, err = ParseSigner(pemKey); err != nil {
		t.Fatalf("ParseSigner: %v", err)
	}
	pub, err := ParsePublicKey(prod.PublicKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateSigner()
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			src := readFixture(t, fx.file)
			out := write(t, src, testLabel(), Options{Producer: prod, Propagator: prod})
			v, err := Verify(out, VerifyOptions{Producer: pub})
			if err != nil || v.Producer.Status != Valid || !v.Producer.ContentBound || !v.Producer.Pinned || v.Propagator.Status != Valid {
				t.Fatalf("Verify = %+v, %v", v, err)
			}
			if v, _ := Verify(out, VerifyOptions{Producer: other.Public()}); v.Producer.Status != Invalid {
				t.Errorf("Verify with another pinned key = %+v, want invalid", v.Producer)
			}
			// Tamper with a label field, keeping the signature.
			a, _, _ := Read(out, Options{})
			a.ProduceID = "gg-9999"
			if v, _ := Verify(write(t, out, a, Options{}), VerifyOptions{}); v.Producer.Status != Invalid {
				t.Errorf("Verify(tampered label) = %+v, want invalid", v.Producer)
			}
			// Unsigned label.
			if v, _ := Verify(write(t, src, testLabel(), Options{}), VerifyOptions{}); v.Producer.Status != Unsigned {
				t.Errorf("Verify(unsigned) = %+v", v.Producer)
			}
		})
	}
	// Tamper with content: flip a payload byte of the labelled WAV.
	out := write(t, readFixture(t, "in.wav"), testLabel(), Options{Producer: prod})
	out[len(out)-1] ^= 0xff
	if v, _ := Verify(out, VerifyOptions{}); v.Producer.Status != Invalid || !strings.Contains(v.Producer.Reason, "content") {
		t.Errorf("Verify(tampered content) = %+v", v.Producer)
	}
}

func TestInspectPropagate(t *testing.T) {
	labelled := write(t, readFixture(t, "in.png"), testLabel(), Options{})
	tests := []struct {
		name     string
		data     []byte
		declared bool
		state    State
		label    string
	}{
		{"metadata", labelled, false, StateIs, LabelIs},
		{"declared", readFixture(t, "in.png"), true, StateMayBe, LabelMayBe},
		{"text notice", []byte("一段文字。\n\n本内容由人工智能生成"), false, StateSuspected, LabelSuspected},
		{"none", readFixture(t, "in.png"), false, StateNone, ""},
		{"plain text", []byte("hello world"), false, StateNone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Inspect(tt.data, InspectOptions{Declared: tt.declared})
			if err != nil || r.State != tt.state {
				t.Fatalf("Inspect = %+v, %v; want %s", r, err, tt.state)
			}
			var buf bytes.Buffer
			a, _, err := Propagate(&buf, tt.data, PropagateOptions{
				InspectOptions: InspectOptions{Declared: tt.declared}, ContentPropagator: "PLATFORM01", PropagateID: "p-42",
			})
			if tt.label == "" {
				if !errors.Is(err, ErrNotGenerated) {
					t.Fatalf("Propagate error = %v, want ErrNotGenerated", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Read(buf.Bytes(), Options{})
			if err != nil || got != a || got.Label != tt.label || got.PropagateID != "p-42" {
				t.Errorf("Read(propagated) = %+v, %v", got, err)
			}
			if tt.name == "metadata" && got.ContentProducer != testLabel().ContentProducer {
				t.Errorf("producer fields lost: %+v", got)
			}
		})
	}
}

func TestTextNotice(t *testing.T) {
	text := "第一段。\n\n第二段。\n\n第三段。"
	for _, pos := range []Position{Start, Middle, End} {
		got, err := TextNotice(text, pos, "")
		if err != nil || !strings.Contains(got, DefaultNotice) || FindNotice(got) == "" {
			t.Errorf("TextNotice(pos %d) = %q, %v", pos, got, err)
		}
	}
	if got, _ := TextNotice(text, Start, ""); !strings.HasPrefix(got, DefaultNotice) {
		t.Errorf("Start: %q", got)
	}
	if got, _ := TextNotice(text, End, ""); !strings.HasSuffix(got, DefaultNotice) {
		t.Errorf("End: %q", got)
	}
	if got, _ := TextNotice(text, Middle, ""); !strings.Contains(got, "第二段。\n\n"+DefaultNotice) && !strings.Contains(got, DefaultNotice+"\n\n第二段") {
		t.Errorf("Middle: %q", got)
	}
	if _, err := TextNotice(text, End, "本内容仅供参考"); !errors.Is(err, ErrNoticeElements) {
		t.Errorf("notice without elements: err = %v", err)
	}
}

func TestImageExplicit(t *testing.T) {
	for _, size := range []image.Point{{640, 360}, {360, 640}, {1920, 1080}, {64, 48}} {
		for _, bg := range []color.Gray{{0}, {255}} {
			src := image.NewGray(image.Rect(0, 0, size.X, size.Y))
			for i := range src.Pix {
				src.Pix[i] = bg.Y
			}
			out, err := ImageExplicit(src, ImageOptions{Text: "本内容由人工智能生成"})
			if err != nil {
				t.Fatalf("%v: %v", size, err)
			}
			// Measure the rows holding white text pixels: the ink height.
			top, bottom := -1, -1
			for y := range size.Y {
				for x := range size.X {
					if c := out.RGBAAt(x, y); c.R > 200 && c.G > 200 && bg.Y == 0 || c.R > 250 && bg.Y == 255 && isInBox(out, x, y) {
						if top < 0 {
							top = y
						}
						bottom = y
						break
					}
				}
			}
			ink := bottom - top + 1
			if need := (min(size.X, size.Y)*5 + 99) / 100; top < 0 || ink < need {
				t.Errorf("%v on %d: ink height %d, want ≥ %d (5%% of shortest side)", size, bg.Y, ink, need)
			}
		}
	}
}

// isInBox reports whether a pixel lies inside the dark label box (its
// neighbourhood contains the box colour), to ignore a white background.
func isInBox(img *image.RGBA, x, y int) bool {
	for dx := -3; dx <= 3; dx++ {
		if c := img.RGBAAt(x+dx, y); c.R < 120 {
			return true
		}
	}
	return false
}

func TestLabelImage(t *testing.T) {
	for _, name := range []string{"demo", "in.png", "in.jpg", "in.webp"} {
		src := DemoImage("cat", 320, 200)
		if name != "demo" {
			src = readFixture(t, name)
		}
		var buf bytes.Buffer
		f, a, err := LabelImage(&buf, src, testLabel(), ImageOptions{}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, gf, err := Read(buf.Bytes(), Options{}); err != nil || got != a || gf != f {
			t.Errorf("%s: implicit label after explicit = %+v, %v", name, got, err)
		}
	}
}

func TestAudioRhythm(t *testing.T) {
	src := DemoWAV("hello", 0.5, 8000)
	var buf bytes.Buffer
	if _, err := AudioRhythm(&buf, src, testLabel(), AudioOptions{Start: true, End: true}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if _, _, err := Read(out, Options{}); err != nil {
		t.Fatal(err)
	}
	// Each rhythm adds 0.9 s of pattern plus 0.2 s gap: 2 × 1.1 s × 8000 × 2 bytes.
	var in, got bytes.Buffer
	_ = Payload(&in, src, Options{})
	_ = Payload(&got, out, Options{})
	if d := got.Len() - in.Len(); d != 2*int(1.1*8000)*2 {
		t.Errorf("rhythm added %d bytes, want %d", d, 2*int(1.1*8000)*2)
	}
	// The first tone is short (100 ms), then 100 ms silence, then long (300 ms).
	pcm := out[bytes.Index(out, []byte("data"))+8:]
	energy := func(ms0, ms1 int) int {
		e := 0
		for i := ms0 * 8; i < ms1*8; i++ {
			v := int(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
			e = max(e, v)
		}
		return e
	}
	if energy(20, 80) < 10000 || energy(120, 180) != 0 || energy(220, 480) < 10000 || energy(520, 580) != 0 {
		t.Errorf("pattern is not short-gap-long-gap")
	}
	if path := filepath.Join(t.TempDir(), "r.wav"); os.WriteFile(path, out, 0o600) == nil {
		checkFFprobe(t, path)
	}
}

func TestVideo(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (apt-get install ffmpeg): skipping burned-in video label")
	}
	dst := filepath.Join(t.TempDir(), "v.mp4")
	a, err := Video(context.Background(), dst, filepath.Join("testdata", "in.mp4"), testLabel(), VideoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := Read(data, Options{}); err != nil || got != a {
		t.Errorf("Read(video) = %+v, %v", got, err)
	}
	checkFFprobe(t, dst)
	checkExiftool(t, dst, MP4, a)
	// The first frame shows the label box: a frame at 0.5 s differs from
	// the input's, a frame at 2.5 s does not exist (1 s clip), so compare
	// the bottom-right corner at 0.5 s.
	frame := func(path string) image.Image {
		out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-ss", "0.5", "-i", path, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-").Output()
		if err != nil {
			t.Fatalf("extract frame: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	in, labelled := frame(filepath.Join("testdata", "in.mp4")), frame(dst)
	b := in.Bounds()
	diff := 0
	for y := b.Max.Y * 3 / 4; y < b.Max.Y; y++ {
		for x := b.Max.X / 2; x < b.Max.X; x++ {
			r1, _, _, _ := in.At(x, y).RGBA()
			r2, _, _, _ := labelled.At(x, y).RGBA()
			if r1>>8 > r2>>8+40 || r2>>8 > r1>>8+40 {
				diff++
			}
		}
	}
	if diff < 50 {
		t.Errorf("no burned-in label found in the bottom-right corner (%d pixels differ)", diff)
	}
}

func TestVideoNoFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Video(context.Background(), "x.mp4", "y.mp4", testLabel(), VideoOptions{}); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("Video without ffmpeg: err = %v, want ErrNoFFmpeg", err)
	}
}

func TestSizeCap(t *testing.T) {
	src := readFixture(t, "in.png")
	if _, err := Write(&bytes.Buffer{}, src, testLabel(), Options{MaxSize: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Write over cap: err = %v", err)
	}
}

func TestDemo(t *testing.T) {
	if !bytes.Equal(DemoImage("a", 64, 64), DemoImage("a", 64, 64)) || bytes.Equal(DemoImage("a", 64, 64), DemoImage("b", 64, 64)) {
		t.Error("DemoImage is not deterministic per prompt")
	}
	if Detect(DemoWAV("a", 0.1, 8000)) != WAV {
		t.Error("DemoWAV is not a WAV file")
	}
}
