package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/genguard/genguard/internal/complaint"
	"github.com/genguard/genguard/internal/store"
)

// ComplaintFiler is what the complaint pages need (complaint.Service).
type ComplaintFiler interface {
	Categories() []complaint.Category
	Process() string
	MaxAttachmentBytes() int64
	MaxDescription() int
	AllowedTypes() []string
	File(ctx context.Context, in complaint.Input) (store.Complaint, string, error)
	Status(ctx context.Context, id, token string) (complaint.Status, error)
}

// ComplaintPages serves the public complaint form (/complaints/new), the
// published process (/complaints/process) and the private status page
// (/complaints/{id}?t=TOKEN). They work without JavaScript.
type ComplaintPages struct {
	r    *Renderer
	csrf *CSRF
	svc  ComplaintFiler
	lim  *IPLimiter
	log  *slog.Logger
	loc  *time.Location
}

// ComplaintPagesOptions configure ComplaintPages.
type ComplaintPagesOptions struct {
	Key          []byte // ≥ 32 secret bytes for CSRF tokens
	Now          func() time.Time
	SecureCookie bool
	Service      ComplaintFiler
	Limiter      *IPLimiter
	Location     *time.Location // for showing times
	Logger       *slog.Logger
}

// NewComplaintPages parses the templates.
func NewComplaintPages(o ComplaintPagesOptions) (*ComplaintPages, error) {
	if len(o.Key) < 32 {
		return nil, errors.New("web: key must be at least 32 bytes")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	csrf := NewCSRF(o.Key, o.Now, o.SecureCookie)
	r, err := NewRenderer(csrf)
	if err != nil {
		return nil, err
	}
	return &ComplaintPages{r: r, csrf: csrf, svc: o.Service, lim: o.Limiter, log: o.Logger, loc: o.Location}, nil
}

// complaintForm is the form page's data; Values echo what was entered
// (html/template escapes them).
type complaintForm struct {
	Categories    []complaint.Category
	Process       string
	MaxAttachment int64
	MaxDesc       int
	Types         []string
	Error         string
	ErrorField    string
	Values        complaint.Input
}

func (p *ComplaintPages) form(in complaint.Input, msg, field string) complaintForm {
	return complaintForm{Categories: p.svc.Categories(), Process: p.svc.Process(), MaxAttachment: p.svc.MaxAttachmentBytes(),
		MaxDesc: p.svc.MaxDescription(), Types: p.svc.AllowedTypes(), Error: msg, ErrorField: field, Values: in}
}

// New renders the empty form; ?category= and ?request_id= prefill it (a
// "report this answer" link from a client).
func (p *ComplaintPages) New() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		in := complaint.Input{Category: q.Get("category"), RequestID: q.Get("request_id"), EnforcementID: q.Get("enforcement_id")}
		p.r.Render(w, r, http.StatusOK, "complaint_new", p.form(in, "", ""))
	})
}

// Process renders the published process and deadlines.
func (p *ComplaintPages) Process() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.r.Render(w, r, http.StatusOK, "complaint_process", p.form(complaint.Input{}, "", ""))
	})
}

// MaxBody is the largest form Submit accepts: the attachment and the fields.
func (p *ComplaintPages) MaxBody() int64 { return p.svc.MaxAttachmentBytes() + 512<<10 }

type complaintDone struct {
	Ticket    string
	Link      string
	Due       string
	Category  string
	Attached  bool
	Process   string
	Deadlines []complaint.Category
}

// Submit takes the posted form: rate limit, parse, CSRF, file; the ticket
// number is shown only after the complaint is committed.
func (p *ComplaintPages) Submit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retry, ok := p.lim.Allow(ClientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			p.r.Render(w, r, http.StatusTooManyRequests, "complaint_new", p.form(complaint.Input{}, "提交过于频繁，请稍后再试。Too many complaints from your address; please try again later.", ""))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, p.MaxBody())
		in, token, err := complaint.ParseForm(r.Header.Get("Content-Type"), r.Body, p.svc.MaxAttachmentBytes())
		if err != nil {
			p.fail(w, r, in, err)
			return
		}
		// CSRF.Check reads the token from PostForm; the body is already read.
		r.PostForm = map[string][]string{"csrf": {token}}
		if err := p.csrf.Check(r); err != nil {
			p.r.Render(w, r, http.StatusForbidden, "complaint_new", p.form(in, err.Error(), "csrf"))
			return
		}
		in.Channel = "web"
		c, tok, err := p.svc.File(r.Context(), in)
		if err != nil {
			p.fail(w, r, in, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		p.r.Render(w, r, http.StatusCreated, "complaint_done", complaintDone{Ticket: c.ID, Link: "/complaints/" + c.ID + "?t=" + tok,
			Due: c.DueAt.In(p.loc).Format("2006-01-02 15:04 MST"), Category: c.Category, Attached: c.Attachment != nil,
			Process: p.svc.Process(), Deadlines: p.svc.Categories()})
	})
}

func (p *ComplaintPages) fail(w http.ResponseWriter, r *http.Request, in complaint.Input, err error) {
	in.Attachment = nil
	var ie *complaint.InvalidError
	switch {
	case errors.As(err, &ie):
		p.r.Render(w, r, http.StatusBadRequest, "complaint_new", p.form(in, ie.Error(), ie.Field))
	case errors.Is(err, complaint.ErrTooLarge):
		p.r.Render(w, r, http.StatusRequestEntityTooLarge, "complaint_new", p.form(in, "提交的内容过大。The complaint is too large.", "attachment"))
	default:
		p.log.ErrorContext(r.Context(), "complaint not filed", "err", err)
		p.r.Render(w, r, http.StatusInternalServerError, "complaint_new", p.form(in, "暂时无法提交，请稍后再试。We could not take your complaint right now; please try again.", ""))
	}
}

type complaintStatusPage struct {
	S        complaint.Status
	Due      string
	Created  string
	Closed   string
	Overdue  bool
	History  []statusEvent
	NotFound bool
}

type statusEvent struct {
	Time, Kind, To, Text string
}

// Status renders the private status page.
func (p *ComplaintPages) Status() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		st, err := p.svc.Status(r.Context(), r.PathValue("id"), r.URL.Query().Get("t"))
		if errors.Is(err, complaint.ErrNoTicket) {
			p.r.Render(w, r, http.StatusNotFound, "complaint_status", complaintStatusPage{NotFound: true})
			return
		}
		if err != nil {
			p.log.ErrorContext(r.Context(), "complaint status", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		f := func(t time.Time) string { return t.In(p.loc).Format("2006-01-02 15:04") }
		pg := complaintStatusPage{S: st, Due: f(st.DueAt), Created: f(st.CreatedAt), Overdue: st.ClosedAt == nil && time.Now().After(st.DueAt)}
		if st.ClosedAt != nil {
			pg.Closed = f(*st.ClosedAt)
		}
		for _, e := range st.History {
			pg.History = append(pg.History, statusEvent{Time: f(e.Time), Kind: e.Kind, To: e.To, Text: e.Text})
		}
		p.r.Render(w, r, http.StatusOK, "complaint_status", pg)
	})
}
