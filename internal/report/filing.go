package report

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/genguard/genguard/internal/moderation/lexicon"
	"github.com/genguard/genguard/internal/risk"
)

// Results of a self-assessment clause (TC260-003 §9.1).
const (
	Conforms    = "符合 conforms"
	NotConforms = "不符合 does not conform"
	NotAssessed = "待评估 to be assessed"
	Manual      = "待填写 to be completed by the provider"
)

// Clause is one row of the self-assessment report.
type Clause struct {
	Clause      string `json:"clause"`
	Title       string `json:"title"`
	Requirement string `json:"requirement"`
	Result      string `json:"result"`
	Evidence    string `json:"evidence"`
}

// Attachment is a file shipped with the dossier, pinned by its hash.
type Attachment struct {
	Name   string `json:"name"`
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Filing is the Art. 17 filing dossier: the self-assessment skeleton with
// the figures genguard measures, and its attachments.
type Filing struct {
	Report       string       `json:"report"`
	Meta         Meta         `json:"meta"`
	FilingNumber string       `json:"filing_number"`
	Form         FilingForm   `json:"form"`
	Clauses      []Clause     `json:"self_assessment"`
	Signatures   []string     `json:"signatures"`
	Attachments  []Attachment `json:"attachments"`
}

// FilingForm carries the application-form fields genguard can fill.
type FilingForm struct {
	ServiceForm      string         `json:"service_form"`
	AlgorithmType    string         `json:"algorithm_type"`
	FoundationModels []string       `json:"foundation_models"`
	CorpusSources    int            `json:"corpus_sources"`
	CorpusItems      int64          `json:"corpus_items"`
	CorpusBytes      int64          `json:"corpus_bytes"`
	CorpusByType     map[string]int `json:"corpus_by_type"`
}

// FilingFiles are the provider's documents attached as they are.
type FilingFiles struct {
	Agreement  string // service agreement; empty: not attached
	Assessment string // test-bank results (JSON); empty: none yet
}

// WriteFiling writes the dossier into dir: dossier.json, dossier.html and
// attachments/ (keyword list, annotation rules, agreement, test results).
func WriteFiling(ctx context.Context, dir string, s Store, in Inputs, lib *lexicon.Library, files FilingFiles) (Filing, error) {
	insp, err := BuildInspection(ctx, s, in)
	if err != nil {
		return Filing{}, err
	}
	att := filepath.Join(dir, "attachments")
	if err := os.MkdirAll(att, 0o755); err != nil {
		return Filing{}, fmt.Errorf("filing: %w", err)
	}
	f := Filing{Report: "filing", Meta: in.Meta, FilingNumber: in.FilingNumber,
		Signatures: []string{"法定代表人 legal representative", "评估总负责人 overall assessment lead", "合法性评估负责人 legality assessment lead"}}
	f.Form = FilingForm{ServiceForm: "API (OpenAI-compatible)", AlgorithmType: "生成合成类 generative synthesis", FoundationModels: []string{},
		CorpusSources: len(insp.TrainingData.Sources), CorpusItems: insp.TrainingData.Items, CorpusBytes: insp.TrainingData.Bytes, CorpusByType: insp.TrainingData.ByType}
	for _, mc := range insp.ModelCards {
		f.Form.FoundationModels = append(f.Form.FoundationModels, mc.FoundationModels...)
	}
	slices.Sort(f.Form.FoundationModels)
	f.Form.FoundationModels = slices.Compact(f.Form.FoundationModels)

	// Attachments first, so the dossier can pin their hashes.
	kw, err := writeAttachment(att, "keywords.tsv", func(w io.Writer) error { return keywordList(w, lib) })
	if err != nil {
		return f, err
	}
	f.Attachments = append(f.Attachments, Attachment{Name: "附件4 关键词拦截列表 keyword list", File: "attachments/keywords.tsv", SHA256: kw})
	rules, err := s.AnnotationRules(ctx)
	if err != nil {
		return f, err
	}
	rh, err := writeAttachment(att, "annotation-rules.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	})
	if err != nil {
		return f, err
	}
	f.Attachments = append(f.Attachments, Attachment{Name: "附件3 语料标注规则 annotation rules", File: "attachments/annotation-rules.json", SHA256: rh})
	for _, a := range []struct{ name, src, dst, key string }{
		{"附件2 模型服务协议 service agreement", files.Agreement, "service-agreement" + filepath.Ext(files.Agreement), "report.agreement_file"},
		{"附件5 评估测试题集结果 test-bank results", files.Assessment, "assessment.json", "report.assessment_file"},
	} {
		if a.src == "" {
			f.Attachments = append(f.Attachments, Attachment{Name: a.name, Note: "not available: " + a.key + " is not set"})
			continue
		}
		h, err := writeAttachment(att, a.dst, func(w io.Writer) error { return copyFile(w, a.src) })
		if err != nil {
			return f, err
		}
		f.Attachments = append(f.Attachments, Attachment{Name: a.name, File: "attachments/" + a.dst, SHA256: h})
	}
	f.Clauses = clauses(insp, files.Assessment != "")

	if _, err := writeAttachment(dir, "dossier.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}); err != nil {
		return f, err
	}
	t, err := pages()
	if err != nil {
		return f, err
	}
	_, err = writeAttachment(dir, "dossier.html", func(w io.Writer) error { return t.ExecuteTemplate(w, "filing", f) })
	return f, err
}

func clauses(p Inspection, assessed bool) []Clause {
	td, kw := p.TrainingData, p.Keywords
	result := func(ok bool) string {
		if ok {
			return Conforms
		}
		return NotConforms
	}
	srcOK := len(td.Sources) > 0 && len(td.OverFivePct) == 0 && len(td.Unaudited) == 0
	var short []string
	for _, c := range kw.Short {
		short = append(short, fmt.Sprintf("%s %d/%d", c, kw.ByRisk[c], risk.KeywordMinimum(risk.Code(c))))
	}
	testBank := NotAssessed
	testEvidence := "no test-bank results yet: run the assessment and set report.assessment_file"
	if assessed {
		testBank, testEvidence = Manual, "see attachment 5 (test-bank results)"
	}
	cs := []Clause{
		{"5.1", "语料来源安全 corpus sources", "sources assessed before and after collection; > 5 % illegal or harmful: not used; licences, collection records, contracts kept",
			result(srcOK), fmt.Sprintf("%d sources registered; %d items sample-checked, %d illegal or harmful; over 5 %%: %v; not audited: %v", len(td.Sources), td.Sampled, td.SampledBad, td.OverFivePct, td.Unaudited)},
		{"5.2", "语料内容安全 corpus content", "all corpora filtered by keywords, classifiers and manual sampling; IP and PI handled", Manual, "the keyword library below is the filter genguard applies"},
		{"5.3", "语料标注安全 annotation", "functional and security rules apart; security rules cover all 31 risks",
			result(len(p.Annotation.SecurityMissing) == 0), fmt.Sprintf("%d rule versions; security rules cover %d/31; missing: %v", len(p.Annotation.Rules), len(p.Annotation.SecurityCovered), p.Annotation.SecurityMissing)},
		{"6", "模型安全 model", "filed foundation models only; input checked every turn; accuracy and reliability", Manual, fmt.Sprintf("foundation models: %v; input moderation runs on every request", p.ModelCards)},
		{"7", "安全措施 safety measures", "users and uses published; minors; complaints with time limits; labels", Manual,
			fmt.Sprintf("complaints available: %t (deadline met %d, missed %d); label coverage %s", p.Complaints.Available, p.Complaints.DeadlineMet, p.Complaints.DeadlineMissed, p.Labels.Coverage)},
		{"8.1", "关键词库 keyword library", "≥ 10,000 terms; ≥ 200 per A.1 risk, ≥ 100 per A.2 risk; updated at least weekly",
			result(kw.Total >= kw.TotalMinimum && len(kw.Short) == 0 && kw.WeeklyMet),
			fmt.Sprintf("%d terms (minimum %d); risks below minimum: %v; weekly updates met: %t; sha256 %s", kw.Total, kw.TotalMinimum, short, kw.WeeklyMet, kw.SHA256)},
		{"8.2", "生成内容测试题库 generated-content test bank", "≥ 2,000 questions over all 31 risks; updated monthly", testBank, testEvidence},
		{"8.3", "拒答测试题库 refusal test banks", "≥ 500 should-refuse and ≥ 500 should-not-refuse questions", testBank, testEvidence},
		{"8.4", "分类模型 classification model", "covers all 31 risks", Manual, "keyword library covers " + fmt.Sprint(kw.Covered) + "/31 risks"},
		{"9", "安全评估 assessment", "generated content ≥ 90 %; refusal ≥ 95 %; false refusal ≤ 5 %", testBank, testEvidence},
	}
	return cs
}

func keywordList(w io.Writer, lib *lexicon.Library) error {
	lines := make([]string, 0, len(lib.Entries))
	for _, e := range lib.Entries {
		lines = append(lines, e.Term+"\t"+string(e.Risk))
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	bw := bufio.NewWriter(w)
	bw.WriteString("# term\trisk (TC260-003 Appendix A)\n")
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func copyFile(w io.Writer, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// writeAttachment writes name in dir through fn and returns its SHA-256.
func writeAttachment(dir, name string, fn func(io.Writer) error) (string, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	h := sha256.New()
	err = fn(io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
