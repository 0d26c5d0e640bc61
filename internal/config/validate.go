package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validate checks every field and collects all problems, each with the line
// of the offending key when the config came from a file.
func (c *Config) validate(file string, root *yaml.Node, getenv func(string) string) error {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not host:port", c.Listen)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "%q is not json or text", c.Log.Format)
	}
	if c.Server.MaxBodyBytes < 1024 || c.Server.MaxBodyBytes > 1<<30 {
		bad("server.max_body_bytes", "%d is outside 1024 … 1073741824", c.Server.MaxBodyBytes)
	}
	positive := func(path string, d Duration) {
		if d <= 0 {
			bad(path, "must be a positive duration")
		}
	}
	positive("server.read_header_timeout", c.Server.ReadHeaderTimeout)
	positive("server.idle_timeout", c.Server.IdleTimeout)
	positive("server.shutdown_timeout", c.Server.ShutdownTimeout)
	if c.Auth.CacheTTL < 0 {
		bad("auth.cache_ttl", "must not be negative")
	}
	c.Auth.AdminKey.resolve(getenv, func(msg string) { bad("auth.admin_key", "%s", msg) })
	if v := c.Auth.AdminKey.Value; v != "" && len(v) < 24 {
		bad("auth.admin_key", "must be at least 24 characters")
	}
	if c.Audit.QueueSize < 1 || c.Audit.QueueSize > 1<<20 {
		bad("audit.queue_size", "%d is outside 1 … 1048576", c.Audit.QueueSize)
	}
	if c.Audit.BatchSize < 1 || c.Audit.BatchSize > 10000 {
		bad("audit.batch_size", "%d is outside 1 … 10000", c.Audit.BatchSize)
	}
	positive("audit.flush_interval", c.Audit.FlushInterval)
	if c.Moderation.MaxGap < 0 || c.Moderation.MaxGap > 16 {
		bad("moderation.max_gap", "%d is outside 0 … 16", c.Moderation.MaxGap)
	}
	if strings.TrimSpace(c.Moderation.RefusalMessage) == "" {
		bad("moderation.refusal_message", "must not be empty")
	}
	if c.Breaker.FailureThreshold < 1 {
		bad("breaker.failure_threshold", "must be at least 1")
	}
	positive("breaker.cooldown", c.Breaker.Cooldown)

	upstreams := map[string]bool{}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		p := "upstreams[" + strconv.Itoa(i) + "]"
		if u.Name == "" {
			bad(p+".name", "must not be empty")
		} else if upstreams[u.Name] {
			bad(p+".name", "duplicate upstream %q", u.Name)
		}
		upstreams[u.Name] = true
		switch u.Type {
		case "demo":
			if u.TokensPerSecond < 0 {
				bad(p+".tokens_per_second", "must not be negative")
			}
		case "openai":
			pu, err := url.Parse(u.BaseURL)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				bad(p+".base_url", "%q is not an http(s) URL", u.BaseURL)
			}
		default:
			bad(p+".type", "%q is not openai or demo", u.Type)
		}
		u.APIKey.resolve(getenv, func(msg string) { bad(p+".api_key", "%s", msg) })
		positive(p+".connect_timeout", u.ConnectTimeout)
		positive(p+".timeout", u.Timeout)
	}
	models := map[string]bool{}
	for i, m := range c.Models {
		p := "models[" + strconv.Itoa(i) + "]"
		if m.Name == "" {
			bad(p+".name", "must not be empty")
		} else if models[m.Name] {
			bad(p+".name", "duplicate model %q", m.Name)
		}
		models[m.Name] = true
		if len(m.Routes) == 0 {
			bad(p+".routes", "needs at least one route")
		}
		for j, r := range m.Routes {
			if !upstreams[r.Upstream] {
				bad(p+".routes["+strconv.Itoa(j)+"].upstream", "unknown upstream %q", r.Upstream)
			}
		}
	}
	probs = append(probs, c.validateLabel(file, root, getenv)...)
	probs = append(probs, c.validateAuditReport(file, root)...)
	probs = append(probs, c.validateUsers(file, root)...)
	probs = append(probs, c.validateModeration(file, root, getenv)...)
	probs = append(probs, c.validateComplaintsPrivacy(file, root, getenv)...)
	if len(probs) > 0 {
		return &Error{probs}
	}
	return nil
}

func (s *Secret) resolve(getenv func(string) string, bad func(string)) {
	if s.Ref == "" {
		return
	}
	v := ""
	if getenv != nil {
		v = getenv(s.Ref)
	}
	if v == "" {
		bad("environment variable " + s.Ref + " is not set")
	}
	s.Value = v
}

// lineOf finds the line of a dotted path such as "upstreams[1].base_url" in
// the YAML tree, falling back to the nearest ancestor that exists.
func lineOf(root *yaml.Node, path string) int {
	if root == nil || len(root.Content) == 0 {
		return 0
	}
	n := root.Content[0]
	line := n.Line
	for part := range strings.SplitSeq(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := mapValue(n, name)
		if next == nil {
			return line
		}
		line = next.key.Line
		n = next.val
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

type kv struct{ key, val *yaml.Node }

func mapValue(n *yaml.Node, key string) *kv {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return &kv{n.Content[i], n.Content[i+1]}
		}
	}
	return nil
}

// pathAtLine returns the dotted path of the key on the given line.
func pathAtLine(root *yaml.Node, line int) string {
	if root == nil || len(root.Content) == 0 {
		return ""
	}
	var walk func(n *yaml.Node, prefix string) string
	walk = func(n *yaml.Node, prefix string) string {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if prefix != "" {
					p = prefix + "." + k.Value
				}
				if k.Line == line && (v.Kind == yaml.ScalarNode || v.Line != line) {
					return p
				}
				if r := walk(v, p); r != "" {
					return r
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if r := walk(c, prefix+"["+strconv.Itoa(i)+"]"); r != "" {
					return r
				}
			}
		}
		return ""
	}
	return walk(root.Content[0], "")
}
