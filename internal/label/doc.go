// Package label reads, writes, signs and inspects AI-generated-content
// (AIGC) labels as required by the 标识办法 (国信办通字〔2025〕2号) and the
// mandatory standard GB 45438-2025.
//
// Implicit labels are the Appendix E JSON object
//
//	{"AIGC":{"Label":"1","ContentProducer":…,"ProduceID":…,"ReservedCode1":…,
//	         "ContentPropagator":…,"PropagateID":…,"ReservedCode2":…}}
//
// placed in file metadata where the TC260 practice guides put it: XMP
// (namespace http://www.tc260.org.cn/ns/AIGC/1.0/, prefix TC260, property
// AIGC) in PNG, JPEG and WebP; a RIFF AIGC chunk in WAV; an ID3v2 TXXX frame
// in MP3; an mdta key in moov/udta/meta of MP4/MOV/M4A; a Vorbis comment in
// FLAC and Ogg; the Info dictionary of PDF; YAML front matter in Markdown.
// Writers keep exactly one label per file (GB 45438 §6.1 c) and leave the
// media payload byte-identical; [Digest] hashes that payload so a signature
// can bind the label to the content (TC260-PG-202511A, see sign.go).
//
// Explicit labels are produced by [TextNotice], [ImageExplicit],
// [AudioRhythm] and [Video]. [Inspect] and [Propagate] implement the
// propagation-platform duties of 标识办法 Art. 6.
//
// Input is held in memory up to [Options.MaxSize]: writers need a first pass
// over the content (to compute the digest that the signature in the label
// covers, and for MP4 to move chunk offsets) before emitting bytes that come
// ahead of it. Output is streamed as slices of the input, never copied whole.
package label
