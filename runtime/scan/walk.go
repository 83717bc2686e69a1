package scan

import (
	"context"
	"time"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// walker takes the accounts of a run through start, plan and record. Up
// to lookahead+1 accounts are started (read from the catalog and listed
// in the background) ahead of the one being planned, and an account is
// recorded once the next one is planned, so that several listings run at
// once and the pipeline always has the reads of the next account queued.
type walker struct {
	s       *scanner
	seen    map[string]bool
	queue   []store.Account
	started []*work // listing, or listed
	planned []*work // reads under way, or done
}

// handOverPoll is how often a wait for an account's reads looks for
// another writer waiting for the repository.
const handOverPoll = 10 * time.Millisecond

// walk runs the accounts through the walker and returns the error that
// stops the run.
func (s *scanner) walk(ctx context.Context, accounts []store.Account) error {
	wk := &walker{s: s, seen: map[string]bool{}, queue: accounts}
	defer func() {
		for _, w := range wk.started {
			<-w.listed // no listing outlives the run
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.handOverDue() {
			// Another writer waits. Progress first: while nothing was
			// recorded under this lock, the oldest account is finished.
			keep := 0
			if s.recorded == 0 && len(wk.planned) > 0 {
				keep = 1
			}
			if err := wk.handOver(keep); err != nil {
				return err
			}
			continue
		}
		underway := len(wk.started) + len(wk.planned)
		if len(wk.queue) > 0 && len(wk.started) <= lookahead && (underway == 0 || wk.size() <= aheadItems) {
			if err := wk.startNext(); err != nil {
				return err
			}
			continue
		}
		switch {
		case underway == 0:
			if err := s.lockBatch(); err != nil {
				return err
			}
			return s.deleteMissing(wk.seen)
		case len(wk.started) > 0 && len(wk.planned) < 2:
			w := wk.started[0]
			wk.started = wk.started[1:]
			if err := s.plan(w); err != nil {
				return err
			}
			wk.planned = append(wk.planned, w)
			continue
		}
		if !wk.awaitReads(wk.planned[0]) {
			continue // another writer waits: handed over at the top
		}
		w := wk.planned[0]
		wk.planned = wk.planned[1:]
		if err := s.settle(w, wk.seen); err != nil {
			return err
		}
		if s.pending >= s.opts.BatchItems || time.Since(s.committed) >= commitInterval {
			if err := s.commit(false); err != nil {
				return err
			}
		}
	}
}

// startNext starts the next account of the queue, under the writer lock.
func (wk *walker) startNext() error {
	s, a := wk.s, wk.queue[0]
	wk.queue = wk.queue[1:]
	wk.seen[a.Name] = true
	if !s.wanted(a.Name) {
		return nil // an excluded account counts as deleted, at the end
	}
	if s.busy(a.Name) {
		return nil // seen: not deleted, and left as it was
	}
	if err := s.lockBatch(); err != nil {
		return err
	}
	if err := s.r.CheckSpace(0); err != nil {
		return err
	}
	wk.started = append(wk.started, s.start(a))
	return nil
}

// awaitReads waits for an account's reads, and returns false early when
// the repository should be handed over to another writer meanwhile (which
// drops that account, see handOver). It never gives up the first account
// recorded under a lock.
func (wk *walker) awaitReads(w *work) bool {
	if wk.s.recorded == 0 {
		<-w.readsDone
		return true
	}
	tick := time.NewTicker(handOverPoll)
	defer tick.Stop()
	for {
		select {
		case <-w.readsDone:
			return true
		case <-tick.C:
			if wk.s.handOverDue() {
				return false
			}
		}
	}
}

// handOver records the keep oldest planned accounts, stops reading the
// other planned ones, puts them and the started ones back in the queue,
// commits and releases the writer lock; the next account takes it again.
func (wk *walker) handOver(keep int) error {
	s := wk.s
	for _, w := range wk.planned[keep:] {
		w.dropped.Store(true)
	}
	for _, w := range wk.planned[:keep] {
		if err := s.settle(w, wk.seen); err != nil {
			return err
		}
	}
	var again []store.Account
	for _, w := range wk.planned[keep:] {
		<-w.readsDone
		s.opts.Progress.ItemsSeen.Add(-w.counts.Items)
		again = append(again, w.a)
	}
	for _, w := range wk.started {
		<-w.listed
		again = append(again, w.a)
	}
	wk.queue, wk.started, wk.planned = append(again, wk.queue...), nil, nil
	return s.commit(true)
}

// size counts the messages held by the accounts under way whose listing
// is done.
func (wk *walker) size() int {
	n := 0
	for _, l := range [][]*work{wk.started, wk.planned} {
		for _, w := range l {
			n += w.size()
		}
	}
	return n
}

// handOverDue reports whether another writer waits for the repository and
// this run has held it for BatchTime.
func (s *scanner) handOverDue() bool {
	return s.locked && s.r.WriteMu.Waiting() && time.Since(s.batchStart) >= s.opts.BatchTime
}
