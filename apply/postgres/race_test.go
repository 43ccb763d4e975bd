package postgres_test

import (
	"context"
	"testing"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
)

// TestConflictSeesWriteItWaitedFor: the applier locks the rows it is about
// to resolve. When an application transaction holds one of them, the
// applier waits; once the application commits, the applier must judge the
// application's new version (local, committed after the incoming change),
// not the version it first found (written by this applier). Under
// last-writer-wins the application's later write must stay.
func TestConflictSeesWriteItWaitedFor(t *testing.T) {
	dsn, db, a := conflictTarget(t, conflict.Rule{})
	ctx := context.Background()

	// The applier writes row 1: its version is the applier's own.
	first := txn(100, ins(1, "from-blue", 1))
	first.CommitTime = time.Now().Add(-time.Second)
	if _, err := a.Apply(ctx, []*change.Txn{first}, 1); err != nil {
		t.Fatal(err)
	}

	// Blue's next change of row 1 was committed now; green's application
	// updates the row a moment later and holds it while the applier runs.
	incoming := txn(200, change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
		Before: change.Row{change.Int(1), change.Text("from-blue"), change.Int(1)},
		After:  change.Row{change.Int(1), change.Text("from-blue"), change.Int(2)}})
	incoming.CommitTime = time.Now()
	app, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Rollback(ctx)
	if _, err := app.Exec(ctx, `UPDATE items SET big = 'from-green-app', n = 50 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}

	wait := applyInBackground(ctx, a, incoming)
	// Commit only once the applier is blocked on the row lock, so it reads
	// the row after the application's version replaced the one it found.
	waitForLockWait(t, dsn, 10*time.Second)
	if err := app.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := wait(t)
	if out.err != nil {
		t.Fatal(out.err)
	}
	if n := out.res.Conflicts[applypg.ConflictLabel{Kind: "update_differs", Resolution: "target_wins"}]; n != 1 {
		t.Fatalf("conflicts %v, want one update_differs/target_wins", out.res.Conflicts)
	}
	var big string
	var n int
	if err := db.QueryRow(ctx, `SELECT big, n FROM items WHERE id = 1`).Scan(&big, &n); err != nil {
		t.Fatal(err)
	}
	if big != "from-green-app" || n != 50 {
		t.Fatalf("row 1 is (%s, %d): the application's later write was overwritten", big, n)
	}
}

// waitForLockWait waits until a session of dsn's database waits on a lock.
func waitForLockWait(t *testing.T, dsn string, timeout time.Duration) {
	t.Helper()
	mon := testenv.Connect(t, dsn)
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var n int
		if err := mon.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no session waited on a lock within %s", timeout)
}

// TestLostRaceIsRetriedInPlace: an application transaction and the applier
// lock two rows in opposite orders. PostgreSQL breaks the deadlock by
// failing the applier's transaction; the applier rolls back, reads the rows
// again once the application has committed, and applies the group without
// a restart, deciding on the application's versions.
func TestLostRaceIsRetriedInPlace(t *testing.T) {
	dsn, db, a := conflictTarget(t, conflict.Rule{})
	ctx := context.Background()
	first := txn(100, ins(1, "from-blue", 1), ins(2, "from-blue", 2))
	first.CommitTime = time.Now().Add(-time.Second)
	if _, err := a.Apply(ctx, []*change.Txn{first}, 1); err != nil {
		t.Fatal(err)
	}

	upd := func(id int64) change.Change {
		return change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
			Before: change.Row{change.Int(id), change.Text("from-blue"), change.Int(id)},
			After:  change.Row{change.Int(id), change.Text("from-blue"), change.Int(id * 10)}}
	}
	incoming := txn(200, upd(1), upd(2))
	incoming.CommitTime = time.Now()
	app, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Rollback(ctx)
	// The application waits long before checking for a deadlock, so the
	// applier, which waits first, is the one PostgreSQL fails.
	if _, err := app.Exec(ctx, `SET LOCAL deadlock_timeout = '20s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exec(ctx, `UPDATE items SET big = 'app', n = 200 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	wait := applyInBackground(ctx, a, incoming)
	waitForLockWait(t, dsn, 10*time.Second) // the applier holds row 1 and waits for row 2
	if _, err := app.Exec(ctx, `UPDATE items SET big = 'app', n = 100 WHERE id = 1`); err != nil {
		t.Fatalf("the application, not the applier, lost the deadlock: %v", err)
	}
	if err := app.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := wait(t)
	if out.err != nil {
		t.Fatalf("apply: %v", out.err)
	}
	if out.res.Retries != 1 || out.res.Applied != 1 || out.res.Position != 200 {
		t.Fatalf("result %+v, want one transaction applied after one retry", out.res)
	}
	if n := out.res.Conflicts[applypg.ConflictLabel{Kind: "update_differs", Resolution: "target_wins"}]; n != 2 {
		t.Fatalf("conflicts %v, want two update_differs/target_wins (decided on the application's rows)", out.res.Conflicts)
	}
	var rows string
	if err := db.QueryRow(ctx, `SELECT string_agg(format('%s:%s:%s', id, big, n), ' ' ORDER BY id) FROM items`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != "1:app:100 2:app:200" {
		t.Fatalf("rows %s, want the application's writes kept", rows)
	}
	var logged int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM bgsync.conflicts`).Scan(&logged); err != nil || logged != 2 {
		t.Fatalf("%d conflicts logged (%v), want 2: the failed attempt must leave no record", logged, err)
	}
}

type applyOutcome struct {
	res applypg.Result
	err error
}

// applyInBackground starts a.Apply of txn, for an applier that will block
// on the application's locks; the function it returns waits for the
// outcome, failing the test after 30 s.
func applyInBackground(ctx context.Context, a *applypg.Applier, txn *change.Txn) func(t *testing.T) applyOutcome {
	done := make(chan applyOutcome, 1)
	go func() {
		res, err := a.Apply(ctx, []*change.Txn{txn}, 2)
		done <- applyOutcome{res, err}
	}()
	return func(t *testing.T) applyOutcome {
		t.Helper()
		select {
		case out := <-done:
			return out
		case <-time.After(30 * time.Second):
			t.Fatal("the applier did not finish after the application committed")
			return applyOutcome{}
		}
	}
}
