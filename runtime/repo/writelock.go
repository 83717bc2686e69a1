package repo

import (
	"sync"
	"sync/atomic"
)

// WriteLock is a mutex whose holder can ask whether another goroutine is
// waiting for it: SmartScan keeps it across its batches while nobody else
// needs the repository, and hands it over as soon as someone does.
type WriteLock struct {
	mu      sync.Mutex
	waiting atomic.Int32
}

// Lock takes the lock, waiting for its holder to release it.
func (l *WriteLock) Lock() {
	l.waiting.Add(1)
	l.mu.Lock()
	l.waiting.Add(-1)
}

// Unlock releases the lock.
func (l *WriteLock) Unlock() { l.mu.Unlock() }

// Waiting reports whether another goroutine is blocked in Lock.
func (l *WriteLock) Waiting() bool { return l.waiting.Load() > 0 }
