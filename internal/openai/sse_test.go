package openai

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t testing.TB, in string) ([]string, error) {
	er := NewEventReader(strings.NewReader(in))
	var out []string
	for {
		ev, err := er.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(ev))
	}
}

func TestEventReader(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"data: a\n\ndata: b\n\n", []string{"a", "b"}},
		{"data:a\r\n\r\n", []string{"a"}},
		{": comment\nevent: x\nid: 1\ndata: one\ndata: two\n\n", []string{"one\ntwo"}},
		{"data: last-without-blank-line", []string{"last-without-blank-line"}},
		{"\n\n\ndata: [DONE]\n\n", []string{"[DONE]"}},
		{"retry: 10\n\n", nil},
	}
	for _, tt := range tests {
		got, err := readAll(t, tt.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("events(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEventReaderBoundsMemory(t *testing.T) {
	huge := "data: " + strings.Repeat("x", MaxEventBytes+10) + "\n\n"
	if _, err := readAll(t, huge); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("huge line err = %v, want ErrEventTooLarge", err)
	}
	many := strings.Repeat("data: "+strings.Repeat("y", 1<<20)+"\n", 5) + "\n"
	if _, err := readAll(t, many); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("many data lines err = %v, want ErrEventTooLarge", err)
	}
}

func TestWriteEvent(t *testing.T) {
	var b bytes.Buffer
	if err := WriteEvent(&b, []byte(`{"a":1}`)); err != nil || b.String() != "data: {\"a\":1}\n\n" {
		t.Errorf("WriteEvent = %q, %v", b.String(), err)
	}
	if err := WriteEvent(&b, []byte("a\nb")); err == nil {
		t.Error("WriteEvent accepted a newline, which would split the event")
	}
}

func FuzzEventReader(f *testing.F) {
	for _, s := range []string{"data: a\n\ndata: b\n\n", ": c\ndata:x\r\n\r\n", "data: [DONE]", "event: e\ndata: 1\ndata: 2\n\n", "\x00\xff\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		er := NewEventReader(bytes.NewReader(in))
		total := 0
		for range len(in) + 2 {
			ev, err := er.Next()
			if err != nil {
				return
			}
			total += len(ev)
			if total > len(in) {
				t.Fatalf("events hold %d bytes from %d bytes of input", total, len(in))
			}
		}
		t.Fatalf("more events than input lines")
	})
}

func FuzzContent(f *testing.F) {
	for _, s := range []string{`"hi"`, `[{"type":"text","text":"a"},{"type":"image_url"}]`, `null`, `5`, `[1]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var c Content
		if err := c.UnmarshalJSON(in); err != nil {
			return
		}
		if _, err := c.MarshalJSON(); err != nil {
			t.Fatalf("accepted content does not marshal: %v", err)
		}
	})
}
