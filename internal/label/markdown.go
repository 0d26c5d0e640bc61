package label

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// looksText reports whether data is UTF-8 text without NUL bytes.
func looksText(data []byte) bool {
	head := data[:min(len(data), 4096)]
	if len(head) == 0 || bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	// Allow a multi-byte rune cut at the 4 KiB boundary.
	for i := 0; i < 4 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	return utf8.Valid(head)
}

// frontMatter returns the YAML between the opening and closing "---"
// lines and the offset where the body starts; ok is false without one.
func frontMatter(data []byte) (yml []byte, body int, ok bool) {
	d := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	bom := len(data) - len(d)
	var open int
	switch {
	case bytes.HasPrefix(d, []byte("---\n")):
		open = 4
	case bytes.HasPrefix(d, []byte("---\r\n")):
		open = 5
	default:
		return nil, 0, false
	}
	rest := d[open:]
	for p := 0; p <= len(rest); {
		nl := bytes.IndexByte(rest[p:], '\n')
		line := rest[p:]
		end := len(rest)
		if nl >= 0 {
			line = rest[p : p+nl]
			end = p + nl + 1
		}
		if l := strings.TrimRight(string(line), "\r \t"); l == "---" || l == "..." {
			return rest[:p], bom + open + end, true
		}
		if nl < 0 {
			break
		}
		p = end
	}
	return nil, 0, false
}

// mdMaxFrontMatter bounds the YAML handed to the parser (alias bombs).
const mdMaxFrontMatter = 64 << 10

func mdFind(data []byte) ([]found, error) {
	yml, _, ok := frontMatter(data)
	if !ok || !bytes.Contains(yml, []byte("AIGC")) {
		return nil, nil
	}
	if len(yml) > mdMaxFrontMatter {
		return nil, malformed(Markdown, "front matter is %d bytes, limit %d", len(yml), mdMaxFrontMatter)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		return nil, malformed(Markdown, "front matter: %v", err)
	}
	v, ok := doc["AIGC"]
	if !ok {
		return nil, nil
	}
	var raw []byte
	switch t := v.(type) {
	case string: // AIGC: '{"AIGC":{…}}'
		raw = []byte(t)
	case map[string]any:
		var a AIGC
		for _, f := range a.fields() {
			if x, ok := t[f.name]; ok && x != nil {
				*f.v = fmt.Sprint(x)
			}
		}
		raw = a.JSON()
	default:
		return nil, malformed(Markdown, "AIGC front matter key is a %T", v)
	}
	return []found{{where: "Markdown front matter AIGC", raw: raw}}, nil
}

// yamlQuote single-quotes a value, the style of the PG-20258A example.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// mdBlock renders the AIGC mapping.
func mdBlock(a AIGC) string {
	var b strings.Builder
	b.WriteString("AIGC:\n")
	for _, f := range a.fields() {
		fmt.Fprintf(&b, "  %s: %s\n", f.name, yamlQuote(*f.v))
	}
	return b.String()
}

// mdRemove drops a top-level AIGC key and its indented block from YAML.
func mdRemove(yml []byte) []byte {
	var out bytes.Buffer
	skipping := false
	for _, line := range bytes.SplitAfter(yml, []byte("\n")) {
		if skipping {
			if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
				continue
			}
			skipping = false
		}
		if bytes.HasPrefix(line, []byte("AIGC:")) {
			skipping = true
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}

// mdWrite puts the label first in the front matter (creating it when
// missing) and keeps the other keys and the body unchanged.
func mdWrite(dst io.Writer, data []byte, a AIGC) error {
	yml, body, ok := frontMatter(data)
	head := []byte(mdBlock(a))
	if ok {
		if len(yml) > mdMaxFrontMatter {
			return malformed(Markdown, "front matter is %d bytes, limit %d", len(yml), mdMaxFrontMatter)
		}
		head = append(head, mdRemove(yml)...)
		// Why: the merge is line-based; refuse front matter that is not a
		// mapping rather than emit YAML no reader can parse.
		var doc map[string]any
		if err := yaml.Unmarshal(head, &doc); err != nil {
			return malformed(Markdown, "front matter is not a YAML mapping: %v", err)
		}
	}
	w := &errWriter{w: dst}
	w.write([]byte("---\n"))
	w.write(head)
	w.write([]byte("---\n"))
	if ok {
		w.write(data[body:])
	} else {
		w.write(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	}
	return w.err
}

// mdEssence is the body after the front matter.
func mdEssence(data []byte, h io.Writer) error {
	_, body, ok := frontMatter(data)
	if !ok {
		body = len(data) - len(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	}
	_, err := h.Write(data[body:])
	return err
}
