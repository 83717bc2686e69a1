package scan

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/mailheader"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// readJob is a message whose content must be read.
type readJob struct {
	folder *store.Folder
	msg    *store.Message
	old    *catalog.Item // the item's current version, when it has one
}

// readResult is the outcome of one readJob.
type readResult struct {
	id       catalog.BlobID
	vanished bool
	// skipped is set when the file could not be read, or was refused
	// (not a regular file, a link): its item keeps its version.
	skipped *store.Skip
	// ref is where this run stored the content, by this job or another;
	// nil when the catalog already had it.
	ref *catalog.BlobRef
	// hdr holds the content's search headers when ref is set: they are
	// recorded with the blob row.
	hdr catalog.Headers
}

// pipeline reads, hashes and stores the contents of the messages the
// accounts of one Run must read. Reading and compressing are separate
// stages: Readers goroutines open and read files, which mostly wait for
// the disk, and GOMAXPROCS goroutines hash, compress and append to the
// packs, which keeps the processors busy while reads are in flight.
// Accounts enter it in order and leave it when their last job is done, so
// that the next accounts are read while the earlier ones are recorded.
type pipeline struct {
	s      *scanner
	ctx    context.Context
	cancel context.CancelCauseFunc // the cause is the error that stops the run
	budget *budget

	works  chan *work     // accounts whose jobs are to be read, in order
	jobs   chan jobRef    // feeder → readers
	loaded chan loadedJob // readers → storers
	wg     sync.WaitGroup
}

type jobRef struct {
	w *work
	i int
}

// loadedJob is a job whose file has been read into buf.
type loadedJob struct {
	jobRef
	buf  *[]byte
	data []byte
	held int64 // budget bytes
}

// Pipeline sizes.
const (
	// readBudget is how many bytes of message content may be in memory
	// between reading and storing; a larger message takes all of it.
	readBudget = 32 << 20
)

func (s *scanner) startPipeline(ctx context.Context) *pipeline {
	ctx, cancel := context.WithCancelCause(ctx)
	storers := runtime.GOMAXPROCS(0)
	p := &pipeline{
		s: s, ctx: ctx, cancel: cancel, budget: newBudget(readBudget),
		works:  make(chan *work, 16),
		jobs:   make(chan jobRef, s.opts.Readers),
		loaded: make(chan loadedJob, 2*storers),
	}
	var readers, stores sync.WaitGroup
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.feed()
		close(p.jobs)
	}()
	for range s.opts.Readers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for j := range p.jobs {
				p.read(j)
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		readers.Wait()
		close(p.loaded)
	}()
	for range storers {
		stores.Add(1)
		go func() {
			defer stores.Done()
			for l := range p.loaded {
				p.store(l)
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		stores.Wait()
	}()
	return p
}

// submit queues the read jobs of an account; w.reads counts them down
// and w.readsDone is closed when they are done.
func (p *pipeline) submit(w *work) {
	w.readsDone = make(chan struct{})
	if len(w.jobs) == 0 {
		close(w.readsDone)
		return
	}
	w.results = make([]readResult, len(w.jobs))
	w.reads.Add(len(w.jobs))
	go func() {
		w.reads.Wait()
		close(w.readsDone)
	}()
	p.works <- w
}

// stop ends the pipeline: with abort, jobs not yet read are dropped.
// It returns once every goroutine has finished.
func (p *pipeline) stop(abort bool) {
	if abort {
		p.cancel(context.Canceled)
	}
	close(p.works)
	p.wg.Wait()
	p.cancel(context.Canceled)
}

// fail stops the run with err, unless it is stopping already.
func (p *pipeline) fail(err error) { p.cancel(err) }

// failure returns the error that stopped the run, if any: once it is set
// no more jobs are read.
func (p *pipeline) failure() error {
	if p.ctx.Err() == nil {
		return nil
	}
	return context.Cause(p.ctx)
}

// feed hands the jobs of each account to the readers, account by account;
// once the run stops, it counts the remaining jobs done without reading.
func (p *pipeline) feed() {
	for w := range p.works {
		for i := range w.jobs {
			if p.ctx.Err() == nil {
				select {
				case p.jobs <- jobRef{w, i}:
					continue
				case <-p.ctx.Done():
				}
			}
			w.reads.Done()
		}
	}
}

// read opens and reads one message file.
func (p *pipeline) read(j jobRef) {
	if p.ctx.Err() != nil || j.w.dropped.Load() {
		j.w.reads.Done()
		return
	}
	job := &j.w.jobs[j.i]
	held := p.budget.acquire(job.msg.Size + 1)
	l := p.load(j, held)
	if l.data == nil {
		p.budget.release(held)
		j.w.reads.Done()
		return
	}
	p.loaded <- l
}

// load reads the file of a job into a pooled buffer; data is nil when the
// file vanished or could not be read (the result says so).
func (p *pipeline) load(j jobRef, held int64) loadedJob {
	w, job := j.w, &j.w.jobs[j.i]
	l := loadedJob{jobRef: j, held: held}
	f, err := p.s.st.Open(w.a, job.folder, job.msg)
	if errors.Is(err, store.ErrVanished) {
		w.results[j.i].vanished = true
		return l
	}
	if err == nil {
		l.data, l.buf, err = readAll(f, bufpool.Get(int(job.msg.Size)+1))
		f.Close()
	}
	if err != nil {
		k := store.Skip{Folder: job.folder.Name, Dir: job.folder.Dir, Path: filepath.Join(job.folder.Dir, job.msg.Subdir, job.msg.Name),
			Name: job.msg.Name, ID: job.msg.Base, Scope: store.ScopeMessage, Reason: store.ReasonUnreadable, Err: err}
		var re *store.RefusedError
		if errors.As(err, &re) {
			k.Reason, k.Err = re.Reason, nil
		}
		w.results[j.i].skipped = &k
		return loadedJob{jobRef: j, held: held}
	}
	return l
}

// store hashes a loaded message and stores its content unless the
// repository, or this run, already has it.
func (p *pipeline) store(l loadedJob) {
	defer func() {
		bufpool.Put(l.buf)
		p.budget.release(l.held)
		l.w.reads.Done()
	}()
	if p.ctx.Err() != nil || l.w.dropped.Load() {
		return
	}
	prog := p.s.opts.Progress
	prog.ItemsRead.Add(1)
	prog.BytesRead.Add(int64(len(l.data)))
	r := &l.w.results[l.i]
	r.id = pack.Hash(l.data)
	mine, ref, err := p.s.blobs.claim(r.id)
	if err != nil {
		p.fail(err)
		return
	}
	if mine == nil {
		if r.ref = ref; ref != nil {
			r.hdr = mailheader.Parse(l.data)
		}
		return
	}
	err = p.s.r.ReserveSpace(int64(len(l.data)) + pack.RecordOverhead)
	var loc pack.Location
	if err == nil {
		loc, err = p.s.r.Packs.Put(r.id, l.data)
	}
	if err != nil {
		err = p.s.r.AsSpaceError(fmt.Errorf("storing %s of %s: %w", l.w.jobs[l.i].msg.Name, l.w.a.Name, err))
		p.s.blobs.failed(r.id, mine, err)
		p.fail(err)
		return
	}
	stRef := loc
	p.s.blobs.stored(mine, stRef)
	r.ref = &stRef
	r.hdr = mailheader.Parse(l.data) // once the readers waiting for the claim are let go
	prog.BytesStored.Add(int64(loc.Length))
	prog.BlobsStored.Add(1)
}

// readAll reads a file into a pooled buffer meant for its expected size
// plus one byte, and returns the bytes read and the buffer they are in: a
// file that grew is read to its end, in a larger buffer.
func readAll(f io.Reader, bp *[]byte) ([]byte, *[]byte, error) {
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			grown := bufpool.Get(2 * cap(b))
			b = append((*grown)[:0], b...)
			bufpool.Put(bp)
			bp = grown
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, bp, nil
		}
		if err != nil {
			bufpool.Put(bp)
			return nil, nil, err
		}
	}
}

func hexID(id catalog.BlobID) string { return hex.EncodeToString(id[:]) }

// budget bounds the bytes held between reading and storing.
type budget struct {
	mu    sync.Mutex
	cond  sync.Cond
	free  int64
	total int64
}

func newBudget(total int64) *budget {
	b := &budget{free: total, total: total}
	b.cond.L = &b.mu
	return b
}

// acquire waits until n bytes (at most the whole budget) are free and
// takes them; it returns how many it took.
func (b *budget) acquire(n int64) int64 {
	n = min(n, b.total)
	b.mu.Lock()
	for b.free < n {
		b.cond.Wait()
	}
	b.free -= n
	b.mu.Unlock()
	return n
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
	b.cond.Broadcast()
}
