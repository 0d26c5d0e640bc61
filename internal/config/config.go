// Package config is genguard's one typed configuration: defaults, loading from
// YAML, secrets from the environment, and validation that names the file,
// line and field of every problem.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. Every field has a default (see Default);
// README.md documents each one, and a test checks that it does.
type Config struct {
	// Listen is the address the gateway listens on.
	Listen string `yaml:"listen"`
	// DataDir holds the embedded SQLite database and generated secrets.
	DataDir string `yaml:"data_dir"`
	Log     Log    `yaml:"log"`
	Server  Server `yaml:"server"`
	Auth    Auth   `yaml:"auth"`
	Audit   Audit  `yaml:"audit"`
	// Moderation configures the input and output checks.
	Moderation Moderation `yaml:"moderation"`
	Breaker    Breaker    `yaml:"breaker"`
	// Label configures AI-generated-content labels (GB 45438-2025).
	Label Label `yaml:"label"`
	// Report configures regulator exports (audit_report.go).
	Report Report `yaml:"report"`
	// Users configures agreements, disclosure, minors mode, enforcement and quotas.
	Users Users `yaml:"users"`
	// Complaints and Privacy configure complaints, PI requests and stored text (privacy.go).
	Complaints Complaints `yaml:"complaints"`
	Privacy    Privacy    `yaml:"privacy"`
	// Upstreams are the model servers genguard forwards to.
	Upstreams []Upstream `yaml:"upstreams"`
	// Models map public model names to upstreams, tried in order.
	Models []Model `yaml:"models"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Server configures the HTTP server.
type Server struct {
	MaxBodyBytes      int64    `yaml:"max_body_bytes"`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds how long in-flight requests and streams may
	// finish after SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Auth configures API-key checks.
type Auth struct {
	// CacheTTL is how long a verified key is trusted without reading the
	// store. A key revoked by another process stops working within it.
	CacheTTL Duration `yaml:"cache_ttl"`
	// AdminKey, when set (e.g. "${GENGUARD_ADMIN_KEY}"), is accepted as an
	// admin key in addition to generated ones.
	AdminKey Secret `yaml:"admin_key"`
}

// Audit configures the per-request audit trail.
type Audit struct {
	QueueSize     int      `yaml:"queue_size"`
	BatchSize     int      `yaml:"batch_size"`
	FlushInterval Duration `yaml:"flush_interval"`
	// Strict holds each response's end until its record is committed.
	Strict bool `yaml:"strict"`
	// SigningKeyFile holds the ed25519 key that signs chain checkpoints
	// (PEM, PKCS #8); empty: audit-signing.key in the data directory,
	// created on first use.
	SigningKeyFile string `yaml:"signing_key_file"`
	// A checkpoint is signed after this many records or this long.
	CheckpointEvery    int      `yaml:"checkpoint_every"`
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// Retention is how long records are kept before pruning (≥ 183 days).
	Retention Duration `yaml:"retention"`
	// PruneInterval is how often the server prunes records past Retention
	// (anchored at a checkpoint, so the rest still verifies); 0: never
	// (prune with `genguard audit prune`).
	PruneInterval Duration `yaml:"prune_interval"`
}

// Moderation configures the checks on input and output.
type Moderation struct {
	Input  bool `yaml:"input"`
	Output bool `yaml:"output"`
	// LexiconFile is a keyword file (term<TAB>risk<TAB>action[<TAB>flags]
	// per line); empty means the built-in starter lexicon.
	LexiconFile string `yaml:"lexicon_file"`
	// AllowFile lists phrases (one per line) that suppress a hit they
	// contain; empty means the starter allow-list with the starter lexicon.
	AllowFile string `yaml:"allow_file"`
	// Pinyin also matches Chinese terms written in pinyin or initials.
	Pinyin bool `yaml:"pinyin"`
	// MaxGap is how many noise characters may stand between two characters
	// of a term (evasion by inserted spaces, symbols, emoji).
	MaxGap int `yaml:"max_gap"`
	// RefusalMessage is the assistant text sent instead of blocked content.
	RefusalMessage string `yaml:"refusal_message"`
	// RetractionNotice tells a streaming client why delivered text is withdrawn.
	RetractionNotice string `yaml:"retraction_notice"`
	// ClassifierModel is a model file from `genguard classifier train`;
	// empty: the model embedded in the binary. Policies, rules and the
	// guard model: see moderation.go.
	ClassifierModel string                      `yaml:"classifier_model"`
	Policies        map[string]ModerationPolicy `yaml:"policies"`
	Rules           []ModerationRule            `yaml:"rules"`
	Guard           ModerationGuard             `yaml:"guard"`
}

// Breaker configures the per-upstream circuit breaker.
type Breaker struct {
	FailureThreshold int      `yaml:"failure_threshold"`
	Cooldown         Duration `yaml:"cooldown"`
}

// Upstream is one model server.
type Upstream struct {
	Name string `yaml:"name"`
	// Type is "openai" (any OpenAI-compatible server: vLLM, Ollama, DeepSeek,
	// DashScope compatible mode, OpenAI) or "demo" (the built-in model).
	Type           string            `yaml:"type"`
	BaseURL        string            `yaml:"base_url"`
	APIKey         Secret            `yaml:"api_key"`
	Headers        map[string]string `yaml:"headers"`
	ConnectTimeout Duration          `yaml:"connect_timeout"`
	// Timeout bounds a whole non-streaming request, and the wait for the
	// first byte of a stream.
	Timeout Duration `yaml:"timeout"`
	// TokensPerSecond is the demo model's streaming rate (0: as fast as possible).
	TokensPerSecond float64 `yaml:"tokens_per_second"`
}

// Model routes a public model name.
type Model struct {
	Name   string  `yaml:"name"`
	Routes []Route `yaml:"routes"`
}

// Route is one upstream for a model; Model is the name the upstream knows it
// by (default: the public name).
type Route struct {
	Upstream string `yaml:"upstream"`
	Model    string `yaml:"model"`
}

// Default returns the configuration used when no file is given: listen on
// 127.0.0.1:8080, data in ./genguard-data, the demo model.
func Default() Config {
	return Config{
		Listen:  "127.0.0.1:8080",
		DataDir: "./genguard-data",
		Log:     Log{Level: "info", Format: "json"},
		Server: Server{
			MaxBodyBytes:      1 << 20,
			ReadHeaderTimeout: Duration(10 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			ShutdownTimeout:   Duration(30 * time.Second),
		},
		Auth:  Auth{CacheTTL: Duration(2 * time.Second)},
		Audit: Audit{QueueSize: 8192, BatchSize: 512, FlushInterval: Duration(5 * time.Millisecond), CheckpointEvery: 10000, CheckpointInterval: Duration(time.Minute), Retention: Duration(183 * 24 * time.Hour), PruneInterval: Duration(24 * time.Hour)},
		Moderation: Moderation{
			Input:            true,
			Output:           true,
			Pinyin:           true,
			MaxGap:           3,
			RefusalMessage:   "抱歉，这个请求涉及违法或不良信息，我无法提供帮助。Sorry, I can't help with that request.",
			RetractionNotice: "已发送的部分内容违反内容安全规定，已被撤回。Part of the delivered content violated the content rules and has been withdrawn.",
			Policies:         defaultPolicies(),
			Rules:            defaultRules(),
			Guard:            defaultGuard(),
		},
		Breaker:    Breaker{FailureThreshold: 5, Cooldown: Duration(30 * time.Second)},
		Label:      defaultLabel(),
		Users:      defaultUsers(),
		Complaints: defaultComplaints(),
		Privacy:    defaultPrivacy(),
	}
}

// defaultUpstreams applies when the file names no upstream at all.
func defaultUpstreams(c *Config) {
	if len(c.Upstreams) == 0 {
		c.Upstreams = []Upstream{{Name: "demo", Type: "demo", TokensPerSecond: 0}}
	}
	if len(c.Models) == 0 {
		for _, u := range c.Upstreams {
			c.Models = append(c.Models, Model{Name: u.Name, Routes: []Route{{Upstream: u.Name}}})
		}
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		if u.ConnectTimeout == 0 {
			u.ConnectTimeout = Duration(5 * time.Second)
		}
		if u.Timeout == 0 {
			u.Timeout = Duration(120 * time.Second)
		}
	}
	for i := range c.Models {
		for j := range c.Models[i].Routes {
			if c.Models[i].Routes[j].Model == "" {
				c.Models[i].Routes[j].Model = c.Models[i].Name
			}
		}
	}
}

// Duration is a time.Duration written as "30s" or "5ms" in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		// A TypeError lets the decoder go on and report every bad field.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q (want e.g. 30s, 5ms)", n.Line, s)}}
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Secret is a string that may be given as "${ENV_VAR}" so it never has to be
// written into the file. It prints as "***".
type Secret struct {
	Value string
	// Ref is the environment variable it came from, if any.
	Ref  string
	line int
}

func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	var v string
	if err := n.Decode(&v); err != nil {
		return err
	}
	s.line = n.Line
	if m := envRef.FindStringSubmatch(v); m != nil {
		s.Ref = m[1]
		return nil
	}
	s.Value = v
	return nil
}

func (s Secret) MarshalYAML() (any, error) {
	if s.Ref != "" {
		return "${" + s.Ref + "}", nil
	}
	if s.Value != "" {
		return "***", nil
	}
	return "", nil
}

func (s Secret) String() string { return "***" }

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Problem is one validation failure.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (p Problem) String() string {
	loc := p.File
	if loc == "" {
		loc = "config"
	}
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg)
}

// Error lists every problem found, one per line.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// MaxFileBytes bounds the config file we read.
const MaxFileBytes = 1 << 20

// Load reads path (empty: defaults only), resolves ${ENV} secrets with getenv
// and validates. Unknown fields are errors, so a typo never silently falls
// back to a default.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path == "" {
		defaultUpstreams(&cfg)
		return cfg, cfg.validate("", nil, getenv)
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileBytes {
		return Config{}, &Error{[]Problem{{File: path, Field: "(file)", Msg: fmt.Sprintf("larger than %d bytes", MaxFileBytes)}}}
	}
	return Parse(path, data, getenv)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse parses and validates config bytes; name is used in messages.
func Parse(name string, data []byte, getenv func(string) string) (Config, error) {
	cfg := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, yamlError(name, nil, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamlError(name, &root, err)
	}
	defaultUpstreams(&cfg)
	return cfg, cfg.validate(name, &root, getenv)
}

func yamlError(name string, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	probs := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		p := lineProblem(name, m)
		if p.Line > 0 {
			if f := pathAtLine(root, p.Line); f != "" {
				p.Field = f
			}
		}
		probs = append(probs, p)
	}
	return &Error{probs}
}

func lineProblem(name, msg string) Problem {
	p := Problem{File: name, Field: "(yaml)", Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &p.Line)
		p.Msg = m[2]
		if f := fieldNotFound.FindStringSubmatch(p.Msg); f != nil {
			p.Field = f[1]
			p.Msg = "unknown field"
		}
		if nested := yamlLine.FindStringSubmatch(p.Msg); nested != nil {
			p.Msg = nested[2]
		}
	}
	return p
}

var fieldNotFound = regexp.MustCompile(`^field (\S+) not found in type`)
