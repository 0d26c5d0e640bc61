package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/genguard/genguard/internal/label"
)

// runLabel writes implicit labels (and with --explicit, visible or audible
// ones) into a file, or into every file of a directory tree mirrored into
// OUT. One JSON line per file goes to stdout.
func runLabel(ctx context.Context, env Env, args []string) error {
	flags := newFlagSet("label", env)
	producer := flags.String("producer", "", "ContentProducer: your TC260 provider code (printable ASCII; required)")
	explicit := flags.Bool("explicit", false, "also add the explicit label: text on images, the rhythm label on WAV, the notice on text, burned-in text on video (ffmpeg)")
	keyFile := flags.String("key", "", "SM2 private key (PEM) to sign ReservedCode1")
	notice := flags.String("notice", label.DefaultNotice, "explicit text notice for text files")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 2 || *producer == "" {
		return fmt.Errorf("%w: genguard label --producer CODE [--explicit] [--key SM2.pem] IN OUT", errUsage)
	}
	if err := (label.AIGC{Label: label.LabelIs, ContentProducer: *producer}).Validate(); err != nil {
		return fmt.Errorf("%w: --producer: %v", errUsage, err)
	}
	if !label.HasNoticeElements(*notice) {
		return fmt.Errorf("%w: --notice: %v", errUsage, label.ErrNoticeElements)
	}
	signer, err := optionalSigner(*keyFile)
	if err != nil {
		return err
	}
	jobs, err := planInOut(flags.Arg(0), flags.Arg(1))
	if err != nil {
		return err
	}
	l := labeller{producer: *producer, signer: signer, explicit: *explicit, notice: *notice}
	return eachFile(env, "label", jobs, func(f inputFile) (any, bool) {
		res, err := l.file(ctx, f.path, f.out)
		if err != nil {
			return fileError{File: f.path, Error: err.Error()}, false
		}
		return res, true
	})
}

type labeller struct {
	producer string
	signer   *label.Signer
	explicit bool
	notice   string
}

type labelResult struct {
	File     string     `json:"file"`
	Out      string     `json:"out"`
	Format   string     `json:"format"`
	Explicit bool       `json:"explicit"`
	Signed   bool       `json:"signed"`
	Label    label.AIGC `json:"label"`
}

type fileError struct {
	File   string `json:"file"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error"`
}

func (l labeller) file(ctx context.Context, in, out string) (labelResult, error) {
	data, err := readFile(in)
	if err != nil {
		return labelResult{}, err
	}
	f := label.Detect(data)
	if f == label.Unknown {
		return labelResult{}, label.ErrUnknownFormat
	}
	a := label.AIGC{Label: label.LabelIs, ContentProducer: l.producer, ProduceID: newProduceID()}
	opts := label.Options{Producer: l.signer}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return labelResult{}, err
	}
	var buf bytes.Buffer
	switch {
	case !l.explicit:
		a, err = label.Write(&buf, data, a, opts)
	case f == label.PNG || f == label.JPEG || f == label.WebP:
		f, a, err = label.LabelImage(&buf, data, a, label.ImageOptions{}, opts)
		if f == label.PNG && !strings.EqualFold(filepath.Ext(out), ".png") {
			out = strings.TrimSuffix(out, filepath.Ext(out)) + ".png" // WebP is re-encoded as PNG
		}
	case f == label.WAV:
		a, err = label.AudioRhythm(&buf, data, a, label.AudioOptions{Start: true}, opts)
	case f == label.Markdown:
		var text string
		if text, err = label.TextNotice(string(data), label.End, l.notice); err == nil {
			opts.Format = label.Markdown
			a, err = label.Write(&buf, []byte(text), a, opts)
		}
	case f == label.MP4:
		tmp := out + ".tmp-video"
		defer os.Remove(tmp)
		if a, err = label.Video(ctx, tmp, in, a, label.VideoOptions{Options: opts}); err == nil {
			err = os.Rename(tmp, out)
		}
		if err != nil {
			return labelResult{}, err
		}
		return labelResult{File: in, Out: out, Format: string(f), Explicit: true, Signed: l.signer != nil, Label: a}, nil
	default:
		return labelResult{}, fmt.Errorf("no explicit label for %s (images, WAV, text and video have one); run without --explicit for the implicit label", f)
	}
	if err != nil {
		return labelResult{}, err
	}
	if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return labelResult{}, err
	}
	return labelResult{File: in, Out: out, Format: string(f), Explicit: l.explicit, Signed: l.signer != nil, Label: a}, nil
}

func newProduceID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "gg-" + hex.EncodeToString(b)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return label.ReadAll(f, label.DefaultMaxSize)
}

// writeFileAtomic replaces path only once the whole file is written, so an
// in-place relabel never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".genguard-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ---- shared by label, verify and inspect ----

// inputFile is one file to process: its path, its path relative to the
// argument it came from, and (for label) where the result goes.
type inputFile struct {
	path, rel, out string
}

// collect expands files and directories (walked recursively, hidden
// entries skipped) into a list, in order.
func collect(args []string) ([]inputFile, error) {
	var files []inputFile
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			files = append(files, inputFile{path: arg, rel: filepath.Base(arg)}) // reported per file
			continue
		}
		if !info.IsDir() {
			files = append(files, inputFile{path: arg, rel: filepath.Base(arg)})
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != arg && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				rel, _ := filepath.Rel(arg, p)
				files = append(files, inputFile{path: p, rel: rel})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// eachFile runs do on every file, prints its result as a JSON line, shows
// a progress bar when stderr is a terminal, and fails (exit 1) when any
// file did.
func eachFile(env Env, verb string, files []inputFile, do func(inputFile) (any, bool)) error {
	p := newProgress(env.Stderr, len(files))
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, f := range files {
		p.show(f.path)
		res, ok := do(f)
		if !ok {
			failed++
		}
		p.clear()
		if err := enc.Encode(res); err != nil {
			return err
		}
		p.done++
	}
	p.clear()
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	if len(files) == 0 {
		return errors.New("no files")
	}
	if p.on {
		fmt.Fprintf(env.Stderr, "%s: %d files ok\n", verb, len(files))
	}
	return nil
}

// progress draws a one-line bar on a terminal and nothing elsewhere.
type progress struct {
	w           io.Writer
	on          bool
	done, total int
}

func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, total: total, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) show(name string) {
	if !p.on {
		return
	}
	const width = 30
	n := width * p.done / max(p.total, 1)
	if r := []rune(name); len(r) > 40 {
		name = "…" + string(r[len(r)-39:])
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s\x1b[K", strings.Repeat("#", n), strings.Repeat(" ", width-n), p.done, p.total, name)
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// planInOut maps IN to OUT: a file to a file (or into a directory), or a
// directory tree mirrored into OUT, which must not lie inside IN.
func planInOut(in, out string) ([]inputFile, error) {
	info, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		dst := out
		if oi, err := os.Stat(out); err == nil && oi.IsDir() {
			dst = filepath.Join(out, filepath.Base(in))
		}
		return []inputFile{{path: in, rel: filepath.Base(in), out: dst}}, nil
	}
	if rel, err := filepath.Rel(in, out); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%w: OUT %s must not be inside IN %s", errUsage, out, in)
	}
	jobs, err := collect([]string{in})
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		jobs[i].out = filepath.Join(out, jobs[i].rel)
	}
	return jobs, nil
}

// optionalSigner loads an SM2 key for --key; no path means unsigned.
func optionalSigner(path string) (*label.Signer, error) {
	if path == "" {
		return nil, nil
	}
	return label.LoadSigner(path)
}
