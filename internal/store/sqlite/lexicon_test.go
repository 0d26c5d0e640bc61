package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genguard/genguard/internal/store"
)

func TestLexiconVersions(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	v1 := store.LexiconVersion{Hash: "aa", LoadedAt: t0, Source: "starter", Terms: 2, Allow: 1, ByRisk: map[string]int{"A.1.a": 2}}
	v2 := store.LexiconVersion{Hash: "bb", LoadedAt: t0.Add(time.Hour), Source: "x.tsv", Terms: 3, ByRisk: map[string]int{"A.1.a": 3}}
	steps := []struct {
		v    store.LexiconVersion
		want bool
	}{{v1, true}, {v1, false}, {v2, true}, {v2, false}, {v1, true}}
	for i, s := range steps {
		got, err := db.AddLexiconVersion(ctx, s.v)
		if err != nil || got != s.want {
			t.Fatalf("step %d: AddLexiconVersion(%s) = %v, %v, want %v", i, s.v.Hash, got, err, s.want)
		}
	}
	vs, err := db.LexiconVersions(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, v := range vs {
		hashes = append(hashes, v.Hash)
	}
	if diff := cmp.Diff([]string{"aa", "bb", "aa"}, hashes); diff != "" {
		t.Errorf("versions, newest first (-want +got):\n%s", diff)
	}
	if got := vs[1]; got.LoadedAt != v2.LoadedAt || got.Source != "x.tsv" || got.ByRisk["A.1.a"] != 3 {
		t.Errorf("version = %+v, want %+v", got, v2)
	}
}
