package api

// AI-generated-content labels on everything the gateway delivers
// (标识办法 Arts. 4–6, GB 45438-2025), and the media endpoints:
//
//   - POST /v1/images/generations: the built-in demo image generator (there
//     is no image upstream yet), with a visible label on an edge and the
//     implicit label in the PNG's XMP; response_format "url" stores the file
//     for GET /v1/files/{id}/content, readable only by the user who made it.
//   - POST /v1/audio/speech: a demo melody with the 「短长短短」 rhythm label
//     and the implicit label in the WAV's AIGC chunk.
//   - POST /v1/labels/verify: the propagation-platform check (Art. 6): label
//     state with evidence, and the ReservedCode signatures.
//   - Chat and completions: the explicit text notice in each generated
//     choice (never in a refusal), as its own chunk when streaming, and the
//     implicit label as the Genguard-AIGC response header. GB 45438 §6.1 puts
//     implicit labels in file metadata; a JSON API response is not a file,
//     and its closest metadata is a header, which leaves the OpenAI body
//     shape unchanged (clients that save the text as Markdown can write the
//     header's label as front matter with the label package).
//
// A prompt blocked by input moderation gets 400 content_policy_violation
// (what OpenAI returns for images and speech), with the genguard object next
// to the error and the Genguard-Decision: block header. There is no output
// moderation of pixels or audio: the demo generators draw no text.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/label"
	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/openai"
)

// LabelOptions configure the labels on generated content.
type LabelOptions struct {
	// Producer is ContentProducer in every implicit label.
	Producer string
	// Signer, when set, signs ReservedCode1 (TC260-PG-202511A).
	Signer *label.Signer
	// Notice is the explicit text label and NoticePosition its place.
	Notice         string
	NoticePosition label.Position
	// TextNotice adds Notice to chat and completions answers; ImageVisible
	// draws a visible label on images. Turning either off is lawful only
	// where the user's service agreement allows it (Art. 9).
	TextNotice   bool
	ImageVisible bool
	// AllowUnlabeled honours "Genguard-Explicit-Label: omit" for users who
	// accepted the current service agreement (labelling Measures Art. 9).
	AllowUnlabeled bool
	// Audio places the rhythm label on generated speech.
	Audio label.AudioOptions
	// MaxUploadBytes caps POST /v1/labels/verify bodies.
	MaxUploadBytes int64
	// FilesDir holds images made with response_format "url"; they live
	// FileTTL and at most MaxFiles are kept. Empty FilesDir: "url" is refused.
	FilesDir string
	FileTTL  time.Duration
	MaxFiles int
}

func (l LabelOptions) withDefaults() LabelOptions {
	if l.Producer == "" {
		l.Producer = "genguard-unregistered"
	}
	if l.Notice == "" {
		l.Notice = label.DefaultNotice
	}
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = 32 << 20
	}
	if l.FileTTL <= 0 {
		l.FileTTL = time.Hour
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 1000
	}
	return l
}

// aigc is the implicit label of one generated item. The propagator fields
// stay empty: the platform that publishes the content fills them (Art. 6).
func (l LabelOptions) aigc(produceID string) label.AIGC {
	return label.AIGC{Label: label.LabelIs, ContentProducer: l.Producer, ProduceID: produceID}
}

func (l LabelOptions) writeOpts() label.Options { return label.Options{Producer: l.Signer} }

// textLabelHeader is the response header that carries a text answer's
// implicit label, {"AIGC":{…}}, printable ASCII.
const textLabelHeader = "Genguard-AIGC"

// setTextLabel sets the implicit label header of a text answer, signed
// (label fields only: the streamed text is not known yet) when a key is set.
func setTextLabel(d Deps, w http.ResponseWriter, id string) {
	a := d.Labels.aigc(id)
	if d.Labels.Signer != nil {
		if s, err := d.Labels.Signer.SignProducer(a, nil); err == nil {
			a = s
		}
	}
	w.Header().Set(textLabelHeader, string(a.JSON()))
}

// labelTextResponse adds the notice to every generated choice of a whole
// response (not to refusals or filtered choices) and sets the label header.
func labelTextResponse(d Deps, w http.ResponseWriter, resp genResponse, o *outcome) {
	setTextLabel(d, w, o.rec.ID)
	if !d.Labels.TextNotice || o.explicitOff {
		return
	}
	add := func(s *string) {
		if s == nil || strings.TrimSpace(*s) == "" {
			return
		}
		if out, err := label.TextNotice(*s, d.Labels.NoticePosition, d.Labels.Notice); err == nil {
			*s = out
		}
	}
	switch c := resp.(type) {
	case *chatResponse:
		for i := range c.Choices {
			if c.Choices[i].FinishReason != finishContentFilter {
				add(c.Choices[i].Message.Content)
			}
		}
	case *textResponse:
		for i := range c.Choices {
			if f := c.Choices[i].FinishReason; f == nil || *f != finishContentFilter {
				add(&c.Choices[i].Text)
			}
		}
	}
}

// streamLabel adds the notice to a relayed stream: at start, as a chunk
// before a choice's first content; otherwise (end, and middle, which a
// stream cannot place) as the last content chunk just before the choice's
// finish chunk. A choice that produced no content, or was cut by
// moderation, gets none.
type streamLabel struct {
	on     bool
	start  bool
	notice string
	had    map[int]bool // choice index → content was sent
}

// newStreamLabel sets the label header; call it before the stream starts.
func newStreamLabel(d Deps, w http.ResponseWriter, o *outcome) *streamLabel {
	setTextLabel(d, w, o.rec.ID)
	return &streamLabel{on: d.Labels.TextNotice && !o.explicitOff, start: d.Labels.NoticePosition == label.Start, notice: d.Labels.Notice, had: map[int]bool{}}
}

// send sends ch, preceded by any notice chunk it calls for.
func (sl *streamLabel) send(s *sse, ch genChunk, id, model string, created int64) error {
	if sl.on {
		for _, ev := range sl.before(ch, id, model, created) {
			if err := s.send(ev); err != nil {
				return err
			}
		}
	}
	return s.send(ch)
}

func (sl *streamLabel) before(ch genChunk, id, model string, created int64) []any {
	var out []any
	for i := range ch.choices() {
		idx := ch.index(i)
		text, _ := ch.content(i)
		if sl.start && text != "" && !sl.had[idx] {
			out = append(out, noticeChunk(ch, id, model, created, idx, sl.notice+"\n\n"))
		}
		if text != "" {
			sl.had[idx] = true
		}
		if sl.start || !ch.finished(i) || !sl.had[idx] || finishReason(ch, i) == finishContentFilter {
			continue
		}
		// The finish chunk may carry the last text: send it with the notice.
		ch.setContent(i, "")
		out = append(out, noticeChunk(ch, id, model, created, idx, text+"\n\n"+sl.notice))
	}
	return out
}

func finishReason(ch genChunk, i int) string {
	var f *string
	switch c := ch.(type) {
	case *chatChunk:
		f = c.Choices[i].FinishReason
	case *textChunk:
		f = c.Choices[i].FinishReason
	}
	if f == nil {
		return ""
	}
	return *f
}

func noticeChunk(ch genChunk, id, model string, created int64, idx int, text string) any {
	if _, ok := ch.(*textChunk); ok {
		return openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
			Choices: []openai.TextChoice{{Index: idx, Text: text, Logprobs: json.RawMessage("null")}}}
	}
	return openai.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
		Choices: []openai.ChunkChoice{{Index: idx, Delta: openai.Delta{Content: &text}}}}
}

// ---- audit and responses shared by the media endpoints ----

// finishBytes writes a body; in strict audit mode the record is committed
// first (see finishJSON).
func finishBytes(d Deps, w http.ResponseWriter, r *http.Request, o *outcome, status int, contentType string, b []byte) int {
	if d.StrictAudit && !recordStrict(d, r.Context(), o, status) {
		return writeErr(w, r, d.Logger, errors.New("audit record not committed")).Status
	}
	w.Header().Set("Genguard-Decision", o.decision.String())
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	return status
}

func finishValue(d Deps, w http.ResponseWriter, r *http.Request, o *outcome, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	return finishBytes(d, w, r, o, status, "application/json", b)
}

// moderatePrompt checks a prompt on input; it returns the text to use
// (masked when needed) and whether the request is blocked.
func moderatePrompt(d Deps, ctx context.Context, o *outcome, text string) (string, bool) {
	v := o.policy.Check(ctx, moderation.Input, text)
	o.decide(moderation.Input, v)
	if v.Decision == moderation.Mask {
		text = moderation.ApplyMask(text, v.Hits)
	}
	return text, o.decision == moderation.Block
}

// writeBlocked answers a blocked media prompt: 400 content_policy_violation
// in the OpenAI envelope, with the genguard object beside it.
func writeBlocked(d Deps, w http.ResponseWriter, r *http.Request, o *outcome, param string) int {
	g := &openai.Genguard{Decision: "block", Stage: "input", Risks: nonNil(o.risks), ID: o.rec.ID}
	e := &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: param, Code: "content_policy_violation", Message: o.policy.Refusal(o.risks)}
	return finishValue(d, w, r, o, http.StatusBadRequest, struct {
		Error    *openai.Error    `json:"error"`
		Genguard *openai.Genguard `json:"genguard"`
	}{e, g})
}

// mediaGenguard is the genguard object of media responses: the usual
// decision fields and the implicit label of every item delivered.
type mediaGenguard struct {
	openai.Genguard
	AIGC []json.RawMessage `json:"aigc"`
}

// ---- images ----

type imageRequest struct {
	Prompt         string `json:"prompt"`
	Model          string `json:"model"`
	N              *int   `json:"n"`
	Size           string `json:"size"`
	ResponseFormat string `json:"response_format"`
}

type imageData struct {
	B64JSON string `json:"b64_json,omitempty"`
	URL     string `json:"url,omitempty"`
}

type imageResponse struct {
	Created  int64          `json:"created"`
	Data     []imageData    `json:"data"`
	Genguard *mediaGenguard `json:"genguard"`
}

// maxPromptChars bounds image prompts and speech input (OpenAI: 4000/4096).
const maxPromptChars = 4096

var imageSizes = map[string][2]int{"256x256": {256, 256}, "512x512": {512, 512}, "1024x1024": {1024, 1024}}

const demoImageModel = "genguard-demo-image"

// genSlots bounds concurrent media generation (CPU-bound: a labelled
// 1024x1024 image takes ~150 ms of one core) to the number of cores.
type genSlots chan struct{}

func newGenSlots() genSlots { return make(genSlots, runtime.GOMAXPROCS(0)) }

// acquire waits for a slot; it fails only when the client went away.
func (g genSlots) acquire(ctx context.Context) (release func(), err error) {
	select {
	case g <- struct{}{}:
		return func() { <-g }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func handleImages(d Deps, files *fileStore, gen genSlots) http.Handler {
	return handleAudited(d, func(w http.ResponseWriter, r *http.Request, o *outcome) int {
		fail := func(err error) int { return writeErr(w, r, d.Logger, err).Status }
		body, err := readBody(r)
		if err != nil {
			return fail(err)
		}
		var req imageRequest
		if err := decodeJSON(body, &req); err != nil {
			return fail(err)
		}
		o.rec.Model = cmpOr(req.Model, demoImageModel)
		n := 1
		if req.N != nil {
			n = *req.N
		}
		size, ok := imageSizes[cmpOr(req.Size, "1024x1024")]
		format := cmpOr(req.ResponseFormat, "url")
		switch {
		case strings.TrimSpace(req.Prompt) == "":
			return fail(openai.InvalidRequest("prompt", "missing_prompt", "'prompt' must be a non-empty string"))
		case utf8.RuneCountInString(req.Prompt) > maxPromptChars:
			return fail(openai.InvalidRequest("prompt", "prompt_too_long", fmt.Sprintf("'prompt' is longer than %d characters", maxPromptChars)))
		case n < 1 || n > 4:
			return fail(openai.InvalidRequest("n", "invalid_n", "'n' must be between 1 and 4"))
		case !ok:
			return fail(openai.InvalidRequest("size", "invalid_size", fmt.Sprintf("'size' %q is not one of 256x256, 512x512, 1024x1024", req.Size)))
		case format != "url" && format != "b64_json":
			return fail(openai.InvalidRequest("response_format", "invalid_response_format", fmt.Sprintf("'response_format' %q is not url or b64_json", req.ResponseFormat)))
		case format == "url" && files == nil:
			return fail(openai.InvalidRequest("response_format", "url_unavailable", "this gateway does not store images; use response_format b64_json"))
		}
		if err := checkExplicitWaiver(d, r, o); err != nil {
			return fail(err)
		}
		prompt, blocked := moderatePrompt(d, r.Context(), o, req.Prompt)
		if blocked {
			return writeBlocked(d, w, r, o, "prompt")
		}
		o.rec.Upstream = "demo"
		release, err := gen.acquire(r.Context())
		if err != nil {
			return fail(err)
		}
		defer release()
		resp := imageResponse{Created: d.Now().Unix(), Data: []imageData{},
			Genguard: &mediaGenguard{Genguard: openai.Genguard{Decision: o.decision.String(), Stage: string(o.stage), Risks: nonNil(o.risks), ID: o.rec.ID}}}
		owner := d.Accounts.Pseudonym(principalFrom(r.Context()).UserID)
		for i := range n {
			png, a, err := makeImage(d.Labels, fmt.Sprintf("%s#%d", prompt, i), size, fmt.Sprintf("%s-%d", o.rec.ID, i), d.Labels.ImageVisible && !o.explicitOff)
			if err != nil {
				return fail(err)
			}
			resp.Genguard.AIGC = append(resp.Genguard.AIGC, a.JSON())
			if format == "b64_json" {
				resp.Data = append(resp.Data, imageData{B64JSON: base64.StdEncoding.EncodeToString(png)})
				continue
			}
			id, err := files.put(owner, "image/png", png)
			if err != nil {
				return fail(err)
			}
			resp.Data = append(resp.Data, imageData{URL: baseURL(r) + "/v1/files/" + id + "/content"})
		}
		return finishValue(d, w, r, o, http.StatusOK, resp)
	})
}

// makeImage draws the demo image and labels it: visibly (when configured)
// and with the implicit label, signed when a key is set.
func makeImage(l LabelOptions, prompt string, size [2]int, produceID string, visible bool) ([]byte, label.AIGC, error) {
	src := label.DemoImage(prompt, size[0], size[1])
	var buf bytes.Buffer
	var a label.AIGC
	var err error
	if visible {
		_, a, err = label.LabelImage(&buf, src, l.aigc(produceID), label.ImageOptions{}, l.writeOpts())
	} else {
		a, err = label.Write(&buf, src, l.aigc(produceID), l.writeOpts())
	}
	if err != nil {
		return nil, label.AIGC{}, fmt.Errorf("label image: %w", err)
	}
	return buf.Bytes(), a, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ---- stored files ----

// fileStore keeps generated files on disk for a while, each readable only
// by its owner (a user pseudonym). Ids carry 128 random bits. Every put
// removes expired files and, past max, the oldest: the directory stays
// bounded without a background goroutine.
type fileStore struct {
	dir string
	ttl time.Duration
	max int
	now func() time.Time
	mu  sync.Mutex
}

type fileMeta struct {
	Owner       string    `json:"owner"`
	ContentType string    `json:"content_type"`
	Created     time.Time `json:"created"`
}

var fileIDRE = regexp.MustCompile(`^file-[0-9a-f]{32}$`)

// errFileNotFound covers missing, expired and other users' files alike.
var errFileNotFound = openai.NotFound("id", "file_not_found", "No such file, or it has expired.")

func newFileStore(l LabelOptions, now func() time.Time) *fileStore {
	if l.FilesDir == "" {
		return nil
	}
	return &fileStore{dir: l.FilesDir, ttl: l.FileTTL, max: l.MaxFiles, now: now}
}

func (f *fileStore) put(owner, contentType string, data []byte) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := "file-" + hex.EncodeToString(b)
	meta, _ := json.Marshal(fileMeta{Owner: owner, ContentType: contentType, Created: f.now().UTC()})
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return "", fmt.Errorf("file store: %w", err)
	}
	f.sweep(1)
	// The data goes first: a file is visible only once its meta exists.
	if err := writeAtomic(filepath.Join(f.dir, id+".bin"), data); err != nil {
		return "", err
	}
	if err := writeAtomic(filepath.Join(f.dir, id+".json"), meta); err != nil {
		os.Remove(filepath.Join(f.dir, id+".bin"))
		return "", err
	}
	return id, nil
}

// sweep removes expired files and the oldest ones until room more fit.
func (f *fileStore) sweep(room int) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return
	}
	type item struct {
		id  string
		mod time.Time
	}
	var items []item
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !fileIDRE.MatchString(id) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		items = append(items, item{id, info.ModTime()})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].mod.Before(items[j].mod) })
	cutoff := f.now().Add(-f.ttl)
	for i, it := range items {
		if it.mod.After(cutoff) && len(items)-i+room <= f.max {
			break
		}
		f.remove(it.id)
	}
}

func (f *fileStore) remove(id string) {
	os.Remove(filepath.Join(f.dir, id+".json"))
	os.Remove(filepath.Join(f.dir, id+".bin"))
}

func (f *fileStore) get(owner, id string) ([]byte, string, error) {
	if !fileIDRE.MatchString(id) {
		return nil, "", errFileNotFound
	}
	mb, err := os.ReadFile(filepath.Join(f.dir, id+".json"))
	if err != nil {
		return nil, "", errFileNotFound
	}
	var m fileMeta
	if json.Unmarshal(mb, &m) != nil || m.Owner == "" || m.Owner != owner {
		return nil, "", errFileNotFound
	}
	if f.now().Sub(m.Created) > f.ttl {
		f.mu.Lock()
		f.remove(id)
		f.mu.Unlock()
		return nil, "", errFileNotFound
	}
	data, err := os.ReadFile(filepath.Join(f.dir, id+".bin"))
	if err != nil {
		return nil, "", errFileNotFound
	}
	return data, m.ContentType, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

func handleFileContent(d Deps, files *fileStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if files == nil {
			writeErr(w, r, d.Logger, errFileNotFound)
			return
		}
		data, ct, err := files.get(d.Accounts.Pseudonym(principalFrom(r.Context()).UserID), r.PathValue("id"))
		if err != nil {
			writeErr(w, r, d.Logger, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(data)
	})
}

// ---- speech ----

type speechRequest struct {
	Model          string   `json:"model"`
	Input          string   `json:"input"`
	Voice          string   `json:"voice"`
	ResponseFormat string   `json:"response_format"`
	Speed          *float64 `json:"speed"`
}

const demoSpeechModel = "genguard-demo-speech"

func handleSpeech(d Deps, gen genSlots) http.Handler {
	return handleAudited(d, func(w http.ResponseWriter, r *http.Request, o *outcome) int {
		fail := func(err error) int { return writeErr(w, r, d.Logger, err).Status }
		body, err := readBody(r)
		if err != nil {
			return fail(err)
		}
		var req speechRequest
		if err := decodeJSON(body, &req); err != nil {
			return fail(err)
		}
		o.rec.Model = cmpOr(req.Model, demoSpeechModel)
		speed := 1.0
		if req.Speed != nil {
			speed = *req.Speed
		}
		chars := utf8.RuneCountInString(req.Input)
		switch {
		case strings.TrimSpace(req.Input) == "":
			return fail(openai.InvalidRequest("input", "missing_input", "'input' must be a non-empty string"))
		case chars > maxPromptChars:
			return fail(openai.InvalidRequest("input", "input_too_long", fmt.Sprintf("'input' is longer than %d characters", maxPromptChars)))
		case len(req.Voice) > 64:
			return fail(openai.InvalidRequest("voice", "invalid_voice", "'voice' is too long"))
		case req.ResponseFormat != "" && req.ResponseFormat != "wav":
			return fail(openai.InvalidRequest("response_format", "unsupported_response_format", fmt.Sprintf("'response_format' %q is not supported: this gateway produces wav", req.ResponseFormat)))
		case speed < 0.25 || speed > 4:
			return fail(openai.InvalidRequest("speed", "invalid_speed", "'speed' must be between 0.25 and 4.0"))
		}
		if err := checkExplicitWaiver(d, r, o); err != nil {
			return fail(err)
		}
		text, blocked := moderatePrompt(d, r.Context(), o, req.Input)
		if blocked {
			return writeBlocked(d, w, r, o, "input")
		}
		o.rec.Upstream = "demo"
		release, err := gen.acquire(r.Context())
		if err != nil {
			return fail(err)
		}
		defer release()
		// About five characters a second (GB 45438 note 4: 120–160 字/min
		// is normal speech), between one and fifteen seconds.
		secs := min(max(float64(chars)/5/speed, 1), 15)
		var buf bytes.Buffer
		wav := label.DemoWAV(req.Voice+"\x00"+text, secs, 16000)
		var a label.AIGC
		if o.explicitOff {
			a, err = label.Write(&buf, wav, d.Labels.aigc(o.rec.ID), d.Labels.writeOpts())
		} else {
			a, err = label.AudioRhythm(&buf, wav, d.Labels.aigc(o.rec.ID), d.Labels.Audio, d.Labels.writeOpts())
		}
		if err != nil {
			return fail(fmt.Errorf("label audio: %w", err))
		}
		w.Header().Set(textLabelHeader, string(a.JSON()))
		return finishBytes(d, w, r, o, http.StatusOK, "audio/wav", buf.Bytes())
	})
}

// ---- label verification for platforms ----

type verifyResponse struct {
	Object       string              `json:"object"`
	Filename     string              `json:"filename,omitempty"`
	Bytes        int                 `json:"bytes"`
	Declared     bool                `json:"declared"`
	Report       label.Report        `json:"report"`
	Verification *label.Verification `json:"verification"`
}

func handleLabelVerify(d Deps) http.Handler {
	return handleAudited(d, func(w http.ResponseWriter, r *http.Request, o *outcome) int {
		fail := func(err error) int { return writeErr(w, r, d.Logger, err).Status }
		data, name, declared, err := readUpload(r, d.Labels.MaxUploadBytes)
		if err != nil {
			return fail(err)
		}
		resp, err := verifyUpload(d.Labels, data, declared)
		if err != nil {
			return fail(err)
		}
		resp.Filename = name
		return finishValue(d, w, r, o, http.StatusOK, resp)
	})
}

// handleLabelPropagate is the propagation platform's relabelling
// (labelling Measures Art. 6): the uploaded file comes back with the
// platform's ContentPropagator and PropagateID (signed into ReservedCode2
// when a key is configured), keeping exactly one label. Query parameters:
// propagator (default: label.producer), propagate_id (default: the request
// id), declared=true when the uploader declared it generated. A file with no
// label, declaration or trace is refused with 422: Art. 6 asks for nothing.
func handleLabelPropagate(d Deps) http.Handler {
	return handleAudited(d, func(w http.ResponseWriter, r *http.Request, o *outcome) int {
		fail := func(err error) int { return writeErr(w, r, d.Logger, err).Status }
		data, _, declared, err := readUpload(r, d.Labels.MaxUploadBytes)
		if err != nil {
			return fail(err)
		}
		if _, err := verifyUpload(d.Labels, data, declared); err != nil {
			return fail(err) // unsupported, oversized or malformed: the same 4xx as verify
		}
		q := r.URL.Query()
		prop := cmpOr(q.Get("propagator"), d.Labels.Producer)
		pid := cmpOr(q.Get("propagate_id"), o.rec.ID)
		if err := (label.AIGC{Label: label.LabelIs, ContentPropagator: prop, PropagateID: pid}).Validate(); err != nil {
			return fail(openai.InvalidRequest("propagator", "invalid_label_field", err.Error()))
		}
		var buf bytes.Buffer
		a, rep, err := label.Propagate(&buf, data, label.PropagateOptions{
			InspectOptions:    label.InspectOptions{Declared: declared, Options: label.Options{MaxSize: d.Labels.MaxUploadBytes, Propagator: d.Labels.Signer}},
			ContentPropagator: prop, PropagateID: pid,
		})
		if errors.Is(err, label.ErrNotGenerated) {
			return fail(&openai.Error{Status: http.StatusUnprocessableEntity, Type: openai.TypeInvalidRequest, Param: "file", Code: "not_generated",
				Message: "the file has no AIGC label, declaration or generation trace, so it needs no label; send declared=true if the uploader declared it generated"})
		}
		if err != nil {
			return fail(openai.InvalidRequest("file", "unlabelable_file", err.Error()))
		}
		w.Header().Set(textLabelHeader, string(a.JSON()))
		w.Header().Set("Genguard-Label-State", string(rep.State))
		f := label.Detect(buf.Bytes())
		return finishBytes(d, w, r, o, http.StatusOK, mediaType(f), buf.Bytes())
	})
}

// mediaType is the Content-Type of a labelled file.
func mediaType(f label.Format) string {
	switch f {
	case label.PNG:
		return "image/png"
	case label.JPEG:
		return "image/jpeg"
	case label.WebP:
		return "image/webp"
	case label.WAV:
		return "audio/wav"
	case label.MP3:
		return "audio/mpeg"
	case label.MP4:
		return "video/mp4"
	case label.FLAC:
		return "audio/flac"
	case label.Ogg:
		return "audio/ogg"
	case label.PDF:
		return "application/pdf"
	case label.Markdown:
		return "text/markdown; charset=utf-8"
	}
	return "application/octet-stream"
}

// verifyUpload inspects and verifies one file; a file that is not one of
// the supported formats, or is truncated or malformed, is a 4xx.
func verifyUpload(l LabelOptions, data []byte, declared bool) (verifyResponse, error) {
	opts := label.Options{MaxSize: l.MaxUploadBytes}
	_, f, err := label.Read(data, opts)
	switch {
	case errors.Is(err, label.ErrUnknownFormat):
		return verifyResponse{}, &openai.Error{Status: http.StatusUnsupportedMediaType, Type: openai.TypeInvalidRequest, Param: "file", Code: "unsupported_format",
			Message: "the file is not a supported format (PNG, JPEG, WebP, WAV, MP3, MP4/MOV/M4A, FLAC, Ogg, PDF, Markdown/text)"}
	case errors.Is(err, label.ErrTooLarge):
		return verifyResponse{}, tooLarge(l.MaxUploadBytes)
	case errors.Is(err, label.ErrMalformed):
		return verifyResponse{}, openai.InvalidRequest("file", "malformed_file", fmt.Sprintf("the %s file is truncated or malformed: %v", f, err))
	}
	rep, err := label.Inspect(data, label.InspectOptions{Options: opts, Declared: declared})
	if err != nil {
		return verifyResponse{}, openai.InvalidRequest("file", "unreadable_file", err.Error())
	}
	resp := verifyResponse{Object: "label.report", Bytes: len(data), Declared: declared, Report: rep}
	if rep.Label != nil {
		vo := label.VerifyOptions{Options: opts}
		// Our own labels are checked against our key: origin, not only integrity.
		if l.Signer != nil && rep.Label.ContentProducer == l.Producer {
			vo.Producer = l.Signer.Public()
		}
		if v, err := label.Verify(data, vo); err == nil {
			resp.Verification = &v
		}
	}
	return resp, nil
}

// readUpload reads a raw body, or the multipart field "file" (and field
// "declared"). declared=true may also be a query parameter.
func readUpload(r *http.Request, limit int64) (data []byte, name string, declared bool, err error) {
	declared = isTrue(r.URL.Query().Get("declared"))
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		data, err = readLimited(r.Body, limit)
		if err == nil && len(data) == 0 {
			err = openai.InvalidRequest("file", "empty_body", "the request body is empty; send the file as the body or as multipart field 'file'")
		}
		return data, "", declared, err
	}
	if params["boundary"] == "" {
		return nil, "", false, openai.InvalidRequest("file", "invalid_multipart", "multipart body without a boundary")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", false, openai.InvalidRequest("file", "invalid_multipart", "could not read the multipart body: "+err.Error())
	}
	found := false
	for {
		p, perr := mr.NextPart()
		if perr == io.EOF {
			break
		}
		if perr != nil {
			if e := asTooLarge(perr); e != nil {
				return nil, "", false, e
			}
			return nil, "", false, openai.InvalidRequest("file", "invalid_multipart", "could not read the multipart body: "+perr.Error())
		}
		switch p.FormName() {
		case "file":
			if found {
				return nil, "", false, openai.InvalidRequest("file", "duplicate_file", "send one 'file' field per request")
			}
			found, name = true, p.FileName()
			if data, err = readLimited(p, limit); err != nil {
				return nil, "", false, err
			}
		case "declared":
			v, err := readLimited(p, 16)
			if err != nil {
				return nil, "", false, openai.InvalidRequest("declared", "invalid_declared", "'declared' must be true or false")
			}
			declared = declared || isTrue(string(v))
		}
		p.Close()
	}
	if !found || len(data) == 0 {
		return nil, "", false, openai.InvalidRequest("file", "missing_file", "multipart field 'file' is missing or empty")
	}
	return data, name, declared, nil
}

func readLimited(rd io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		if e := asTooLarge(err); e != nil {
			return nil, e
		}
		return nil, openai.InvalidRequest("file", "read_error", "could not read the upload")
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

func asTooLarge(err error) *openai.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return nil
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}
