package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
)

// errSampleFull ends a MariaDB read once --sample rows are in; it is not
// an error of the read.
var errSampleFull = errors.New("sample complete")

// openSampleMy prepares table t of MariaDB side for sampling. Its columns
// are those the mappings were compiled against (transform.ReadMySQLColumns
// over db), in the order of the rows of a consistent-snapshot view of its
// own (capture/mysql.SnapshotView: one connection, START TRANSACTION WITH
// CONSISTENT SNAPSHOT, READ ONLY; SELECT is the only privilege it needs),
// which decodes every row into exactly the values capture decodes from the
// binlog. read stops after limit rows (0: every row) and drops the view's
// connection then, rather than let the server send the rest of the table.
// close ends the view. The view refuses MySQL 8 and a server without
// binary logging, saying so.
func (a *app) openSampleMy(ctx context.Context, db *sql.DB, side config.Side, t change.Table) (*sampleTable, error) {
	live, err := transform.ReadMySQLColumns(ctx, db, t)
	if err != nil {
		return nil, err
	}
	src, err := capturemy.NewSnapshotSource(a.dsn[side])
	if err != nil {
		return nil, fmt.Errorf("%s: invalid connection string", side)
	}
	views, err := src.Open(ctx, 1)
	if err != nil {
		return nil, err
	}
	v := views[0]
	ccols, err := v.Columns(ctx, t)
	if err == nil {
		live, err = inRowOrder(t, live, ccols)
	}
	if err != nil {
		_ = v.Close()
		return nil, err
	}
	read := func(ctx context.Context, limit int, each func(change.Row)) error {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		err := v.Read(rctx, t, nil, nil, func(rows []change.Row) error {
			for _, r := range rows {
				if limit > 0 && n >= limit {
					break
				}
				each(r)
				n++
			}
			if limit > 0 && n >= limit {
				// Closing a streamed result set reads it to its end:
				// cancelling drops the connection instead.
				cancel()
				return errSampleFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errSampleFull) {
			return fmt.Errorf("read %s: %w", t, err)
		}
		return nil
	}
	return &sampleTable{cols: live, ccols: ccols, read: read, close: func() { _ = v.Close() }}, nil
}

// inRowOrder returns live (the columns of t from information_schema) in
// the order of rows, the columns a snapshot view reads. Both leave out
// generated columns; a column in one and not the other means t changed
// between the two reads, an error naming the table and column.
func inRowOrder(t change.Table, live []transform.Column, rows []change.Column) ([]transform.Column, error) {
	byName := make(map[string]transform.Column, len(live))
	for _, c := range live {
		byName[c.Name] = c
	}
	out := make([]transform.Column, 0, len(rows))
	for _, c := range rows {
		lc, ok := byName[c.Name]
		if !ok {
			return nil, fmt.Errorf("table %s: column %s appeared while it was being read; run check-transforms again", t, c.Name)
		}
		out = append(out, lc)
		delete(byName, c.Name)
	}
	for name := range byName {
		return nil, fmt.Errorf("table %s: column %s disappeared while it was being read; run check-transforms again", t, name)
	}
	return out, nil
}
