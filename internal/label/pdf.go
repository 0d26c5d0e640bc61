package label

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// pdfMarker starts every incremental update this package appends, so a
// relabel replaces its own update instead of stacking another one.
const pdfMarker = "\n%genguard-aigc-update\n"

// pdfMaxDepth bounds nesting in hostile dictionaries.
const pdfMaxDepth = 32

// pdfLex is a minimal PDF object scanner: enough for trailer and Info
// dictionaries (no streams, no object streams).
type pdfLex struct {
	b []byte
	p int
}

func isPDFWS(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

func (l *pdfLex) ws() {
	for l.p < len(l.b) {
		switch c := l.b[l.p]; {
		case isPDFWS(c):
			l.p++
		case c == '%':
			for l.p < len(l.b) && l.b[l.p] != '\n' && l.b[l.p] != '\r' {
				l.p++
			}
		default:
			return
		}
	}
}

// value skips one object and returns its raw bytes.
func (l *pdfLex) value(depth int) ([]byte, error) {
	if depth > pdfMaxDepth {
		return nil, malformed(PDF, "objects nested deeper than %d", pdfMaxDepth)
	}
	l.ws()
	if l.p >= len(l.b) {
		return nil, malformed(PDF, "unexpected end of object")
	}
	start := l.p
	switch c := l.b[l.p]; {
	case c == '(':
		if _, err := l.literal(); err != nil {
			return nil, err
		}
	case c == '<' && l.p+1 < len(l.b) && l.b[l.p+1] == '<':
		if _, err := l.dict(depth + 1); err != nil {
			return nil, err
		}
	case c == '<':
		e := bytes.IndexByte(l.b[l.p:], '>')
		if e < 0 {
			return nil, malformed(PDF, "unterminated hex string")
		}
		l.p += e + 1
	case c == '[':
		l.p++
		for {
			l.ws()
			if l.p >= len(l.b) {
				return nil, malformed(PDF, "unterminated array")
			}
			if l.b[l.p] == ']' {
				l.p++
				break
			}
			if _, err := l.value(depth + 1); err != nil {
				return nil, err
			}
		}
	case c == '/':
		l.p++
		l.token()
	case c == ')' || c == '>' || c == ']' || c == '{' || c == '}':
		return nil, malformed(PDF, "unexpected %q at %d", c, l.p)
	default:
		l.token()
		// An indirect reference "n g R" is one value.
		save := l.p
		l.ws()
		g := l.p
		l.token()
		if l.p > g && isDigits(l.b[g:l.p]) {
			l.ws()
			if l.p < len(l.b) && l.b[l.p] == 'R' && (l.p+1 == len(l.b) || isPDFWS(l.b[l.p+1]) || isPDFDelim(l.b[l.p+1])) {
				l.p++
				return l.b[start:l.p], nil
			}
		}
		l.p = save
	}
	return l.b[start:l.p], nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func (l *pdfLex) token() {
	for l.p < len(l.b) && !isPDFWS(l.b[l.p]) && !isPDFDelim(l.b[l.p]) {
		l.p++
	}
}

// literal decodes a (…) string.
func (l *pdfLex) literal() ([]byte, error) {
	var out []byte
	depth := 0
	for l.p++; l.p < len(l.b); l.p++ {
		c := l.b[l.p]
		switch c {
		case '\\':
			l.p++
			if l.p >= len(l.b) {
				return nil, malformed(PDF, "unterminated string")
			}
			switch e := l.b[l.p]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r', '\n': // line continuation
			default:
				if e >= '0' && e <= '7' {
					v := 0
					for k := 0; k < 3 && l.p < len(l.b) && l.b[l.p] >= '0' && l.b[l.p] <= '7'; k++ {
						v = v*8 + int(l.b[l.p]-'0')
						l.p++
					}
					l.p--
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			if depth == 0 {
				l.p++
				return out, nil
			}
			depth--
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return nil, malformed(PDF, "unterminated string")
}

type pdfEntry struct {
	key string
	raw []byte
}

// dict parses << … >> into its entries in order.
func (l *pdfLex) dict(depth int) ([]pdfEntry, error) {
	l.ws()
	if !bytes.HasPrefix(l.b[l.p:], []byte("<<")) {
		return nil, malformed(PDF, "expected dictionary at %d", l.p)
	}
	l.p += 2
	var es []pdfEntry
	for {
		l.ws()
		if l.p+1 < len(l.b) && l.b[l.p] == '>' && l.b[l.p+1] == '>' {
			l.p += 2
			return es, nil
		}
		if l.p >= len(l.b) || l.b[l.p] != '/' {
			return nil, malformed(PDF, "expected name in dictionary at %d", l.p)
		}
		l.p++
		k := l.p
		l.token()
		key := string(l.b[k:l.p])
		v, err := l.value(depth)
		if err != nil {
			return nil, err
		}
		es = append(es, pdfEntry{key: key, raw: v})
	}
}

func pdfGet(es []pdfEntry, key string) []byte {
	for _, e := range es {
		if e.key == key {
			return e.raw
		}
	}
	return nil
}

var (
	startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF`)
	refRE       = regexp.MustCompile(`^(\d+)\s+(\d+)\s+R$`)
)

type pdfTrailer struct {
	entries []pdfEntry
	xref    int // offset of the latest xref section
}

// pdfLatestTrailer finds the trailer of the newest revision, from a
// classic trailer or an xref stream dictionary.
func pdfLatestTrailer(data []byte) (pdfTrailer, error) {
	tail := data[max(0, len(data)-2048):]
	ms := startxrefRE.FindAllSubmatchIndex(tail, -1)
	if ms == nil {
		return pdfTrailer{}, malformed(PDF, "no startxref")
	}
	m := ms[len(ms)-1]
	x, err := strconv.Atoi(string(tail[m[2]:m[3]]))
	if err != nil || x >= len(data) {
		return pdfTrailer{}, malformed(PDF, "startxref %q out of range", tail[m[2]:m[3]])
	}
	l := &pdfLex{b: data, p: x}
	if bytes.HasPrefix(data[x:], []byte("xref")) {
		t := bytes.Index(data[x:], []byte("trailer"))
		if t < 0 {
			return pdfTrailer{}, malformed(PDF, "xref without trailer")
		}
		l.p = x + t + len("trailer")
	} else { // xref stream: "n g obj << … >> stream"
		d := bytes.Index(data[x:min(len(data), x+64)], []byte("<<"))
		if d < 0 {
			return pdfTrailer{}, malformed(PDF, "startxref does not point at an xref section")
		}
		l.p = x + d
	}
	es, err := l.dict(0)
	if err != nil {
		return pdfTrailer{}, err
	}
	return pdfTrailer{entries: es, xref: x}, nil
}

// pdfInfo returns the Info object's number, generation and entries; ok is
// false when there is no Info dictionary or it sits in an object stream.
func pdfInfo(data []byte, t pdfTrailer) (num, gen int, es []pdfEntry, ok bool, err error) {
	m := refRE.FindSubmatch(pdfGet(t.entries, "Info"))
	if m == nil {
		return 0, 0, nil, false, nil
	}
	num, _ = strconv.Atoi(string(m[1]))
	gen, _ = strconv.Atoi(string(m[2]))
	// The newest definition of the object wins.
	re := regexp.MustCompile(`(?:^|[\s>])` + string(m[1]) + `\s+` + string(m[2]) + `\s+obj\b`)
	locs := re.FindAllIndex(data, -1)
	if locs == nil {
		return num, gen, nil, false, nil
	}
	l := &pdfLex{b: data, p: locs[len(locs)-1][1]}
	es, err = l.dict(0)
	if err != nil {
		return 0, 0, nil, false, fmt.Errorf("Info dictionary: %w", err)
	}
	return num, gen, es, true, nil
}

func pdfFind(data []byte) ([]found, error) {
	t, err := pdfLatestTrailer(data)
	if err != nil {
		return nil, err
	}
	_, _, es, ok, err := pdfInfo(data, t)
	if err != nil || !ok {
		return nil, err
	}
	var out []found
	for _, e := range es {
		if e.key != "AIGC" {
			continue
		}
		l := &pdfLex{b: e.raw}
		if len(e.raw) == 0 || e.raw[0] != '(' {
			return nil, malformed(PDF, "/AIGC is not a literal string")
		}
		s, err := l.literal()
		if err != nil {
			return nil, err
		}
		out = append(out, found{where: "PDF Info /AIGC", raw: s})
	}
	return out, nil
}

// pdfString encodes a literal string; the label is ASCII so only the
// delimiters need escaping.
func pdfString(s []byte) []byte {
	var b []byte
	b = append(b, '(')
	for _, c := range s {
		if c == '(' || c == ')' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, ')')
}

// pdfBase returns the document without an update this package appended.
func pdfBase(data []byte) []byte {
	if i := bytes.LastIndex(data, []byte(pdfMarker)); i >= 0 {
		return data[:i]
	}
	return data
}

// pdfWrite appends an incremental update (ISO 32000 §7.5.6) whose Info
// dictionary keeps the existing entries and holds one /AIGC. A previous
// update of ours is replaced, not stacked. The update uses a classic xref
// table; readers accept it after an xref stream via /Prev.
func pdfWrite(dst io.Writer, data []byte, a AIGC) error {
	base := pdfBase(data)
	t, err := pdfLatestTrailer(base)
	if err != nil {
		return err
	}
	size, err := strconv.Atoi(string(pdfGet(t.entries, "Size")))
	if err != nil || size <= 0 {
		return malformed(PDF, "trailer /Size missing")
	}
	root := pdfGet(t.entries, "Root")
	if root == nil {
		return malformed(PDF, "trailer /Root missing")
	}
	num, gen, info, ok, err := pdfInfo(base, t)
	if err != nil {
		return err
	}
	if !ok && num == 0 {
		num, gen = size, 0
		size++
	}
	var obj bytes.Buffer
	fmt.Fprintf(&obj, "%d %d obj\n<<", num, gen)
	for _, e := range info {
		if e.key != "AIGC" {
			fmt.Fprintf(&obj, "/%s %s", e.key, e.raw)
		}
	}
	obj.WriteString("/AIGC ")
	obj.Write(pdfString(a.JSON()))
	obj.WriteString(">>\nendobj\n")

	objAt := len(base) + len(pdfMarker)
	xrefAt := objAt + obj.Len()
	var tr bytes.Buffer
	fmt.Fprintf(&tr, "xref\n%d 1\n%010d %05d n \ntrailer\n<</Size %d/Root %s/Info %d %d R/Prev %d", num, objAt, gen, max(size, num+1), root, num, gen, t.xref)
	if id := pdfGet(t.entries, "ID"); id != nil {
		fmt.Fprintf(&tr, "/ID %s", id)
	}
	fmt.Fprintf(&tr, ">>\nstartxref\n%d\n%%%%EOF\n", xrefAt)

	w := &errWriter{w: dst}
	w.write(base)
	w.write([]byte(pdfMarker))
	w.write(obj.Bytes())
	w.write(tr.Bytes())
	return w.err
}

// pdfEssence is the document before this package's update.
func pdfEssence(data []byte, h io.Writer) error {
	if _, err := pdfLatestTrailer(data); err != nil {
		return err
	}
	_, err := h.Write(pdfBase(data))
	return err
}
