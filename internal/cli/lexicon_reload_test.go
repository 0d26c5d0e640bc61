package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func withLexicon(path string) gatewayOption {
	return func(o *gatewayOptions) { o.lexicon = path }
}

// TestLexiconReload drives hot reload through the whole server: a new term
// takes effect without a restart, a bad file is refused with file:line and
// leaves the library in use, SIGHUP reloads too, and every change is stored
// as a version and appended to the audit chain.
func TestLexiconReload(t *testing.T) {
	lex := filepath.Join(t.TempDir(), "lexicon.tsv")
	write := func(s string) {
		if err := os.WriteFile(lex, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("炸弹制作\tA.1.d\tblock\n")
	g := startGateway(t, "", withLexicon(lex))
	key := g.newUser("reader")
	decision := func(text string) string {
		t.Helper()
		return g.post("/v1/chat/completions", key, chat(text, false)).header.Get("Genguard-Decision")
	}
	if d := decision("新增违禁短语出现了"); d != "pass" {
		t.Fatalf("before reload: %s, want pass", d)
	}

	write("炸弹制作\tA.1.d\tblock\n新增违禁短语\tA.1.h\tblock\n")
	r := g.admin("POST", "/admin/lexicon/reload", "")
	var v lexiconVersionResp
	if r.status != 200 || json.Unmarshal(r.body, &v) != nil || !v.Changed || v.Terms != 2 || v.ByRisk["A.1.h"] != 1 {
		t.Fatalf("reload = %d %s", r.status, r.body)
	}
	if d := decision("新增违禁短语出现了"); d != "block" {
		t.Errorf("after reload: %s, want block", d)
	}
	if r := g.admin("POST", "/admin/lexicon/reload", ""); r.status != 200 || !strings.Contains(string(r.body), `"changed":false`) {
		t.Errorf("same files again = %d %s, want unchanged", r.status, r.body)
	}

	write("炸弹制作\tA.1.d\tblock\n坏行\tA.9.z\tblock\n")
	r = g.admin("POST", "/admin/lexicon/reload", "")
	if r.status != 422 || !strings.Contains(string(r.body), "lexicon.tsv:2:") {
		t.Errorf("bad file = %d %s, want 422 naming lexicon.tsv:2", r.status, r.body)
	}
	if d := decision("新增违禁短语出现了"); d != "block" {
		t.Errorf("after a bad reload: %s, want the previous library (block)", d)
	}

	write("炸弹制作\tA.1.d\tblock\n")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload is asynchronous: wait for its audit event, not for a time.
	for deadline := time.Now().Add(time.Minute); len(g.events("lexicon.changed")) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no lexicon.changed event after SIGHUP; server log:\n%s", g.stderr.String())
		}
	}
	if d := decision("新增违禁短语出现了"); d != "pass" {
		t.Errorf("after SIGHUP: %s, want pass", d)
	}
	events := g.events("lexicon.changed")
	if len(events) != 3 || !strings.Contains(string(events[2].Details), `"terms":1`) || events[2].Actor != "signal:SIGHUP" {
		t.Errorf("lexicon.changed events = %d, last %s by %s", len(events), events[len(events)-1].Details, events[len(events)-1].Actor)
	}
	stats, _, code := g.cli("lexicon", "stats")
	if code != 0 || !strings.Contains(stats, "last update: ") || strings.Contains(stats, "none recorded") {
		t.Errorf("lexicon stats = %d\n%s", code, stats)
	}
}

type lexiconVersionResp struct {
	Hash    string         `json:"hash"`
	Terms   int            `json:"terms"`
	ByRisk  map[string]int `json:"by_risk"`
	Changed bool           `json:"changed"`
}
