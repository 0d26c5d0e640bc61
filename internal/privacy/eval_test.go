package privacy

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/pi_synthetic.jsonl")

// labelled is one line of the test set: a text and the identifiers in it,
// each given as its kind and its exact text (found left to right).
type labelled struct {
	Text  string     `json:"text"`
	Spans []goldSpan `json:"spans"`
	Note  string     `json:"note,omitempty"`
}

type goldSpan struct {
	Kind Kind   `json:"kind"`
	Text string `json:"text"`
}

func loadLabelled(t testing.TB, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		var l labelled
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// offsets turns the gold spans into byte offsets.
func (l labelled) offsets(t testing.TB) []Finding {
	var out []Finding
	from := 0
	for _, s := range l.Spans {
		i := strings.Index(l.Text[from:], s.Text)
		if i < 0 {
			t.Fatalf("gold span %q not in %q", s.Text, l.Text)
		}
		out = append(out, Finding{Kind: s.Kind, Start: from + i, End: from + i + len(s.Text)})
		from += i + len(s.Text)
	}
	return out
}

type score struct{ tp, fp, fn, exact int }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

// evaluate scores detections against gold: a detection is a true positive
// when it overlaps an unmatched gold span of the same kind.
func evaluate(t testing.TB, d *Detector, set []labelled, verbose bool) map[Kind]*score {
	scores := map[Kind]*score{}
	for _, k := range Kinds() {
		scores[k] = &score{}
	}
	for _, l := range set {
		gold := l.offsets(t)
		used := make([]bool, len(gold))
		for _, f := range d.Detect(l.Text) {
			hit := false
			for i, g := range gold {
				if !used[i] && g.Kind == f.Kind && f.Start < g.End && g.Start < f.End {
					used[i], hit = true, true
					scores[f.Kind].tp++
					if f.Start == g.Start && f.End == g.End {
						scores[f.Kind].exact++
					}
					break
				}
			}
			if !hit {
				scores[f.Kind].fp++
				if verbose {
					t.Logf("FP %s %q in %q", f.Kind, l.Text[f.Start:f.End], l.Text)
				}
			}
		}
		for i, g := range gold {
			if !used[i] {
				scores[g.Kind].fn++
				if verbose {
					t.Logf("FN %s %q in %q", g.Kind, l.Text[g.Start:g.End], l.Text)
				}
			}
		}
	}
	return scores
}

// TestDetectorQuality measures precision and recall on the labelled sets
// (BENCHMARKS.md, "Personal-information detector") and fails below the
// floors we commit to.
func TestDetectorQuality(t *testing.T) {
	d := NewDetector()
	for _, file := range []string{"testdata/pi_synthetic.jsonl", "testdata/pi_handwritten.jsonl"} {
		set := loadLabelled(t, file)
		scores := evaluate(t, d, set, testing.Verbose())
		var total score
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %d texts\n| kind | gold | TP | FP | FN | precision | recall | exact span |\n|---|---|---|---|---|---|---|---|\n", file, len(set))
		for _, k := range Kinds() {
			s := scores[k]
			total.tp += s.tp
			total.fp += s.fp
			total.fn += s.fn
			total.exact += s.exact
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f | %d |\n", k, s.tp+s.fn, s.tp, s.fp, s.fn, s.precision(), s.recall(), s.exact)
		}
		fmt.Fprintf(&b, "| all | %d | %d | %d | %d | %.3f | %.3f | %d |\n", total.tp+total.fn, total.tp, total.fp, total.fn, total.precision(), total.recall(), total.exact)
		t.Log("\n" + b.String())
		if total.precision() < 0.95 || total.recall() < 0.95 {
			t.Errorf("%s: precision %.3f recall %.3f; want both ≥ 0.95", file, total.precision(), total.recall())
		}
	}
}

// TestGenerateSynthetic rewrites testdata/pi_synthetic.jsonl with -update;
// without it, it checks the committed file is what the generator makes, so
// the set is reproducible.
func TestGenerateSynthetic(t *testing.T) {
	got := generateSynthetic(rand.New(rand.NewPCG(6, 2026)))
	const path = "testdata/pi_synthetic.jsonl"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Fatalf("%s is stale; run go test ./internal/privacy -run TestGenerateSynthetic -update", path)
	}
}

// generateSynthetic makes the labelled set: sentences with valid identifiers
// in varied formats and contexts, and hard negatives that look like them.
func generateSynthetic(r *rand.Rand) string {
	pick := func(ss ...string) string { return ss[r.IntN(len(ss))] }
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	residentID := func() string {
		area := pick("110101", "110105", "310104", "310115", "440305", "440106", "510107", "330106", "420102", "320102", "610113", "500103", "230102", "650102")
		y := 1950 + r.IntN(60)
		m := 1 + r.IntN(12)
		day := 1 + r.IntN(28)
		s := fmt.Sprintf("%s%04d%02d%02d%s", area, y, m, day, digits(3))
		c := ResidentIDCheck(s)
		if c == 'X' && r.IntN(3) == 0 {
			c = 'x'
		}
		return s + string(c)
	}
	mobile := func() string {
		p := pick("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157", "158", "159", "166", "170", "173", "176", "177", "178", "180", "181", "183", "185", "186", "187", "188", "189", "191", "198", "199")
		rest := digits(8)
		switch r.IntN(6) {
		case 0:
			return p + " " + rest[:4] + " " + rest[4:]
		case 1:
			return p + "-" + rest[:4] + "-" + rest[4:]
		case 2:
			return "+86 " + p + rest
		case 3:
			return "+86-" + p + "-" + rest[:4] + "-" + rest[4:]
		}
		return p + rest
	}
	luhnComplete := func(prefix string, n int) string {
		s := prefix + digits(n-len(prefix)-1)
		for c := byte('0'); c <= '9'; c++ {
			if Luhn(s + string(c)) {
				return s + string(c)
			}
		}
		panic("unreachable")
	}
	card := func() string {
		var d string
		switch r.IntN(5) {
		case 0, 1:
			d = luhnComplete(pick("622202", "621700", "622848", "621226", "622588", "623058"), pick19(r))
		case 2:
			d = luhnComplete("4"+digits(5), 16)
		case 3:
			d = luhnComplete(pick("51", "52", "53", "54", "55"), 16)
		default:
			d = luhnComplete("6214"+digits(2), 16)
		}
		if r.IntN(2) == 0 {
			var b strings.Builder
			for i := 0; i < len(d); i += 4 {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(d[i:min(i+4, len(d))])
			}
			return b.String()
		}
		return d
	}
	email := func() string {
		user := pick("zhangwei", "li.na", "wang_fang88", "liuyang2001", "chen.jie", "yang-li", "hx", "13800138000", "z.q.huang", "sun+ai")
		return user + pick("", fmt.Sprint(r.IntN(100))) + "@" + pick("qq.com", "163.com", "126.com", "gmail.com", "sina.com.cn", "example.com.cn", "mail.tsinghua.edu.cn", "foxmail.com")
	}
	letters := "ABCDEFGHJKLMNPQRSTUVWXYZ"
	passport := func() string {
		switch r.IntN(3) {
		case 0:
			return "E" + digits(8)
		case 1:
			return "E" + string(letters[r.IntN(len(letters))]) + digits(7)
		}
		return "G" + digits(8)
	}
	provinces := []rune("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
	plate := func() string {
		p := string(provinces[r.IntN(len(provinces))]) + string(letters[r.IntN(len(letters))])
		sep := pick("", "", "·", " ")
		switch r.IntN(4) {
		case 0:
			return p + sep + pick("D", "F") + string(letters[r.IntN(len(letters))]) + digits(4)
		case 1:
			return p + sep + digits(5) + pick("D", "F")
		case 2:
			return p + sep + string(letters[r.IntN(len(letters))]) + digits(4)
		}
		return p + sep + digits(3) + string(letters[r.IntN(len(letters))]) + digits(1)
	}
	address := func() string {
		region := pick("北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "浙江省杭州市西湖区", "四川省成都市武侯区", "湖北省武汉市洪山区", "江苏省南京市鼓楼区", "天津市和平区", "重庆市渝中区", "陕西省西安市雁塔区", "")
		road := pick("建国路", "人民路", "中山大道", "长安街", "淮海中路", "科技园南路", "文三路", "天府大道北段", "珞喻路", "南京东路", "解放西路", "学院路")
		s := region + road + fmt.Sprint(1+r.IntN(999)) + "号"
		switch r.IntN(4) {
		case 0:
			s += fmt.Sprintf("%d栋%d单元%d室", 1+r.IntN(30), 1+r.IntN(6), 101+r.IntN(2800))
		case 1:
			s += fmt.Sprintf("%d号楼%d室", 1+r.IntN(20), 101+r.IntN(2000))
		case 2:
			s += "院"
		}
		return s
	}
	gens := map[Kind]func() string{ResidentID: residentID, Mobile: mobile, BankCard: card, Email: email, Passport: passport, Plate: plate, Address: address}
	templates := map[Kind][]string{
		ResidentID: {"我的身份证号是%s，请帮我查询。", "身份证：%s", "Please verify ID %s for me.", "证件号码%s已登记", "他的身份证号码为 %s 。"},
		Mobile:     {"请拨打%s联系我", "手机：%s", "联系电话 %s（工作日）", "Call me at %s tomorrow.", "有事打我电话%s，谢谢"},
		BankCard:   {"请把钱转到卡号%s", "银行卡：%s（工商银行）", "My card number is %s.", "收款账户 %s 户名张三", "卡号%s已冻结吗"},
		Email:      {"我的邮箱是%s，请发给我", "Email: %s", "联系 %s 获取报价", "请回复至%s。"},
		Passport:   {"护照号%s，签发地北京", "Passport No. %s", "我的护照是%s，下个月到期", "证件：护照 %s"},
		Plate:      {"车牌号%s的车停在门口", "今天看到一辆%s违章", "The car %s was towed.", "车牌：%s"},
		Address:    {"我家住在%s，离地铁很近", "收货地址：%s", "请寄到%s。", "公司地址 %s", "地址为%s，电话另告"},
	}
	var lines []string
	emit := func(l labelled) {
		b, _ := json.Marshal(l)
		lines = append(lines, string(b))
	}
	kinds := Kinds()
	for i := range 560 {
		k := kinds[i%len(kinds)]
		v := gens[k]()
		tpl := templates[k][r.IntN(len(templates[k]))]
		l := labelled{Text: fmt.Sprintf(tpl, v), Spans: []goldSpan{{k, v}}}
		// A third of the sentences carry a second identifier of another kind.
		if r.IntN(3) == 0 {
			k2 := kinds[(i+1+r.IntN(len(kinds)-1))%len(kinds)]
			v2 := gens[k2]()
			l.Text += "另外，" + fmt.Sprintf(templates[k2][r.IntN(len(templates[k2]))], v2)
			l.Spans = append(l.Spans, goldSpan{k2, v2})
		}
		emit(l)
	}
	// Hard negatives: numbers and codes that look like identifiers.
	negs := []func() (string, string){
		func() (string, string) {
			return "订单号：" + pick("2024", "2025", "2026") + digits(14+r.IntN(4)), "order number"
		},
		func() (string, string) { return "时间戳 17" + digits(11) + " 已记录", "ms timestamp" },
		func() (string, string) { return "ts=17" + digits(14), "µs timestamp" },
		func() (string, string) {
			return "客服工号" + pick("10", "11", "12") + digits(9), "11 digits, not a mobile prefix"
		},
		func() (string, string) {
			id := residentID()
			bad := byte('0' + (int(id[17]-'0')+1)%10)
			if id[17] == 'X' || id[17] == 'x' {
				bad = '5'
			}
			return "编号" + id[:17] + string(bad), "ID with a wrong check digit"
		},
		func() (string, string) {
			return "流水号" + "110101" + "2023" + "13" + "45" + digits(4), "ID-like with month 13"
		},
		func() (string, string) {
			d := luhnComplete("622202", 16)
			bad := byte('0' + (int(d[15]-'0')+1)%10)
			return "卡号" + d[:15] + string(bad) + "无效", "card with a failed Luhn digit"
		},
		func() (string, string) {
			return "序列号" + luhnComplete("9"+digits(3), 16), "Luhn-valid without an issuer prefix"
		},
		func() (string, string) { return "快递单号SF" + digits(13), "tracking number" },
		func() (string, string) {
			return "版本 v1." + digits(1) + "." + digits(2) + "，IP 192.168." + digits(1) + "." + digits(2), "version and IP"
		},
		func() (string, string) {
			return fmt.Sprintf("会议定于2025-%02d-%02d 13:%02d:%02d召开", 1+r.IntN(12), 1+r.IntN(28), r.IntN(60), r.IntN(60)), "date and time"
		},
		func() (string, string) {
			return pick("乘坐地铁", "换乘", "坐") + fmt.Sprint(1+r.IntN(20)) + "号线到" + pick("国贸", "人民广场", "西湖") + "站", "metro line"
		},
		func() (string, string) {
			return "第" + fmt.Sprint(1+r.IntN(99)) + "号文件已下发", "document number"
		},
		func() (string, string) { return "乘坐G" + digits(4) + "次列车", "train number" },
		func() (string, string) { return "产品型号E" + digits(6) + "-A", "model number" },
		func() (string, string) { return "零件号E" + digits(10), "too long for a passport" },
		func() (string, string) {
			return "订单" + "138" + digits(8) + digits(4), "mobile inside a longer number"
		},
		func() (string, string) {
			return "粤港澳大湾区" + pick("建设", "发展") + "规划", "plate-like province words"
		},
		func() (string, string) { return "京A区" + digits(2) + "号门", "not a plate" },
		func() (string, string) {
			return "联系人@" + pick("张三", "李四") + "，邮件见附件", "mention, not email"
		},
		func() (string, string) { return "user@localhost 不是有效地址", "email without a domain" },
		func() (string, string) {
			return "价格" + digits(2) + "." + digits(2) + "元，库存" + digits(5) + "件", "prices"
		},
		func() (string, string) {
			return "思路" + fmt.Sprint(1+r.IntN(9)) + "：先分析再总结", "路 followed by a number, no 号"
		},
		func() (string, string) { return "MD5 " + digits(16) + "abcdef" + digits(10), "hash" },
	}
	for i := range 440 {
		text, note := negs[i%len(negs)]()
		emit(labelled{Text: text, Spans: []goldSpan{}, Note: "negative: " + note})
	}
	return strings.Join(lines, "\n") + "\n"
}

func pick19(r *rand.Rand) int { return []int{16, 16, 19}[r.IntN(3)] }

// TestSyntheticValuesAreValid guards the generator: every labelled resident
// ID and card in the set passes its checksum.
func TestSyntheticValuesAreValid(t *testing.T) {
	set := loadLabelled(t, "testdata/pi_synthetic.jsonl")
	kinds := map[Kind]int{}
	for _, l := range set {
		for _, s := range l.Spans {
			kinds[s.Kind]++
			switch s.Kind {
			case ResidentID:
				if !validResidentID(s.Text) {
					t.Errorf("invalid ID in set: %s", s.Text)
				}
			case BankCard:
				if !Luhn(digitsOnly(s.Text)) {
					t.Errorf("card fails Luhn: %s", s.Text)
				}
			}
		}
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(ks)
	t.Log(strings.Join(ks, " "))
}
