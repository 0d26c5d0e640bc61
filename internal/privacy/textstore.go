package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// TextStoreDB is what the text store needs from persistence.
type TextStoreDB interface {
	InsertStoredTexts(ctx context.Context, ts []store.StoredText) error
	StoredTexts(ctx context.Context, pseudonym, requestID string, limit int) ([]store.StoredText, error)
	PurgeStoredTexts(ctx context.Context, before time.Time, limit int) (int64, error)
	DeleteStoredTexts(ctx context.Context, requestID string) (int64, error)
	ConsentWithdrawn(ctx context.Context, userID string) (bool, error)
}

// TextOptions configure a TextStore.
type TextOptions struct {
	Retention     time.Duration // texts older than this are purged
	PurgeInterval time.Duration
	QueueSize     int
	MaxTextBytes  int // longer texts are cut before redaction
	Pseudonym     func(userID string) string
	Now           func() time.Time
	Logger        *slog.Logger
}

// TextStore keeps prompts and responses, redacted and encrypted, for a
// limited time (off by default; Measures Art. 11). Writes go through a
// bounded queue to one writer goroutine so the request path never waits on
// the disk; when the queue is full a text is dropped and counted (unlike
// audit records, stored text is optional).
type TextStore struct {
	db   TextStoreDB
	det  *Detector
	keys *Keyring
	o    TextOptions
	in   chan pending

	mu     sync.RWMutex
	closed bool

	stored, dropped, purged atomic.Int64
}

type pending struct {
	userID, requestID, kind, text string
	at                            time.Time
}

// NewTextStore returns a TextStore; call Run in a goroutine you own.
func NewTextStore(db TextStoreDB, det *Detector, keys *Keyring, o TextOptions) *TextStore {
	if o.QueueSize < 1 {
		o.QueueSize = 1024
	}
	if o.MaxTextBytes < 1 {
		o.MaxTextBytes = 64 << 10
	}
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &TextStore{db: db, det: det, keys: keys, o: o, in: make(chan pending, o.QueueSize)}
}

// StoreText queues a request's prompt and response. It never blocks.
func (t *TextStore) StoreText(ctx context.Context, userID, requestID, prompt, response string) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed || userID == "" {
		return
	}
	now := t.o.Now()
	for _, p := range []pending{{userID, requestID, "prompt", prompt, now}, {userID, requestID, "response", response, now}} {
		if p.text == "" {
			continue
		}
		select {
		case t.in <- p:
		default:
			t.dropped.Add(1)
		}
	}
}

// Stats: texts stored, dropped on a full queue, purged.
func (t *TextStore) Stats() (stored, dropped, purged int64) {
	return t.stored.Load(), t.dropped.Load(), t.purged.Load()
}

// aad binds a sealed text to its request and kind.
func aad(requestID, kind string) []byte { return []byte(requestID + "\x00" + kind) }

// Run writes queued texts in batches and purges old ones every
// PurgeInterval, until stop is done; then it writes what is queued and
// returns.
func (t *TextStore) Run(stop context.Context) {
	purge := time.NewTicker(t.o.PurgeInterval)
	defer purge.Stop()
	t.purge(stop)
	for {
		select {
		case <-stop.Done():
			t.mu.Lock()
			t.closed = true
			t.mu.Unlock()
			t.drain(context.WithoutCancel(stop))
			return
		case <-purge.C:
			t.purge(stop)
		case p := <-t.in:
			batch := []pending{p}
		fill:
			for len(batch) < 256 {
				select {
				case p := <-t.in:
					batch = append(batch, p)
				default:
					break fill
				}
			}
			t.write(stop, batch)
		}
	}
}

func (t *TextStore) drain(ctx context.Context) {
	var batch []pending
	for {
		select {
		case p := <-t.in:
			batch = append(batch, p)
		default:
			t.write(ctx, batch)
			return
		}
	}
}

func (t *TextStore) write(ctx context.Context, batch []pending) {
	recs := make([]store.StoredText, 0, len(batch))
	consent := map[string]bool{}
	for _, p := range batch {
		withdrawn, seen := consent[p.userID]
		if !seen {
			w, err := t.db.ConsentWithdrawn(ctx, p.userID)
			if err != nil {
				t.o.Logger.Error("text store: consent lookup failed; text not stored", "err", err)
				w = true // fail towards not storing
			}
			consent[p.userID], withdrawn = w, w
		}
		if withdrawn {
			continue
		}
		text, _ := t.det.Redact(truncateUTF8(p.text, t.o.MaxTextBytes))
		keyID, sealed := t.keys.Seal([]byte(text), aad(p.requestID, p.kind))
		recs = append(recs, store.StoredText{RequestID: p.requestID, UserPseudonym: t.o.Pseudonym(p.userID), Kind: p.kind, KeyID: keyID, Sealed: sealed, CreatedAt: p.at})
	}
	if len(recs) == 0 {
		return
	}
	if err := t.db.InsertStoredTexts(ctx, recs); err != nil {
		t.dropped.Add(int64(len(recs)))
		t.o.Logger.Error("text store: write failed; texts dropped", "n", len(recs), "err", err)
		return
	}
	t.stored.Add(int64(len(recs)))
}

// purge deletes texts past the retention period, in chunks.
func (t *TextStore) purge(ctx context.Context) {
	cutoff := t.o.Now().Add(-t.o.Retention)
	for range 1000 { // at most 1000 chunks per round; the next round goes on
		n, err := t.db.PurgeStoredTexts(ctx, cutoff, 1000)
		if err != nil {
			if ctx.Err() == nil {
				t.o.Logger.Error("text store: purge failed", "err", err)
			}
			return
		}
		t.purged.Add(n)
		if n < 1000 {
			return
		}
	}
}

// RemoveContent deletes a request's stored texts (a takedown).
func (t *TextStore) RemoveContent(ctx context.Context, requestID string) (int64, error) {
	return t.db.DeleteStoredTexts(ctx, requestID)
}

// Text is a stored text, decrypted, for an export.
type Text struct {
	RequestID string    `json:"request_id"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Texts decrypts a user's stored texts.
func (t *TextStore) Texts(ctx context.Context, userID string) ([]Text, error) {
	recs, err := t.db.StoredTexts(ctx, t.o.Pseudonym(userID), "", 0)
	if err != nil {
		return nil, fmt.Errorf("stored texts: %w", err)
	}
	out := make([]Text, 0, len(recs))
	for _, r := range recs {
		pt, err := t.keys.Open(r.KeyID, r.Sealed, aad(r.RequestID, r.Kind))
		if err != nil {
			return nil, fmt.Errorf("stored text %d: %w", r.ID, err)
		}
		out = append(out, Text{RequestID: r.RequestID, Kind: r.Kind, Text: string(pt), CreatedAt: r.CreatedAt})
	}
	return out, nil
}
