package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/store"
)

// Disclosure is what /disclosure publishes (Measures Art. 10; TC260-003
// §7 b; the CAC notice asks for the filed model name and number).
type Disclosure struct {
	ServiceName      string   `json:"service_name"`
	Provider         string   `json:"provider"`
	IntendedUsers    string   `json:"intended_users"`
	Scenarios        string   `json:"scenarios"`
	Uses             string   `json:"uses"`
	Limitations      string   `json:"limitations"`
	ModelSummary     string   `json:"model_summary"`
	FoundationModels []string `json:"foundation_models"`
	FiledModelName   string   `json:"filed_model_name"`
	FilingNumber     string   `json:"filing_number"`
	Complaints       []string `json:"complaints"`
	Regulator        string   `json:"regulator"`
	// TrainingUse says whether user input is used for training; users opt
	// out on /settings (TC260-003 §7 c).
	TrainingUse bool `json:"training_use"`
	// ServesMinors false: the service is not for minors.
	ServesMinors bool `json:"serves_minors"`
}

// UserDuties is what the pages need from the duties service.
type UserDuties interface {
	CurrentAgreement(ctx context.Context) (store.Agreement, error)
	Agreement(ctx context.Context, version string) (store.Agreement, error)
	Accept(ctx context.Context, userID, version, channel string) (store.Acceptance, error)
	AgreementStatus(ctx context.Context, userID string) (store.Agreement, store.Acceptance, bool, error)
	Profile(ctx context.Context, userID string) (store.Profile, error)
	SetTrainingOptOut(ctx context.Context, userID string, optOut bool) (store.Profile, error)
	SetAgeBand(ctx context.Context, userID, band, channel string) (store.Profile, error)
	Standing(ctx context.Context, userID string) (store.Standing, error)
	Usage(ctx context.Context, userID string) (account.Usage, error)
}

// KeyChecker verifies API keys for the sign-in form and open sessions.
type KeyChecker interface {
	Authenticate(ctx context.Context, token string) (account.Principal, error)
	ByKeyID(ctx context.Context, keyID string) (account.Principal, error)
}

// UserPages serves the public pages of the duties towards users: the
// disclosure, the service agreement and the user's settings. Users sign in
// with their API key; the session cookie names the key, so revoking the key
// ends the session.
type UserPages struct {
	r      *Renderer
	csrf   *CSRF
	key    []byte
	now    func() time.Time
	secure bool
	duties UserDuties
	keys   KeyChecker
	disc   Disclosure
	log    *slog.Logger
}

// UserPagesOptions configure UserPages.
type UserPagesOptions struct {
	// Key (≥ 32 secret bytes) signs CSRF tokens and session cookies.
	Key          []byte
	Now          func() time.Time
	SecureCookie bool
	Duties       UserDuties
	Keys         KeyChecker
	Disclosure   Disclosure
	Logger       *slog.Logger
}

// NewUserPages parses the templates.
func NewUserPages(o UserPagesOptions) (*UserPages, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Key) < 32 {
		return nil, errors.New("web: key must be at least 32 bytes")
	}
	csrf := NewCSRF(o.Key, o.Now, o.SecureCookie)
	r, err := NewRenderer(csrf)
	if err != nil {
		return nil, err
	}
	return &UserPages{r: r, csrf: csrf, key: o.Key, now: o.Now, secure: o.SecureCookie, duties: o.Duties, keys: o.Keys, disc: o.Disclosure, log: o.Logger}, nil
}

// maxFormBytes bounds a posted form.
const maxFormBytes = 16 << 10

// wantsJSON reports whether the client asked for JSON rather than HTML.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	SecurityHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Index is the main page: where the disclosure, agreement and settings are
// one click away.
func (p *UserPages) Index() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.r.Render(w, r, http.StatusOK, "index", p.disc)
	})
}

// Disclosure serves /disclosure as HTML, or JSON when asked for.
func (p *UserPages) Disclosure() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, struct {
				Disclosure
				TrainingOptOut string `json:"training_opt_out_url"`
				Agreement      string `json:"agreement_url"`
			}{p.disc, "/settings", "/agreement"})
			return
		}
		p.r.Render(w, r, http.StatusOK, "disclosure", p.disc)
	})
}

type agreementPage struct {
	Agreement store.Agreement
	Blocks    []block
	None      bool
	Current   bool
	Signed    bool
	Accepted  *store.Acceptance
	Error     string
}

// Agreement serves the current agreement (or ?version=), as HTML with an
// accept button for a signed-in user, or JSON when asked for.
func (p *UserPages) Agreement() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		cur, err := p.duties.CurrentAgreement(ctx)
		none := errors.Is(err, store.ErrNotFound)
		if err != nil && !none {
			p.fail(w, r, err)
			return
		}
		a := cur
		if v := r.URL.Query().Get("version"); v != "" && v != cur.Version {
			if a, err = p.duties.Agreement(ctx, v); err != nil {
				p.notFound(w, r, "no such agreement version")
				return
			}
		}
		if none && a.Version == "" {
			if wantsJSON(r) {
				writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"message": "no service agreement is published", "type": "invalid_request_error", "code": "not_found"}})
				return
			}
			p.r.Render(w, r, http.StatusOK, "agreement", agreementPage{None: true})
			return
		}
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, map[string]any{"version": a.Version, "sha256": a.SHA256, "published_at": a.PublishedAt,
				"current": a.Version == cur.Version, "text": a.Body, "accept": "POST /v1/agreement/accept"})
			return
		}
		pg := agreementPage{Agreement: a, Blocks: markdownBlocks(a.Body), Current: a.Version == cur.Version}
		if pr, ok := p.session(r); ok {
			pg.Signed = true
			if _, acc, ok, err := p.duties.AgreementStatus(ctx, pr.UserID); err == nil && ok {
				pg.Accepted = &acc
			}
		}
		p.r.Render(w, r, http.StatusOK, "agreement", pg)
	})
}

// AcceptAgreement records a signed-in user's acceptance (channel "web").
func (p *UserPages) AcceptAgreement() http.Handler {
	return p.form(func(w http.ResponseWriter, r *http.Request, pr account.Principal) {
		if _, err := p.duties.Accept(r.Context(), pr.UserID, r.PostFormValue("version"), account.ChannelWeb); err != nil {
			if errors.Is(err, account.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
				p.r.Render(w, r, http.StatusBadRequest, "agreement", agreementPage{None: true, Error: "协议已更新，请重新阅读。The agreement changed; read the current version and accept again."})
				return
			}
			p.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/agreement", http.StatusSeeOther)
	})
}

type settingsPage struct {
	Signed      bool
	Error       string
	Saved       bool
	Profile     store.Profile
	Standing    store.Standing
	Usage       account.Usage
	Agreement   store.Agreement
	Accepted    bool
	TrainingUse bool
	Minors      bool
}

// Settings shows the sign-in form, or the signed-in user's settings.
func (p *UserPages) Settings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := p.session(r)
		if !ok {
			p.r.Render(w, r, http.StatusOK, "settings", settingsPage{})
			return
		}
		p.renderSettings(w, r, http.StatusOK, pr, "")
	})
}

func (p *UserPages) renderSettings(w http.ResponseWriter, r *http.Request, status int, pr account.Principal, msg string) {
	ctx := r.Context()
	pg := settingsPage{Signed: true, Error: msg, Saved: r.URL.Query().Get("saved") == "1", TrainingUse: p.disc.TrainingUse, Minors: p.disc.ServesMinors}
	var err error
	if pg.Profile, err = p.duties.Profile(ctx, pr.UserID); err == nil {
		if pg.Standing, err = p.duties.Standing(ctx, pr.UserID); err == nil {
			if pg.Usage, err = p.duties.Usage(ctx, pr.UserID); err == nil {
				pg.Agreement, _, pg.Accepted, err = p.duties.AgreementStatus(ctx, pr.UserID)
			}
		}
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.r.Render(w, r, status, "settings", pg)
}

// Login signs a user in with an API key (admin keys are refused).
func (p *UserPages) Login() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.parseForm(w, r) {
			return
		}
		pr, err := p.keys.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("api_key")))
		if err != nil || pr.UserID == "" {
			if err != nil && !errors.Is(err, account.ErrUnauthorized) {
				p.fail(w, r, err)
				return
			}
			p.r.Render(w, r, http.StatusUnauthorized, "settings", settingsPage{Error: "API 密钥无效。The API key is not valid (or is an admin key)."})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: p.sessionValue(pr.KeyID), Path: "/", HttpOnly: true, Secure: p.secure,
			SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)})
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
	})
}

// Logout ends the session.
func (p *UserPages) Logout() http.Handler {
	return p.form(func(w http.ResponseWriter, r *http.Request, _ account.Principal) {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
	})
}

// SaveSettings applies one setting: training=opt_out|opt_in, or
// age=adult (a user confirming they are 18 or older).
func (p *UserPages) SaveSettings() http.Handler {
	return p.form(func(w http.ResponseWriter, r *http.Request, pr account.Principal) {
		ctx := r.Context()
		var err error
		switch {
		case r.PostFormValue("training") == "opt_out":
			_, err = p.duties.SetTrainingOptOut(ctx, pr.UserID, true)
		case r.PostFormValue("training") == "opt_in":
			_, err = p.duties.SetTrainingOptOut(ctx, pr.UserID, false)
		case r.PostFormValue("age") == store.AgeAdult && r.PostFormValue("confirm") == "yes":
			prof, perr := p.duties.Profile(ctx, pr.UserID)
			if perr != nil {
				err = perr
			} else if prof.AgeBand != store.AgeUnknown {
				// A band set by an admin or guardian is not the user's to change.
				p.renderSettings(w, r, http.StatusBadRequest, pr, "年龄段已设定，如需更改请联系客服。Your age band is already set; contact support to change it.")
				return
			} else {
				_, err = p.duties.SetAgeBand(ctx, pr.UserID, store.AgeAdult, account.ChannelWeb)
			}
		default:
			p.renderSettings(w, r, http.StatusBadRequest, pr, "未知设置。Unknown setting.")
			return
		}
		if err != nil {
			p.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	})
}

// form wraps a POST handler that needs a signed-in user and a valid CSRF
// token.
func (p *UserPages) form(h func(w http.ResponseWriter, r *http.Request, pr account.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.parseForm(w, r) {
			return
		}
		pr, ok := p.session(r)
		if !ok {
			p.r.Render(w, r, http.StatusUnauthorized, "settings", settingsPage{Error: "请先登录。Sign in first."})
			return
		}
		h(w, r, pr)
	})
}

// parseForm reads a bounded form and checks its CSRF token.
func (p *UserPages) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.r.Render(w, r, http.StatusBadRequest, "settings", settingsPage{Error: "表单无效。The form could not be read."})
		return false
	}
	if err := p.csrf.Check(r); err != nil {
		p.r.Render(w, r, http.StatusForbidden, "settings", settingsPage{Error: err.Error()})
		return false
	}
	return true
}

func (p *UserPages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	p.r.Render(w, r, http.StatusInternalServerError, "settings", settingsPage{Error: "服务暂时不可用。Something went wrong; try again."})
}

func (p *UserPages) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	p.r.Render(w, r, http.StatusNotFound, "agreement", agreementPage{None: true, Error: msg})
}

// ---- sessions ----

const (
	sessionCookie = "genguard_session"
	sessionTTL    = 12 * time.Hour
)

// sessionValue is "keyID.expiry.mac": the key id, not the secret, so the
// cookie is useless once the key is revoked or the session expires.
func (p *UserPages) sessionValue(keyID string) string {
	payload := keyID + "." + strconv.FormatInt(p.now().Add(sessionTTL).Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(p.sessionMAC(payload))
}

func (p *UserPages) sessionMAC(payload string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("session\x00" + payload))
	return m.Sum(nil)
}

// session returns the signed-in user, if the cookie is valid, unexpired and
// its key still active.
func (p *UserPages) session(r *http.Request) (account.Principal, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || len(ck.Value) > 256 {
		return account.Principal{}, false
	}
	i := strings.LastIndexByte(ck.Value, '.')
	if i < 0 {
		return account.Principal{}, false
	}
	payload := ck.Value[:i]
	sum, err := base64.RawURLEncoding.DecodeString(ck.Value[i+1:])
	if err != nil || subtle.ConstantTimeCompare(sum, p.sessionMAC(payload)) != 1 {
		return account.Principal{}, false
	}
	keyID, expS, ok := strings.Cut(payload, ".")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if !ok || err != nil || p.now().Unix() > exp {
		return account.Principal{}, false
	}
	pr, err := p.keys.ByKeyID(r.Context(), keyID)
	if err != nil || pr.UserID == "" {
		return account.Principal{}, false
	}
	return pr, true
}

// ---- Markdown ----

// block is one rendered Markdown block; the template escapes Text.
type block struct {
	Kind string // h1, h2, h3, p, li
	Text string
}

// maxBlocks bounds what one agreement renders into.
const maxBlocks = 10_000

// markdownBlocks renders the Markdown agreements use — headings, bullet
// items, paragraphs — into blocks; inline markup stays as text. It never
// emits HTML, so an agreement cannot inject markup.
func markdownBlocks(md string) []block {
	var out []block
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, block{"p", strings.Join(para, " ")})
			para = nil
		}
	}
	for line := range strings.Lines(md) {
		if len(out) >= maxBlocks {
			break
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "### "):
			flush()
			out = append(out, block{"h3", t[4:]})
		case strings.HasPrefix(t, "## "):
			flush()
			out = append(out, block{"h2", t[3:]})
		case strings.HasPrefix(t, "# "):
			flush()
			out = append(out, block{"h1", t[2:]})
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			out = append(out, block{"li", t[2:]})
		default:
			para = append(para, t)
		}
	}
	flush()
	return out
}
