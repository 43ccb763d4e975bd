package mysql_test

import (
	"testing"

	"github.com/bgsync/bgsync/change"
)

func insertOne(t *testing.T, d *testDB, id int) {
	t.Helper()
	d.exec(t, "INSERT INTO a VALUES ("+itoa(id)+")")
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func firstID(txn *change.Txn) int64 { return txn.Changes[0].After[0].I }

func TestResumeAfterAck(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	r := start(t, d, 0, nil, "a")
	insertOne(t, d, 1)
	insertOne(t, d, 2)
	t1, t2 := r.next(t), r.next(t)
	if firstID(t1) != 1 || firstID(t2) != 2 || t2.Position <= t1.Position {
		t.Fatalf("got ids %d, %d at %d, %d", firstID(t1), firstID(t2), t1.Position, t2.Position)
	}

	// Run again on the same capture without any Ack: it starts where the
	// first Run did (not at the server's new position), so nothing read
	// but unacknowledged is lost.
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	insertOne(t, d, 3)
	r2 := run(t, r.c)
	for _, want := range []int64{1, 2, 3} {
		if got := firstID(r2.next(t)); got != want {
			t.Fatalf("rerun without ack: got id %d, want %d", got, want)
		}
	}
	if err := r2.stop(t); err != nil {
		t.Fatal(err)
	}

	// A new capture acknowledged through t1 resumes right after it: 2 and
	// 3 arrive once, then 4, and nothing twice.
	insertOne(t, d, 4)
	r3 := start(t, d, t1.Position, nil, "a")
	var seen []int64
	for len(seen) < 3 {
		seen = append(seen, firstID(r3.next(t)))
	}
	if seen[0] != 2 || seen[1] != 3 || seen[2] != 4 {
		t.Fatalf("after ack of id 1: got %v, want [2 3 4]", seen)
	}
	insertOne(t, d, 5)
	if got := firstID(r3.next(t)); got != 5 {
		t.Fatalf("got id %d, want 5 (a transaction sent twice?)", got)
	}

	// Acks only move forward.
	r3.c.Ack(t2.Position)
	r3.c.Ack(t1.Position)
	if err := r3.stop(t); err != nil {
		t.Fatal(err)
	}
	r4 := run(t, r3.c)
	if got := firstID(r4.next(t)); got != 3 {
		t.Fatalf("after ack of id 2 (then 1): got id %d, want 3", got)
	}
}
