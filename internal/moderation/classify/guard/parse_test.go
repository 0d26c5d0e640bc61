package guard

import (
	"errors"
	"reflect"
	"testing"
)

var parseTests = []struct {
	give string
	want QwenAnswer
}{
	{"Safety: Safe\nCategories: None", QwenAnswer{Safety: QwenSafe}},
	{"Safety: Unsafe\nCategories: Violent", QwenAnswer{Safety: QwenUnsafe, Categories: []string{"Violent"}}},
	{"Safety: Controversial\nCategories: Unethical Acts\nRefusal: No", QwenAnswer{Safety: QwenControversial, Categories: []string{"Unethical Acts"}, Refusal: "No"}},
	{"Safety: Unsafe\r\nCategories: Sexual Content or Sexual Acts, Non-violent Illegal Acts\r\n", QwenAnswer{Safety: QwenUnsafe, Categories: []string{"Sexual Content or Sexual Acts", "Non-violent Illegal Acts"}}},
	{"<think>\n</think>\nSafety: Unsafe\nCategory: copyright violation", QwenAnswer{Safety: QwenUnsafe, Categories: []string{"Copyright Violation"}}},
}

func TestParseQwenAnswer(t *testing.T) {
	for _, tt := range parseTests {
		got, err := ParseQwenAnswer(tt.give)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseQwenAnswer(%q) = %+v, %v; want %+v, nil", tt.give, got, err, tt.want)
		}
	}
}

func TestParseQwenAnswerRejects(t *testing.T) {
	for _, give := range []string{"", "I can't help with that.", "Safety: Maybe", "Categories: Violent", "Safety Unsafe"} {
		if _, err := ParseQwenAnswer(give); !errors.Is(err, ErrBadAnswer) {
			t.Errorf("ParseQwenAnswer(%q) error = %v, want ErrBadAnswer", give, err)
		}
	}
}

func FuzzParseQwenAnswer(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.give)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseQwenAnswer(s)
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) {
				t.Errorf("ParseQwenAnswer(%q) error %v does not wrap ErrBadAnswer", s, err)
			}
			return
		}
		if a.Safety != QwenSafe && a.Safety != QwenUnsafe && a.Safety != QwenControversial {
			t.Errorf("ParseQwenAnswer(%q).Safety = %q", s, a.Safety)
		}
	})
}
