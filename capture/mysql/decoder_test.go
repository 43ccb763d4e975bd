package mysql

import (
	"errors"
	"testing"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// feed runs events through a decoder: each is (header flags, log pos,
// event).
type ev struct {
	flags  uint16
	logPos uint32
	e      replication.Event
}

func feed(d *decoder, evs ...ev) ([]*change.Txn, error) {
	var out []*change.Txn
	for _, e := range evs {
		h := &replication.EventHeader{Flags: e.flags, LogPos: e.logPos, Timestamp: 1_700_000_000}
		txn, err := d.handle(&replication.BinlogEvent{Header: h, Event: e.e})
		if err != nil {
			return out, err
		}
		if txn != nil {
			out = append(out, txn)
		}
	}
	return out, nil
}

func rotate(name string) ev {
	return ev{e: &replication.RotateEvent{NextLogName: []byte(name), Position: 4}}
}
func gtid(seq uint64, standalone bool) ev {
	var fl byte
	if standalone {
		fl = replication.BINLOG_MARIADB_FL_STANDALONE
	}
	return ev{e: &replication.MariadbGTIDEvent{GTID: gomysql.MariadbGTID{SequenceNumber: seq}, Flags: fl}}
}
func query(pos uint32, db, q string) ev {
	return ev{logPos: pos, e: &replication.QueryEvent{Schema: []byte(db), Query: []byte(q)}}
}

func TestDecoderStatements(t *testing.T) {
	f := newFilter(&Config{Tables: map[change.Table]bool{{Schema: "db", Name: "t"}: true}})
	d := newDecoder(f, Form{Base: "mysql-bin"}, 0, 0)
	txns, err := feed(d, rotate("mysql-bin.000002"),
		gtid(5, true), query(200, "db", "CREATE TABLE other (id int)"), // not captured
		gtid(6, false), query(300, "db", "BEGIN"), query(350, "db", "COMMIT"), // empty
		gtid(7, true), query(400, "db", "TRUNCATE TABLE t"),
		ev{flags: skipReplicationFlag, e: &replication.MariadbGTIDEvent{Flags: replication.BINLOG_MARIADB_FL_STANDALONE}}, ev{flags: skipReplicationFlag, logPos: 500, e: &replication.QueryEvent{Schema: []byte("db"), Query: []byte("ALTER TABLE t ADD c int")}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) != 1 || txns[0].ID != 7 || txns[0].Position != 2<<32|400 || txns[0].Changes[0].Op != change.OpTruncate {
		t.Fatalf("txns %+v", txns)
	}
	if d.stats.empty != 2 || d.stats.echoTxns != 1 || d.stats.read != 2<<32|500 {
		t.Errorf("stats %+v", d.stats)
	}

	// DDL on a captured table stops, naming table and position; once
	// accepted (or at or below the floor) it passes.
	_, err = feed(d, gtid(8, true), query(600, "", "ALTER TABLE db.t DROP c"))
	var sce *SchemaChangeError
	if !errors.As(err, &sce) || sce.Table != (change.Table{Schema: "db", Name: "t"}) || sce.At != "mysql-bin.000002:600" {
		t.Fatalf("err %v", err)
	}
	d2 := newDecoder(f, Form{Base: "mysql-bin"}, 0, 2<<32|600)
	if _, err := feed(d2, rotate("mysql-bin.000002"), gtid(8, true), query(600, "", "ALTER TABLE db.t DROP c")); err != nil {
		t.Errorf("accepted change: %v", err)
	}
	// A transaction at or below the floor is not sent again.
	d3 := newDecoder(f, Form{Base: "mysql-bin"}, 2<<32|400, 0)
	if txns, err := feed(d3, rotate("mysql-bin.000002"), gtid(7, true), query(400, "db", "TRUNCATE TABLE t")); err != nil || len(txns) != 0 {
		t.Errorf("replayed truncate: %v %v", txns, err)
	}
}

func TestDecoderOddInput(t *testing.T) {
	f := newFilter(&Config{})
	d := newDecoder(f, Form{Base: "mysql-bin"}, 0, 0)
	// A nil event would make the handler dereference nil: it becomes an
	// error, never a panic.
	_, err := feed(d, rotate("mysql-bin.000001"), ev{logPos: 10, e: (*replication.QueryEvent)(nil)})
	var de *DecodeError
	if !errors.As(err, &de) || de.At != "mysql-bin.000001:10" {
		t.Fatalf("nil event: %v", err)
	}
	if _, err := feed(d, gtid(1, false), ev{logPos: 0, e: &replication.XIDEvent{}}); err == nil {
		t.Error("commit without a log position accepted")
	}
	if _, err := feed(d, rotate("no-number")); err == nil {
		t.Error("unparsable rotate accepted")
	}
}

// FuzzTemporal: the temporal text parsers never panic.
func FuzzTemporal(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2024-02-29 01:02:03.5", "-838:59:59.000001", "1:", "00:00:00.", "0000-00-00 00:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseDate(s)
		_, _ = parseDatetime(s)
		_, _ = parseTime(s)
	})
}
