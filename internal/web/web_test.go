package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestRenderEscapesAndSetsHeaders(t *testing.T) {
	pages := fstest.MapFS{"templates/echo.html": {Data: []byte(`{{define "title"}}Echo{{end}}{{define "content"}}<p>{{.Data}}</p><input name="csrf" value="{{.CSRF}}">{{end}}`)}}
	r, err := NewRenderer(NewCSRF([]byte(strings.Repeat("k", 32)), nil, false), pages)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest("GET", "/", nil), 200, "echo", `<script>alert(1)</script>`)
	body := w.Body.String()
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("not escaped: %s", body)
	}
	if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers = %v", w.Header())
	}
}

func TestCSRF(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := NewCSRF([]byte(strings.Repeat("k", 32)), func() time.Time { return now }, false)
	w := httptest.NewRecorder()
	token := c.Token(w, httptest.NewRequest("GET", "/form", nil))
	cookie := w.Result().Cookies()[0]

	post := func(tok string, withCookie bool) error {
		req := httptest.NewRequest("POST", "/form", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			req.AddCookie(cookie)
		}
		return c.Check(req)
	}
	if err := post(token, true); err != nil {
		t.Errorf("valid token rejected: %v", err)
	}
	for name, tc := range map[string]struct {
		tok    string
		cookie bool
	}{"no cookie": {token, false}, "no token": {"", true}, "garbage": {"a.b", true}, "tampered": {token[:len(token)-2] + "AA", true}} {
		if err := post(tc.tok, tc.cookie); err != ErrCSRF {
			t.Errorf("%s: err = %v, want ErrCSRF", name, err)
		}
	}
	// Another browser's cookie does not validate this token.
	other := httptest.NewRecorder()
	c.Token(other, httptest.NewRequest("GET", "/form", nil))
	cookie = other.Result().Cookies()[0]
	if err := post(token, true); err != ErrCSRF {
		t.Errorf("token accepted with another browser's cookie")
	}
	now = now.Add(3 * time.Hour)
	w = httptest.NewRecorder()
	token = c.Token(w, httptest.NewRequest("GET", "/form", nil))
	cookie = w.Result().Cookies()[0]
	now = now.Add(3 * time.Hour)
	if err := post(token, true); err != ErrCSRF {
		t.Errorf("expired token accepted")
	}
	_ = http.StatusOK
}
