package guard

import (
	"container/list"
	"crypto/sha256"
	"maps"
	"slices"
	"sync"
	"time"
)

// cache is a bounded LRU of verdicts with a TTL. Keys are SHA-256 digests,
// so the cache never holds the (possibly personal) text itself.
type cache struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	ll    *list.List // front = most recently used
	items map[[32]byte]*list.Element
}

type cacheEntry struct {
	key     [32]byte
	v       Verdict
	expires time.Time
}

func newCache(size int, ttl time.Duration, now func() time.Time) *cache {
	return &cache{size: size, ttl: ttl, now: now, ll: list.New(), items: make(map[[32]byte]*list.Element)}
}

// cacheKey hashes the model name with the text so two models never share
// an entry; the NUL separates them unambiguously.
func cacheKey(model, text string) [32]byte {
	h := sha256.New()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(text))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *cache) get(k [32]byte) (Verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return Verdict{}, false
	}
	ent := e.Value.(*cacheEntry)
	if !c.now().Before(ent.expires) {
		c.ll.Remove(e)
		delete(c.items, k)
		return Verdict{}, false
	}
	c.ll.MoveToFront(e)
	return cloneVerdict(ent.v), true
}

func (c *cache) put(k [32]byte, v Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v = cloneVerdict(v)
	exp := c.now().Add(c.ttl)
	if e, ok := c.items[k]; ok {
		e.Value = &cacheEntry{key: k, v: v, expires: exp}
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, v: v, expires: exp})
	for c.ll.Len() > c.size {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// cloneVerdict copies the slices and map so callers cannot mutate the cache.
func cloneVerdict(v Verdict) Verdict {
	v.Categories = slices.Clone(v.Categories)
	v.Risks = slices.Clone(v.Risks)
	v.Scores = maps.Clone(v.Scores)
	return v
}
