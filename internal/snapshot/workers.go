package snapshot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
)

// interleave orders chunks round-robin across tables (the first chunk of
// each table, then the second of each, ...), so workers running together
// write different tables: several writers appending to one table's primary
// key at once leave its index half-packed and cost the target more CPU.
func interleave(chunks []applypg.SnapshotChunk) []applypg.SnapshotChunk {
	var order []change.Table
	by := map[change.Table][]applypg.SnapshotChunk{}
	for _, c := range chunks {
		if _, ok := by[c.Table]; !ok {
			order = append(order, c.Table)
		}
		by[c.Table] = append(by[c.Table], c)
	}
	out := make([]applypg.SnapshotChunk, 0, len(chunks))
	for i := 0; len(out) < len(chunks); i++ {
		for _, t := range order {
			if i < len(by[t]) {
				out = append(out, by[t][i])
			}
		}
	}
	return out
}

// copyChunks runs the workers over todo; the first error stops them all.
func copyChunks(ctx context.Context, cfg *Config, views []View, todo []applypg.SnapshotChunk) (int64, int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan applypg.SnapshotChunk)
	tables := map[change.Table]*Table{}
	for i := range cfg.Tables {
		tables[cfg.Tables[i].Source] = &cfg.Tables[i]
	}
	limit := newLimiter(cfg.RowsPerSecond)
	var mu sync.Mutex
	var rows int64
	var copied int
	var wg sync.WaitGroup
	for i, v := range views {
		w, err := applypg.OpenChunkWriter(ctx, cfg.TargetDSN, cfg.Schema, cfg.Direction, cfg.OriginPrefix+strconv.Itoa(i))
		if err != nil {
			cancel(err)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.Close()
			mappers := map[change.Table]*transform.Mapper{}
			for c := range queue {
				t := tables[c.Table]
				n, err := copyChunk(ctx, cfg, v, w, t, mappers, c, limit)
				if err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				rows += n
				copied++
				mu.Unlock()
			}
		}()
	}
feed:
	for _, c := range todo {
		select {
		case queue <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return rows, copied, err
	}
	return rows, copied, nil
}

// copyBlock is the size of the blocks a chunk's COPY text goes to the
// target in: under the 64 KiB less a message header that pgconn's CopyFrom
// reads at a time, so one block is one CopyData message.
const copyBlock = 60 << 10

// copyChunk copies one key range: as COPY text straight from the source
// when the table needs no mapping and the source can write it, else row
// by row through the table's mapping.
func copyChunk(ctx context.Context, cfg *Config, v View, w *applypg.ChunkWriter, t *Table,
	mappers map[change.Table]*transform.Mapper, c applypg.SnapshotChunk, limit *limiter) (int64, error) {
	if t == nil {
		return 0, fmt.Errorf("%s: chunk %d of %s: the table is not configured", cfg.Direction, c.N, c.Table)
	}
	srcCols, err := v.Columns(ctx, t.Source)
	if err != nil {
		return 0, err
	}
	raw, canRaw := v.(CopyReader)
	plain := t.Mapping == nil || t.Mapping.Identity()
	cols := make([]string, len(srcCols))
	for i, col := range srcCols {
		cols[i] = col.Name
	}
	if !plain {
		mcols := t.Mapping.Columns()
		cols = make([]string, len(mcols))
		for i, col := range mcols {
			cols[i] = col.Name
		}
	}
	pr, pw := io.Pipe()
	counted := &countingWriter{w: pw, limit: limit, progress: cfg.Progress, table: t.Source, ctx: ctx}
	read := make(chan struct{})
	go func() {
		defer close(read)
		var err error
		if plain && canRaw {
			// CopyOut writes one row per call. Gathered into blocks, or
			// every row is its own hand-off through the pipe and its own
			// CopyData message and write(2) to the target.
			bw := bufio.NewWriterSize(counted, copyBlock)
			if err = raw.CopyOut(ctx, t.Source, c.Lower, c.Upper, bw); err == nil {
				err = bw.Flush()
			}
		} else {
			err = encodeRows(ctx, v, t, srcCols, mappers, c, counted)
		}
		pw.CloseWithError(err)
	}()
	var merge *applypg.Merge
	if cfg.TargetNotEmpty == ModeMerge {
		merge = &t.Merge
	}
	pos := v.Position()
	n, err := w.Write(ctx, c, t.Target, cols, pr, pos, cfg.FormatPosition(pos), cfg.started, merge)
	pr.CloseWithError(errors.New("snapshot: target write ended"))
	<-read // the view is the reader's until it returns
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cfg.Direction, err)
	}
	cfg.Progress.chunkDone(t.Source, n)
	return n, nil
}
