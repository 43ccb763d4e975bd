package mysql_test

import (
	"errors"
	"strings"
	"testing"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
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

// TestResumeAfterAck runs with both forms of position: binlog file
// offsets, and MariaDB GTIDs (where Run resumes by GTID).
func TestResumeAfterAck(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) { t.Parallel(); testResumeAfterAck(t, nil) })
	t.Run("gtid", func(t *testing.T) {
		t.Parallel()
		domain := gtidDomain(t)
		testResumeAfterAck(t, func(c *capmy.Config) { c.GTID, c.GTIDDomain = true, domain })
	})
}

// gtidDomain is the test source's gtid_domain_id.
func gtidDomain(t *testing.T) uint32 {
	t.Helper()
	var domain uint32
	if err := testenv.OpenMySQL(t, testenv.MyBlueDSN()).QueryRow("SELECT @@GLOBAL.gtid_domain_id").Scan(&domain); err != nil {
		t.Fatal(err)
	}
	return domain
}

func testResumeAfterAck(t *testing.T, tweak func(*capmy.Config)) {
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	r := start(t, d, 0, tweak, "a")
	gtid := tweak != nil
	if capmy.IsGTID(r.c.Stats().Read) != gtid && r.c.Stats().Read != 0 {
		t.Fatalf("read position %d: want GTID form %v", r.c.Stats().Read, gtid)
	}
	insertOne(t, d, 1)
	insertOne(t, d, 2)
	t1, t2 := r.next(t), r.next(t)
	if firstID(t1) != 1 || firstID(t2) != 2 || t2.Position <= t1.Position {
		t.Fatalf("got ids %d, %d at %d, %d", firstID(t1), firstID(t2), t1.Position, t2.Position)
	}
	if capmy.IsGTID(t1.Position) != gtid {
		t.Fatalf("position %d: GTID form %v, want %v", t1.Position, !gtid, gtid)
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
	r3 := start(t, d, t1.Position, tweak, "a")
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

// TestGTIDOtherDomain: a GTID position of a domain the source's
// transactions are not in stops Run with an error naming both domains,
// rather than mis-ordering them.
func TestGTIDOtherDomain(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	domain := gtidDomain(t)
	r := start(t, d, 0, func(c *capmy.Config) { c.GTID, c.GTIDDomain = true, domain+1000 }, "a")
	insertOne(t, d, 1)
	err := r.fail(t)
	var de *capmy.DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "this capture follows domain "+itoa(int(domain)+1000)) {
		t.Fatalf("got %v, want a DecodeError naming the domains", err)
	}
}

// TestGTIDConfigMismatch: a file position given to a GTID capture (or the
// reverse) is refused by New.
func TestGTIDConfigMismatch(t *testing.T) {
	file, _ := capmy.PositionOf("mysql-bin.000001", 4)
	gtid, _ := capmy.GTIDPosition(capmy.GTID{Domain: 0, ServerID: 1, Seq: 5})
	for _, c := range []capmy.Config{
		{DSN: "u:p@tcp(127.0.0.1:1)/", ServerID: 5, GTID: true, Start: file},
		{DSN: "u:p@tcp(127.0.0.1:1)/", ServerID: 5, Start: gtid},
		{DSN: "u:p@tcp(127.0.0.1:1)/", ServerID: 5, GTID: true, Flavor: capmy.FlavorMySQL},
	} {
		if _, err := capmy.New(c); err == nil {
			t.Errorf("New(%+v) = nil error", c)
		}
	}
}
