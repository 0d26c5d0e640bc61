package lexicon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genguard/genguard/internal/moderation/normalize"
	"github.com/genguard/genguard/internal/risk"
)

const (
	maxLineBytes = 4096
	maxErrors    = 20
)

// lines calls fn for each line of r with its 1-based number. A line longer
// than maxLineBytes is passed truncated with long set, and the rest of it is
// discarded, so a 10 MB line costs no more memory than a short one.
func lines(r io.Reader, name string, fn func(n int, line string, long bool)) error {
	br := bufio.NewReaderSize(r, maxLineBytes)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		long := false
		if errors.Is(err, bufio.ErrBufferFull) {
			long = true
			line := string(b)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			b = []byte(line)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if len(b) > 0 || err == nil {
			line := strings.TrimRight(string(b), "\r\n")
			if n == 1 {
				line = strings.TrimPrefix(line, "\uFEFF")
			}
			fn(n, line, long)
		}
		if err != nil {
			return nil
		}
	}
}

// errList gathers up to maxErrors problems so an operator fixes a file in
// one round instead of one line at a time.
type errList struct {
	errs []error
	more int
}

func (l *errList) add(name string, n int, format string, args ...any) {
	if len(l.errs) >= maxErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, args...)))
}

func (l *errList) err() error {
	if l.more > 0 {
		l.errs = append(l.errs, fmt.Errorf("… and %d more problems", l.more))
	}
	return errors.Join(l.errs...)
}

// checkText rejects what cannot be a term: bad encoding, NUL and other
// control characters, and overlong or empty phrases. It returns the
// normalized form.
func checkText(norm *normalize.Normalizer, s string) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", errors.New("invalid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return r == 0 || unicode.IsControl(r) && r != '\t' }):
		return "", errors.New("control character (NUL?) in term")
	case utf8.RuneCountInString(s) > MaxTermRunes:
		return "", fmt.Errorf("term longer than %d runes", MaxTermRunes)
	}
	k := norm.String(s)
	if k == "" {
		return "", errors.New("term is empty after normalization (only spaces, punctuation or symbols)")
	}
	return k, nil
}

// Parse reads a lexicon file: one entry per line,
//
//	term<TAB>risk<TAB>action<TAB>flags
//
// where risk is a taxonomy code (required unless defaultRisk is set), action
// is block|mask|review|log (default block) and flags is a comma list
// (only "boundary" today). Lines starting with # and blank lines are
// ignored. name appears in errors and in each Entry.Source. All problems up
// to a cap are reported together, each as name:line.
func Parse(r io.Reader, name string, defaultRisk risk.Code) ([]Entry, error) {
	norm := normalize.New()
	var out []Entry
	var errs errList
	err := lines(r, name, func(n int, line string, long bool) {
		if long {
			errs.add(name, n, "line longer than %d bytes", maxLineBytes)
			return
		}
		if t := strings.TrimSpace(line); t == "" || t[0] == '#' {
			return
		}
		cols := strings.Split(line, "\t")
		if len(cols) > 4 {
			errs.add(name, n, "%d columns, want at most 4 (term, risk, action, flags)", len(cols))
			return
		}
		for len(cols) < 4 {
			cols = append(cols, "")
		}
		e := Entry{Term: strings.TrimSpace(cols[0]), Source: fmt.Sprintf("%s:%d", name, n)}
		if _, err := checkText(norm, e.Term); err != nil {
			errs.add(name, n, "%v", err)
			return
		}
		switch rc := strings.TrimSpace(cols[1]); {
		case rc != "":
			c, err := risk.Parse(rc)
			if err != nil {
				errs.add(name, n, "%v", err)
				return
			}
			e.Risk = c
		case defaultRisk.Valid():
			e.Risk = defaultRisk
		default:
			errs.add(name, n, "missing risk code and no default given")
			return
		}
		a, err := ParseAction(cols[2])
		if err != nil {
			errs.add(name, n, "%v", err)
			return
		}
		e.Action = a
		for f := range strings.SplitSeq(cols[3], ",") {
			switch strings.ToLower(strings.TrimSpace(f)) {
			case "":
			case "boundary":
				e.Flags |= FlagBoundary
			default:
				errs.add(name, n, "unknown flag %q (want boundary)", f)
				return
			}
		}
		out = append(out, e)
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseAllow reads an allow-list file: one phrase per line, # comments and
// blank lines ignored.
func ParseAllow(r io.Reader, name string) ([]string, error) {
	norm := normalize.New()
	var out []string
	var errs errList
	err := lines(r, name, func(n int, line string, long bool) {
		if long {
			errs.add(name, n, "line longer than %d bytes", maxLineBytes)
			return
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			return
		}
		if _, err := checkText(norm, t); err != nil {
			errs.add(name, n, "%v", err)
			return
		}
		out = append(out, t)
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ImportReport counts what Import kept and why it skipped the rest.
type ImportReport struct {
	Lines    int
	Imported int
	Skipped  map[string]int // reason → count
}

// Import reads a plain word-per-line list such as the public lexicons, giving
// every word the same risk and action. Public lists are noisy, so it skips
// rather than fails: lines that are not valid UTF-8 or hold control
// characters, overlong lines, URLs and domains (a URL filter's job, and as
// substrings they hit unrelated links), pure numbers (phone numbers and
// years belong to other detectors), words that normalize to a single
// character (one CJK character as a substring refuses too many harmless
// texts; curated files may still list one), and duplicates after
// normalization. A trailing "*" wildcard is dropped. Only the first
// tab-separated column is read.
func Import(r io.Reader, name string, rc risk.Code, action Action) ([]Entry, ImportReport, error) {
	rep := ImportReport{Skipped: make(map[string]int)}
	if !rc.Valid() {
		return nil, rep, fmt.Errorf("import %s: invalid risk code %q", name, rc)
	}
	norm := normalize.New()
	seen := make(map[string]bool)
	var out []Entry
	err := lines(r, name, func(n int, line string, long bool) {
		rep.Lines++
		if long {
			rep.Skipped["too long"]++
			return
		}
		term, _, _ := strings.Cut(line, "\t")
		term = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(term), "*"))
		norm1 := ""
		reason := ""
		switch {
		case term == "" || term[0] == '#':
			reason = "empty or comment"
		case !utf8.ValidString(term):
			reason = "invalid UTF-8"
		case strings.ContainsFunc(term, unicode.IsControl):
			reason = "control character"
		case utf8.RuneCountInString(term) > MaxTermRunes:
			reason = "too long"
		case looksLikeURL(term):
			reason = "URL or domain"
		default:
			norm1 = norm.String(term)
			switch {
			case strings.IndexFunc(norm1, func(r rune) bool { return r < '0' || r > '9' }) < 0:
				reason = "number or no letters"
			case utf8.RuneCountInString(norm1) < 2:
				reason = "single character"
			case seen[norm1]:
				reason = "duplicate"
			}
		}
		if reason != "" {
			rep.Skipped[reason]++
			return
		}
		seen[norm1] = true
		out = append(out, Entry{Term: term, Risk: rc, Action: action, Source: fmt.Sprintf("%s:%d", name, n)})
	})
	if err != nil {
		return nil, rep, fmt.Errorf("import: %w", err)
	}
	rep.Imported = len(out)
	return out, rep, nil
}

func looksLikeURL(s string) bool {
	l := strings.ToLower(s)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "www.") {
		return true
	}
	// A dotted ASCII name ending in a letter TLD: example.com, xx.cn.
	i := strings.LastIndexByte(l, '.')
	if i <= 0 || i == len(l)-1 {
		return false
	}
	for _, r := range l {
		if r >= 0x80 || r == ' ' {
			return false
		}
	}
	for _, r := range l[i+1:] {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
