package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// startCapture sets up publication and slot for the given tables and runs a
// capture with a small logical_decoding_work_mem, so big transactions are
// streamed.
func startCapture(t *testing.T, dsn string, tables []change.Table) (*capturepg.Capture, <-chan *change.Txn) {
	t.Helper()
	ctx := context.Background()
	conn := testenv.Connect(t, dsn)
	o := capturepg.SetupOptions{Side: "blue", Slot: "cap_" + strings.ToLower(t.Name()), Publication: "cap_pub", Tables: tables}
	if err := capturepg.Check(ctx, conn, o); err != nil {
		t.Fatal(err)
	}
	if err := capturepg.Setup(ctx, conn, o); err != nil {
		t.Fatal(err)
	}
	c, err := capturepg.New(capturepg.Config{DSN: dsn, Slot: o.Slot, Publication: o.Publication,
		SkipOriginPrefix: "bgsync_", WorkMem: "64kB", StatusInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan *change.Txn, 100)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("capture ended with %v", err)
		}
		_ = capturepg.Teardown(context.Background(), conn, o)
	})
	return c, out
}

func next(t *testing.T, ch <-chan *change.Txn) *change.Txn {
	t.Helper()
	select {
	case txn := <-ch:
		return txn
	case <-time.After(20 * time.Second):
		t.Fatal("no transaction within 20s")
	}
	return nil
}

func TestCaptureStreamsAndFilters(t *testing.T) {
	dsn := testenv.NewDatabase(t, testenv.BlueDSN())
	db := testenv.Connect(t, dsn)
	testenv.Exec(t, db,
		`CREATE TABLE items (id int PRIMARY KEY, big text, n int)`,
		`ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL`,
	)
	capt, out := startCapture(t, dsn, []change.Table{{Schema: "public", Name: "items"}})
	ctx := context.Background()

	// 1. A plain transaction with an insert and an update that leaves the
	// TOASTed column alone.
	big := strings.Repeat("x", 10000)
	testenv.Exec(t, db, `BEGIN`, `INSERT INTO items VALUES (1, '`+big+`', 1)`, `UPDATE items SET n = 2 WHERE id = 1`, `COMMIT`)
	txn := next(t, out)
	if len(txn.Changes) != 2 || txn.Changes[0].Op != change.OpInsert || txn.Changes[1].Op != change.OpUpdate {
		t.Fatalf("unexpected txn: %+v", txn.Changes)
	}
	if got := txn.Changes[0].After[1]; got.Kind != change.KindText || got.S != big {
		t.Errorf("insert big = %v/%d bytes", got.Kind, len(got.S))
	}
	if got := txn.Changes[1].After[1]; got.Kind != change.KindUnchanged {
		t.Errorf("untouched TOAST column came as %v, want unchanged", got.Kind)
	}
	if txn.Changes[1].Seq != 1 || txn.Position == 0 || txn.CommitTime.IsZero() {
		t.Errorf("bad header: seq %d pos %s time %v", txn.Changes[1].Seq, txn.Position, txn.CommitTime)
	}

	// 2. A large transaction, streamed before commit, with a rolled-back
	// savepoint in the middle: the aborted rows must not appear.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, `INSERT INTO items SELECT g, repeat('y', 200), g FROM generate_series(100, 3099) g`)
	mustExec(t, tx, `SAVEPOINT s1`)
	mustExec(t, tx, `INSERT INTO items SELECT g, 'aborted', g FROM generate_series(5000, 5999) g`)
	mustExec(t, tx, `ROLLBACK TO SAVEPOINT s1`)
	mustExec(t, tx, `INSERT INTO items SELECT g, 'after', g FROM generate_series(6000, 6999) g`)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	txn = next(t, out)
	if len(txn.Changes) != 4000 {
		t.Fatalf("streamed txn has %d changes, want 4000", len(txn.Changes))
	}
	for i, c := range txn.Changes {
		id := c.After[0].I
		if id >= 5000 && id < 6000 {
			t.Fatalf("aborted row %d delivered", id)
		}
		if c.Seq != uint32(i) {
			t.Fatalf("change %d has seq %d", i, c.Seq)
		}
	}

	// 3. A transaction written under a bgsync replication origin is dropped;
	// the next ordinary one arrives.
	origin := fmt.Sprintf("bgsync_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { testenv.Exec(t, db, `SELECT pg_replication_origin_drop('`+origin+`')`) })
	testenv.Exec(t, db,
		`SELECT pg_replication_origin_create('`+origin+`')`,
		`SELECT pg_replication_origin_session_setup('`+origin+`')`,
		`INSERT INTO items VALUES (7000, 'echo', 0)`,
		`SELECT pg_replication_origin_session_reset()`,
		`INSERT INTO items VALUES (7001, 'app', 0)`,
	)
	txn = next(t, out)
	if id := txn.Changes[0].After[0].I; id != 7001 {
		t.Fatalf("got row %d, want 7001 (7000 is bgsync's echo)", id)
	}
	if s := capt.Stats(); s.EchoTxns != 1 {
		t.Errorf("echo txns = %d, want 1", s.EchoTxns)
	}

	// 4. Acknowledging moves the slot's confirmed position.
	capt.Ack(txn.Position)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var confirmed string
		if err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`,
			"cap_"+strings.ToLower(t.Name())).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		p, _ := change.ParsePosition(confirmed)
		if p >= txn.Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot confirmed %s, want >= %s", confirmed, txn.Position)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustExec(t *testing.T, tx pgx.Tx, sql string) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
