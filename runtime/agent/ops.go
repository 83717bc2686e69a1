package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// ErrBusy is returned when an operation of the same kind is running.
var ErrBusy = errors.New("an operation of this kind is already running")

// operationKey is the context key under which an operation's body finds
// its own id (see operationID).
type operationKey struct{}

// operationID returns the id of the operation whose body runs with ctx.
func operationID(ctx context.Context) string {
	id, _ := ctx.Value(operationKey{}).(string)
	return id
}

// job is the body of an operation. It reports progress through the
// function it is given and returns its result.
type job func(ctx context.Context, progress func() api.Progress) (any, error)

// running is an operation in flight.
type running struct {
	op       *api.Operation
	cancel   context.CancelFunc
	progress func() api.Progress
	done     chan struct{}
}

// opManager runs operations, at most one per kind at a time, and keeps the
// recent history.
type opManager struct {
	mu      sync.Mutex
	ops     map[string]*running
	order   []string
	keep    int
	wg      sync.WaitGroup
	base    context.Context
	logf    func(format string, args ...any)
	onClose []func()
}

func newOpManager(base context.Context, logf func(string, ...any)) *opManager {
	return &opManager{ops: map[string]*running{}, keep: 100, base: base, logf: logf}
}

// start launches an operation of a kind unless one is running. The
// progress function is read when the operation is listed.
func (m *opManager) start(kind string, params map[string]any, progress func() api.Progress, run func(ctx context.Context) (any, error)) (*api.Operation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ops {
		if r.op.Type == kind && r.op.State == api.StateRunning {
			return r.op, fmt.Errorf("%s %s: %w", kind, r.op.ID, ErrBusy)
		}
	}
	ctx, cancel := context.WithCancel(m.base)
	op := &api.Operation{ID: newID(), Type: kind, Params: params, State: api.StateRunning, Started: time.Now().UTC()}
	ctx = context.WithValue(ctx, operationKey{}, op.ID)
	r := &running{op: op, cancel: cancel, progress: progress, done: make(chan struct{})}
	m.ops[op.ID] = r
	m.order = append(m.order, op.ID)
	m.trim()
	m.wg.Add(1)
	m.logf("operation %s started: %s %v", op.ID, kind, params)
	go func() {
		defer m.wg.Done()
		defer close(r.done)
		defer cancel()
		res, err := run(ctx)
		m.finish(r, res, err)
	}()
	return op, nil
}

func (m *opManager) finish(r *running, res any, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now().UTC()
	r.op.Finished = &now
	r.op.Result = res
	if r.progress != nil {
		r.op.Progress = r.progress()
	}
	switch {
	case err == nil:
		r.op.State = api.StateSucceeded
	case errors.Is(err, context.Canceled):
		r.op.State = api.StateCancelled
		r.op.Error = "cancelled"
	default:
		r.op.State = api.StateFailed
		r.op.Error = err.Error()
	}
	r.progress = nil
	m.logf("operation %s %s: %s%s", r.op.ID, r.op.State, r.op.Type, errSuffix(r.op.Error))
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// trim drops the oldest finished operations beyond the history size.
func (m *opManager) trim() {
	for len(m.order) > m.keep {
		dropped := false
		for i, id := range m.order {
			if m.ops[id].op.State != api.StateRunning {
				delete(m.ops, id)
				m.order = append(m.order[:i], m.order[i+1:]...)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

// get returns a snapshot of an operation.
func (m *opManager) get(id string) (api.Operation, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.ops[id]
	if !ok {
		return api.Operation{}, false
	}
	return m.snapshot(r), true
}

func (m *opManager) snapshot(r *running) api.Operation {
	op := *r.op
	if r.progress != nil && op.State == api.StateRunning {
		op.Progress = r.progress()
		if secs := time.Since(op.Started).Seconds(); secs > 0 {
			op.Progress.RateBytes = float64(op.Progress.Bytes) / secs
		}
	}
	return op
}

// list returns every kept operation, newest first.
func (m *opManager) list() []api.Operation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]api.Operation, 0, len(m.ops))
	for _, r := range m.ops {
		out = append(out, m.snapshot(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out
}

// cancel asks a running operation to stop.
func (m *opManager) cancel(id string) (api.Operation, bool) {
	m.mu.Lock()
	r, ok := m.ops[id]
	m.mu.Unlock()
	if !ok {
		return api.Operation{}, false
	}
	r.cancel()
	return m.get(id)
}

// wait blocks until the operation ends or ctx is done.
func (m *opManager) wait(ctx context.Context, id string) (api.Operation, bool) {
	m.mu.Lock()
	r, ok := m.ops[id]
	m.mu.Unlock()
	if !ok {
		return api.Operation{}, false
	}
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	return m.get(id)
}

// runningPrefix returns a running operation whose kind starts with
// prefix, or nil.
func (m *opManager) runningPrefix(prefix string) *api.Operation {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ops {
		if r.op.State == api.StateRunning && strings.HasPrefix(r.op.Type, prefix) {
			op := m.snapshot(r)
			return &op
		}
	}
	return nil
}

// runningKind reports whether an operation of exactly this kind runs.
func (m *opManager) runningKind(kind string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ops {
		if r.op.State == api.StateRunning && r.op.Type == kind {
			return true
		}
	}
	return false
}

// restoring reports whether a restore writes into an account.
func (m *opManager) restoring(account string) bool {
	return m.runningKind(api.TypeRestorePrefix + account)
}

// shutdown cancels every running operation and waits for them to stop.
func (m *opManager) shutdown() {
	m.mu.Lock()
	for _, r := range m.ops {
		r.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// drain waits for running operations to finish without cancelling them.
func (m *opManager) drain() { m.wg.Wait() }

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
