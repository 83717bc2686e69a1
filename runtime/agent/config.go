package agent

import (
	"errors"
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// ErrStale is returned when a write's If-Match does not match the live ETag.
var ErrStale = errors.New("the config changed since it was read")

// Config returns the live configuration, or ErrUnconfigured.
func (a *Agent) Config() (api.ConfigState, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.doc == nil {
		return api.ConfigState{}, ErrUnconfigured
	}
	return api.ConfigState{Document: a.st.Document, ETag: a.st.ETag, Revision: a.st.Revision,
		UpdatedAt: a.st.UpdatedAt, LastApplied: a.st.LastApplied}, nil
}

// PutConfig replaces the configuration. ifMatch must be the live ETag
// ("*" or "" only while unconfigured). client, when not empty, names the
// mailkeep apply run that pushed it and becomes last_applied; direct
// changes leave last_applied alone, which is how plan tells drift.
func (a *Agent) PutConfig(body []byte, ifMatch, client string) (api.ConfigState, error) {
	doc, err := decodeDocument(body)
	if err != nil {
		return api.ConfigState{}, err
	}
	a.mu.Lock()
	old := a.doc
	switch {
	case old == nil && ifMatch != "" && ifMatch != "*":
		a.mu.Unlock()
		return api.ConfigState{}, fmt.Errorf("%w: the agent is unconfigured, but If-Match names %s", ErrStale, ifMatch)
	case old != nil && ifMatch == "":
		a.mu.Unlock()
		return api.ConfigState{}, ErrPreconditionRequired
	case old != nil && ifMatch != a.st.ETag:
		etag := a.st.ETag
		a.mu.Unlock()
		return api.ConfigState{}, fmt.Errorf("%w: If-Match %s, live ETag %s", ErrStale, ifMatch, etag)
	}
	now := a.cfg.Now().UTC()
	etag := doc.ETag()
	if old != nil && etag == a.st.ETag {
		// Same document: nothing changes, but a client apply is recorded.
		if client != "" {
			a.st.LastApplied = &api.Applied{ETag: etag, Time: now, Client: client, Document: doc.Canonical()}
			a.saveLocked()
		}
		cs := a.configLocked()
		a.mu.Unlock()
		return cs, nil
	}
	prev := *a.st
	a.st.Document, a.st.ETag, a.st.UpdatedAt = doc.Canonical(), etag, now
	a.st.Revision++
	if client != "" {
		a.st.LastApplied = &api.Applied{ETag: etag, Time: now, Client: client, Document: doc.Canonical()}
	}
	if err := a.st.save(a.cfg.StateDir); err != nil {
		*a.st = prev
		a.mu.Unlock()
		return api.ConfigState{}, err
	}
	a.doc = doc
	cs := a.configLocked()
	a.log.Info("config replaced", "revision", a.st.Revision, "etag", etag, "client", client)
	needsSwitch := old == nil || engineSettingsDiffer(old.Config(), doc.Config())
	var switched chan struct{}
	if needsSwitch {
		switched = make(chan struct{})
		a.switching, a.switched = true, switched
	} else if a.engine != nil {
		a.engine.doc = doc
	}
	a.mu.Unlock()

	if needsSwitch {
		a.bg.Add(1)
		go func() {
			defer a.bg.Done()
			a.switchEngine(doc, old == nil, switched)
		}()
	} else {
		a.applyRuntime(doc)
	}
	return cs, nil
}

func (a *Agent) configLocked() api.ConfigState {
	return api.ConfigState{Document: a.st.Document, ETag: a.st.ETag, Revision: a.st.Revision,
		UpdatedAt: a.st.UpdatedAt, LastApplied: a.st.LastApplied}
}

// switchEngine lets running operations finish, closes the old repository
// (which stays where it is, listed in status) and opens the new one.
func (a *Agent) switchEngine(doc *schema.Document, first bool, switched chan struct{}) {
	a.switchMu.Lock()
	defer a.switchMu.Unlock()
	a.rt.stop()
	a.hdr.stop()
	a.ops.drain()
	a.mu.Lock()
	old := a.engine
	a.engine = nil
	a.mu.Unlock()
	if old != nil {
		if err := old.repo.Close(); err != nil {
			a.log.Error("closing the previous repository", "path", old.repo.Path, "err", err)
		} else {
			a.log.Info("previous repository closed; it stays on disk", "path", old.repo.Path)
		}
	}
	a.activate(doc, first, switched)
}

// ErrPreconditionRequired is returned for a write without If-Match to a
// configured agent.
var ErrPreconditionRequired = errors.New("If-Match is required to replace a config: read the config first and send its ETag")

// BadRequestError wraps an invalid request body.
type BadRequestError struct{ Err error }

func (e *BadRequestError) Error() string { return e.Err.Error() }
func (e *BadRequestError) Unwrap() error { return e.Err }

// engineSettingsDiffer reports whether two configs differ in a setting the
// open store and repository were made from, so that the engine must be
// opened again.
func engineSettingsDiffer(old, cur schema.Config) bool {
	return old.BackupPath != cur.BackupPath || old.MailStore != cur.MailStore ||
		old.MailStoreSymlinks != cur.MailStoreSymlinks || old.Metadata.FlushOnSave != cur.Metadata.FlushOnSave
}
