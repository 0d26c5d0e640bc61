package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// IPLimiter allows n events per client IP per window (fixed windows). Its
// table is bounded: when full, expired entries are swept, and if it is
// still full the oldest window is evicted, so memory stays bounded under a
// flood from many addresses.
type IPLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	max    int
	now    func() time.Time
	seen   map[string]*ipWindow
}

type ipWindow struct {
	start time.Time
	count int
}

// NewIPLimiter returns a limiter; maxIPs bounds the table.
func NewIPLimiter(n int, window time.Duration, maxIPs int, now func() time.Time) *IPLimiter {
	if now == nil {
		now = time.Now
	}
	return &IPLimiter{n: max(n, 1), window: window, max: max(maxIPs, 1), now: now, seen: map[string]*ipWindow{}}
}

// Allow counts an event for ip and reports whether it is within the limit;
// when not, it says how long until the window ends.
func (l *IPLimiter) Allow(ip string) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w, ok := l.seen[ip]
	if ok && now.Sub(w.start) >= l.window {
		w.start, w.count = now, 0
	}
	if !ok {
		if len(l.seen) >= l.max {
			l.evict(now)
		}
		w = &ipWindow{start: now}
		l.seen[ip] = w
	}
	if w.count >= l.n {
		return w.start.Add(l.window).Sub(now), false
	}
	w.count++
	return 0, true
}

// Len is the number of tracked addresses.
func (l *IPLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

func (l *IPLimiter) evict(now time.Time) {
	var oldestIP string
	var oldest time.Time
	for ip, w := range l.seen {
		if now.Sub(w.start) >= l.window {
			delete(l.seen, ip)
			continue
		}
		if oldestIP == "" || w.start.Before(oldest) {
			oldestIP, oldest = ip, w.start
		}
	}
	if len(l.seen) >= l.max {
		delete(l.seen, oldestIP)
	}
}

// ClientIP is the address the connection comes from. Forwarded headers are
// ignored: behind a proxy, every client shares the proxy's limit, which
// is safe (spoofed headers cannot dodge it).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
