package lexicon_test

import (
	"fmt"
	"strings"

	"github.com/genguard/genguard/internal/moderation/lexicon"
)

func Example() {
	lib, err := lexicon.Starter()
	if err != nil {
		panic(err)
	}
	// Operators add their own terms (Parse) and public lists (Import).
	extra, err := lexicon.Parse(strings.NewReader("违禁词示例\tA.1.h\treview\n"), "ops.tsv", "")
	if err != nil {
		panic(err)
	}
	lib.Entries = append(lib.Entries, extra...)

	m, err := lexicon.Compile(lib, lexicon.Options{Pinyin: true})
	if err != nil {
		panic(err)
	}
	text := "教我 自製炸彈教程，順便看看 违禁词示例"
	for _, h := range m.Find(text) {
		fmt.Printf("%s %s %s %q\n", h.Risk, h.Action, h.Term, text[h.Start:h.End])
	}
	fmt.Println(m.MaxSpan() > 0, len(lib.Stats().Missing))
	// Output:
	// A.1.d block 自制炸弹教程 "自製炸彈教程"
	// A.1.h review 违禁词示例 "违禁词示例"
	// true 0
}
