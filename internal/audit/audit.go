// Package audit writes the hash-chained audit trail: per-request records and
// events (sanctions, complaint transitions, admin actions, incidents). Records go through a
// bounded queue to one writer goroutine that inserts them in batches, one
// transaction per batch: the request path never waits on a disk sync, a full
// queue blocks callers (backpressure) instead of dropping, and Close drains
// everything accepted before returning.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// Writer persists a batch atomically.
type Writer interface {
	InsertAudit(ctx context.Context, recs []store.AuditRecord) error
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit log closed")

// Options configure a Log.
type Options struct {
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	Logger        *slog.Logger
	// Now stamps events without a time; time.Now when nil.
	Now func() time.Time
	// Checkpoint, when set, signs the chain head. Run calls it after
	// CheckpointEvery records or CheckpointInterval, whichever comes first,
	// and once more when closing.
	Checkpoint         func(ctx context.Context) error
	CheckpointEvery    int
	CheckpointInterval time.Duration
}

// Log is the asynchronous audit writer.
type Log struct {
	w      Writer
	opts   Options
	in     chan entry
	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
	done   chan struct{}

	written  atomic.Int64
	failures atomic.Int64
}

type entry struct {
	rec  store.AuditRecord
	sync chan error // non-nil in strict mode: told when the batch commits
}

// New returns a Log; call Run in a goroutine the caller owns.
func New(w Writer, o Options) *Log {
	if o.QueueSize < 1 {
		o.QueueSize = 1024
	}
	if o.BatchSize < 1 {
		o.BatchSize = 256
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckpointEvery < 1 {
		o.CheckpointEvery = 10000
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Minute
	}
	return &Log{w: w, opts: o, in: make(chan entry, o.QueueSize), done: make(chan struct{})}
}

// Record queues rec. It blocks while the queue is full, until ctx ends.
func (l *Log) Record(ctx context.Context, rec store.AuditRecord) error {
	return l.send(ctx, entry{rec: rec})
}

// RecordSync queues rec and waits until it is committed (strict mode).
func (l *Log) RecordSync(ctx context.Context, rec store.AuditRecord) error {
	ch := make(chan error, 1)
	if err := l.send(ctx, entry{rec: rec, sync: ch}); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		// The record stays queued and will be written; only the wait ends.
		return ctx.Err()
	}
}

func (l *Log) send(ctx context.Context, e entry) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.in <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len is the number of queued records.
func (l *Log) Len() int { return len(l.in) }

// Cap is the queue's capacity.
func (l *Log) Cap() int { return cap(l.in) }

// Written counts records committed since start.
func (l *Log) Written() int64 { return l.written.Load() }

// Failures counts failed batch writes (each is retried).
func (l *Log) Failures() int64 { return l.failures.Load() }

// Close stops accepting records and waits until Run has written all queued
// ones, or ctx ends.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.in)
	}
	l.mu.Unlock()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes batches until Close has been called and the queue is empty.
// stop aborts retries of a failing store (records then are lost, and logged);
// normal shutdown goes through Close, which loses nothing.
func (l *Log) Run(stop context.Context) {
	defer close(l.done)
	batch := make([]entry, 0, l.opts.BatchSize)
	recs := make([]store.AuditRecord, 0, l.opts.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		recs = recs[:0]
		for _, e := range batch {
			recs = append(recs, e.rec)
		}
		err := l.writeWithRetry(stop, recs)
		for _, e := range batch {
			if e.sync != nil {
				e.sync <- err
			}
		}
		clear(batch)
		batch = batch[:0]
	}
	// Checkpoints: sinceCP records are not yet covered by a signature.
	var sinceCP int
	lastCP := time.Now()
	var tick <-chan time.Time
	if l.opts.Checkpoint != nil {
		t := time.NewTicker(l.opts.CheckpointInterval)
		defer t.Stop()
		tick = t.C
	}
	checkpoint := func(force bool) {
		if l.opts.Checkpoint == nil || sinceCP == 0 {
			return
		}
		if !force && sinceCP < l.opts.CheckpointEvery && time.Since(lastCP) < l.opts.CheckpointInterval {
			return
		}
		if err := l.opts.Checkpoint(context.WithoutCancel(stop)); err != nil {
			l.opts.Logger.Error("audit checkpoint failed; will retry", "err", err)
			return
		}
		sinceCP, lastCP = 0, time.Now()
	}
	for {
		var e entry
		var ok bool
		select {
		case e, ok = <-l.in:
		case <-tick:
			checkpoint(false)
			continue
		}
		if !ok {
			checkpoint(true)
			return
		}
		batch = append(batch, e)
		// Gather what is already queued, then wait up to FlushInterval for
		// more, so one sync covers many requests under load.
		timer.Reset(l.opts.FlushInterval)
	gather:
		for len(batch) < l.opts.BatchSize {
			select {
			case e, ok := <-l.in:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		sinceCP += len(batch)
		flush()
		checkpoint(false)
	}
}

func (l *Log) writeWithRetry(stop context.Context, recs []store.AuditRecord) error {
	backoff := 10 * time.Millisecond
	for {
		err := l.w.InsertAudit(context.WithoutCancel(stop), recs)
		if err == nil {
			l.written.Add(int64(len(recs)))
			return nil
		}
		l.failures.Add(1)
		l.opts.Logger.Error("audit batch write failed; retrying", "records", len(recs), "err", err)
		select {
		case <-stop.Done():
			l.opts.Logger.Error("audit records abandoned at forced stop", "records", len(recs))
			return err
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}
