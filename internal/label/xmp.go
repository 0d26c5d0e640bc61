package label

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// TC260 XMP namespace for the implicit label (TC260-PG-20259A).
const (
	xmpNS     = "http://www.tc260.org.cn/ns/AIGC/1.0/"
	xmpPrefix = "TC260"
	rdfNS     = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
)

// xmpEscape escapes character data; JSON quotes stay readable.
func xmpEscape(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return s // unreachable: strings.Builder does not fail
	}
	// xml.EscapeText also escapes quotes; element content does not need it.
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'").Replace(b.String())
}

// xmpProperty is the property element as we write it.
func xmpProperty(inner []byte) string {
	return "<" + xmpPrefix + ":AIGC>" + xmpEscape(string(inner)) + "</" + xmpPrefix + ":AIGC>"
}

func xmpDescription(inner []byte) string {
	return `<rdf:Description rdf:about="" xmlns:` + xmpPrefix + `="` + xmpNS + `">` + xmpProperty(inner) + `</rdf:Description>`
}

// xmpNew returns a complete XMP packet holding only the label.
func xmpNew(inner []byte) []byte {
	return []byte("<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n" +
		`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="` + rdfNS + `">` +
		xmpDescription(inner) + "</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>")
}

// xmpSpan locates the label inside a packet: an element [start,end) or an
// attribute inside the start tag [start,end).
type xmpSpan struct {
	start, end int
	tagEnd     int // end of the element's start tag
	attr       bool
	value      string
}

// maxXMPTokens bounds the work on a hostile packet.
const maxXMPTokens = 100000

// xmpScan finds every TC260 AIGC property (element or attribute form) and
// the offset of the first </rdf:RDF>, by namespace URI, not by prefix.
func xmpScan(packet []byte) (spans []xmpSpan, rdfEnd int, err error) {
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = false
	rdfEnd = -1
	var cur *xmpSpan
	var text strings.Builder
	for n := 0; ; n++ {
		if n > maxXMPTokens {
			return nil, -1, errors.New("XMP packet has too many tokens")
		}
		off := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, -1, fmt.Errorf("XMP: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == nil && t.Name.Space == xmpNS && t.Name.Local == "AIGC" {
				cur = &xmpSpan{start: off, tagEnd: int(d.InputOffset())}
				text.Reset()
				continue
			}
			for _, a := range t.Attr {
				if cur == nil && a.Name.Space == xmpNS && a.Name.Local == "AIGC" {
					spans = append(spans, xmpSpan{start: off, end: int(d.InputOffset()), attr: true, value: a.Value})
				}
			}
		case xml.CharData:
			if cur != nil && text.Len() < 16*maxFieldLen {
				text.Write(t)
			}
		case xml.EndElement:
			if cur != nil && t.Name.Space == xmpNS && t.Name.Local == "AIGC" {
				cur.end = int(d.InputOffset())
				cur.value = text.String()
				spans = append(spans, *cur)
				cur = nil
			}
			if rdfEnd < 0 && t.Name.Space == rdfNS && t.Name.Local == "RDF" {
				rdfEnd = off
			}
		}
	}
	return spans, rdfEnd, nil
}

// xmpFind returns the TC260:AIGC values in a packet.
func xmpFind(packet []byte) ([]string, error) {
	if !bytes.Contains(packet, []byte(xmpNS)) {
		return nil, nil // fast path, and tolerant of unrelated broken XMP
	}
	spans, _, err := xmpScan(packet)
	if err != nil {
		return nil, err
	}
	var vals []string
	for _, s := range spans {
		vals = append(vals, s.value)
	}
	return vals, nil
}

var attrRE = regexp.MustCompile(`\s[A-Za-z_][\w.-]*:AIGC\s*=\s*("[^"]*"|'[^']*')`)

// xmpSet returns packet with exactly one TC260:AIGC property holding inner,
// keeping everything else (update the property, not the namespace). A
// packet that cannot be parsed is replaced by a fresh one.
func xmpSet(packet []byte, inner []byte) []byte {
	if len(bytes.TrimSpace(packet)) == 0 {
		return xmpNew(inner)
	}
	spans, rdfEnd, err := xmpScan(packet)
	if err != nil || rdfEnd < 0 {
		return xmpNew(inner)
	}
	var out bytes.Buffer
	pos := 0
	placed := false
	for _, s := range spans {
		out.Write(packet[pos:s.start])
		if s.attr {
			// Drop the attribute; the element form is added below.
			out.Write(attrRE.ReplaceAll(packet[s.start:s.end], nil))
		} else if !placed {
			// Keep the element's own start tag: its prefix may be bound there.
			tag := packet[s.start:s.tagEnd]
			name := tag[1:]
			if i := bytes.IndexAny(name, " \t\r\n>/"); i >= 0 {
				name = name[:i]
			}
			if bytes.HasSuffix(tag, []byte("/>")) {
				out.Write(tag[:len(tag)-2])
				out.WriteString(">")
			} else {
				out.Write(tag)
			}
			out.WriteString(xmpEscape(string(inner)) + "</" + string(name) + ">")
			placed = true
		}
		pos = s.end
	}
	if placed {
		out.Write(packet[pos:])
		return out.Bytes()
	}
	// rdfEnd is in original coordinates; every span precedes it.
	out.Write(packet[pos:rdfEnd])
	out.WriteString(xmpDescription(inner))
	out.Write(packet[rdfEnd:])
	return out.Bytes()
}
