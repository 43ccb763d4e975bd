package mysql_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
)

// TestSnapshotPosition: a transaction committed before the view opened is
// visible and its captured position is at or below the view's; one
// committed after is invisible and its position above.
func TestSnapshotPosition(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	r := start(t, d, 0, nil, "a")
	ctx := context.Background()

	d.exec(t, `INSERT INTO a VALUES (1)`)
	txnA := r.next(t)
	statusA, base, err := capmy.CurrentPosition(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	v := openViews(t, d, 1)[0]
	d.exec(t, `INSERT INTO a VALUES (2)`)
	txnB := r.next(t)

	at := func(p change.Position) string { return capmy.FormatPosition(p, base) }
	if v.BinlogBase() != base {
		t.Errorf("view's binlog base %q, server's %q", v.BinlogBase(), base)
	}
	if !(txnA.Position <= statusA && statusA <= v.Position() && v.Position() < txnB.Position) {
		t.Errorf("positions: A ends at %s, SHOW MASTER STATUS after A %s, view %s, B ends at %s",
			at(txnA.Position), at(statusA), at(v.Position()), at(txnB.Position))
	}
	for range 2 { // the second read, after B, sees the same
		rows := readRange(t, v, d.table("a"), nil, nil)
		if len(rows) != 1 || rows[0][0].I != 1 {
			t.Fatalf("view sees %v, want only id 1", rows)
		}
	}
}

// TestSnapshotPositionUnderWrites: while a writer commits two-row
// transactions as fast as it can, views opened meanwhile each see exactly
// the transactions whose captured position is at or below their own, whole.
func TestSnapshotPositionUnderWrites(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE w (id INT PRIMARY KEY, txn INT)`)
	r := start(t, d, 0, nil, "w")
	ctx := context.Background()

	writer := testenv.OpenMySQL(t, d.dsn)
	writer.SetMaxOpenConns(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written int
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			tx, err := writer.BeginTx(ctx, nil)
			if err == nil {
				_, err = tx.Exec(fmt.Sprintf("INSERT INTO w VALUES (%d, %d)", 2*k, k))
			}
			if err == nil {
				_, err = tx.Exec(fmt.Sprintf("INSERT INTO w VALUES (%d, %d)", 2*k+1, k))
			}
			if err == nil {
				err = tx.Commit()
			}
			if err != nil {
				werr = err
				return
			}
			written = k + 1
		}
	}()

	src, err := capmy.NewSnapshotSource(d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	var views []*capmy.SnapshotView
	t.Cleanup(func() {
		for _, v := range views {
			v.Close()
		}
	})
	for range 4 {
		time.Sleep(30 * time.Millisecond)
		vs, err := src.Open(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		views = append(views, vs...)
	}
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}

	pos := map[int64]change.Position{} // txn number → its captured position
	for len(pos) < written {
		txn := r.next(t)
		if len(txn.Changes) != 2 {
			t.Fatalf("transaction with %d changes", len(txn.Changes))
		}
		pos[txn.Changes[0].After[1].I] = txn.Position
	}
	positions := map[change.Position]bool{}
	partial := 0
	for i, v := range views {
		positions[v.Position()] = true
		seen := map[int64]int{}
		for _, row := range readRange(t, v, d.table("w"), nil, nil) {
			seen[row[1].I]++
		}
		for k := range int64(written) {
			want := 0
			if pos[k] <= v.Position() {
				want = 2
			}
			if seen[k] != want {
				t.Fatalf("view %d at %d sees %d rows of transaction %d at %d, want %d", i, v.Position(), seen[k], k, pos[k], want)
			}
		}
		if len(seen) < written {
			partial++
		}
	}
	t.Logf("%d transactions written; %d views at %d distinct positions, %d of them before the last write",
		written, len(views), len(positions), partial)
	if written < 10 || partial == 0 || len(positions) < 2 {
		t.Errorf("the writer was not writing while the views opened (%d transactions, %d distinct positions)", written, len(positions))
	}
}
