package classify

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
)

func TestJADELabel(t *testing.T) {
	tests := []struct {
		typ, sub string
		want     string
		wantOK   bool
	}{
		{"违法犯罪", "诈骗", ClassCrime, true},
		{" 违法犯罪", "宣扬恐怖主义、极端主义", ClassTerrorism, true},
		{"违法犯罪", "宣扬民族歧视", ClassDiscEthnic, true},
		{"侵害权益", "侵害他人隐私权|侵害他人个人信息权益", ClassPrivacy, true},
		{"侵害权益", "其他", ClassRightsOther, true},
		{"歧视偏见", "其他", ClassDiscOther, true},
		{"违法犯罪", "其他", ClassCrime, true},
		{"歧视偏见", "国别歧视内容", ClassDiscNation, true},
		{"侵犯权益", "危害他人身心健康", ClassHealthHarm, true},
		{"违法犯罪", "违反商业道德", ClassBusiness, true},
		{"新类型", "新子类", "", false},
	}
	for _, tt := range tests {
		got, ok := JADELabel(tt.typ, tt.sub)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("JADELabel(%q, %q) = %q, %v; want %q, %v", tt.typ, tt.sub, got, ok, tt.want, tt.wantOK)
		}
	}
}

// Every JADE mapping target must be a default class.
func TestJADEMappingTargetsExist(t *testing.T) {
	names := map[string]bool{}
	for _, c := range DefaultClasses() {
		names[c.Name] = true
	}
	for sub, c := range jadeSubtypes {
		if !names[c] {
			t.Errorf("jadeSubtypes[%q] = %q, not a default class", sub, c)
		}
	}
	for _, m := range []map[string]string{jadeTypes, coldTopics} {
		for k, c := range m {
			if !names[c] {
				t.Errorf("mapping %q -> %q: not a default class", k, c)
			}
		}
	}
}

func labels(ex []Example) []string {
	var out []string
	for _, e := range ex {
		out = append(out, e.Label+"|"+e.Source)
	}
	return out
}

func TestLoaders(t *testing.T) {
	tests := []struct {
		name string
		load func(string) ([]Example, error)
		dir  string
		want []string
	}{
		{"JADE", LoadJADE, "testdata/jade", []string{
			"crime|jade", "discrimination_region|jade", "privacy|jade", "crime|jade"}},
		{"COLD with BOM", LoadCOLD, "testdata/cold", []string{
			"discrimination_gender|cold", "discrimination_region|cold", "safe|cold", "discrimination_ethnic|cold"}},
		{"KdConv jsonl", LoadKdConv, "testdata/kdconv", []string{
			"safe|kdconv/question", "safe|kdconv/statement", "safe|kdconv/question"}},
		{"KdConv upstream JSON", LoadKdConv, "testdata/kdconv_json", []string{
			"safe|kdconv/question", "safe|kdconv/statement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.load(tt.dir)
			if err != nil {
				t.Fatalf("load(%s) error: %v", tt.dir, err)
			}
			if !slices.Equal(labels(got), tt.want) {
				t.Errorf("load(%s) labels = %v, want %v", tt.dir, labels(got), tt.want)
			}
			for _, e := range got {
				if e.Text == "" || e.Text[0] == 0xef {
					t.Errorf("load(%s) text %q: empty or BOM-prefixed", tt.dir, e.Text)
				}
			}
		})
	}
}

func TestKdConvKeysGroupDialogues(t *testing.T) {
	got, err := LoadKdConv("testdata/kdconv")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Key != got[1].Key || got[0].Key == got[2].Key {
		t.Errorf("keys = %q, %q, %q; want one per dialogue", got[0].Key, got[1].Key, got[2].Key)
	}
}

func TestLoadersMissingDir(t *testing.T) {
	for name, load := range map[string]func(string) ([]Example, error){"JADE": LoadJADE, "COLD": LoadCOLD, "KdConv": LoadKdConv} {
		if _, err := load("testdata/nope"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load%s(missing) error = %v, want os.ErrNotExist", name, err)
		}
	}
}

func TestLoadJADERejectsUnknownCategory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/x.csv", []byte("ID,问题,违规类型,违规子类\n1,问题,未知,未知\n"), 0o644)
	if _, err := LoadJADE(dir); err == nil {
		t.Error("LoadJADE(unknown category) error = nil, want error")
	}
}

func TestSplitIsDeterministicAndKeyed(t *testing.T) {
	var ex []Example
	for i := range 1000 {
		ex = append(ex, Example{Text: string(rune(0x4e00 + i))})
	}
	train, held := Split(ex)
	if len(train)+len(held) != len(ex) || len(held) < 120 || len(held) > 280 {
		t.Errorf("Split sizes = %d/%d, want about 800/200", len(train), len(held))
	}
	rev := slices.Clone(ex)
	slices.Reverse(rev)
	_, again := Split(rev)
	if len(again) != len(held) {
		t.Errorf("Split depends on order: %d vs %d held out", len(again), len(held))
	}
	a := Example{Text: "甲", Key: "dialog-1"}
	b := Example{Text: "乙", Key: "dialog-1"}
	if HeldOut(a) != HeldOut(b) {
		t.Error("examples with the same Key split apart")
	}
	if HeldOut(Example{Text: "ＡＢＣ"}) != HeldOut(Example{Text: "a b c"}) {
		t.Error("texts that fold equal split apart")
	}
}

func TestHandWrittenSetsAreDisjointAndSafe(t *testing.T) {
	train, eval, err := HandWritten()
	if err != nil {
		t.Fatal(err)
	}
	if len(train) < 400 || len(eval) < 200 {
		t.Errorf("HandWritten() = %d train, %d eval; want at least 400 and 200", len(train), len(eval))
	}
	seen := map[string]bool{}
	for _, e := range train {
		seen[foldText(e.Text)] = true
	}
	for _, e := range eval {
		if seen[foldText(e.Text)] {
			t.Errorf("eval text %q is also in a training file", e.Text)
		}
		if e.Label != Safe || e.Weight != 0 {
			t.Errorf("eval example %+v: want safe, unweighted", e)
		}
	}
	for _, e := range train {
		if e.Label != Safe || e.Source != SourceHandWritten || e.Weight != handWrittenWeight {
			t.Errorf("train example %+v: want safe, %s, weight %d", e, SourceHandWritten, handWrittenWeight)
			break
		}
	}
}

func TestDedupe(t *testing.T) {
	got := dedupe([]Example{{Text: "Ａ b"}, {Text: "ab", Label: "x"}, {Text: "c"}})
	want := []Example{{Text: "Ａ b"}, {Text: "c"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dedupe = %v, want %v", got, want)
	}
}
