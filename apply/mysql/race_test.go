package mysql_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
)

// signalHandler closes ch the first time a record's message contains msg.
type signalHandler struct {
	msg  string
	once *sync.Once
	ch   chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h signalHandler) WithGroup(string) slog.Handler            { return h }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}

// TestRetryLockWait: an application transaction holds a row lock longer
// than the applier's lock wait timeout; the group is rolled back and
// applied again once the lock is gone (Result.Retries).
func TestRetryLockWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL, "INSERT INTO items VALUES (1, 'a', 1)")
	retried := make(chan struct{})
	h := signalHandler{msg: "lost a race", once: &sync.Once{}, ch: retried}
	a := e.open(func(c *mysql.Config) { c.Logger = slog.New(h) })
	ctx := context.Background()
	if err := a.ExecSession(ctx, "SET SESSION innodb_lock_wait_timeout = 1"); err != nil {
		t.Fatal(err)
	}
	app, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if err := app.QueryRowContext(ctx, "SELECT id FROM items WHERE id = 1 FOR UPDATE").Scan(&id); err != nil {
		t.Fatal(err)
	}
	items := e.table("items")
	type outcome struct {
		res mysql.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := a.Apply(ctx, []*change.Txn{txn(1, upd(items, item(1, "a", 1), item(1, "b", 2)))}, 0)
		done <- outcome{res, err}
	}()
	select {
	case <-retried:
	case o := <-done:
		t.Fatalf("Apply returned before a retry: %+v, %v", o.res, o.err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || o.res.Retries < 1 || o.res.Updated != 1 {
		t.Fatalf("Apply: %+v, %v", o.res, o.err)
	}
	if got := e.rows("SELECT name, n FROM items"); !equalStrings(got, []string{"b|2"}) {
		t.Fatalf("row %v", got)
	}
}
