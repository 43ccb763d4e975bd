package mysql_test

import (
	"context"
	"testing"

	"github.com/bgsync/bgsync/apply"
	"github.com/bgsync/bgsync/change"
)

// TestDeadLetters: recorded once per source change (a replay adds
// nothing), counted until handled.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	a := e.open()
	ctx := context.Background()
	src := change.Table{Schema: "public", Name: "items"}
	tx := txn(77, ins(src, item(1, "a", 1)), ins(src, item(2, "b", 2)))
	dls := []apply.DeadLetter{
		{Txn: tx, Change: &tx.Changes[0], Target: e.table("items"), Column: "name", Expr: "upper(name)", Err: "boom"},
		{Txn: tx, Change: &tx.Changes[1], Target: e.table("items"), Column: "n", Err: "cannot convert"},
	}
	for i := 0; i < 2; i++ {
		if err := a.RecordDeadLetters(ctx, dls); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.PendingDeadLetters(ctx); err != nil || n != 2 {
		t.Fatalf("pending %d (%v), want 2", n, err)
	}
	got := e.rows("SELECT source_table, target_table, `key`, op, column_name, expression, error, source_after, source_position, change_seq, commit_time FROM `" +
		e.schema + "`.dead_letters ORDER BY change_seq")
	want := []string{
		`public.items|` + e.dbName + `.items|{"id":"1"}|insert|name|upper(name)|boom|{"id":"1","n":"1","name":"a"}|0/4D|0|2025-03-01 12:01:17.000000`,
		`public.items|` + e.dbName + `.items|{"id":"2"}|insert|n||cannot convert|{"id":"2","n":"2","name":"b"}|0/4D|1|2025-03-01 12:01:17.000000`,
	}
	if !equalStrings(got, want) {
		t.Fatalf("dead letters\n got %v\nwant %v", got, want)
	}
	if _, err := e.db.Exec("UPDATE `" + e.schema + "`.dead_letters SET handled_at = NOW(6) WHERE change_seq = 0"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.PendingDeadLetters(ctx); err != nil || n != 1 {
		t.Fatalf("pending %d (%v), want 1", n, err)
	}
}
