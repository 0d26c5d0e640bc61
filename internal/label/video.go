package label

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoFFmpeg is returned by Video when ffmpeg is not installed.
var ErrNoFFmpeg = errors.New("ffmpeg not found in PATH: install it (Debian: apt-get install ffmpeg) to burn in video labels")

// VideoOptions configure [Video].
type VideoOptions struct {
	Text    string  // default "AI生成"
	Seconds float64 // how long the label shows from the start; at least 2 (GB 45438 §5.4)
	FFmpeg  string  // ffmpeg binary; default found with exec.LookPath
	Options         // implicit label options (signers, size cap)
}

// Video burns a text label into the opening seconds of src (any input
// ffmpeg reads) with ffmpeg, writes H.264/AAC MP4 to dst, and then writes
// the implicit label l into dst. The font is the embedded subset; the
// label's em size is 7 % of the shortest side, so its ink height stays
// above 5 %.
func Video(ctx context.Context, dst, src string, l AIGC, opts VideoOptions) (AIGC, error) {
	bin := opts.FFmpeg
	if bin == "" {
		p, err := exec.LookPath("ffmpeg")
		if err != nil {
			return AIGC{}, ErrNoFFmpeg
		}
		bin = p
	}
	text := opts.Text
	if text == "" {
		text = shortNotice
	}
	if !HasNoticeElements(text) {
		return AIGC{}, fmt.Errorf("video label %q: %w", text, ErrNoticeElements)
	}
	secs := max(opts.Seconds, 2)
	tmp, err := os.MkdirTemp("", "genguard-video-")
	if err != nil {
		return AIGC{}, fmt.Errorf("video label: %w", err)
	}
	defer os.RemoveAll(tmp)
	fontPath := filepath.Join(tmp, "label.otf")
	textPath := filepath.Join(tmp, "label.txt")
	if err := os.WriteFile(fontPath, labelFont, 0o600); err != nil {
		return AIGC{}, fmt.Errorf("video label: %w", err)
	}
	if err := os.WriteFile(textPath, []byte(text), 0o600); err != nil {
		return AIGC{}, fmt.Errorf("video label: %w", err)
	}
	out := filepath.Join(tmp, "out.mp4")
	filter := fmt.Sprintf("drawtext=fontfile=%s:textfile=%s:fontsize=ceil(min(w\\,h)*0.07):fontcolor=white:"+
		"box=1:boxcolor=black@0.6:boxborderw=8:x=w-tw-min(w\\,h)*0.04:y=h-th-min(w\\,h)*0.04:enable='lt(t\\,%g)'",
		fontPath, textPath, secs)
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-y", "-i", src,
		"-vf", filter, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-movflags", "+faststart", "-map_metadata", "-1", out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return AIGC{}, fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return AIGC{}, fmt.Errorf("video label: %w", err)
	}
	f, err := os.Create(dst)
	if err != nil {
		return AIGC{}, fmt.Errorf("video label: %w", err)
	}
	wopts := opts.Options
	wopts.Format = MP4
	a, err := Write(f, data, l, wopts)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return a, err
}
