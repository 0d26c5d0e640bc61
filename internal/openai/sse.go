package openai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxEventBytes bounds one SSE event read from an upstream, so a hostile or
// broken upstream cannot make the gateway buffer without limit.
const MaxEventBytes = 4 << 20

// ErrEventTooLarge is returned when an upstream event exceeds MaxEventBytes.
var ErrEventTooLarge = errors.New("sse: event too large")

// EventReader reads the data payloads of a text/event-stream.
type EventReader struct {
	r    *bufio.Reader
	data bytes.Buffer
}

// NewEventReader returns a reader over an SSE stream.
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// Next returns the next event's data (multi-line data joined with "\n").
// Comments, event names, ids and retry fields are skipped. It returns io.EOF at
// the end of the stream; a final event without its blank line is still returned.
func (er *EventReader) Next() ([]byte, error) {
	er.data.Reset()
	have := false
	for {
		line, err := er.readLine()
		if err != nil {
			if err == io.EOF && have {
				return er.data.Bytes(), nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if have {
				return er.data.Bytes(), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		if string(field) != "data" {
			continue
		}
		if have {
			er.data.WriteByte('\n')
		}
		if er.data.Len()+len(value) > MaxEventBytes {
			return nil, ErrEventTooLarge
		}
		er.data.Write(value)
		have = true
	}
}

func (er *EventReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := er.r.ReadLine()
		if err != nil {
			return nil, err
		}
		if !isPrefix && buf == nil {
			return chunk, nil
		}
		if len(buf)+len(chunk) > MaxEventBytes {
			return nil, ErrEventTooLarge
		}
		buf = append(buf, chunk...)
		if !isPrefix {
			return buf, nil
		}
	}
}

// Done is the payload that ends an OpenAI stream.
var Done = []byte("[DONE]")

// WriteEvent writes one "data: …\n\n" event.
func WriteEvent(w io.Writer, data []byte) error {
	// A payload is JSON without raw newlines; guard anyway, since a newline
	// would split the event.
	if bytes.IndexByte(data, '\n') >= 0 {
		return fmt.Errorf("sse: payload contains a newline")
	}
	if _, err := w.Write([]byte("data: ")); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err := w.Write([]byte("\n\n"))
	return err
}
