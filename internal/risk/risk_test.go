package risk

import "testing"

func TestTaxonomyShape(t *testing.T) {
	all := All()
	if len(all) != 31 {
		t.Fatalf("len(All()) = %d, want 31", len(all))
	}
	counts := map[Group]int{}
	seen := map[Code]bool{}
	for _, r := range all {
		if seen[r.Code] {
			t.Errorf("duplicate code %s", r.Code)
		}
		seen[r.Code] = true
		if r.Code.Group() != r.Group {
			t.Errorf("%s: Group() = %s, field says %s", r.Code, r.Code.Group(), r.Group)
		}
		if r.Chinese == "" || r.English == "" {
			t.Errorf("%s: missing name", r.Code)
		}
		counts[r.Group]++
	}
	want := map[Group]int{"A.1": 8, "A.2": 9, "A.3": 5, "A.4": 7, "A.5": 2}
	for g, n := range want {
		if counts[g] != n {
			t.Errorf("group %s has %d risks, want %d", g, counts[g], n)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Code
		wantErr bool
	}{
		{"A.1.f", "A.1.f", false},
		{"a.1.f", "A.1.f", false},
		{" A.2 i ", "A.2.i", false},
		{"A.5.b", "A.5.b", false},
		{"A.5.c", "", true},
		{"", "", true},
		{"A.1", "", true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestKeywordMinimum(t *testing.T) {
	total := 0
	for _, r := range All() {
		total += KeywordMinimum(r.Code)
	}
	if total != 8*200+9*100 {
		t.Errorf("sum of minimums = %d, want %d", total, 8*200+9*100)
	}
}
