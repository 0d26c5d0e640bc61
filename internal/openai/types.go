package openai

import (
	"encoding/json"
)

// ChatRequest holds the fields of a chat completion request the gateway acts
// on. The raw body is forwarded upstream, so fields not named here survive.
type ChatRequest struct {
	Model         string         `json:"model"`
	Messages      []ChatMessage  `json:"messages"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	MaxCompletion *int           `json:"max_completion_tokens,omitempty"`
	User          string         `json:"user,omitempty"`
}

// StreamOptions is stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message. Content may be a string or an array of parts.
type ChatMessage struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
	Name    string  `json:"name,omitempty"`
}

// Content is a message's content: a string, an array of content parts, or null.
// Text returns the concatenated text parts, which is what moderation reads.
type Content struct {
	Text  string
	Parts []ContentPart
	// IsArray remembers the wire form.
	IsArray bool
}

// ContentPart is one element of an array content.
type ContentPart struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

func (c *Content) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		c.IsArray = true
		if err := json.Unmarshal(b, &c.Parts); err != nil {
			return err
		}
		for i, p := range c.Parts {
			if p.Type == "text" {
				if i > 0 && c.Text != "" {
					c.Text += "\n"
				}
				c.Text += p.Text
			}
		}
		return nil
	case string(b) == "null":
		return nil
	}
	return &json.UnmarshalTypeError{Value: "content", Type: nil, Field: "content"}
}

func (c Content) MarshalJSON() ([]byte, error) {
	if c.IsArray {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// CompletionRequest is the legacy /v1/completions request.
type CompletionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream,omitempty"`
	StreamOptions *StreamOptions  `json:"stream_options,omitempty"`
	MaxTokens     *int            `json:"max_tokens,omitempty"`
}

// PromptText returns the prompt as text: a string or the strings of an array
// joined by newlines.
func (r *CompletionRequest) PromptText() (string, bool) {
	if len(r.Prompt) == 0 {
		return "", false
	}
	var s string
	if err := json.Unmarshal(r.Prompt, &s); err == nil {
		return s, true
	}
	var ss []string
	if err := json.Unmarshal(r.Prompt, &ss); err == nil {
		out := ""
		for i, p := range ss {
			if i > 0 {
				out += "\n"
			}
			out += p
		}
		return out, true
	}
	return "", false
}

// Usage is token accounting.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Genguard is the extra object genguard adds to responses it changed.
type Genguard struct {
	Decision string   `json:"decision"`
	Stage    string   `json:"stage"`
	Risks    []string `json:"risks"`
	ID       string   `json:"id,omitempty"`
	// Retract is set when a stream is cut: the client must remove the text it
	// already showed for this choice (Art. 14: stop, remove).
	Retract *Retraction `json:"retract,omitempty"`
	Message string      `json:"message,omitempty"`
	// Notice is something the user should be told, e.g. a minor's break
	// reminder or a warning on their account.
	Notice string `json:"notice,omitempty"`
}

// Retraction tells a streaming client which delivered text to withdraw.
type Retraction struct {
	// Choice is the choice index; DeliveredChars counts the characters (runes)
	// of content already sent for it, all of which are withdrawn.
	Choice         int    `json:"choice"`
	DeliveredChars int    `json:"delivered_chars"`
	Notice         string `json:"notice"`
}

// ChatCompletion is a non-streaming chat response.
type ChatCompletion struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	Choices           []ChatChoice    `json:"choices"`
	Usage             *Usage          `json:"usage,omitempty"`
	SystemFingerprint string          `json:"system_fingerprint,omitempty"`
	ServiceTier       json.RawMessage `json:"service_tier,omitempty"`
	Genguard          *Genguard       `json:"genguard,omitempty"`
}

// ChatChoice is one choice of a chat response.
type ChatChoice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// ResponseMessage is an assistant message. ReasoningContent is the reasoning
// text some servers (DeepSeek, vLLM, Qwen) return; it is moderated too.
type ResponseMessage struct {
	Role             string          `json:"role"`
	Content          *string         `json:"content"`
	ReasoningContent *string         `json:"reasoning_content,omitempty"`
	Refusal          *string         `json:"refusal,omitempty"`
	ToolCalls        json.RawMessage `json:"tool_calls,omitempty"`
	FunctionCall     json.RawMessage `json:"function_call,omitempty"`
}

// ChatChunk is one streamed chat event.
type ChatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	Choices           []ChunkChoice   `json:"choices"`
	Usage             *Usage          `json:"usage,omitempty"`
	SystemFingerprint string          `json:"system_fingerprint,omitempty"`
	ServiceTier       json.RawMessage `json:"service_tier,omitempty"`
	Genguard          *Genguard       `json:"genguard,omitempty"`
}

// ChunkChoice is one choice of a chunk.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Delta is a chunk's increment.
type Delta struct {
	Role             string          `json:"role,omitempty"`
	Content          *string         `json:"content,omitempty"`
	ReasoningContent *string         `json:"reasoning_content,omitempty"`
	Refusal          *string         `json:"refusal,omitempty"`
	ToolCalls        json.RawMessage `json:"tool_calls,omitempty"`
}

// TextCompletion is a /v1/completions response (and chunk: the same shape).
type TextCompletion struct {
	ID       string       `json:"id"`
	Object   string       `json:"object"`
	Created  int64        `json:"created"`
	Model    string       `json:"model"`
	Choices  []TextChoice `json:"choices"`
	Usage    *Usage       `json:"usage,omitempty"`
	Genguard *Genguard    `json:"genguard,omitempty"`
}

// TextChoice is one choice of a text completion.
type TextChoice struct {
	Index        int             `json:"index"`
	Text         string          `json:"text"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

// Model is an entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the GET /v1/models response.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// ModerationRequest is POST /v1/moderations.
type ModerationRequest struct {
	Model string          `json:"model,omitempty"`
	Input json.RawMessage `json:"input"`
}

// ModerationResponse follows OpenAI's shape; Genguard adds our risk codes.
type ModerationResponse struct {
	ID      string             `json:"id"`
	Model   string             `json:"model"`
	Results []ModerationResult `json:"results"`
}

// ModerationResult is one input's verdict.
type ModerationResult struct {
	Flagged        bool               `json:"flagged"`
	Categories     map[string]bool    `json:"categories"`
	CategoryScores map[string]float64 `json:"category_scores"`
	Genguard       ModerationGenguard `json:"genguard"`
}

// ModerationGenguard carries our own verdict.
type ModerationGenguard struct {
	Decision string          `json:"decision"`
	Risks    []string        `json:"risks"`
	Hits     []ModerationHit `json:"hits"`
}

// ModerationHit explains one match.
type ModerationHit struct {
	Risk   string `json:"risk"`
	Action string `json:"action"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Text   string `json:"text"`
	Source string `json:"source"`
}
