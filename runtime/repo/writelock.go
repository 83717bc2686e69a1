package repo

import (
	"sync"
	"sync/atomic"
)

// WriteLock is a mutex whose holder can ask whether another goroutine is
// waiting for it, and which goes to a waiter as soon as it is unlocked:
// SmartScan keeps it across its batches while nobody else needs the
// repository, and hands it over as soon as someone does. (A sync.Mutex
// would let the unlocking goroutine take it straight back.) The zero
// value is an unlocked lock.
type WriteLock struct {
	once    sync.Once
	ch      chan struct{} // holds a token while locked
	waiting atomic.Int32
}

func (l *WriteLock) tokens() chan struct{} {
	l.once.Do(func() { l.ch = make(chan struct{}, 1) })
	return l.ch
}

// Lock takes the lock, waiting for its holder to release it.
func (l *WriteLock) Lock() {
	ch := l.tokens()
	select {
	case ch <- struct{}{}:
		return
	default:
	}
	l.waiting.Add(1)
	ch <- struct{}{} // a receive on the full channel lets the first blocked sender in
	l.waiting.Add(-1)
}

// Unlock releases the lock, to the longest waiter if there is one.
func (l *WriteLock) Unlock() {
	select {
	case <-l.tokens():
	default:
		panic("repo: Unlock of an unlocked WriteLock")
	}
}

// Waiting reports whether another goroutine is blocked in Lock.
func (l *WriteLock) Waiting() bool { return l.waiting.Load() > 0 }

// LockWrites takes WriteMu for a catalog writer and clears a write error
// the pack store kept from an earlier writer (a full disk, an I/O error),
// so that the repository recovers by itself once the cause is gone: the
// earlier writer committed nothing of what failed. It also drops the
// space budget of the last measurement (see ReserveSpace), so that the
// writer's first record measures the free space again: other processes
// may have taken it since, however long ago that measurement was (the
// realtime scanner writes a batch now and then for days). On error
// WriteMu is released again.
func (r *Repo) LockWrites() error {
	r.WriteMu.Lock()
	r.space.mu.Lock()
	r.space.left = 0
	r.space.mu.Unlock()
	if err := r.Packs.Recover(); err != nil {
		r.WriteMu.Unlock()
		return err
	}
	return nil
}
