package privacy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDetect(t *testing.T) {
	d := NewDetector()
	for _, tc := range []struct {
		in   string
		want []Kind
	}{
		{"身份证11010519491231002X", []Kind{ResidentID}},
		{"身份证11010519491231002x", []Kind{ResidentID}},
		{"身份证110105194912310021", nil}, // wrong check digit
		{"13800138000", []Kind{Mobile}},
		{"+86 138-0013-8000", []Kind{Mobile}},
		{"1380013800012", nil},
		{"6222021000112347", []Kind{BankCard}},
		{"6222021000112348", nil},
		{"a@b.cn", []Kind{Email}},
		{"E12345678", []Kind{Passport}},
		{"京A12345", []Kind{Plate}},
		{"北京市海淀区中关村大街27号", []Kind{Address}},
		{"", nil},
		{"\xff\xfe1380013800\xff", nil},
	} {
		var got []Kind
		for _, f := range d.Detect(tc.in) {
			got = append(got, f.Kind)
		}
		if strings.Join(kindsStr(got), ",") != strings.Join(kindsStr(tc.want), ",") {
			t.Errorf("Detect(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func kindsStr(ks []Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestRedact(t *testing.T) {
	d := NewDetector()
	in := "我是张三，手机13912345678，邮箱zs@qq.com，住北京市海淀区中关村大街27号。"
	got, fs := d.Redact(in)
	want := "我是张三，手机[手机号]，邮箱[邮箱]，住[地址]。"
	if got != want || len(fs) != 3 {
		t.Errorf("Redact = %q (%d findings), want %q", got, len(fs), want)
	}
	wide := "身份证号：４４０３０６１９８５０７０４３１２６。"
	if got, _ := d.Redact(wide); got != "身份证号：[身份证号]。" {
		t.Errorf("Redact(full-width) = %q", got)
	}
}

func TestRedactHuge(t *testing.T) {
	d := NewDetector()
	in := strings.Repeat("手机13912345678 ", maxDetectBytes/10)
	out, _ := d.Redact(in)
	if len(out) > maxDetectBytes || strings.Contains(out, "13912345678") || !utf8.ValidString(out) {
		t.Fatalf("Redact of %d bytes returned %d bytes, leak=%v", len(in), len(out), strings.Contains(out, "13912345678"))
	}
}

// checkFindings is the invariant the fuzzer checks: findings are in range,
// on rune boundaries, sorted, not overlapping, and redaction removes them.
func checkFindings(t *testing.T, d *Detector, s string) {
	fs := d.Detect(s)
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End <= f.Start || f.End > len(s) {
			t.Fatalf("bad finding %+v in %q (len %d)", f, s, len(s))
		}
		if !utf8.RuneStart(s[f.Start]) || !utf8.ValidString(s[f.Start:f.End]) {
			t.Fatalf("finding %+v splits a rune in %q", f, s)
		}
		last = f.End
	}
	out, _ := d.Redact(s)
	for _, f := range d.Detect(out) {
		if f.Kind == ResidentID || f.Kind == BankCard {
			t.Fatalf("redacted text still has %s %q: %q", f.Kind, out[f.Start:f.End], out)
		}
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"身份证11010519491231002X，手机13912345678",
		"卡号6222 0210 0011 2347 邮箱 a.b@c.com.cn",
		"粤B·D12345 沪C 1234挂 护照E12345678",
		"广州市天河区天河路385号3栋1单元1203室",
		"４４０３０６１９８５０７０４３１２６",
		"\xff\u3000１３９１２３４５６７８\xfe",
	} {
		f.Add(s)
	}
	d := NewDetector()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		checkFindings(t, d, s)
	})
}

// BenchmarkRedact measures redaction of chat-like text with a few
// identifiers (BENCHMARKS.md).
func BenchmarkRedact(b *testing.B) {
	d := NewDetector()
	text := strings.Repeat("你好，请帮我写一封邮件给客户，说明订单20241126153012000001的发货时间。", 20) +
		"我的手机13912345678，邮箱zs@qq.com，地址广州市天河区天河路385号3栋1单元1203室。"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		d.Redact(text)
	}
}
