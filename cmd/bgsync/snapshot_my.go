package main

import (
	"context"
	"sync"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/snapshot"
)

// binlogSnapshotSource opens consistent views of a MariaDB source (each
// its own START TRANSACTION WITH CONSISTENT SNAPSHOT at its own binlog
// position), and prints positions in the source's file:offset form.
func (a *app) binlogSnapshotSource(src config.Side) (func(context.Context, int) ([]snapshot.View, error), func(change.Position) string, error) {
	s, err := capturemy.NewSnapshotSource(a.dsn[src])
	if err != nil {
		return nil, nil, err
	}
	form := a.binlogForm[src] // learnt by preflightBinlog, run before
	if form.GTID {
		s.UseGTID(form.Domain)
	}
	var mu sync.Mutex
	if form.Base == "" {
		form.Base = "mysql-bin"
	}
	open := func(ctx context.Context, n int) ([]snapshot.View, error) {
		vs, err := s.Open(ctx, n)
		out := make([]snapshot.View, len(vs))
		for i, v := range vs {
			out[i] = v
		}
		if len(vs) > 0 {
			mu.Lock()
			form.Base = vs[0].BinlogBase()
			mu.Unlock()
		}
		return out, err
	}
	format := func(p change.Position) string {
		mu.Lock()
		defer mu.Unlock()
		return form.Format(p)
	}
	return open, format, nil
}
