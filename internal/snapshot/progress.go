package snapshot

import (
	"slices"
	"sync"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
)

// Progress tracks a copy for the progress display, the metrics and
// /v1/status. It is safe for concurrent use.
type Progress struct {
	mu      sync.Mutex
	running bool
	started time.Time
	tables  map[change.Table]*TableProgress
}

// TableProgress is one table's part of a copy.
type TableProgress struct {
	Table       string `json:"table"`
	Rows        int64  `json:"rows_copied"`    // by this run
	Estimate    int64  `json:"rows_estimated"` // source statistics
	Chunks      int    `json:"chunks"`
	ChunksDone  int    `json:"chunks_done"`  // in total, earlier runs included
	ChunksEarly int    `json:"chunks_prior"` // done by an earlier run
}

// Status is a Progress at one instant.
type Status struct {
	Running bool            `json:"running"`
	Started time.Time       `json:"started_at"`
	Rows    int64           `json:"rows_copied"`
	Tables  []TableProgress `json:"tables"`
}

// NewProgress returns an empty Progress.
func NewProgress() *Progress { return &Progress{tables: map[change.Table]*TableProgress{}} }

func (p *Progress) table(t change.Table) *TableProgress {
	tp := p.tables[t]
	if tp == nil {
		tp = &TableProgress{Table: t.String()}
		p.tables[t] = tp
	}
	return tp
}

func (p *Progress) plan(c applypg.SnapshotChunk) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := p.table(c.Table)
	tp.Chunks++
	if c.Done {
		tp.ChunksDone++
		tp.ChunksEarly++
	}
}

func (p *Progress) estimate(t change.Table, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.table(t).Estimate = n
}

func (p *Progress) rows(t change.Table, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.table(t).Rows += n
}

func (p *Progress) chunkDone(t change.Table, _ int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.table(t).ChunksDone++
}

func (p *Progress) setRunning(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = on
	if on {
		p.started = time.Now()
	}
}

// Status returns the progress now, tables by name.
func (p *Progress) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Status{Running: p.running, Started: p.started}
	for _, tp := range p.tables {
		s.Tables = append(s.Tables, *tp)
		s.Rows += tp.Rows
	}
	slices.SortFunc(s.Tables, func(a, b TableProgress) int {
		if a.Table < b.Table {
			return -1
		}
		if a.Table > b.Table {
			return 1
		}
		return 0
	})
	return s
}
