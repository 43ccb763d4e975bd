package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// CopyOut implements snapshot.CopyReader: the range as COPY text.
func (v *SnapshotView) CopyOut(ctx context.Context, t change.Table, lower, upper []string, w io.Writer) error {
	q, _, err := v.copySQL(ctx, t, lower, upper)
	if err != nil {
		return err
	}
	if _, err := v.conn.PgConn().CopyTo(ctx, w, q); err != nil {
		return &SourceError{Op: "copy " + t.String() + " out", Err: err}
	}
	return nil
}

// Read implements snapshot.View: the range's rows decoded as capture
// decodes pgoutput's text values.
func (v *SnapshotView) Read(ctx context.Context, t change.Table, lower, upper []string, emit func([]change.Row) error) error {
	q, cols, err := v.copySQL(ctx, t, lower, upper)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := v.conn.PgConn().CopyTo(ctx, pw, q)
		pw.CloseWithError(err)
		done <- err
	}()
	rerr := v.decodeCopy(t, cols, pr, emit)
	pr.CloseWithError(errStop) // unblocks CopyTo if decoding stopped early
	cerr := <-done
	if rerr != nil {
		return rerr
	}
	if cerr != nil {
		return &SourceError{Op: "copy " + t.String() + " out", Err: cerr}
	}
	return nil
}

var errStop = errors.New("snapshot: reading stopped")

const readBatch = 1000

func (v *SnapshotView) decodeCopy(t change.Table, cols []viewColumn, r io.Reader, emit func([]change.Row) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	batch := make([]change.Row, 0, readBatch)
	store := make([]change.Value, 0, readBatch*len(cols))
	var fields [][]byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			fields = pgtext.SplitCopyLine(fields[:0], line[:len(line)-1])
			if len(fields) != len(cols) {
				return fmt.Errorf("snapshot: table %s: a COPY row has %d fields, want %d", t, len(fields), len(cols))
			}
			start := len(store)
			for i, f := range fields {
				if f == nil {
					store = append(store, change.Null())
					continue
				}
				val, derr := v.types.Decode(cols[i].oid, f)
				if derr != nil {
					return fmt.Errorf("snapshot: table %s, column %s: %w", t, cols[i].Name, derr)
				}
				store = append(store, val)
			}
			batch = append(batch, change.Row(store[start:len(store):len(store)]))
			if len(batch) == readBatch {
				if err := emit(batch); err != nil {
					return err
				}
				batch, store = batch[:0], store[:0]
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}
