package pack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
)

// This file is what purge needs to give space back: copying live records
// verbatim into the pack being written (no decompression, no
// recompression), and removing pack files nothing refers to any more. The
// order that keeps a crash harmless is the caller's: copy, Sync, commit the
// catalog that points at the copies, and only then Remove the old pack.

// Writing reports whether pack is one this Store is still writing: the
// active pack, or one rotated out but not yet fsynced. Such a pack may grow
// or hold records not yet durable; it must be neither rewritten nor
// removed. Every other pack is immutable.
func (s *Store) Writing(pack uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil && s.active.id == pack {
		return true
	}
	for _, p := range s.sealed {
		if p.id == pack {
			return true
		}
	}
	return false
}

// CopyRecord copies the record of blob id stored at loc, byte for byte,
// into the pack being written, and returns the copy's location. It checks
// the record's framing, its CRC and that it holds id, so that damage is
// never copied (the error is then a *CorruptError naming the source); it
// does not decompress or re-hash. Like Put, the copy is durable only after
// the next successful Sync.
func (s *Store) CopyRecord(id ID, loc Location) (Location, error) {
	bp, h, err := s.loadRecord(loc, &id)
	if err != nil {
		return Location{}, err
	}
	defer bufpool.Put(bp)
	return s.appendRecord(h.raw, (*bp)[:loc.Length])
}

// Remove deletes packs, each removal durable when Remove returns (for a
// Local backend: the directories that held them are fsynced). Only the
// caller knows that no committed catalog entry refers to them any more.
// Packs this Store is still writing are refused; a pack already gone is
// not an error.
func (s *Store) Remove(packs ...uint32) error {
	for _, id := range packs {
		if s.Writing(id) {
			return fmt.Errorf("pack store: refusing to remove %s: it is being written", s.Path(id))
		}
	}
	for _, id := range packs {
		if err := s.be.Remove(context.Background(), PackName(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// SyncPack makes pack durable as it is, for a pack an earlier process
// wrote and may have left unsynced when it was killed (see
// repo.Repo.Orphans).
func (s *Store) SyncPack(pack uint32) error {
	if s.noSync {
		return nil
	}
	return s.app.SyncObject(context.Background(), PackName(pack))
}
