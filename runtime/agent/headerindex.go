package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/mailheader"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// headerIndexer runs mailheader.Index on the open repository, in the
// background, from each start of the agent or switch of repository; it
// resumes where an earlier run stopped.
type headerIndexer struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	p      *mailheader.Progress
	state  string
	err    string
}

// start indexes r in the background.
func (h *headerIndexer) start(parent context.Context, r *repo.Repo, log *slog.Logger) {
	h.stop()
	ctx, cancel := context.WithCancel(parent)
	p := &mailheader.Progress{}
	done := make(chan struct{})
	h.mu.Lock()
	h.cancel, h.done, h.p, h.state, h.err = cancel, done, p, "running", ""
	h.mu.Unlock()
	go func() {
		defer close(done)
		err := mailheader.Index(ctx, r, p)
		h.mu.Lock()
		defer h.mu.Unlock()
		switch {
		case errors.Is(err, context.Canceled):
			h.state = "not running"
		case err != nil:
			h.state, h.err = "failed", err.Error()
			log.Error("indexing the search headers of older messages", "err", err)
		default:
			h.state = "done"
			if n := p.Total.Load(); n > 0 {
				log.Info("search headers of older messages indexed", "blobs", n, "unreadable", p.Unreadable.Load())
			}
		}
	}()
}

// stop stops the indexing and waits for it.
func (h *headerIndexer) stop() {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.cancel, h.done = nil, nil
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (h *headerIndexer) status() api.HeaderIndexStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p == nil {
		return api.HeaderIndexStatus{State: "not running"}
	}
	return api.HeaderIndexStatus{State: h.state, Done: h.p.Done.Load(), Total: h.p.Total.Load(),
		Unreadable: h.p.Unreadable.Load(), Error: h.err}
}
