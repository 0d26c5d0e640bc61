package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genguard/genguard/internal/store"
)

func TestMarkdownBlocksNeverEmitHTML(t *testing.T) {
	md := "# Title <script>x</script>\n\nline one\nline two\n- item\n## Sub\n### Third\n\n* star"
	want := []block{{"h1", "Title <script>x</script>"}, {"p", "line one line two"}, {"li", "item"}, {"h2", "Sub"}, {"h3", "Third"}, {"li", "star"}}
	got := markdownBlocks(md)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(block{})); diff != "" {
		t.Errorf("markdownBlocks diff (-want +got):\n%s", diff)
	}
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest("GET", "/agreement", nil), 200, "agreement",
		agreementPage{Agreement: store.Agreement{Version: "v1"}, Blocks: got, Current: true})
	if body := w.Body.String(); strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("agreement markup not escaped: %s", body)
	}
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{"application/json": true, "text/html, application/json;q=0.9": true, "text/html": false, "": false} {
		r := httptest.NewRequest("GET", "/disclosure", nil)
		r.Header.Set("Accept", accept)
		if got := wantsJSON(r); got != want {
			t.Errorf("wantsJSON(%q) = %v", accept, got)
		}
	}
}
