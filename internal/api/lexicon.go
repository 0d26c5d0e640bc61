package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/genguard/genguard/internal/openai"
	"github.com/genguard/genguard/internal/store"
)

// LexiconReloader reloads the keyword library from its files and swaps it
// in atomically. A file that does not parse leaves the library in use and
// is reported as an *InvalidLexicon error naming file and line.
type LexiconReloader interface {
	Reload(ctx context.Context, actor string) (v store.LexiconVersion, changed bool, err error)
}

// InvalidLexicon is a reload refused because a library file is bad.
type InvalidLexicon struct{ Err error }

func (e *InvalidLexicon) Error() string { return "keyword library not reloaded: " + e.Err.Error() }
func (e *InvalidLexicon) Unwrap() error { return e.Err }

type lexiconVersionJSON struct {
	Hash     string         `json:"hash"`
	LoadedAt time.Time      `json:"loaded_at"`
	Source   string         `json:"source"`
	Terms    int            `json:"terms"`
	Allow    int            `json:"allow"`
	ByRisk   map[string]int `json:"by_risk"`
	Changed  bool           `json:"changed"`
}

// handleLexiconReload serves POST /admin/lexicon/reload.
func handleLexiconReload(log *slog.Logger, l LexiconReloader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, changed, err := l.Reload(r.Context(), "admin:"+principalFrom(r.Context()).KeyID)
		if bad := (*InvalidLexicon)(nil); errors.As(err, &bad) {
			openai.WriteError(w, &openai.Error{Status: http.StatusUnprocessableEntity, Type: openai.TypeInvalidRequest,
				Code: "lexicon_invalid", Message: bad.Error()})
			return
		}
		if err != nil {
			writeErr(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, lexiconVersionJSON{v.Hash, v.LoadedAt, v.Source, v.Terms, v.Allow, v.ByRisk, changed})
	})
}
