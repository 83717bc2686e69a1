package agent

import (
	"time"

	"github.com/mailkeep/mailkeep/schema"
)

// reopenLater tries again, in the background, to open the repository and
// store of doc after activate could not: after Config.ReopenWait, then
// twice as long each time up to MaxReopenWait, for as long as doc is the
// agent's config and nothing else opened an engine for it. So a backup
// disk mounted after the agent started, or a disk whose I/O errors
// cleared, is taken up without a restart. A failure that lasts (a lost
// catalog, which is refused, never replaced) is retried harmlessly: opening
// writes nothing when it fails.
func (a *Agent) reopenLater(doc *schema.Document, startup bool) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		wait := a.cfg.ReopenWait
		for {
			t := time.NewTimer(wait)
			select {
			case <-a.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, MaxReopenWait)
			if a.reopen(doc, startup) {
				return
			}
		}
	}()
}

// reopen makes one try for reopenLater. It reports whether the agent is
// done with doc: an engine is open, or the config now names another
// repository or store (its switch brings its own engine). A config that
// changed only in other settings is tried with its latest document.
func (a *Agent) reopen(doc *schema.Document, startup bool) bool {
	a.switchMu.Lock() // a repository switch and a reopen never overlap
	defer a.switchMu.Unlock()
	current := func() *schema.Document {
		if a.ctx.Err() != nil || a.doc == nil || a.engine != nil || a.switching ||
			engineSettingsDiffer(a.doc.Config(), doc.Config()) {
			return nil
		}
		return a.doc
	}
	a.mu.RLock()
	cur := current()
	a.mu.RUnlock()
	if cur == nil {
		return true
	}
	e, err := openEngine(cur)
	a.mu.Lock()
	if now := current(); now == nil {
		a.mu.Unlock()
		if e != nil {
			e.repo.Close()
		}
		return true
	} else if e != nil {
		e.doc = now
		cur = now
	}
	if err != nil {
		a.engineErr = err
		a.mu.Unlock()
		a.log.Warn("backup module still cannot start; trying again later", "err", err)
		return false
	}
	a.engine, a.engineErr = e, nil
	a.mu.Unlock()
	a.log.Info("backup module started after an earlier failure")
	a.runEngine(cur, e, startup)
	return true
}
