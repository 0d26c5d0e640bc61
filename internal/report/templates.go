package report

import (
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages parses the report templates. html/template escapes every value by
// context: terms, user names and registry text are data, never markup.
func pages() (*template.Template, error) {
	t, err := template.New("report").Funcs(template.FuncMap{
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format(time.RFC3339)
		},
		"join": func(s []string) string { return strings.Join(s, ", ") },
		"pct": func(n, d int64) string {
			if d == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(d))
		},
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("report templates: %w", err)
	}
	return t, nil
}
