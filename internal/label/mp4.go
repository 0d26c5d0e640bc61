package label

import (
	"encoding/binary"
	"fmt"
	"io"
)

// isBMFFType reports whether a first box type marks an ISO BMFF/QuickTime file.
func isBMFFType(t string) bool {
	switch t {
	case "ftyp", "moov", "mdat", "wide", "free", "skip", "pnot":
		return true
	}
	return false
}

type box struct {
	typ        string
	start, end int // whole box
	body       int // start of the payload (after size/type/largesize)
}

// boxes parses the boxes in data[from:to], checking sizes against the
// bytes that remain. Offsets are absolute in data.
func boxes(data []byte, from, to int) ([]box, error) {
	var bs []box
	for p := from; p < to; {
		if to-p < 8 {
			return nil, malformed(MP4, "truncated box header at %d", p)
		}
		size := uint64(binary.BigEndian.Uint32(data[p:]))
		b := box{typ: string(data[p+4 : p+8]), start: p, body: p + 8}
		switch size {
		case 0: // extends to the end
			size = uint64(to - p)
		case 1:
			if to-p < 16 {
				return nil, malformed(MP4, "truncated largesize at %d", p)
			}
			size = binary.BigEndian.Uint64(data[p+8:])
			b.body = p + 16
		}
		if size < uint64(b.body-p) || size > uint64(to-p) {
			return nil, malformed(MP4, "box %q at %d declares %d bytes, %d remain", b.typ, p, size, to-p)
		}
		b.end = p + int(size)
		bs = append(bs, b)
		p = b.end
	}
	return bs, nil
}

func child(data []byte, parent box, typ string) (box, bool, error) {
	bs, err := boxes(data, parent.body, parent.end)
	if err != nil {
		return box{}, false, err
	}
	for _, b := range bs {
		if b.typ == typ {
			return b, true, nil
		}
	}
	return box{}, false, nil
}

// metaChildrenStart skips the FullBox header of an ISO meta box; QuickTime
// writes meta without it (the first child's type then sits at +4).
func metaChildrenStart(data []byte, meta box) int {
	if meta.end-meta.body >= 8 && string(data[meta.body+4:meta.body+8]) == "hdlr" {
		return meta.body
	}
	return min(meta.body+4, meta.end)
}

// mdtaItem is one metadata item: key name and its raw child boxes (data…).
type mdtaItem struct {
	key  string
	body []byte
}

// mp4MetaItems decodes udta/meta into key/value items. For an iTunes
// (mdir) meta the four-character item types become key names.
func mp4MetaItems(data []byte, meta box) (items []mdtaItem, handler string, err error) {
	cs, err := boxes(data, metaChildrenStart(data, meta), meta.end)
	if err != nil {
		return nil, "", err
	}
	var keys []string
	var ilst box
	for _, c := range cs {
		switch c.typ {
		case "hdlr":
			if c.end-c.body >= 12 {
				handler = string(data[c.body+8 : c.body+12])
			}
		case "keys":
			if c.end-c.body < 8 {
				return nil, "", malformed(MP4, "short keys box")
			}
			n := binary.BigEndian.Uint32(data[c.body+4:])
			p := c.body + 8
			for i := uint32(0); i < n; i++ {
				if c.end-p < 8 {
					return nil, "", malformed(MP4, "keys box lists %d entries, truncated at %d", n, i)
				}
				ks := int(binary.BigEndian.Uint32(data[p:]))
				if ks < 8 || ks > c.end-p {
					return nil, "", malformed(MP4, "key %d size %d", i, ks)
				}
				keys = append(keys, string(data[p+8:p+ks]))
				p += ks
			}
		case "ilst":
			ilst = c
		}
	}
	if ilst.typ == "" {
		return nil, handler, nil
	}
	its, err := boxes(data, ilst.body, ilst.end)
	if err != nil {
		return nil, "", err
	}
	for _, it := range its {
		key := it.typ
		if handler == "mdta" {
			idx := binary.BigEndian.Uint32(data[it.start+4:])
			if idx == 0 || int(idx) > len(keys) {
				return nil, "", malformed(MP4, "ilst item refers to key %d of %d", idx, len(keys))
			}
			key = keys[idx-1]
		} else if name, ok := mdirNames[key]; ok {
			key = name
		}
		items = append(items, mdtaItem{key: key, body: data[it.body:it.end]})
	}
	return items, handler, nil
}

// mdirNames maps common iTunes item types to the key names ffmpeg uses
// when it writes mdta metadata, so converted tags keep their meaning.
var mdirNames = map[string]string{
	"\xa9too": "encoder", "\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album",
	"\xa9day": "date", "\xa9cmt": "comment", "\xa9gen": "genre", "\xa9wrt": "composer",
	"desc": "description", "cprt": "copyright",
}

// dataValue returns the payload of the first data box in an item body.
func dataValue(body []byte) []byte {
	bs, err := boxes(body, 0, len(body))
	if err != nil {
		return nil
	}
	for _, b := range bs {
		if b.typ == "data" && b.end-b.body >= 8 {
			return body[b.body+8 : b.end]
		}
	}
	return nil
}

func mp4Find(data []byte) ([]found, error) {
	top, err := boxes(data, 0, len(data))
	if err != nil {
		return nil, err
	}
	var out []found
	for _, moov := range top {
		if moov.typ != "moov" {
			continue
		}
		mc, err := boxes(data, moov.body, moov.end)
		if err != nil {
			return nil, err
		}
		for _, c := range mc {
			var meta box
			var ok bool
			where := "moov/meta"
			switch c.typ {
			case "udta":
				if meta, ok, err = child(data, c, "meta"); err != nil {
					return nil, err
				}
				where = "moov/udta/meta"
			case "meta": // Apple also puts mdta keys directly in moov
				meta, ok = c, true
			}
			if !ok {
				continue
			}
			items, _, err := mp4MetaItems(data, meta)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if it.key == "AIGC" || it.key == "mdtaAIGC" {
					out = append(out, found{where: "MP4 " + where + " key AIGC", raw: dataValue(it.body)})
				}
			}
		}
	}
	return out, nil
}

func appendBox(b []byte, typ string, payload ...[]byte) []byte {
	n := 8
	for _, p := range payload {
		n += len(p)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, typ...)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

// mdtaMeta encodes an ISO meta FullBox with an mdta handler, keys and ilst,
// the layout ffmpeg writes with -movflags use_metadata_tags.
func mdtaMeta(items []mdtaItem) []byte {
	hdlr := appendBox(nil, "hdlr", make([]byte, 8), []byte("mdta"), make([]byte, 13))
	keys := binary.BigEndian.AppendUint32(make([]byte, 4), uint32(len(items)))
	var ilst []byte
	for i, it := range items {
		keys = binary.BigEndian.AppendUint32(keys, uint32(8+len(it.key)))
		keys = append(append(keys, "mdta"...), it.key...)
		ilst = binary.BigEndian.AppendUint32(ilst, uint32(8+len(it.body)))
		ilst = binary.BigEndian.AppendUint32(ilst, uint32(i+1))
		ilst = append(ilst, it.body...)
	}
	return appendBox(nil, "meta", make([]byte, 4), hdlr, appendBox(nil, "keys", keys), appendBox(nil, "ilst", ilst))
}

// utf8Data encodes a data box of well-known type 1 (UTF-8).
func utf8Data(v []byte) []byte {
	return appendBox(nil, "data", []byte{0, 0, 0, 1, 0, 0, 0, 0}, v)
}

// mp4Write replaces moov/udta/meta by an mdta meta holding the existing
// items (iTunes items converted) plus one AIGC key, then shifts every
// stco/co64 chunk offset that points past the moov box, so a faststart
// file still plays.
func mp4Write(dst io.Writer, data []byte, a AIGC) error {
	top, err := boxes(data, 0, len(data))
	if err != nil {
		return err
	}
	mi := -1
	for i, b := range top {
		if b.typ == "moov" {
			if mi >= 0 {
				return malformed(MP4, "more than one moov box")
			}
			mi = i
		}
	}
	if mi < 0 {
		return malformed(MP4, "no moov box (fragmented-only files are not supported)")
	}
	moov := top[mi]
	mc, err := boxes(data, moov.body, moov.end)
	if err != nil {
		return err
	}
	var inner []byte
	var udta box
	for _, c := range mc {
		switch c.typ {
		case "udta":
			udta = c
		case "meta":
			// An Apple moov/meta holding a label would be a second copy.
			items, h, err := mp4MetaItems(data, c)
			if err != nil {
				return err
			}
			if h == "mdta" && hasKey(items, "AIGC") {
				inner = append(inner, mdtaMeta(dropKey(items, "AIGC"))...)
				continue
			}
		}
		if c.typ != "udta" {
			inner = append(inner, data[c.start:c.end]...)
		}
	}
	var items []mdtaItem
	var udtaRest []byte
	if udta.typ != "" {
		uc, err := boxes(data, udta.body, udta.end)
		if err != nil {
			return err
		}
		for _, c := range uc {
			if c.typ != "meta" {
				udtaRest = append(udtaRest, data[c.start:c.end]...)
				continue
			}
			its, _, err := mp4MetaItems(data, c)
			if err != nil {
				return err
			}
			items = append(items, dropKey(its, "AIGC")...)
		}
	}
	items = append(items, mdtaItem{key: "AIGC", body: utf8Data(a.JSON())})
	newMoov := appendBox(nil, "moov", inner, appendBox(nil, "udta", udtaRest, mdtaMeta(items)))
	delta := int64(len(newMoov)) - int64(moov.end-moov.start)
	if err := shiftChunkOffsets(newMoov, int64(moov.start), delta); err != nil {
		return err
	}
	w := &errWriter{w: dst}
	w.write(data[:moov.start])
	w.write(newMoov)
	w.write(data[moov.end:])
	return w.err
}

func hasKey(items []mdtaItem, k string) bool {
	for _, it := range items {
		if it.key == k {
			return true
		}
	}
	return false
}

func dropKey(items []mdtaItem, k string) []mdtaItem {
	out := items[:0:0]
	for _, it := range items {
		if it.key != k {
			out = append(out, it)
		}
	}
	return out
}

// stblPath lists the containers between moov and the sample tables.
var stblContainers = map[string]bool{"trak": true, "mdia": true, "minf": true, "stbl": true}

// shiftChunkOffsets adds delta to every stco/co64 entry at or past moovAt
// in a (rewritten, contiguous) moov box.
func shiftChunkOffsets(moov []byte, moovAt, delta int64) error {
	if delta == 0 {
		return nil
	}
	var walk func(from, to int) error
	walk = func(from, to int) error {
		bs, err := boxes(moov, from, to)
		if err != nil {
			return err
		}
		for _, b := range bs {
			switch {
			case stblContainers[b.typ]:
				if err := walk(b.body, b.end); err != nil {
					return err
				}
			case b.typ == "stco" || b.typ == "co64":
				if err := shiftTable(moov[b.body:b.end], b.typ == "co64", moovAt, delta); err != nil {
					return err
				}
			}
		}
		return nil
	}
	bs, err := boxes(moov, 0, len(moov))
	if err != nil || len(bs) != 1 {
		return fmt.Errorf("rebuilt moov: %w", err)
	}
	return walk(bs[0].body, bs[0].end)
}

func shiftTable(t []byte, wide bool, at, delta int64) error {
	if len(t) < 8 {
		return malformed(MP4, "short chunk offset table")
	}
	n := int(binary.BigEndian.Uint32(t[4:]))
	w := 4
	if wide {
		w = 8
	}
	if n > (len(t)-8)/w {
		return malformed(MP4, "chunk offset table lists %d entries, room for %d", n, (len(t)-8)/w)
	}
	for i := range n {
		e := t[8+i*w:]
		if wide {
			if v := int64(binary.BigEndian.Uint64(e)); v >= at {
				binary.BigEndian.PutUint64(e, uint64(v+delta))
			}
			continue
		}
		v := int64(binary.BigEndian.Uint32(e))
		if v < at {
			continue
		}
		if v+delta > 0xffffffff || v+delta < 0 {
			return fmt.Errorf("chunk offset %d+%d overflows stco (co64 conversion not supported)", v, delta)
		}
		binary.BigEndian.PutUint32(e, uint32(v+delta))
	}
	return nil
}

// mp4Essence covers every top-level box except moov, free and skip, and
// inside moov everything except udta, meta and the chunk offset tables
// (layout, not content).
func mp4Essence(data []byte, h io.Writer) error {
	top, err := boxes(data, 0, len(data))
	if err != nil {
		return err
	}
	var walk func(from, to int) error
	walk = func(from, to int) error {
		bs, err := boxes(data, from, to)
		if err != nil {
			return err
		}
		for _, b := range bs {
			switch {
			case b.typ == "udta" || b.typ == "meta" || b.typ == "stco" || b.typ == "co64" || b.typ == "free":
			case stblContainers[b.typ]:
				if _, err := io.WriteString(h, b.typ); err != nil {
					return err
				}
				if err := walk(b.body, b.end); err != nil {
					return err
				}
			default:
				if _, err := h.Write(data[b.start:b.end]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, b := range top {
		switch b.typ {
		case "free", "skip":
		case "moov":
			if err := walk(b.body, b.end); err != nil {
				return err
			}
		default:
			if _, err := h.Write(data[b.start:b.end]); err != nil {
				return err
			}
		}
	}
	return nil
}
