package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/genguard/genguard/internal/openai"
)

// A dialect is what differs between /v1/chat/completions and
// /v1/completions: how texts are found in requests, responses and chunks.
type dialect interface {
	path() string // relative upstream path
	parse(body []byte) (*genRequest, error)
	decodeResponse(b []byte) (genResponse, error)
	decodeChunk(b []byte) (genChunk, error)
	// refusal builds a whole response whose only choice is msg.
	refusal(id, model string, created int64, msg string, g *openai.Genguard) any
	// refusalChunks builds the chunks of a streamed refusal.
	refusalChunks(id, model string, created int64, msg string, g *openai.Genguard) []any
	// cutChunk ends a stream cut by moderation for one choice.
	cutChunk(id, model string, created int64, choice int, g *openai.Genguard) any
}

// genRequest is a parsed generation request.
type genRequest struct {
	model        string
	stream       bool
	includeUsage bool
	top          map[string]json.RawMessage
	// texts are the units moderated on input; setTexts writes masked units
	// back into top.
	texts    []string
	setTexts func(masked []string) error
}

// upstreamBody renders the body for an upstream that knows the model as
// model. Streams always ask for usage so the audit trail has token counts;
// the usage chunk is passed on only if the client asked for it.
func (g *genRequest) upstreamBody(model string) []byte {
	keys := make([]string, 0, len(g.top)+1)
	for k := range g.top {
		if k != "model" && !(g.stream && k == "stream_options") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.Grow(256 + len(g.top["messages"]) + len(g.top["prompt"]))
	b.WriteString(`{"model":`)
	m, _ := json.Marshal(model)
	b.Write(m)
	if g.stream {
		b.WriteString(`,"stream_options":{"include_usage":true}`)
	}
	for _, k := range keys {
		// The raw values were validated by the decode; copy them as they are.
		b.WriteByte(',')
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(g.top[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// genResponse is a decoded non-streaming response.
type genResponse interface {
	// texts returns pointers to every moderated text of choice i (content,
	// reasoning), and a pointer to its finish reason.
	choices() int
	texts(i int) []*string
	finish(i int) *string
	usage() *openai.Usage
	setGenguard(*openai.Genguard)
}

// genChunk is one decoded stream event.
type genChunk interface {
	choices() int
	index(i int) int
	// content and reasoning return the delta texts (ok false when absent);
	// the setters replace them ("" removes the field).
	content(i int) (string, bool)
	setContent(i int, s string)
	reasoning(i int) (string, bool)
	setReasoning(i int, s string)
	finished(i int) bool
	usage() *openai.Usage
	// empty reports whether nothing is left worth sending.
	empty() bool
	dropUsage()
}

// strictKeys rejects keys that differ from a moderated field only in case.
// encoding/json matches struct fields case-insensitively while most upstream
// servers do not, so {"content":"bad","Content":"ok"} would let moderation
// read one text and the model another.
func strictKeys(obj map[string]json.RawMessage, where string, fields ...string) error {
	for k := range obj {
		for _, f := range fields {
			if k != f && strings.EqualFold(k, f) {
				return openai.InvalidRequest(where+k, "ambiguous_field", fmt.Sprintf("field %q differs from %q only in case; send %q once", where+k, f, f))
			}
		}
	}
	return nil
}

func requireModel(model string) error {
	if strings.TrimSpace(model) == "" {
		return openai.InvalidRequest("model", "missing_model", "you must provide a model parameter")
	}
	return nil
}

// ---- chat ----

type chatDialect struct{}

func (chatDialect) path() string { return "chat/completions" }

var validRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true, "function": true}

func (chatDialect) parse(body []byte) (*genRequest, error) {
	// One decode of the body into raw fields; each field the gateway acts
	// on is then decoded exactly once, and the rest is forwarded untouched.
	var top map[string]json.RawMessage
	if err := decodeJSON(body, &top); err != nil {
		return nil, err
	}
	if err := strictKeys(top, "", "model", "messages", "stream", "stream_options"); err != nil {
		return nil, err
	}
	g := &genRequest{top: top}
	if err := commonFields(top, g); err != nil {
		return nil, err
	}
	var msgs []map[string]json.RawMessage
	if err := field(top, "messages", &msgs); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, openai.InvalidRequest("messages", "missing_messages", "'messages' must be a non-empty array")
	}
	// Each text unit is one string content or one text part of a message.
	type loc struct{ msg, part int }
	var locs []loc
	for i, m := range msgs {
		where := fmt.Sprintf("messages[%d].", i)
		if m == nil {
			return nil, openai.InvalidRequest(fmt.Sprintf("messages[%d]", i), "invalid_type", fmt.Sprintf("Invalid type for 'messages[%d]': expected an object.", i))
		}
		if err := strictKeys(m, where, "role", "content", "name"); err != nil {
			return nil, err
		}
		var role string
		if err := field(m, "role", &role, where); err != nil {
			return nil, err
		}
		if !validRoles[role] {
			return nil, openai.InvalidRequest(where+"role", "invalid_role", fmt.Sprintf("Invalid value for '%srole': %q.", where, role))
		}
		var c openai.Content
		if raw, ok := m["content"]; ok {
			if err := c.UnmarshalJSON(raw); err != nil {
				return nil, openai.InvalidRequest(where+"content", "invalid_type", fmt.Sprintf("Invalid type for '%scontent': expected a string or an array of content parts.", where))
			}
		}
		if !c.IsArray {
			if c.Text != "" {
				g.texts = append(g.texts, c.Text)
				locs = append(locs, loc{i, -1})
			}
			continue
		}
		var parts []map[string]json.RawMessage
		json.Unmarshal(m["content"], &parts) // valid: Content decoded it
		for j, p := range parts {
			if err := strictKeys(p, fmt.Sprintf("%scontent[%d].", where, j), "type", "text"); err != nil {
				return nil, err
			}
			if c.Parts[j].Type == "text" {
				g.texts = append(g.texts, c.Parts[j].Text)
				locs = append(locs, loc{i, j})
			}
		}
	}
	g.setTexts = func(masked []string) error {
		for k, l := range locs {
			if masked[k] == g.texts[k] {
				continue
			}
			if l.part < 0 {
				msgs[l.msg]["content"], _ = json.Marshal(masked[k])
				continue
			}
			var parts []map[string]json.RawMessage
			if err := json.Unmarshal(msgs[l.msg]["content"], &parts); err != nil {
				return err
			}
			parts[l.part]["text"], _ = json.Marshal(masked[k])
			msgs[l.msg]["content"], _ = json.Marshal(parts)
		}
		b, err := json.Marshal(msgs)
		top["messages"] = b
		return err
	}
	return g, nil
}

// field decodes top[name] into v, turning a type error into a 400 that
// names the field. A missing field leaves v as is.
func field(top map[string]json.RawMessage, name string, v any, prefix ...string) error {
	raw, ok := top[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		param := strings.Join(prefix, "") + name
		return openai.InvalidRequest(param, "invalid_type", fmt.Sprintf("Invalid type for '%s': expected %s.", param, jsonKind(v)))
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case *string:
		return "a string"
	case *bool:
		return "a boolean"
	case *int, **int:
		return "an integer"
	case **openai.StreamOptions:
		return "an object"
	default:
		return "an array"
	}
}

// commonFields reads model, stream and stream_options.
func commonFields(top map[string]json.RawMessage, g *genRequest) error {
	if err := field(top, "model", &g.model); err != nil {
		return err
	}
	if err := requireModel(g.model); err != nil {
		return err
	}
	if err := field(top, "stream", &g.stream); err != nil {
		return err
	}
	var so *openai.StreamOptions
	if err := field(top, "stream_options", &so); err != nil {
		return err
	}
	g.includeUsage = so != nil && so.IncludeUsage
	return nil
}

type chatResponse struct{ openai.ChatCompletion }

func (c *chatResponse) choices() int { return len(c.Choices) }
func (c *chatResponse) texts(i int) []*string {
	var out []*string
	m := &c.Choices[i].Message
	if m.Content != nil {
		out = append(out, m.Content)
	}
	if m.ReasoningContent != nil {
		out = append(out, m.ReasoningContent)
	}
	return out
}
func (c *chatResponse) finish(i int) *string           { return &c.Choices[i].FinishReason }
func (c *chatResponse) usage() *openai.Usage           { return c.Usage }
func (c *chatResponse) setGenguard(g *openai.Genguard) { c.Genguard = g }

func (chatDialect) decodeResponse(b []byte) (genResponse, error) {
	var c chatResponse
	if err := json.Unmarshal(b, &c.ChatCompletion); err != nil {
		return nil, err
	}
	return &c, nil
}

type chatChunk struct{ openai.ChatChunk }

func (c *chatChunk) choices() int         { return len(c.Choices) }
func (c *chatChunk) index(i int) int      { return c.Choices[i].Index }
func (c *chatChunk) finished(i int) bool  { return c.Choices[i].FinishReason != nil }
func (c *chatChunk) usage() *openai.Usage { return c.Usage }
func (c *chatChunk) dropUsage()           { c.Usage = nil }
func (c *chatChunk) content(i int) (string, bool) {
	p := c.Choices[i].Delta.Content
	if p == nil {
		return "", false
	}
	return *p, true
}
func (c *chatChunk) setContent(i int, s string) { c.Choices[i].Delta.Content = strPtrOrNil(s) }
func (c *chatChunk) reasoning(i int) (string, bool) {
	p := c.Choices[i].Delta.ReasoningContent
	if p == nil {
		return "", false
	}
	return *p, true
}
func (c *chatChunk) setReasoning(i int, s string) {
	c.Choices[i].Delta.ReasoningContent = strPtrOrNil(s)
}
func (c *chatChunk) empty() bool {
	if c.Usage != nil {
		return false
	}
	for _, ch := range c.Choices {
		d := ch.Delta
		if ch.FinishReason != nil || d.Role != "" || d.Content != nil || d.ReasoningContent != nil || d.Refusal != nil || len(d.ToolCalls) > 0 {
			return false
		}
	}
	return true
}

func strPtrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (chatDialect) decodeChunk(b []byte) (genChunk, error) {
	var c chatChunk
	if err := json.Unmarshal(b, &c.ChatChunk); err != nil {
		return nil, err
	}
	return &c, nil
}

const finishContentFilter = "content_filter"

func (chatDialect) refusal(id, model string, created int64, msg string, g *openai.Genguard) any {
	return openai.ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []openai.ChatChoice{{Message: openai.ResponseMessage{Role: "assistant", Content: &msg}, FinishReason: finishContentFilter}},
		Usage:   &openai.Usage{}, Genguard: g}
}

func (chatDialect) refusalChunks(id, model string, created int64, msg string, g *openai.Genguard) []any {
	fin := finishContentFilter
	mk := func(d openai.Delta, f *string, gg *openai.Genguard) any {
		return openai.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
			Choices: []openai.ChunkChoice{{Delta: d, FinishReason: f}}, Genguard: gg}
	}
	return []any{mk(openai.Delta{Role: "assistant", Content: &msg}, nil, nil), mk(openai.Delta{}, &fin, g)}
}

func (chatDialect) cutChunk(id, model string, created int64, choice int, g *openai.Genguard) any {
	fin := finishContentFilter
	return openai.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
		Choices: []openai.ChunkChoice{{Index: choice, Delta: openai.Delta{}, FinishReason: &fin}}, Genguard: g}
}

// ---- legacy completions ----

type completionDialect struct{}

func (completionDialect) path() string { return "completions" }

func (completionDialect) parse(body []byte) (*genRequest, error) {
	var top map[string]json.RawMessage
	if err := decodeJSON(body, &top); err != nil {
		return nil, err
	}
	if err := strictKeys(top, "", "model", "prompt", "stream", "stream_options"); err != nil {
		return nil, err
	}
	g := &genRequest{top: top}
	if err := commonFields(top, g); err != nil {
		return nil, err
	}
	req := struct{ Prompt json.RawMessage }{top["prompt"]}
	var single string
	var many []string
	switch {
	case json.Unmarshal(req.Prompt, &single) == nil:
		g.texts = []string{single}
	case json.Unmarshal(req.Prompt, &many) == nil && len(many) > 0:
		g.texts = many
	default:
		return nil, openai.InvalidRequest("prompt", "invalid_prompt", "'prompt' must be a string or a non-empty array of strings")
	}
	isArray := len(many) > 0
	g.setTexts = func(masked []string) error {
		var err error
		if isArray {
			top["prompt"], err = json.Marshal(masked)
		} else {
			top["prompt"], err = json.Marshal(masked[0])
		}
		return err
	}
	return g, nil
}

type textResponse struct{ openai.TextCompletion }

func (c *textResponse) choices() int          { return len(c.Choices) }
func (c *textResponse) texts(i int) []*string { return []*string{&c.Choices[i].Text} }
func (c *textResponse) finish(i int) *string {
	if c.Choices[i].FinishReason == nil {
		c.Choices[i].FinishReason = new(string)
	}
	return c.Choices[i].FinishReason
}
func (c *textResponse) usage() *openai.Usage           { return c.Usage }
func (c *textResponse) setGenguard(g *openai.Genguard) { c.Genguard = g }

func (completionDialect) decodeResponse(b []byte) (genResponse, error) {
	var c textResponse
	if err := json.Unmarshal(b, &c.TextCompletion); err != nil {
		return nil, err
	}
	return &c, nil
}

type textChunk struct {
	openai.TextCompletion
}

func (c *textChunk) choices() int                   { return len(c.Choices) }
func (c *textChunk) index(i int) int                { return c.Choices[i].Index }
func (c *textChunk) finished(i int) bool            { return c.Choices[i].FinishReason != nil }
func (c *textChunk) usage() *openai.Usage           { return c.Usage }
func (c *textChunk) dropUsage()                     { c.Usage = nil }
func (c *textChunk) content(i int) (string, bool)   { return c.Choices[i].Text, c.Choices[i].Text != "" }
func (c *textChunk) setContent(i int, s string)     { c.Choices[i].Text = s }
func (c *textChunk) reasoning(i int) (string, bool) { return "", false }
func (c *textChunk) setReasoning(i int, s string)   {}
func (c *textChunk) empty() bool {
	if c.Usage != nil {
		return false
	}
	for _, ch := range c.Choices {
		if ch.Text != "" || ch.FinishReason != nil {
			return false
		}
	}
	return true
}

func (completionDialect) decodeChunk(b []byte) (genChunk, error) {
	var c textChunk
	if err := json.Unmarshal(b, &c.TextCompletion); err != nil {
		return nil, err
	}
	return &c, nil
}

func (completionDialect) refusal(id, model string, created int64, msg string, g *openai.Genguard) any {
	fin := finishContentFilter
	return openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
		Choices: []openai.TextChoice{{Text: msg, FinishReason: &fin, Logprobs: json.RawMessage("null")}}, Usage: &openai.Usage{}, Genguard: g}
}

func (completionDialect) refusalChunks(id, model string, created int64, msg string, g *openai.Genguard) []any {
	fin := finishContentFilter
	return []any{
		openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model, Choices: []openai.TextChoice{{Text: msg, Logprobs: json.RawMessage("null")}}},
		openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model, Choices: []openai.TextChoice{{FinishReason: &fin, Logprobs: json.RawMessage("null")}}, Genguard: g},
	}
}

func (completionDialect) cutChunk(id, model string, created int64, choice int, g *openai.Genguard) any {
	fin := finishContentFilter
	return openai.TextCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
		Choices: []openai.TextChoice{{Index: choice, FinishReason: &fin, Logprobs: json.RawMessage("null")}}, Genguard: g}
}
