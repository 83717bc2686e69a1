package repo

import (
	"testing"
	"time"
)

func TestWriteLockWaiting(t *testing.T) {
	var l WriteLock
	l.Lock()
	if l.Waiting() {
		t.Fatal("Waiting is true with no other goroutine")
	}
	got := make(chan struct{})
	go func() {
		l.Lock()
		close(got)
		l.Unlock()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !l.Waiting() {
		if time.Now().After(deadline) {
			t.Fatal("Waiting stayed false while another goroutine was blocked in Lock")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-got:
		t.Fatal("the second Lock returned while the lock was held")
	default:
	}
	l.Unlock()
	<-got
	if l.Waiting() {
		t.Fatal("Waiting is still true after the waiter got the lock")
	}
}
