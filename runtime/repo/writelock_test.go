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

// Unlocking hands the lock to the waiter: the goroutine that unlocked it
// cannot take it straight back.
func TestWriteLockHandsOver(t *testing.T) {
	var l WriteLock
	for round := range 20 {
		l.Lock()
		got := make(chan struct{})
		released := make(chan struct{})
		go func() {
			l.Lock()
			close(got)
			<-released
			l.Unlock()
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !l.Waiting() {
			if time.Now().After(deadline) {
				t.Fatal("the second goroutine never waited")
			}
			time.Sleep(time.Millisecond)
		}
		l.Unlock()
		relocked := make(chan struct{})
		go func() {
			l.Lock() // must wait for the waiter, which now holds the lock
			close(relocked)
		}()
		select {
		case <-got:
		case <-relocked:
			t.Fatalf("round %d: the lock was taken back before the waiter got it", round)
		}
		select {
		case <-relocked:
			t.Fatalf("round %d: the lock was taken back while the waiter held it", round)
		case <-time.After(5 * time.Millisecond):
		}
		close(released)
		<-relocked
		l.Unlock()
	}
}
