package snapshot

import (
	"context"
	"fmt"
	"io"
	"strings"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
)

// encodeRows reads a chunk row by row, maps each row into the target's
// shape and writes it to w as COPY text. A row the mapping cannot map, or
// a value with no text form, ends the chunk with an error naming table,
// key and column: the copy never skips a row.
func encodeRows(ctx context.Context, v View, t *Table, cols []change.Column,
	mappers map[change.Table]*transform.Mapper, c applypg.SnapshotChunk, w io.Writer) error {
	var mp *transform.Mapper
	if t.Mapping != nil && !t.Mapping.Identity() {
		if mp = mappers[t.Source]; mp == nil {
			mp = t.Mapping.NewMapper()
			mappers[t.Source] = mp
		}
	}
	var buf []byte
	return v.Read(ctx, t.Source, c.Lower, c.Upper, func(rows []change.Row) error {
		buf = buf[:0]
		for _, row := range rows {
			ch := change.Change{Op: change.OpInsert, Table: t.Source, Columns: cols, After: row}
			if mp != nil {
				out, err := mp.Map(&ch)
				if err != nil {
					return fmt.Errorf("snapshot: table %s → %s, key %s: %w", t.Source, t.Target, keyText(cols, row), err)
				}
				ch = out
			}
			var err error
			if buf, err = appendCopyRow(buf, ch.Columns, ch.After); err != nil {
				return fmt.Errorf("snapshot: table %s → %s, key %s: %w", t.Source, t.Target, keyText(cols, row), err)
			}
		}
		_, err := w.Write(buf)
		return err
	})
}

// appendCopyRow appends one row as a line of COPY text, naming the
// column of a value with no text form.
func appendCopyRow(dst []byte, cols []change.Column, row change.Row) ([]byte, error) {
	out, i, err := pgtext.AppendCopyRow(dst, row)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", cols[i].Name, err)
	}
	return out, nil
}

// keyText renders a row's key as "(a, b)=(1, x)".
func keyText(cols []change.Column, row change.Row) string {
	var names, vals []string
	for i, c := range cols {
		if c.Key && i < len(row) {
			names = append(names, c.Name)
			txt, err := pgtext.Encode(nil, row[i])
			if err != nil {
				txt = []byte("?")
			}
			vals = append(vals, string(txt))
		}
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vals, ", ") + ")"
}

// countingWriter passes a chunk's COPY text on, counting its rows (lines)
// for the progress and holding it to the rate limit.
type countingWriter struct {
	ctx      context.Context
	w        io.Writer
	limit    *limiter
	progress *Progress
	table    change.Table
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n := 0
	for _, b := range p {
		if b == '\n' {
			n++
		}
	}
	if err := c.limit.wait(c.ctx, n); err != nil {
		return 0, err
	}
	c.progress.rows(c.table, int64(n))
	return c.w.Write(p)
}
