package pack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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

// Remove deletes pack files, then fsyncs the directories that held them.
// Only the caller knows that no committed catalog entry refers to them any
// more. Packs this Store is still writing are refused; a pack already gone
// is not an error.
func (s *Store) Remove(packs ...uint32) error {
	var dirs []string
	for _, id := range packs {
		if s.Writing(id) {
			return fmt.Errorf("pack store: refusing to remove %s: it is being written", packPath(s.dir, id))
		}
	}
	for _, id := range packs {
		path := packPath(s.dir, id)
		s.readers.forget(id)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pack store: %w", err)
		}
		dirs = append(dirs, filepath.Dir(path))
	}
	if s.noSync {
		return nil
	}
	slices.Sort(dirs)
	for _, d := range slices.Compact(dirs) {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
