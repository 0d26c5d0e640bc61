package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/api"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/complaint"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/metrics"
	"github.com/genguard/genguard/internal/privacy"
	"github.com/genguard/genguard/internal/store/sqlite"
	"github.com/genguard/genguard/internal/web"
)

// complaintParts is issue 6 wired: complaints, their pages, PI requests,
// and the text store with its writer and purge loop (owned by App.Run).
type complaintParts struct {
	complaints *complaint.Service
	pages      *web.ComplaintPages
	limiter    *web.IPLimiter
	requests   *privacy.Requests
	texts      *privacy.TextStore // nil unless privacy.store_text
}

// categoryLabels are the names the form shows.
func categoryLabels() map[string]string {
	return map[string]string{
		complaint.IllegalContent: "违法和不良信息 Illegal or harmful content", complaint.IllegalActivity: "用户违法行为 A user's illegal activity",
		complaint.IPInfringement: "知识产权侵权 Intellectual-property infringement", complaint.PersonalInfo: "个人信息 Personal information",
		complaint.MissingLabel: "生成内容未添加AI标识 Missing AI label", complaint.Appeal: "对处置措施申诉 Appeal against an enforcement action",
		complaint.Other: "其他 Other",
	}
}

// buildComplaints wires issue 6. sanctions is issue 5's enforcement ladder
// (the same path as POST /admin/users/{id}/sanctions); nil leaves sanction
// actions refused.
func buildComplaints(ctx context.Context, db *sqlite.DB, cfg config.Config, accounts *account.Service, sanctions complaint.Sanctioner,
	m *metrics.Metrics, log *slog.Logger, now func() time.Time) (*complaintParts, error) {
	if now == nil {
		now = time.Now
	}
	cc := cfg.Complaints
	loc, err := cc.Location()
	if err != nil {
		return nil, fmt.Errorf("complaints.timezone: %w", err)
	}
	cal, err := complaint.NewCalendar(loc, cc.Holidays, cc.Workdays)
	if err != nil {
		return nil, err
	}
	events := audit.NewDirect(db) // durable before acknowledged, like issue 5's events
	p := &complaintParts{limiter: web.NewIPLimiter(cc.RateLimit, cc.RateWindow.D(), cc.RateTableSize, now)}
	var content complaint.ContentRemover
	if pc := cfg.Privacy; pc.StoreText {
		keys, err := pc.Keys()
		if err != nil {
			return nil, err
		}
		ring, err := privacy.NewKeyring(pc.TextKeyID, keys)
		if err != nil {
			return nil, err
		}
		p.texts = privacy.NewTextStore(db, privacy.NewDetector(), ring, privacy.TextOptions{Retention: pc.TextRetention.D(), PurgeInterval: pc.PurgeInterval.D(),
			QueueSize: pc.TextQueueSize, MaxTextBytes: pc.MaxTextBytes, Pseudonym: accounts.Pseudonym, Now: now, Logger: log})
		content = p.texts
		m.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "genguard_stored_texts_dropped_total", Help: "Prompt/response texts not stored (queue full or write failed)."},
			func() float64 { _, d, _ := p.texts.Stats(); return float64(d) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "genguard_stored_texts_purged_total", Help: "Stored texts purged after the retention period."},
				func() float64 { _, _, n := p.texts.Stats(); return float64(n) }))
	}
	var cats []complaint.Category
	labels := categoryLabels()
	for _, n := range complaint.CategoryNames() {
		cats = append(cats, complaint.Category{Name: n, Label: labels[n], Workdays: cc.Deadlines[n]})
	}
	p.complaints, err = complaint.New(db, complaint.Options{Categories: cats, Process: cc.Process, Calendar: cal, MaxDescription: cc.MaxDescription,
		MaxAttachmentBytes: cc.MaxAttachmentBytes, AllowedTypes: cc.AttachmentTypes, Now: now, Logger: log, Events: events,
		Sanctions: sanctions, Content: content})
	if err != nil {
		return nil, err
	}
	p.requests = privacy.NewRequests(db, privacy.RequestsOptions{Calendar: cal, Workdays: cfg.Privacy.RequestDeadline, Pseudonym: accounts.Pseudonym,
		Texts: p.texts, FilesDir: filepath.Join(cfg.DataDir, FilesDir), Keys: accounts, Events: events, Now: now, Logger: log})
	key, err := secret(ctx, db, "web_key")
	if err != nil {
		return nil, err
	}
	p.pages, err = web.NewComplaintPages(web.ComplaintPagesOptions{Key: key, Now: now, SecureCookie: strings.HasPrefix(cfg.Users.BaseURL, "https://"),
		Service: p.complaints, Limiter: p.limiter, Location: loc, Logger: log})
	if err != nil {
		return nil, err
	}
	overdue := func(count func(context.Context) (int, error)) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := count(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}
	}
	m.Register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "genguard_complaints_overdue", Help: "Open complaints past their published deadline (-1: store unavailable)."}, overdue(p.complaints.Overdue)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "genguard_pi_requests_overdue", Help: "Open personal-information requests past their deadline (-1: store unavailable)."}, overdue(p.requests.Overdue)),
	)
	return p, nil
}

// start runs the text store's writer and purge loop until stop; the
// returned function waits for it to finish writing.
func (p *complaintParts) start(stop context.Context) (wait func()) {
	var wg sync.WaitGroup
	if p.texts != nil {
		wg.Go(func() { p.texts.Run(stop) })
	}
	return wg.Wait
}

// textSink is the api.TextSink, or a nil interface when text storage is
// off (never a nil pointer in a non-nil interface).
func (p *complaintParts) textSink() api.TextSink {
	if p.texts == nil {
		return nil
	}
	return p.texts
}
