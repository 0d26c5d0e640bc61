package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/genguard/genguard/internal/moderation"
	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/store"
	"github.com/genguard/genguard/internal/upstream"
)

// maxUpstreamBody bounds a non-streaming upstream response.
const maxUpstreamBody = 32 << 20

// outcome collects what the audit record says about one request.
type outcome struct {
	rec       store.AuditRecord
	committed bool // strict mode already wrote the record
	// explicitOff: the user asked for no explicit label and may have it
	// (labelling Measures Art. 9); agreement is the version that allows it.
	explicitOff bool
	agreement   string
	hits        []moderation.Hit
	decision    moderation.Action
	stage       moderation.Stage
	risks       []string
	// policy is the moderation policy of the route and the user's group
	// (minors: review hits become blocks, per the policy's review_as).
	policy *moderation.Policy
	notice string       // told to the user in genguard.notice
	text   *textCapture // prompt and answer for Deps.TextSink; nil when off
}

// textCapture collects what the text store keeps (privacy.store_text):
// the prompt as sent upstream and the answer as delivered, capped.
type textCapture struct {
	prompt string
	answer strings.Builder
}

// maxCapture bounds the answer text held for the text store.
const maxCapture = 1 << 20

func (c *textCapture) add(s string) {
	if c != nil && c.answer.Len()+len(s) <= maxCapture {
		c.answer.WriteString(s)
	}
}

// decide folds a stage's verdict into the outcome and returns it as it
// applies to this user.
func (o *outcome) decide(st moderation.Stage, v moderation.Verdict) moderation.Verdict {
	if v.Decision > o.decision || (v.Decision == o.decision && o.stage == "") {
		if v.Decision > moderation.Pass {
			o.decision, o.stage = v.Decision, st
		}
	}
	for _, r := range v.Risks() {
		if !contains(o.risks, r) {
			o.risks = append(o.risks, r)
		}
	}
	o.hits = append(o.hits, v.Hits...)
	return v
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// handleGenerate serves chat and legacy completions: input moderation, the
// upstream call with failover, output moderation (whole or streamed), and
// the audit record.
func handleGenerate(d Deps, dl dialect) http.Handler {
	return handleAudited(d, func(w http.ResponseWriter, r *http.Request, o *outcome) int {
		if d.TextSink != nil {
			o.text = &textCapture{}
		}
		status := serveGenerate(d, dl, w, r, o)
		if o.text != nil && status == http.StatusOK {
			d.TextSink.StoreText(r.Context(), principalFrom(r.Context()).UserID, o.rec.ID, o.text.prompt, o.text.answer.String())
		}
		return status
	})
}

// serveGenerate does the work and returns the status for the audit record.
func serveGenerate(d Deps, dl dialect, w http.ResponseWriter, r *http.Request, o *outcome) int {
	ctx := r.Context()
	body, err := readBody(r)
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	req, err := dl.parse(body)
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	o.rec.Model, o.rec.Stream = req.model, req.stream
	if err := checkExplicitWaiver(d, r, o); err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	if !d.Router.Has(req.model) {
		return writeErr(w, r, d.Logger, openai.NotFound("model", "model_not_found", "The model '"+req.model+"' does not exist or you do not have access to it.")).Status
	}

	// Input moderation: every text unit, before any upstream call.
	masked := make([]string, len(req.texts))
	anyMask := false
	for i, t := range req.texts {
		v := o.policy.Check(ctx, moderation.Input, t)
		o.decide(moderation.Input, v)
		masked[i] = t
		if v.Decision == moderation.Mask {
			masked[i] = moderation.ApplyMask(t, v.Hits)
			anyMask = true
		}
	}
	created := d.Now().Unix()
	if o.decision == moderation.Block {
		g := &openai.Genguard{Decision: "block", Stage: "input", Risks: nonNil(o.risks), ID: o.rec.ID}
		w.Header().Set("Genguard-Decision", "block")
		id := "chatcmpl-" + o.rec.ID
		if req.stream {
			return writeRefusalStream(d, w, o, dl.refusalChunks(id, req.model, created, o.policy.Refusal(o.risks), g))
		}
		return finishJSON(d, w, r, o, dl.refusal(id, req.model, created, o.policy.Refusal(o.risks), g))
	}
	if anyMask {
		if err := req.setTexts(masked); err != nil {
			return writeErr(w, r, d.Logger, err).Status
		}
	}
	if o.text != nil {
		o.text.prompt = strings.Join(masked, "\n")
	}

	res, err := d.Router.Send(ctx, req.model, func(t upstream.Target) upstream.Request {
		return upstream.Request{Path: dl.path(), Body: req.upstreamBody(t.Model), Stream: req.stream}
	})
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	o.rec.Upstream = res.Upstream
	if req.stream {
		return relayStream(d, dl, w, r, o, req, res)
	}
	return relayJSON(d, dl, w, r, o, res)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// relayJSON moderates a whole response and sends it.
func relayJSON(d Deps, dl dialect, w http.ResponseWriter, r *http.Request, o *outcome, res upstream.Result) int {
	ctx := r.Context()
	b, err := io.ReadAll(io.LimitReader(res.Resp.Body, maxUpstreamBody+1))
	res.Resp.Body.Close()
	d.Router.Finish(ctx, res, err)
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	bad := func(msg string) int {
		return writeErr(w, r, d.Logger, &openai.Error{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "bad_upstream_response", Message: msg}).Status
	}
	if len(b) > maxUpstreamBody {
		return bad("the model server's response is too large")
	}
	resp, err := dl.decodeResponse(b)
	if err != nil {
		return bad("the model server sent a response that is not valid JSON")
	}
	if u := resp.usage(); u != nil {
		o.rec.PromptTokens, o.rec.CompletionTokens = u.PromptTokens, u.CompletionTokens
	}
	for i := range resp.choices() {
		choiceBlocked := false
		for _, t := range resp.texts(i) {
			v := o.decide(moderation.Output, o.policy.Check(ctx, moderation.Output, *t))
			switch v.Decision {
			case moderation.Block:
				choiceBlocked = true
			case moderation.Mask:
				*t = moderation.ApplyMask(*t, v.Hits)
			}
		}
		if choiceBlocked {
			// Withhold everything the choice generated, reasoning included.
			for j, t := range resp.texts(i) {
				if j == 0 {
					*t = o.policy.Refusal(o.risks)
				} else {
					*t = ""
				}
			}
			*resp.finish(i) = finishContentFilter
		}
		for _, t := range resp.texts(i) {
			o.text.add(*t)
		}
	}
	if o.decision > moderation.Pass || o.notice != "" {
		resp.setGenguard(&openai.Genguard{Decision: o.decision.String(), Stage: string(o.stage), Risks: nonNil(o.risks), ID: o.rec.ID, Notice: o.notice})
	}
	labelTextResponse(d, w, resp, o)
	w.Header().Set("Genguard-Decision", o.decision.String())
	return finishJSON(d, w, r, o, resp)
}

// finishJSON writes a JSON body; in strict audit mode the record is
// committed first, so an acknowledged response always has its record.
func finishJSON(d Deps, w http.ResponseWriter, r *http.Request, o *outcome, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return writeErr(w, r, d.Logger, err).Status
	}
	if d.StrictAudit && !recordStrict(d, r.Context(), o, http.StatusOK) {
		return writeErr(w, r, d.Logger, errors.New("audit record not committed")).Status
	}
	if w.Header().Get("Genguard-Decision") == "" {
		w.Header().Set("Genguard-Decision", o.decision.String())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return http.StatusOK
}

// recordStrict commits the record now and marks it so handleGenerate does
// not queue it again.
func recordStrict(d Deps, ctx context.Context, o *outcome, status int) bool {
	rec := o.rec
	rec.Status = status
	rec.Decision = o.decision.String()
	rec.Stage = string(o.stage)
	rec.Risks = o.risks
	rec.LatencyMicros = d.Now().Sub(rec.Time).Microseconds()
	if err := d.Audit.RecordSync(context.WithoutCancel(ctx), rec); err != nil {
		d.Logger.ErrorContext(ctx, "strict audit record failed", "id", rec.ID, "err", err)
		return false
	}
	o.committed = true
	return true
}

// sse writes events and flushes each at once.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sse{w: w, rc: http.NewResponseController(w)}
}

func (s *sse) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.raw(b)
}

func (s *sse) raw(b []byte) error {
	if err := openai.WriteEvent(s.w, b); err != nil {
		return err
	}
	return s.rc.Flush()
}

func writeRefusalStream(d Deps, w http.ResponseWriter, o *outcome, chunks []any) int {
	s := startSSE(w)
	for _, c := range chunks {
		if err := s.send(c); err != nil {
			return statusClientClosed
		}
	}
	s.raw(openai.Done)
	return http.StatusOK
}

// choiceStreams holds the output moderators of one stream, per choice and
// per text kind.
type choiceStreams struct {
	p       *moderation.Policy
	content map[int]*moderation.Stream
	reason  map[int]*moderation.Stream
}

func (c *choiceStreams) get(m map[int]*moderation.Stream, i int) *moderation.Stream {
	s, ok := m[i]
	if !ok {
		s = c.p.NewStream()
		m[i] = s
	}
	return s
}

// relayStream relays an upstream SSE stream, moderating every delta. A
// violation stops the upstream at once, sends nothing more of the content,
// and ends with a content_filter chunk that retracts what was delivered.
func relayStream(d Deps, dl dialect, w http.ResponseWriter, r *http.Request, o *outcome, req *genRequest, res upstream.Result) int {
	ctx := r.Context()
	body := res.Resp.Body
	// Closing the body is how we stop the upstream; the watchdog closes it
	// when the upstream goes quiet for too long.
	var closeOnce sync.Once
	stop := func() { closeOnce.Do(func() { body.Close() }) }
	defer stop()
	idle := time.AfterFunc(d.StreamIdleTimeout, stop)
	defer idle.Stop()

	w.Header().Set("Genguard-Decision", o.decision.String())
	sl := newStreamLabel(d, w, o)
	s := startSSE(w)
	cs := &choiceStreams{p: o.policy, content: map[int]*moderation.Stream{}, reason: map[int]*moderation.Stream{}}
	er := openai.NewEventReader(body)
	var id, model string
	var created int64
	for {
		ev, err := er.Next()
		idle.Reset(d.StreamIdleTimeout)
		if err != nil {
			if ctx.Err() != nil {
				d.Router.Finish(ctx, res, ctx.Err())
				return statusClientClosed
			}
			// The upstream dropped or stalled mid-stream: tell the client in
			// the stream (an OpenAI SDK raises it), without [DONE].
			d.Router.Finish(ctx, res, errOr(err, io.ErrUnexpectedEOF))
			s.send(map[string]any{"error": &openai.Error{Type: openai.TypeUpstream, Code: "upstream_stream_error", Message: "the model server's stream ended unexpectedly"}})
			return http.StatusBadGateway
		}
		if string(ev) == string(openai.Done) {
			break
		}
		ch, err := dl.decodeChunk(ev)
		if err != nil {
			d.Router.Finish(ctx, res, err)
			s.send(map[string]any{"error": &openai.Error{Type: openai.TypeUpstream, Code: "bad_upstream_event", Message: "the model server sent an event that is not valid JSON"}})
			return http.StatusBadGateway
		}
		if id == "" {
			cc := chunkHeader(ev)
			id, model, created = cc.ID, cc.Model, cc.Created
		}
		if u := ch.usage(); u != nil {
			o.rec.PromptTokens, o.rec.CompletionTokens = u.PromptTokens, u.CompletionTokens
			if !req.includeUsage {
				ch.dropUsage()
			}
		}
		for i := range ch.choices() {
			idx := ch.index(i)
			for _, kind := range []struct {
				get func(int) (string, bool)
				set func(int, string)
				m   map[int]*moderation.Stream
			}{{ch.content, ch.setContent, cs.content}, {ch.reasoning, ch.setReasoning, cs.reason}} {
				text, has := kind.get(i)
				if !has && !ch.finished(i) {
					continue
				}
				ms := cs.get(kind.m, idx)
				out, v := ms.Push(ctx, text)
				if ch.finished(i) && v.Decision != moderation.Block {
					var rest string
					rest, v = ms.Finish(ctx)
					out += rest
				}
				v = o.decide(moderation.Output, v)
				if v.Decision == moderation.Block {
					stop()
					d.Router.Finish(ctx, res, nil)
					delivered := cs.get(cs.content, idx).Delivered + cs.get(cs.reason, idx).Delivered
					g := &openai.Genguard{Decision: "block", Stage: "output", Risks: nonNil(o.risks), ID: o.rec.ID,
						Retract: &openai.Retraction{Choice: idx, DeliveredChars: delivered, Notice: o.policy.RetractionNotice()}}
					if err := s.send(dl.cutChunk(id, model, created, idx, g)); err != nil {
						return statusClientClosed
					}
					if d.StrictAudit {
						recordStrict(d, ctx, o, http.StatusOK)
					}
					s.raw(openai.Done)
					return http.StatusOK
				}
				kind.set(i, out)
				o.text.add(out)
			}
		}
		if ch.empty() {
			continue
		}
		if err := sl.send(s, ch, id, model, created); err != nil {
			d.Router.Finish(ctx, res, ctx.Err())
			return statusClientClosed
		}
	}
	d.Router.Finish(ctx, res, nil)
	if d.StrictAudit {
		recordStrict(d, ctx, o, http.StatusOK)
	}
	if err := s.raw(openai.Done); err != nil {
		return statusClientClosed
	}
	return http.StatusOK
}

func errOr(err, fallback error) error {
	if errors.Is(err, io.EOF) {
		return fallback
	}
	return err
}

// chunkHeader reads the id, model and created fields every chunk carries.
func chunkHeader(ev []byte) (h struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
}) {
	json.Unmarshal(ev, &h)
	return h
}
