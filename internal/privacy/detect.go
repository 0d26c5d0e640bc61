// Package privacy minimises the personal information genguard keeps
// (Measures Art. 11, PIPL): it finds Chinese personal identifiers in text and
// redacts them before anything is stored, encrypts the text it does store,
// purges it after a retention period, and answers data-subject requests
// (access, copy, correct, supplement, delete, withdraw consent).
package privacy

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is a type of personal identifier.
type Kind string

// The identifiers the detector finds.
const (
	ResidentID Kind = "resident_id"   // 居民身份证号 (18 digits, GB 11643 checksum)
	Mobile     Kind = "mobile"        // 手机号 (1[3-9]x, optional +86)
	BankCard   Kind = "bank_card"     // 银行卡号 (15–19 digits, Luhn, known IIN)
	Email      Kind = "email"         // 电子邮箱
	Passport   Kind = "passport"      // 护照号 (E/G series)
	Plate      Kind = "licence_plate" // 机动车号牌
	Address    Kind = "address"       // 街道地址 (road + number + 号)
)

// Kinds lists every kind, in the order overlapping findings are preferred.
func Kinds() []Kind {
	return []Kind{Email, ResidentID, BankCard, Mobile, Passport, Plate, Address}
}

// placeholder is what Redact writes instead of an identifier.
func (k Kind) placeholder() string {
	switch k {
	case ResidentID:
		return "[身份证号]"
	case Mobile:
		return "[手机号]"
	case BankCard:
		return "[银行卡号]"
	case Email:
		return "[邮箱]"
	case Passport:
		return "[护照号]"
	case Plate:
		return "[车牌号]"
	case Address:
		return "[地址]"
	}
	return "[个人信息]"
}

// Finding is one identifier: its kind and byte offsets in the text.
type Finding struct {
	Kind       Kind
	Start, End int
}

// Detector finds personal identifiers. It is immutable and safe for
// concurrent use; build one with NewDetector and share it.
type Detector struct {
	id, mobile, card, email, passport, plate, addrAnchor, roomAnchor *regexp.Regexp
}

// NewDetector compiles the patterns. Patterns only propose candidates; the
// checks that follow (checksums, dates, Luhn, boundaries) decide.
func NewDetector() *Detector {
	return &Detector{
		id:       regexp.MustCompile(`\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]`),
		mobile:   regexp.MustCompile(`(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}`),
		card:     regexp.MustCompile(`\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{3,4}(?:[ \-]?\d{1,3})?`),
		email:    regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,24}`),
		passport: regexp.MustCompile(`(?:E[A-HJ-NP-Z0-9]|G\d)\d{7}`),
		plate:    regexp.MustCompile(`[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·• ]?[A-HJ-NP-Z0-9]{4,6}[挂学警港澳]?`),
		// Addresses are found by their most regular part, "<road> <n>号"
		// or "<n>栋<n>单元<n>室", then extended left over the place names.
		addrAnchor: regexp.MustCompile(`(?:路|街|道|段|巷|弄|胡同)\s?\d{1,5}(?:-\d{1,5})?\s?号(?:院)?(?:\s?\d{1,4}\s?(?:号楼|栋|幢|座))?(?:\s?\d{1,3}\s?单元)?(?:\s?\d{1,5}\s?(?:室|房))?`),
		roomAnchor: regexp.MustCompile(`\d{1,4}\s?(?:号楼|栋|幢|座)\s?(?:\d{1,3}\s?单元\s?)?\d{2,5}\s?(?:室|房)`),
	}
}

// maxDetectBytes bounds the text one call examines; longer text is examined
// in its first maxDetectBytes only by Detect, and Redact refuses to keep the
// rest (callers store at most this much anyway).
const maxDetectBytes = 1 << 20

// Detect returns the identifiers in text, sorted and not overlapping; when
// two candidates overlap, the earlier kind in Kinds wins, then the longer.
func (d *Detector) Detect(text string) []Finding {
	if len(text) > maxDetectBytes {
		text = truncateUTF8(text, maxDetectBytes)
	}
	// Full-width digits and letters (４４０３…) are matched as ASCII; back
	// maps offsets in the folded text to the original.
	text, back := foldWidth(text)
	fs := d.detect(text)
	if back != nil {
		for i := range fs {
			fs[i].Start, fs[i].End = back[fs[i].Start], back[fs[i].End]
		}
	}
	return fs
}

// foldWidth maps full-width ASCII variants and the ideographic space to
// ASCII. It returns back == nil when the text has none.
func foldWidth(text string) (string, []int) {
	if !strings.ContainsFunc(text, isWide) {
		return text, nil
	}
	var b strings.Builder
	back := make([]int, 0, len(text)+1)
	for i, r := range text {
		if isWide(r) {
			if r == '\u3000' {
				r = ' '
			} else {
				r -= 0xFEE0
			}
			back = append(back, i)
			b.WriteRune(r)
			continue
		}
		_, n := utf8.DecodeRuneInString(text[i:]) // 1 for an invalid byte
		for j := range n {
			back = append(back, i+j)
		}
		b.WriteString(text[i : i+n])
	}
	back = append(back, len(text))
	return b.String(), back
}

func isWide(r rune) bool { return (r >= 0xFF01 && r <= 0xFF5E) || r == '\u3000' }

func (d *Detector) detect(text string) []Finding {
	var all []Finding
	add := func(k Kind, re *regexp.Regexp, ok func(s string, start, end int) (int, int, bool)) {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if s, e, good := ok(text, m[0], m[1]); good {
				all = append(all, Finding{Kind: k, Start: s, End: e})
			}
		}
	}
	add(ResidentID, d.id, func(s string, a, b int) (int, int, bool) {
		return a, b, digitBounded(s, a, b) && validResidentID(s[a:b])
	})
	add(BankCard, d.card, func(s string, a, b int) (int, int, bool) {
		return a, b, digitBounded(s, a, b) && validCard(s[a:b])
	})
	add(Mobile, d.mobile, func(s string, a, b int) (int, int, bool) {
		return a, b, digitBounded(s, a, b) && consistentSeparators(s[a:b])
	})
	add(Email, d.email, func(s string, a, b int) (int, int, bool) {
		return a, b, (a == 0 || !emailChar(s[a-1])) && (b == len(s) || !emailChar(s[b]) || s[b] == '.')
	})
	add(Passport, d.passport, func(s string, a, b int) (int, int, bool) {
		return a, b, digitBounded(s, a, b)
	})
	add(Plate, d.plate, func(s string, a, b int) (int, int, bool) {
		return a, b, (b == len(s) || !isASCIIAlnum(s[b])) && validPlate(s[a:b])
	})
	addr := func(s string, a, b int) (int, int, bool) {
		if a > 0 && isDigit(s[a-1]) || notRoad(s[:a+len("路")]) {
			return 0, 0, false
		}
		start := extendPlace(s, a)
		return start, b, start < a && (b == len(s) || !isDigit(s[b]))
	}
	add(Address, d.addrAnchor, addr)
	add(Address, d.roomAnchor, func(s string, a, b int) (int, int, bool) {
		if a > 0 && isDigit(s[a-1]) {
			return 0, 0, false
		}
		start := extendPlace(s, a)
		return start, b, start < a && (b == len(s) || !isDigit(s[b]))
	})
	return resolve(all)
}

// resolve keeps non-overlapping findings, preferring kinds in Kinds order,
// then longer spans, and merges overlapping addresses.
func resolve(all []Finding) []Finding {
	rank := map[Kind]int{}
	for i, k := range Kinds() {
		rank[k] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		if rank[all[i].Kind] != rank[all[j].Kind] {
			return rank[all[i].Kind] < rank[all[j].Kind]
		}
		return all[i].End-all[i].Start > all[j].End-all[j].Start
	})
	var kept []Finding
	for _, f := range all {
		clash := false
		for i, k := range kept {
			if f.Start < k.End && k.Start < f.End {
				if f.Kind == Address && k.Kind == Address {
					kept[i].Start, kept[i].End = min(k.Start, f.Start), max(k.End, f.End)
				}
				clash = true
				break
			}
		}
		if !clash {
			kept = append(kept, f)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Start < kept[j].Start })
	return kept
}

// Redact replaces every identifier with a placeholder naming its kind
// ("[手机号]") and returns the findings (offsets into the original text).
func (d *Detector) Redact(text string) (string, []Finding) {
	if len(text) > maxDetectBytes {
		text = truncateUTF8(text, maxDetectBytes)
	}
	fs := d.Detect(text)
	if len(fs) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString(f.Kind.placeholder())
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), fs
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isDigit(c byte) bool        { return c >= '0' && c <= '9' }
func isASCIIAlnum(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func emailChar(c byte) bool      { return isASCIIAlnum(c) || strings.IndexByte("._%+-@", c) >= 0 }
func digitsOnly(s string) string { return strings.Map(keepDigitX, s) }

func keepDigitX(r rune) rune {
	if (r >= '0' && r <= '9') || r == 'X' || r == 'x' {
		return r
	}
	return -1
}

// digitBounded: a number is an identifier only if it is not part of a longer
// run of digits or letters (order numbers, hashes, serials).
// A separator or decimal point followed by more digits also continues it
// ("139 1234 5678 1", "13912345678.00").
func digitBounded(s string, a, b int) bool {
	if a > 0 && isASCIIAlnum(s[a-1]) || b < len(s) && isASCIIAlnum(s[b]) {
		return false
	}
	if a > 1 && strings.IndexByte(" -.", s[a-1]) >= 0 && isDigit(s[a-2]) {
		return false
	}
	if b+1 < len(s) && strings.IndexByte(" -.", s[b]) >= 0 && isDigit(s[b+1]) {
		return false
	}
	return true
}

// consistentSeparators rejects numbers grouped in a way phone numbers never
// are (e.g. "138 0013-8000" is fine, "13 800 138 000" never matches).
func consistentSeparators(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+"), "00")
	var seps []byte
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '-' {
			seps = append(seps, s[i])
		}
	}
	for _, c := range seps {
		if c != seps[0] && !(strings.HasPrefix(s, "86") && len(seps) == 3) {
			return false
		}
	}
	return true
}

// validResidentID checks the area code's first digit, the birth date and
// the ISO 7064 MOD 11-2 check character.
func validResidentID(s string) bool {
	if len(s) != 18 || s[0] < '1' || s[0] > '8' {
		return false
	}
	y := atoi(s[6:10])
	m := atoi(s[10:12])
	day := atoi(s[12:14])
	if y < 1900 || y > 2099 || m < 1 || m > 12 || day < 1 || day > daysIn(y, m) {
		return false
	}
	check := ResidentIDCheck(s[:17])
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return last == check
}

// ResidentIDCheck returns the check character for the first 17 digits (used
// by tests and test-data generators).
func ResidentIDCheck(first17 string) byte {
	// GB 11643-1999 weights.
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if (y%4 == 0 && y%100 != 0) || y%400 == 0 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// validCard: 15–19 digits, a known issuer prefix (UnionPay 62/81, Visa 4 (16 or 19 digits),
// Mastercard 51–55/2221–2720, Amex 34/37, JCB 35) and a valid Luhn digit.
// The prefix check is what keeps timestamps and order numbers out.
func validCard(s string) bool {
	d := digitsOnly(s)
	if strings.ContainsAny(d, "Xx") || len(d) < 15 || len(d) > 19 {
		return false
	}
	p2, p4 := atoi(d[:2]), atoi(d[:4])
	switch {
	case p2 == 62 || p2 == 81, d[0] == '4' && (len(d) == 16 || len(d) == 19), p2 >= 51 && p2 <= 55 && len(d) == 16,
		p4 >= 2221 && p4 <= 2720 && len(d) == 16, (p2 == 34 || p2 == 37) && len(d) == 15, p2 == 35 && len(d) >= 16:
	default:
		return false
	}
	return Luhn(d)
}

// Luhn reports whether a digit string passes the Luhn check.
func Luhn(d string) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// validPlate: the serial after the region letter has 5 characters (6 for
// new-energy plates, which start or end with D/F), at least 3 of them
// digits, and ends in a digit or a special suffix.
func validPlate(s string) bool {
	rs := []rune(s)
	serial := rs[2:]
	if len(serial) > 0 && (serial[0] == '·' || serial[0] == '•' || serial[0] == ' ') {
		serial = serial[1:]
	}
	suffix := false
	if n := len(serial); n > 0 && strings.ContainsRune("挂学警港澳", serial[n-1]) {
		serial, suffix = serial[:n-1], true
	}
	digits := 0
	for _, r := range serial {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	switch len(serial) {
	case 4: // special plates: 4 characters and a suffix (浙A1234学)
		return suffix && digits >= 3
	case 5:
		if suffix {
			return digits >= 3
		}
		return digits >= 3 && unicode.IsDigit(serial[4])
	case 6:
		// New energy: D/F then a letter or digit and 4 digits, or 5 digits then D/F.
		if suffix {
			return false
		}
		if serial[0] == 'D' || serial[0] == 'F' {
			return digits >= 4 && unicode.IsDigit(serial[5])
		}
		return digits == 5 && (serial[5] == 'D' || serial[5] == 'F')
	}
	return false
}

// notRoad reports whether the text ending in the road suffix is a common
// word that ends like a road (思路, 线路) rather than a road name.
func notRoad(s string) bool {
	for _, w := range []string{"思路", "线路", "电路", "网路", "出路", "套路", "走路", "退路", "心路", "门路", "一路", "频道", "通道", "渠道", "知道", "味道", "难道", "轨道", "赛道", "管道", "地段", "阶段", "手段", "片段", "时段"} {
		if strings.HasSuffix(s, w) {
			return true
		}
	}
	return false
}

// stopRunes end an address's place names when extending left: words that
// introduce an address rather than belong to it.
const stopRunes = "的在住是到往于址为从去家近旁边和与及或把被请我你他她它们：:，,。；;、！!？?（）()「」“”\"' \t\n"

// maxPlaceRunes bounds how far left an address extends.
const maxPlaceRunes = 24

// extendPlace walks left from the anchor over Han characters (place names)
// until a stop rune, a non-Han character or the limit.
func extendPlace(s string, a int) int {
	start, n := a, 0
	for start > 0 && n < maxPlaceRunes {
		r, size := utf8.DecodeLastRuneInString(s[:start])
		if !unicode.Is(unicode.Han, r) || strings.ContainsRune(stopRunes, r) {
			break
		}
		start -= size
		n++
	}
	if n < 2 { // a road needs a name of at least two characters
		return a
	}
	return start
}
