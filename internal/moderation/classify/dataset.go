package classify

import (
	"bufio"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Sources the loaders put in Example.Source.
const (
	SourceJADE            = "jade"
	SourceCOLD            = "cold"
	SourceKdConvQuestion  = "kdconv/question"
	SourceKdConvStatement = "kdconv/statement"
	SourceSensitiveBenign = "sensitive-benign"   // hand-written, eval only
	SourceBenignRequests  = "benign-requests"    // hand-written, eval only
	SourceHandWritten     = "hand-written/train" // hand-written, train only
)

const (
	heldOutModulus = 5 // 1 in 5 keys is held out
	// handWrittenWeight upweights the few hundred hand-written negatives
	// against thousands of dataset rows; chosen on a validation split of
	// the training data, not on the held-out set.
	handWrittenWeight    = 4
	maxDatasetLineBytes  = 1 << 20
	kdconvUtterancesFile = "utterances.jsonl"
	coldOffensive        = "1"
	coldSafe             = "0"
)

// Dataset columns, by header name so column order does not matter.
var (
	jadeColumns = []string{"问题", "违规类型", "违规子类"}
	coldColumns = []string{"TEXT", "label", "topic"}
)

// Hand-written benign examples (our own text, see testdata/README.md): the
// *_train files teach "topic is not harm" and "asking is not harm", the
// *_eval files measure false refusals on questions the model never saw.
//
//go:embed testdata/*_train.txt testdata/*_eval.txt
var handWrittenFS embed.FS

// handWrittenFiles lists the embedded files and the source of their rows.
var handWrittenFiles = []struct {
	name, source string
	train        bool
}{
	{"testdata/sensitive_benign_train.txt", SourceHandWritten, true},
	{"testdata/benign_requests_train.txt", SourceHandWritten, true},
	{"testdata/sensitive_benign_eval.txt", SourceSensitiveBenign, false},
	{"testdata/benign_requests_eval.txt", SourceBenignRequests, false},
}

// jadeSubtypes maps JADE-DB 违规子类 values to classes. Subtypes with only a
// handful of rows are folded into the nearest class the data can support:
// 危害国家利益 (5 rows) into crime, 名誉权/肖像权 (22) into rights_other,
// 年龄/职业/健康/信仰/服装 discrimination into discrimination_other.
var jadeSubtypes = map[string]string{
	"传播虚假有害信息":      ClassMisinformation,
	"宣扬恐怖主义、极端主义":   ClassTerrorism,
	"宣扬暴力、淫秽色情":     ClassViolenceSex,
	"宣扬暴力":          ClassViolenceSex,
	"宣扬淫秽色情":        ClassViolenceSex,
	"故意伤害他人":        ClassViolenceSex,
	"宣扬民族歧视":        ClassDiscEthnic,
	"民族歧视内容":        ClassDiscEthnic,
	"种族歧视内容":        ClassDiscEthnic,
	"肤色歧视内容":        ClassDiscEthnic,
	"国别歧视内容":        ClassDiscNation,
	"地域歧视内容":        ClassDiscRegion,
	"性别歧视内容":        ClassDiscGender,
	"信仰歧视内容":        ClassDiscOther,
	"年龄歧视内容":        ClassDiscOther,
	"职业歧视内容":        ClassDiscOther,
	"健康歧视内容":        ClassDiscOther,
	"服装歧视内容":        ClassDiscOther,
	"其他方面歧视内容":      ClassDiscOther,
	"违反商业道德":        ClassBusiness,
	"内幕交易":          ClassBusiness,
	"侵害他人身心健康":      ClassHealthHarm,
	"危害他人身心健康":      ClassHealthHarm,
	"侵害他人隐私权":       ClassPrivacy,
	"侵害他人个人信息权益":    ClassPrivacy,
	"非法获取私人信息":      ClassPrivacy,
	"侵害他人名誉权":       ClassRightsOther,
	"侵害他人肖像权":       ClassRightsOther,
	"侵害他人其他合法权益":    ClassRightsOther,
	"侵犯他人其他合法权益":    ClassRightsOther,
	"侵害其他合法权益":      ClassRightsOther,
	"侵害权益":          ClassRightsOther,
	"危害国家利益、损害国家形象": ClassCrime,
	"侵害国家利益、侵害国家形象": ClassCrime,
	"诈骗":      ClassCrime,
	"网络欺诈与犯罪": ClassCrime,
	"非法侵入":    ClassCrime,
	"非法持有武器":  ClassCrime,
	"贩卖毒品":    ClassCrime,
	"偷窃":      ClassCrime,
	"抢劫":      ClassCrime,
	"非法伪造":    ClassCrime,
	"非法走私":    ClassCrime,
	"虐待与贩卖人口": ClassCrime,
	"贪污腐败":    ClassCrime,
	"赌博与开设赌场": ClassCrime,
	"赌博或开设赌场": ClassCrime,
	"酒后驾车":    ClassCrime,
	"酗酒驾车":    ClassCrime,
	"勒索":      ClassCrime,
	"贩卖赃物":    ClassCrime,
	"其他犯罪类型":  ClassCrime,
}

// jadeTypes maps the JADE-DB 违规类型 to a class for subtypes such as 其他
// that only make sense under their type.
var jadeTypes = map[string]string{
	"违法犯罪": ClassCrime,
	"侵害权益": ClassRightsOther,
	"侵犯权益": ClassRightsOther,
	"歧视偏见": ClassDiscOther,
}

// coldTopics maps COLD's topic of an offensive comment to a class. "race"
// comments target ethnic groups and skin colour, so A.2.a.
var coldTopics = map[string]string{
	"race":   ClassDiscEthnic,
	"gender": ClassDiscGender,
	"region": ClassDiscRegion,
}

// JADELabel returns the class for a JADE-DB violation type and subtype (the
// first of several joined by "|"), and false if neither is known.
func JADELabel(typ, subtype string) (string, bool) {
	typ = strings.TrimSpace(typ)
	sub, _, _ := strings.Cut(subtype, "|")
	if c, ok := jadeSubtypes[strings.TrimSpace(sub)]; ok {
		return c, true
	}
	c, ok := jadeTypes[typ]
	return c, ok
}

// LoadDir loads JADE-DB, COLD and KdConv from the shared data directory
// (dir/jade, dir/cold, dir/benign/kdconv), dropping repeated texts.
func LoadDir(dir string) ([]Example, error) {
	jade, err := LoadJADE(filepath.Join(dir, "jade"))
	if err != nil {
		return nil, err
	}
	cold, err := LoadCOLD(filepath.Join(dir, "cold"))
	if err != nil {
		return nil, err
	}
	kd, err := LoadKdConv(filepath.Join(dir, "benign", "kdconv"))
	if err != nil {
		return nil, err
	}
	return dedupe(append(append(jade, cold...), kd...)), nil
}

// LoadJADE reads every *.csv of a JADE-DB directory (columns 问题, 违规类型,
// 违规子类). Every row is a should-refuse question.
func LoadJADE(dir string) ([]Example, error) {
	var out []Example
	err := eachCSV(dir, jadeColumns, func(file string, line int, f []string) error {
		label, ok := JADELabel(f[1], f[2])
		if !ok {
			return fmt.Errorf("%s:%d: unknown JADE category %q / %q", file, line, f[1], f[2])
		}
		out = append(out, Example{Text: f[0], Label: label, Source: SourceJADE})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load JADE: %w", err)
	}
	return out, nil
}

// LoadCOLD reads every *.csv of a COLD directory (columns topic, label, TEXT;
// files start with a UTF-8 BOM). Offensive comments get their topic's class.
func LoadCOLD(dir string) ([]Example, error) {
	var out []Example
	err := eachCSV(dir, coldColumns, func(file string, line int, f []string) error {
		label := Safe
		switch f[1] {
		case coldSafe:
		case coldOffensive:
			c, ok := coldTopics[f[2]]
			if !ok {
				return fmt.Errorf("%s:%d: unknown COLD topic %q", file, line, f[2])
			}
			label = c
		default:
			return fmt.Errorf("%s:%d: COLD label %q, want 0 or 1", file, line, f[1])
		}
		out = append(out, Example{Text: f[0], Label: label, Source: SourceCOLD})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load COLD: %w", err)
	}
	return out, nil
}

// eachCSV calls fn with the wanted columns of every row of every *.csv in
// dir, in name order. A leading UTF-8 BOM is skipped.
func eachCSV(dir string, cols []string, fn func(file string, line int, fields []string) error) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no *.csv in %s: %w", dir, os.ErrNotExist)
	}
	for _, file := range files {
		if err := readCSV(file, cols, fn); err != nil {
			return err
		}
	}
	return nil
}

func readCSV(file string, cols []string, fn func(file string, line int, fields []string) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", file, err)
	}
	at := make([]int, len(cols))
	for i, c := range cols {
		at[i] = -1
		for j, h := range header {
			if strings.TrimSpace(h) == c {
				at[i] = j
			}
		}
		if at[i] < 0 {
			return fmt.Errorf("%s: no column %q in header %q", file, c, header)
		}
	}
	fields := make([]string, len(cols))
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		for i, j := range at {
			if j >= len(rec) {
				return fmt.Errorf("%s:%d: %d fields, want column %d", file, line, len(rec), j+1)
			}
			fields[i] = strings.TrimSpace(rec[j])
		}
		if fields[0] == "" {
			continue
		}
		if err := fn(file, line, fields); err != nil {
			return err
		}
	}
}

// kdconvLine is one line of KdConv's utterances.jsonl.
type kdconvLine struct {
	Domain string `json:"domain"`
	Split  string `json:"split"`
	Dialog int    `json:"dialog"`
	Text   string `json:"text"`
}

// LoadKdConv reads KdConv's utterances.jsonl, or the upstream
// {film,music,travel}/{dev,test}.json when the flat file is missing. Every
// utterance is benign; one dialogue shares one split key.
func LoadKdConv(dir string) ([]Example, error) {
	out, err := loadKdConvJSONL(filepath.Join(dir, kdconvUtterancesFile))
	if errors.Is(err, os.ErrNotExist) {
		out, err = loadKdConvDialogues(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("load KdConv: %w", err)
	}
	return out, nil
}

func loadKdConvJSONL(file string) ([]Example, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Example
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxDatasetLineBytes)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var l kdconvLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		out = append(out, kdconvExample(l))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

func loadKdConvDialogues(dir string) ([]Example, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no %s or */*.json in %s: %w", kdconvUtterancesFile, dir, os.ErrNotExist)
	}
	var out []Example
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var dialogues []struct {
			Messages []struct {
				Message string `json:"message"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(b, &dialogues); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		domain := filepath.Base(filepath.Dir(file))
		split := strings.TrimSuffix(filepath.Base(file), ".json")
		for i, d := range dialogues {
			for _, msg := range d.Messages {
				out = append(out, kdconvExample(kdconvLine{Domain: domain, Split: split, Dialog: i, Text: msg.Message}))
			}
		}
	}
	return out, nil
}

func kdconvExample(l kdconvLine) Example {
	src := SourceKdConvStatement
	if t := strings.TrimSpace(l.Text); strings.HasSuffix(t, "？") || strings.HasSuffix(t, "?") {
		src = SourceKdConvQuestion
	}
	return Example{
		Text:   l.Text,
		Label:  Safe,
		Source: src,
		Key:    fmt.Sprintf("kdconv/%s/%s/%d", l.Domain, l.Split, l.Dialog),
	}
}

// HandWritten returns the hand-written benign examples: questions about
// sensitive topics (history, religion, ethnic cultures, health, gender,
// geography, heroes, crime prevention, …) and everyday requests phrased like
// harmful prompts. train is for training (weighted up); eval is a disjoint
// set for measuring false refusals.
func HandWritten() (train, eval []Example, err error) {
	for _, f := range handWrittenFiles {
		b, err := handWrittenFS.ReadFile(f.name)
		if err != nil {
			return nil, nil, err
		}
		for line := range strings.Lines(string(b)) {
			t := strings.TrimSpace(line)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			ex := Example{Text: t, Label: Safe, Source: f.source}
			if f.train {
				ex.Weight = handWrittenWeight
				train = append(train, ex)
			} else {
				eval = append(eval, ex)
			}
		}
	}
	return train, eval, nil
}

// HeldOut reports whether an example belongs to the evaluation split. The
// split hashes the example's Key (or its folded text), so it is
// deterministic, independent of file order, and keeps a repeated text or a
// whole dialogue on one side.
func HeldOut(ex Example) bool {
	h := fnv.New64a()
	if ex.Key != "" {
		h.Write([]byte(ex.Key))
	} else {
		h.Write([]byte(foldText(ex.Text)))
	}
	return h.Sum64()%heldOutModulus == 0
}

// Split partitions examples into training and held-out sets with HeldOut.
func Split(examples []Example) (train, heldOut []Example) {
	for _, ex := range examples {
		if HeldOut(ex) {
			heldOut = append(heldOut, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, heldOut
}

// dedupe drops examples whose folded text was seen before, keeping the first.
func dedupe(examples []Example) []Example {
	seen := make(map[string]bool, len(examples))
	out := examples[:0]
	for _, ex := range examples {
		k := foldText(ex.Text)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, ex)
	}
	return out
}

// foldText is the text as the model sees it (foldRune applied).
func foldText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if f := foldRune(r); f >= 0 {
			b.WriteRune(f)
		}
	}
	return b.String()
}
