package verify

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
	"golang.org/x/sync/errgroup"
)

// Options configure a verify run.
type Options struct {
	// BlueDSN and GreenDSN reach the two databases.
	BlueDSN, GreenDSN string
	// BlueEngine and GreenEngine are the sides' engines (default
	// Postgres). Two sides of one engine whose tables have the same
	// column types are compared as the servers print rows; any other pair
	// by canonical value (see doc.go).
	BlueEngine, GreenEngine Engine
	// Tables to compare, by their name on blue.
	Tables []change.Table
	// Mappings are the blue-to-green transforms, by blue table. A table
	// without one, or with an identity mapping where both sides have the
	// same columns, is compared as printed; the others are read under
	// green's names and compared through the mapping.
	Mappings map[change.Table]*transform.Mapping
	// ChunkRows is the keyset chunk size (default 10000).
	ChunkRows int
	// Parallel is the number of chunk workers (default 4).
	Parallel int
	// Sample is how many keys of each class a table's report lists
	// (default 10).
	Sample int
	// Slots are the replication slots of the running directions whose
	// source is PostgreSQL, by the side they read ("blue" → the
	// blue-to-green slot). Slots and Checkpoints both empty: no sync is
	// waited for, and every difference is reported as found.
	Slots map[string]string
	// Checkpoints are the running directions whose source is MariaDB or
	// MySQL, by the side they read: the direction's name in the
	// checkpoints table of bgsync's schema (Schema) on the other side
	// ("blue" → "blue-to-green").
	Checkpoints map[string]string
	// BinlogForms are the position forms of those directions, by the side
	// they read: how capture/mysql makes the positions their checkpoints
	// hold (file offsets, or GTIDs of one domain). Absent: file offsets.
	BinlogForms map[string]capturemy.Form
	// Schema is bgsync's own schema (PostgreSQL) or database
	// (MariaDB/MySQL) on each side: the config's name.
	Schema string
	// Skip lists tables not to compare, each with the reason, which the
	// report gives as the table's error.
	Skip map[change.Table]string
	// SettleTimeout bounds the wait for the sync before a re-read
	// (default 60s).
	SettleTimeout time.Duration
	// StatementTimeout bounds every statement (default 2m).
	StatementTimeout time.Duration
	// Progress, when set, is called after every chunk.
	Progress func(Progress)
}

// engine is side i's engine (0 blue, 1 green).
func (o *Options) engine(i int) Engine {
	e := o.BlueEngine
	if i == 1 {
		e = o.GreenEngine
	}
	if e == "" {
		return Postgres
	}
	return e
}

func (o *Options) defaults() {
	if o.ChunkRows <= 0 {
		o.ChunkRows = 10000
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Sample < 0 {
		o.Sample = 0
	} else if o.Sample == 0 {
		o.Sample = 10
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = 60 * time.Second
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 2 * time.Minute
	}
}

// Progress is a snapshot of a running verify.
type Progress struct {
	Table              string
	ChunksDone, Chunks int   // of this table; Chunks is 0 until the table is cut
	TableRows          int64 // rows of this table read so far, both sides
	Rows               int64 // rows of every table read so far, both sides
	Elapsed            time.Duration
}

// rechecks is how many times differing rows are read again.
const rechecks = 3

// Run compares every table of opts and returns the report. An error means
// nothing could be measured (a side unreachable); a table that could not
// be compared has its own Error in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.defaults()
	start := time.Now()
	rep := &Report{Started: start}
	probe, err := openPair(ctx, &opts)
	if err != nil {
		return nil, err
	}
	tables := make([]*tableRun, 0, len(opts.Tables))
	for _, t := range opts.Tables {
		m := opts.Mappings[t]
		tr := &tableRun{res: &Table{Name: t.String()}}
		if m != nil && m.Target() != t {
			tr.res.Green = m.Target().String()
		}
		if why, ok := opts.Skip[t]; ok {
			tr.res.Error = why
			tables = append(tables, tr)
			continue
		}
		tr.shape, err = loadShape(ctx, probe, t, m, &opts)
		if err != nil {
			tr.res.Error = err.Error()
		}
		tables = append(tables, tr)
	}
	probe.close()

	tasks := make(chan task)
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	var rows int64
	for w := 0; w < opts.Parallel; w++ {
		g.Go(func() error {
			p, err := openPair(gctx, &opts)
			if err != nil {
				return err
			}
			defer p.close()
			for tk := range tasks {
				out, err := p.compareChunk(gctx, tk.t.shape, tk.c, &opts)
				if err != nil {
					return fmt.Errorf("table %s: %w", tk.t.res.Name, err)
				}
				mu.Lock()
				tk.t.merge(out)
				tk.t.done++
				rows += int64(out.blueRows + out.greenRows)
				pr := Progress{Table: tk.t.res.Label(), ChunksDone: tk.t.done, Chunks: tk.t.chunks,
					TableRows: tk.t.res.BlueRows + tk.t.res.GreenRows, Rows: rows, Elapsed: time.Since(start)}
				mu.Unlock()
				if opts.Progress != nil {
					opts.Progress(pr)
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(tasks)
		p, err := openPair(gctx, &opts)
		if err != nil {
			return err
		}
		defer p.close()
		for _, tr := range tables {
			if tr.shape == nil {
				continue
			}
			var bounds []string
			if !tr.shape.oneChunk {
				bounds, err = p.sides[0].chunkBounds(gctx, tr.shape, opts.ChunkRows)
			}
			if err != nil {
				return fmt.Errorf("table %s: cut into chunks: %w", tr.res.Name, err)
			}
			mu.Lock()
			tr.chunks = len(bounds) + 1
			mu.Unlock()
			lo := ""
			for i := 0; i <= len(bounds); i++ {
				c := chunk{lo: lo}
				if i < len(bounds) {
					c.hi = bounds[i]
				}
				select {
				case tasks <- task{t: tr, c: c}:
				case <-gctx.Done():
					return gctx.Err()
				}
				lo = c.hi
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	if err := recheckAll(ctx, &opts, tables, rep); err != nil {
		return nil, err
	}
	for _, tr := range tables {
		tr.finish(opts.Sample)
		rep.Tables = append(rep.Tables, *tr.res)
	}
	sort.Slice(rep.Tables, func(i, j int) bool { return rep.Tables[i].Name < rep.Tables[j].Name })
	rep.Finished = time.Now()
	return rep, nil
}

// tableRun is one table's state during a run.
type tableRun struct {
	shape        *shape
	res          *Table
	chunks, done int
	// diffs are the rows that differed in the first pass, by key text,
	// with the source positions noted after their chunk was read.
	diffs map[string]diff
	seen  positions
}

type task struct {
	t *tableRun
	c chunk
}

// merge adds one chunk's outcome (under the run's lock).
func (tr *tableRun) merge(out chunkResult) {
	tr.res.BlueRows += int64(out.blueRows)
	tr.res.GreenRows += int64(out.greenRows)
	tr.res.Matched += int64(out.matched)
	if len(out.diffs) == 0 {
		return
	}
	if tr.diffs == nil {
		tr.diffs = map[string]diff{}
	}
	for k, d := range out.diffs {
		tr.diffs[k] = d
	}
	tr.seen = tr.seen.max(out.seen)
}

// finish classifies what is left of the differences after the rechecks.
func (tr *tableRun) finish(sample int) {
	keys := make([]string, 0, len(tr.diffs))
	for k := range tr.diffs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tr.res.add(tr.diffs[k], k, sample)
	}
}
