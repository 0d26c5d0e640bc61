// Package web renders genguard's public, server-rendered pages (disclosure,
// service agreement, complaint form, settings). Pages work without
// JavaScript; html/template escapes everything; every form carries a CSRF
// token; responses carry security headers.
package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// Renderer renders pages from templates/*.html. Each page template defines
// "title" and "content"; layout.html wraps them.
type Renderer struct {
	pages map[string]*template.Template
	csrf  *CSRF
}

// NewRenderer parses the embedded templates; extra adds pages from another
// file system (a package with pages of its own embeds and passes them).
func NewRenderer(csrf *CSRF, extra ...fs.FS) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, csrf: csrf}
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	for _, fsys := range append([]fs.FS{templateFS}, extra...) {
		names, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		for _, n := range names {
			base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if base == "layout" {
				continue
			}
			body, err := fs.ReadFile(fsys, n)
			if err != nil {
				return nil, fmt.Errorf("web: %w", err)
			}
			t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
			if err == nil {
				_, err = t.Parse(string(body))
			}
			if err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", n, err)
			}
			r.pages[base] = t
		}
	}
	return r, nil
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}

// Page is what a handler passes to Render.
type Page struct {
	Data any
	// CSRF is filled by Render with a fresh token for forms.
	CSRF string
}

// Render writes the named page with status.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, name string, data any) {
	t, ok := r.pages[name]
	if !ok {
		http.Error(w, "page not found", http.StatusInternalServerError)
		return
	}
	p := Page{Data: data}
	if r.csrf != nil {
		p.CSRF = r.csrf.Token(w, req)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// SecurityHeaders sets the headers every page carries: no scripts from
// anywhere (pages need none), no framing, no MIME sniffing.
func SecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// CSRF issues and checks form tokens bound to a per-browser cookie: the
// token is an HMAC of the cookie value and an expiry, so a forged form from
// another site (which cannot read the cookie) fails.
type CSRF struct {
	key    []byte
	now    func() time.Time
	ttl    time.Duration
	secure bool
}

// ErrCSRF is returned when a form's token is missing, forged or expired.
var ErrCSRF = errors.New("invalid or expired form token; reload the page and submit again")

const csrfCookie = "genguard_csrf"

// NewCSRF returns a CSRF checker keyed with key (≥ 32 bytes, kept secret).
func NewCSRF(key []byte, now func() time.Time, secureCookie bool) *CSRF {
	if now == nil {
		now = time.Now
	}
	return &CSRF{key: key, now: now, ttl: 2 * time.Hour, secure: secureCookie}
}

// Token returns a token for a form, setting the browser cookie if needed.
func (c *CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	id := ""
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) == 22 {
		id = ck.Value
	} else {
		b := make([]byte, 16)
		rand.Read(b)
		id = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: id, Path: "/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode})
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: id})
	}
	exp := make([]byte, 8)
	binary.BigEndian.PutUint64(exp, uint64(c.now().Add(c.ttl).Unix()))
	return base64.RawURLEncoding.EncodeToString(exp) + "." + base64.RawURLEncoding.EncodeToString(c.mac(id, exp))
}

func (c *CSRF) mac(id string, exp []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(id))
	m.Write(exp)
	return m.Sum(nil)
}

// Check verifies the "csrf" form field of a parsed POST form.
func (c *CSRF) Check(r *http.Request) error {
	ck, err := r.Cookie(csrfCookie)
	if err != nil {
		return ErrCSRF
	}
	expB64, macB64, ok := strings.Cut(r.PostFormValue("csrf"), ".")
	if !ok {
		return ErrCSRF
	}
	exp, err1 := base64.RawURLEncoding.DecodeString(expB64)
	sum, err2 := base64.RawURLEncoding.DecodeString(macB64)
	if err1 != nil || err2 != nil || len(exp) != 8 {
		return ErrCSRF
	}
	if subtle.ConstantTimeCompare(sum, c.mac(ck.Value, exp)) != 1 {
		return ErrCSRF
	}
	if c.now().Unix() > int64(binary.BigEndian.Uint64(exp)) {
		return ErrCSRF
	}
	return nil
}
