// Package risk defines the 31 content-security risks of TC260-003 Appendix A
// (GB/T 45654-2025 keeps them). Every moderation hit and decision names one of
// these codes, so the table lives here once.
package risk

import (
	"fmt"
	"strings"
)

// Code is a taxonomy code such as "A.1.f".
type Code string

// Group is one of the five top-level categories (A.1 … A.5).
type Group string

// Risk is one entry of Appendix A.
type Risk struct {
	Code    Code
	Group   Group
	Chinese string
	English string
}

// Groups of Appendix A, with the names the standard gives them.
var groupNames = map[Group][2]string{
	"A.1": {"包含违反社会主义核心价值观的内容", "Content violating core socialist values"},
	"A.2": {"包含歧视性内容", "Discriminatory content"},
	"A.3": {"商业违法违规", "Commercial violations"},
	"A.4": {"侵犯他人合法权益", "Infringing others' lawful rights and interests"},
	"A.5": {"无法满足特定服务类型的安全需求", "Failing the safety needs of specific service types"},
}

var all = []Risk{
	{"A.1.a", "A.1", "煽动颠覆国家政权、推翻社会主义制度", "Inciting subversion of state power or overthrow of the socialist system"},
	{"A.1.b", "A.1", "危害国家安全和利益、损害国家形象", "Endangering national security and interests; harming the national image"},
	{"A.1.c", "A.1", "煽动分裂国家、破坏国家统一和社会稳定", "Inciting secession; undermining national unity and social stability"},
	{"A.1.d", "A.1", "宣扬恐怖主义、极端主义", "Promoting terrorism or extremism"},
	{"A.1.e", "A.1", "宣扬民族仇恨", "Promoting ethnic hatred"},
	{"A.1.f", "A.1", "宣扬暴力、淫秽色情", "Promoting violence, obscenity or pornography"},
	{"A.1.g", "A.1", "传播虚假有害信息", "Spreading false and harmful information"},
	{"A.1.h", "A.1", "其他法律、行政法规禁止的内容", "Other content prohibited by laws and administrative regulations"},
	{"A.2.a", "A.2", "民族歧视内容", "Ethnic discrimination"},
	{"A.2.b", "A.2", "信仰歧视内容", "Religious or belief discrimination"},
	{"A.2.c", "A.2", "国别歧视内容", "Nationality discrimination"},
	{"A.2.d", "A.2", "地域歧视内容", "Regional discrimination"},
	{"A.2.e", "A.2", "性别歧视内容", "Sex or gender discrimination"},
	{"A.2.f", "A.2", "年龄歧视内容", "Age discrimination"},
	{"A.2.g", "A.2", "职业歧视内容", "Occupational discrimination"},
	{"A.2.h", "A.2", "健康歧视内容", "Health discrimination"},
	{"A.2.i", "A.2", "其他方面歧视内容", "Other discrimination"},
	{"A.3.a", "A.3", "侵犯他人知识产权", "Infringing others' intellectual property"},
	{"A.3.b", "A.3", "违反商业道德", "Violating business ethics"},
	{"A.3.c", "A.3", "泄露他人商业秘密", "Disclosing others' trade secrets"},
	{"A.3.d", "A.3", "利用算法、数据、平台等优势，实施垄断和不正当竞争行为", "Monopoly or unfair competition through algorithm, data or platform advantages"},
	{"A.3.e", "A.3", "其他商业违法违规行为", "Other commercial violations"},
	{"A.4.a", "A.4", "危害他人身心健康", "Endangering others' physical or mental health"},
	{"A.4.b", "A.4", "侵害他人肖像权", "Infringing portrait rights"},
	{"A.4.c", "A.4", "侵害他人名誉权", "Infringing reputation rights"},
	{"A.4.d", "A.4", "侵害他人荣誉权", "Infringing honour rights"},
	{"A.4.e", "A.4", "侵害他人隐私权", "Infringing privacy rights"},
	{"A.4.f", "A.4", "侵害他人个人信息权益", "Infringing personal-information rights"},
	{"A.4.g", "A.4", "侵犯他人其他合法权益", "Infringing other lawful rights and interests"},
	{"A.5.a", "A.5", "内容不准确，严重不符合科学常识或主流认知", "Inaccurate content seriously contrary to scientific common sense or mainstream understanding"},
	{"A.5.b", "A.5", "内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助", "Unreliable content that does not help the user"},
}

var byCode = func() map[Code]Risk {
	m := make(map[Code]Risk, len(all))
	for _, r := range all {
		m[r.Code] = r
	}
	return m
}()

// All returns the 31 risks in Appendix A order. The slice is a copy.
func All() []Risk { return append([]Risk(nil), all...) }

// Lookup returns the risk with the given code.
func Lookup(c Code) (Risk, bool) {
	r, ok := byCode[c]
	return r, ok
}

// Parse validates s as a taxonomy code. It accepts "A.1.f" and, because
// operators type it that way, "A.1 f" and lower-case "a.1.f".
func Parse(s string) (Code, error) {
	t := strings.TrimSpace(s)
	t = strings.Replace(t, " ", ".", 1)
	if len(t) > 0 {
		t = strings.ToUpper(t[:1]) + strings.ToLower(t[1:])
	}
	c := Code(t)
	if _, ok := byCode[c]; !ok {
		return "", fmt.Errorf("unknown risk code %q (want one of A.1.a … A.5.b)", s)
	}
	return c, nil
}

// Group returns the Appendix A group of the code ("A.1" for "A.1.f").
func (c Code) Group() Group {
	if len(c) >= 3 {
		return Group(c[:3])
	}
	return ""
}

// Valid reports whether c is one of the 31 codes.
func (c Code) Valid() bool { _, ok := byCode[c]; return ok }

// Groups returns the five group codes in order.
func Groups() []Group { return []Group{"A.1", "A.2", "A.3", "A.4", "A.5"} }

// GroupName returns the Chinese and English names of a group.
func GroupName(g Group) (zh, en string) {
	n := groupNames[g]
	return n[0], n[1]
}

// KeywordMinimum is the TC260-003 §8.1 minimum number of keywords for a risk:
// 200 for each A.1 risk, 100 for each A.2 risk, none required for the others.
func KeywordMinimum(c Code) int {
	switch c.Group() {
	case "A.1":
		return 200
	case "A.2":
		return 100
	}
	return 0
}

// KeywordTotalMinimum is the TC260-003 §8.1 minimum size of the whole library.
const KeywordTotalMinimum = 10000
