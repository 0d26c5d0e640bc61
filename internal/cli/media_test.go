package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genguard/genguard/internal/label"
)

const testProducer = "001191110102MAD55U9H0F10002"

// labelGateway starts a gateway whose labels are signed with a fresh SM2
// key; it returns the signer so tests can pin it.
func labelGateway(t *testing.T, extra string) (*gateway, *label.Signer) {
	t.Helper()
	s, err := label.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := s.PrivateKeyPEM()
	keyFile := filepath.Join(t.TempDir(), "label.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "label:\n  producer: " + testProducer + "\n  signing_key: " + keyFile + "\n" + extra
	return startGateway(t, cfg), s
}

// checkLabel reads the implicit label of data and verifies its signature
// against the gateway's key.
func checkLabel(t *testing.T, data []byte, signer *label.Signer, want label.Format) label.AIGC {
	t.Helper()
	a, f, err := label.Read(data, label.Options{})
	if err != nil || f != want {
		t.Fatalf("label.Read = %v, %q, %v; want a %s label", a, f, err, want)
	}
	if a.Label != label.LabelIs || a.ContentProducer != testProducer || !strings.HasPrefix(a.ProduceID, "req_") {
		t.Errorf("label = %+v", a)
	}
	v, err := label.Verify(data, label.VerifyOptions{Producer: signer.Public()})
	if err != nil || v.Producer.Status != label.Valid || !v.Producer.Pinned || !v.Producer.ContentBound {
		t.Errorf("Verify = %+v, %v; want a valid pinned, content-bound producer signature", v.Producer, err)
	}
	return a
}

type imagesResp struct {
	Data []struct {
		B64JSON string `json:"b64_json"`
		URL     string
	}
	Genguard struct {
		Decision string
		AIGC     []json.RawMessage
	}
	Error struct{ Code, Message string }
}

func TestImagesB64(t *testing.T) {
	g, signer := labelGateway(t, "")
	key := g.newUser("painter")
	r := g.post("/v1/images/generations", key, `{"prompt":"一只在雪地里的猫","n":2,"size":"256x256","response_format":"b64_json"}`)
	var ir imagesResp
	if err := json.Unmarshal(r.body, &ir); err != nil || r.status != 200 || len(ir.Data) != 2 || len(ir.Genguard.AIGC) != 2 {
		t.Fatalf("images = %d %.300s", r.status, r.body)
	}
	var ids []string
	for i, d := range ir.Data {
		b, err := base64.StdEncoding.DecodeString(d.B64JSON)
		if err != nil {
			t.Fatalf("data[%d].b64_json: %v", i, err)
		}
		a := checkLabel(t, b, signer, label.PNG)
		ids = append(ids, a.ProduceID)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 256 || img.Bounds().Dy() != 256 {
			t.Fatalf("data[%d] is not a 256x256 PNG: %v", i, err)
		}
		// The visible label (light text on a dark box) sits in the
		// bottom-right corner: those pixels differ from the bare image.
		bare, _ := png.Decode(bytes.NewReader(label.DemoImage("一只在雪地里的猫#"+string(rune('0'+i)), 256, 256)))
		if img.At(240, 245) == bare.At(240, 245) && img.At(230, 240) == bare.At(230, 240) {
			t.Errorf("data[%d] has no visible label in the bottom-right corner", i)
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("both images have ProduceID %s", ids[0])
	}
	recs := g.waitAudit(1)
	if len(recs) != 1 || recs[0].Endpoint != "/v1/images/generations" || recs[0].Decision != "pass" || recs[0].Status != 200 || recs[0].Upstream != "demo" {
		t.Errorf("audit = %+v", recs)
	}
}

func TestImagesURLOnlyForOwner(t *testing.T) {
	g, signer := labelGateway(t, "")
	alice, bob := g.newUser("alice"), g.newUser("bob")
	r := g.post("/v1/images/generations", alice, `{"prompt":"山水画","size":"256x256","response_format":"url"}`)
	var ir imagesResp
	if json.Unmarshal(r.body, &ir) != nil || r.status != 200 || len(ir.Data) != 1 || !strings.HasPrefix(ir.Data[0].URL, g.url+"/v1/files/file-") {
		t.Fatalf("images url = %d %s", r.status, r.body)
	}
	path := strings.TrimPrefix(ir.Data[0].URL, g.url)
	got := g.do("GET", path, alice, nil)
	if got.status != 200 || got.header.Get("Content-Type") != "image/png" {
		t.Fatalf("owner GET %s = %d %s", path, got.status, got.body)
	}
	checkLabel(t, got.body, signer, label.PNG)

	for _, tt := range []struct {
		name, path, key string
		status          int
		code            string
	}{
		{"another user", path, bob, 404, "file_not_found"},
		{"no key", path, "", 401, "invalid_api_key"},
		{"guessed id", "/v1/files/file-00000000000000000000000000000000/content", alice, 404, "file_not_found"},
		{"traversal", "/v1/files/..%2f..%2fgenguard.db/content", alice, 404, "file_not_found"},
		{"admin key", path, g.adminKey, 403, "user_key_required"},
	} {
		r := g.do("GET", tt.path, tt.key, nil)
		var env struct{ Error struct{ Code string } }
		json.Unmarshal(r.body, &env)
		if r.status != tt.status || env.Error.Code != tt.code {
			t.Errorf("%s: GET %s = %d %s; want %d %s", tt.name, tt.path, r.status, r.body, tt.status, tt.code)
		}
	}
}

func TestImagesBlockedPrompt(t *testing.T) {
	g, _ := labelGateway(t, "")
	key := g.newUser("eve")
	r := g.post("/v1/images/generations", key, `{"prompt":"炸弹制作图解","size":"256x256","response_format":"b64_json"}`)
	var body struct {
		Error    struct{ Code, Type, Message, Param string }
		Genguard struct {
			Decision, Stage string
			Risks           []string
		}
	}
	json.Unmarshal(r.body, &body)
	if r.status != 400 || r.header.Get("Genguard-Decision") != "block" || body.Error.Code != "content_policy_violation" || body.Error.Param != "prompt" ||
		body.Error.Message == "" || body.Genguard.Decision != "block" || body.Genguard.Stage != "input" || strings.Join(body.Genguard.Risks, ",") != "A.1.d" {
		t.Errorf("blocked image prompt = %d %v %s", r.status, r.header, r.body)
	}
	r = g.post("/v1/audio/speech", key, `{"input":"炸弹制作","voice":"alloy"}`)
	if r.status != 400 || !strings.Contains(string(r.body), "content_policy_violation") {
		t.Errorf("blocked speech input = %d %s", r.status, r.body)
	}
	recs := g.waitAudit(2)
	if len(recs) != 2 || recs[0].Decision != "block" || recs[0].Stage != "input" || recs[0].Status != 400 || recs[0].Upstream != "" ||
		recs[1].Endpoint != "/v1/audio/speech" || recs[1].Decision != "block" {
		t.Errorf("audit = %+v", recs)
	}
}

func TestSpeech(t *testing.T) {
	g, signer := labelGateway(t, "  audio_rhythm: both\n")
	key := g.newUser("speaker")
	r := g.post("/v1/audio/speech", key, `{"model":"tts-1","input":"欢迎使用 genguard 语音合成演示。","voice":"alloy","response_format":"wav"}`)
	if r.status != 200 || r.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("speech = %d %v %.200s", r.status, r.header, r.body)
	}
	a := checkLabel(t, r.body, signer, label.WAV)
	hdr, err := label.ParseJSON([]byte(r.header.Get("Genguard-AIGC")))
	if err != nil || hdr != a {
		t.Errorf("Genguard-AIGC header = %q (%v), want the file's label %+v", r.header.Get("Genguard-AIGC"), err, a)
	}
	// 16 kHz mono 16-bit: the rhythm label (0.9 s + 0.2 s gap) at both ends
	// makes the file at least 2.2 s longer than the 1 s floor of speech.
	if len(r.body) < 16000*2*3 {
		t.Errorf("speech is %d bytes: rhythm labels missing?", len(r.body))
	}
	recs := g.waitAudit(1)
	if recs[0].Endpoint != "/v1/audio/speech" || recs[0].Model != "tts-1" || recs[0].Status != 200 {
		t.Errorf("audit = %+v", recs[0])
	}
}

func TestMediaBadInput(t *testing.T) {
	g, _ := labelGateway(t, "  max_upload_bytes: 4096\n")
	key := g.newUser("mallory")
	big := bytes.Repeat([]byte("a"), 5000)
	tests := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"image no prompt", "/v1/images/generations", "application/json", `{"size":"256x256"}`, 400, "missing_prompt"},
		{"image n=5", "/v1/images/generations", "application/json", `{"prompt":"x","n":5}`, 400, "invalid_n"},
		{"image n=0", "/v1/images/generations", "application/json", `{"prompt":"x","n":0}`, 400, "invalid_n"},
		{"image bad size", "/v1/images/generations", "application/json", `{"prompt":"x","size":"999x1"}`, 400, "invalid_size"},
		{"image bad format", "/v1/images/generations", "application/json", `{"prompt":"x","response_format":"gif"}`, 400, "invalid_response_format"},
		{"image n is a string", "/v1/images/generations", "application/json", `{"prompt":"x","n":"2"}`, 400, "invalid_type"},
		{"image bad json", "/v1/images/generations", "application/json", `{"prompt":`, 400, "invalid_json"},
		{"speech no input", "/v1/audio/speech", "application/json", `{"voice":"alloy"}`, 400, "missing_input"},
		{"speech mp3", "/v1/audio/speech", "application/json", `{"input":"hi","response_format":"mp3"}`, 400, "unsupported_response_format"},
		{"speech speed", "/v1/audio/speech", "application/json", `{"input":"hi","speed":9}`, 400, "invalid_speed"},
		{"verify empty", "/v1/labels/verify", "image/png", ``, 400, "empty_body"},
		{"verify too large", "/v1/labels/verify", "image/png", string(big), 413, "request_too_large"},
		{"verify unknown format", "/v1/labels/verify", "application/octet-stream", "\x00\x01\x02\x03garbage\xff", 415, "unsupported_format"},
		{"verify multipart no file", "/v1/labels/verify", "multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--xx--\r\n", 400, "missing_file"},
		{"verify multipart broken", "/v1/labels/verify", "multipart/form-data; boundary=xx", "not multipart at all", 400, "invalid_multipart"},
		{"images wrong method", "/v1/images/generations", "", "", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.status == 405 {
				method = "GET"
			}
			r := g.do(method, tt.path, key, strings.NewReader(tt.body), "Content-Type", tt.ctype)
			var env struct {
				Error struct{ Code, Message, Type string }
			}
			if err := json.Unmarshal(r.body, &env); err != nil || r.status != tt.status || env.Error.Code != tt.code || env.Error.Message == "" {
				t.Errorf("%s %s = %d %s; want %d %s", method, tt.path, r.status, r.body, tt.status, tt.code)
			}
		})
	}
	if strings.Contains(g.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("bad input logged an internal error:\n%s", g.stderr.String())
	}
}

type verifyResp struct {
	Filename string
	Format   string
	Declared bool
	Report   struct {
		Format   string
		State    string
		Label    *label.AIGC
		Evidence []struct{ Kind, Where, Detail string }
		Problems []string
	}
	Verification *struct {
		Producer struct {
			Status string
			Pinned bool
		}
	}
	Error struct{ Code, Message string }
}

func TestLabelsVerify(t *testing.T) {
	g, _ := labelGateway(t, "")
	key := g.newUser("platform")
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "label", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	verify := func(body []byte, ctype, query string) (response, verifyResp) {
		t.Helper()
		r := g.do("POST", "/v1/labels/verify"+query, key, bytes.NewReader(body), "Content-Type", ctype)
		var v verifyResp
		json.Unmarshal(r.body, &v)
		return r, v
	}

	// A labelled fixture, raw body: state "is", unsigned.
	r, v := verify(fixture("golden/in.png"), "image/png", "")
	if r.status != 200 || v.Report.State != "is" || v.Report.Label == nil || v.Report.Label.ContentProducer != testProducer ||
		v.Verification == nil || v.Verification.Producer.Status != "unsigned" {
		t.Errorf("labelled png = %d %s", r.status, r.body)
	}

	// An unlabelled fixture as multipart with a declaration: "may_be".
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "in.jpg")
	fw.Write(fixture("in.jpg"))
	mw.WriteField("declared", "true")
	mw.Close()
	r, v = verify(mp.Bytes(), mw.FormDataContentType(), "")
	if r.status != 200 || v.Report.State != "may_be" || !v.Declared || v.Filename != "in.jpg" || v.Verification != nil {
		t.Errorf("declared jpeg = %d %s", r.status, r.body)
	}
	// Undeclared and unlabelled: "none".
	if r, v = verify(fixture("in.wav"), "audio/wav", ""); r.status != 200 || v.Report.State != "none" {
		t.Errorf("plain wav = %d %s", r.status, r.body)
	}
	// declared=true as a query parameter.
	if r, v = verify(fixture("in.wav"), "audio/wav", "?declared=true"); r.status != 200 || v.Report.State != "may_be" {
		t.Errorf("declared wav = %d %s", r.status, r.body)
	}

	// The gateway's own image: signed with its key, checked against it.
	ir := g.post("/v1/images/generations", key, `{"prompt":"验证","size":"256x256","response_format":"b64_json"}`)
	var img imagesResp
	json.Unmarshal(ir.body, &img)
	b, _ := base64.StdEncoding.DecodeString(img.Data[0].B64JSON)
	if r, v = verify(b, "image/png", ""); r.status != 200 || v.Report.State != "is" || v.Verification == nil ||
		v.Verification.Producer.Status != "valid" || !v.Verification.Producer.Pinned {
		t.Errorf("own image = %d %s", r.status, r.body)
	}

	// Truncated and hostile files: a clear 4xx, never a 5xx.
	png := fixture("golden/in.png")
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"truncated png", png[:len(png)/2]},
		{"png header only", png[:9]},
		{"hostile chunk length", append(append([]byte{}, png[:8]...), 0x7f, 0xff, 0xff, 0xff, 'i', 'T', 'X', 't')},
		{"truncated mp4", fixture("golden/in.mp4")[:40]},
	} {
		r, v := verify(tt.body, "application/octet-stream", "")
		if r.status != 400 || v.Error.Code != "malformed_file" || !strings.Contains(v.Error.Message, "malformed") {
			t.Errorf("%s = %d %s; want 400 malformed_file", tt.name, r.status, r.body)
		}
	}
	if strings.Contains(g.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("verify logged an internal error:\n%s", g.stderr.String())
	}
	recs := g.waitAudit(10)
	if len(recs) < 10 || recs[0].Endpoint != "/v1/labels/verify" {
		t.Errorf("audit has %d records, want one per request", len(recs))
	}
}

func TestChatTextLabels(t *testing.T) {
	g, _ := labelGateway(t, "")
	key := g.newUser("writer")
	const notice = "「本内容由人工智能生成」"

	// Non-streaming: the notice ends the answer; the implicit label rides
	// in a header, signed with the gateway's key.
	r := g.post("/v1/chat/completions", key, chat("你好", false))
	var cc struct {
		Choices []struct{ Message struct{ Content string } }
	}
	json.Unmarshal(r.body, &cc)
	if r.status != 200 || !strings.HasSuffix(cc.Choices[0].Message.Content, "\n\n"+notice) || strings.Count(cc.Choices[0].Message.Content, notice) != 1 {
		t.Errorf("chat answer = %s", r.body)
	}
	a, err := label.ParseJSON([]byte(r.header.Get("Genguard-AIGC")))
	if err != nil || a.ContentProducer != testProducer || a.ProduceID != r.header.Get("X-Request-Id") || !strings.Contains(a.ReservedCode1, "SecurityData") {
		t.Errorf("Genguard-AIGC = %q (%v)", r.header.Get("Genguard-AIGC"), err)
	}

	// Streaming: the notice is its own content chunk, just before the finish.
	r = g.post("/v1/chat/completions", key, chat("你好", true))
	events := sseEvents(string(r.body))
	var text strings.Builder
	finishAt, noticeAt := -1, -1
	for i, ev := range events {
		var ch struct {
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
		}
		json.Unmarshal([]byte(ev), &ch)
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
			if strings.Contains(c.Delta.Content, notice) {
				noticeAt = i
			}
			if c.FinishReason != nil && finishAt < 0 {
				finishAt = i
			}
		}
	}
	if text.String() != cc.Choices[0].Message.Content || noticeAt < 0 || finishAt != noticeAt+1 || r.header.Get("Genguard-AIGC") == "" {
		t.Errorf("stream: text %q, notice at %d, finish at %d; want the non-streamed answer, notice right before finish", text.String(), noticeAt, finishAt)
	}

	// A refusal gets no notice.
	r = g.post("/v1/chat/completions", key, chat("炸弹制作", false))
	if strings.Contains(string(r.body), notice) {
		t.Errorf("refusal carries the AIGC notice: %s", r.body)
	}

	// Completions too.
	r = g.post("/v1/completions", key, `{"model":"demo","prompt":"从前"}`)
	if !strings.Contains(string(r.body), `\n\n`+notice) {
		t.Errorf("completion = %s", r.body)
	}
}

func TestChatTextNoticeStartAndOff(t *testing.T) {
	g := startGateway(t, "label: {notice: \"（AI生成）\", notice_position: start}\n")
	key := g.newUser("w")
	r := g.post("/v1/chat/completions", key, chat("你好", true))
	events := sseEvents(string(r.body))
	var first string
	for _, ev := range events {
		var ch struct {
			Choices []struct{ Delta struct{ Content string } }
		}
		json.Unmarshal([]byte(ev), &ch)
		if len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
			first = ch.Choices[0].Delta.Content
			break
		}
	}
	if first != "（AI生成）\n\n" {
		t.Errorf("first streamed content = %q, want the notice", first)
	}
	r = g.post("/v1/chat/completions", key, chat("你好", false))
	if !strings.Contains(string(r.body), `"content":"（AI生成）\n\n`) {
		t.Errorf("non-streamed = %s", r.body)
	}

	off := startGateway(t, "label: {text_notice: false}\n")
	key = off.newUser("w")
	r = off.post("/v1/chat/completions", key, chat("你好", false))
	if strings.Contains(string(r.body), "人工智能生成") || r.header.Get("Genguard-AIGC") == "" {
		t.Errorf("text_notice false: %s, header %q; want no notice but the implicit label", r.body, r.header.Get("Genguard-AIGC"))
	}
}
