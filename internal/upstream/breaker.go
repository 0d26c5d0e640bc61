package upstream

import (
	"sync"
	"time"
)

// BreakerState is a circuit breaker's state.
type BreakerState int

const (
	Closed BreakerState = iota
	HalfOpen
	Open
)

func (s BreakerState) String() string {
	return [...]string{"closed", "half-open", "open"}[s]
}

// Breaker opens after Threshold consecutive failures, rejects calls for
// Cooldown, then lets one trial call through (half-open): success closes it,
// failure opens it again.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(BreakerState)

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	trial    bool // a half-open trial is in flight
}

// NewBreaker returns a closed breaker. onChange, if set, is told of every
// transition (for metrics).
func NewBreaker(threshold int, cooldown time.Duration, now func() time.Time, onChange func(BreakerState)) *Breaker {
	if now == nil {
		now = time.Now
	}
	if onChange == nil {
		onChange = func(BreakerState) {}
	}
	return &Breaker{threshold: threshold, cooldown: cooldown, now: now, onChange: onChange}
}

// Allow reports whether a call may go through now.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Closed:
		return true
	case Open:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.set(HalfOpen)
		b.trial = true
		return true
	default: // half-open: one trial at a time
		if b.trial {
			return false
		}
		b.trial = true
		return true
	}
}

// Success records a good call.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	b.trial = false
	if b.state != Closed {
		b.set(Closed)
	}
}

// Failure records a failed call.
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	b.failures++
	if b.state == HalfOpen || b.failures >= b.threshold {
		b.openedAt = b.now()
		if b.state != Open {
			b.set(Open)
		}
	}
}

// Release ends a call that says nothing about the upstream's health (the
// client went away), freeing a half-open trial slot.
func (b *Breaker) Release() {
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}

// State returns the current state.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Breaker) set(s BreakerState) {
	b.state = s
	b.onChange(s)
}
