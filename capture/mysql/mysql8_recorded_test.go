package mysql

// MySQL 8 binlog events, recorded from real servers, through go-mysql's
// BinlogParser (CRC32 checksums, binlog v4, the options Capture gives its
// syncer) and the decoder: no MySQL 8 server runs here.
//
// Recorded (bytes as the server wrote them), in testdata/mysql8/, copied
// from github.com/blackbeam/rust_mysql_common test-data/binlogs/ at commit
// 0648371c42d84e5334d219f4af9dde7c3d14530d:
//
//   - mysql-enum-string-set.000001: MySQL 8.0.28, GTIDs on, table maps
//     with column names (binlog_row_metadata=FULL). CREATE TABLE mysql.t
//     (f1 CHAR(128), f2 VARCHAR(300), f3 ENUM(...), f4 SET(...), f5 TEXT)
//     without a primary key, then three transactions (GTID, BEGIN, TABLE_MAP with
//     column names and ENUM/SET labels, WRITE_ROWS/UPDATE_ROWS/DELETE_ROWS
//     v2, XID).
//   - transaction_compression.000001: MySQL 8.0.32,
//     binlog_transaction_compression=ON, table maps without column names
//     (binlog_row_metadata=MINIMAL): one INSERT into test.tb1 inside a
//     zstd TRANSACTION_PAYLOAD event.
//
// Changed or synthesized, and nothing else:
//
//   - The FORMAT_DESCRIPTION event of mysql-enum-string-set.000001 is fed
//     with LOG_EVENT_BINLOG_IN_USE_F (0x1) cleared: the file was still
//     open when copied, and its stored CRC32 matches the event only with that
//     flag cleared, which go-mysql's checksum check does not know.
//   - withPrimaryKey: the recorded table has no primary key, which the
//     decoder refuses (as the first test shows). To see rows decoded, the
//     recorded TABLE_MAPs get a SIMPLE_PRIMARY_KEY field (type 8, column
//     f1: 3 bytes) inserted before their last field, and their size and
//     CRC32 recomputed. The rows events stay as recorded.
//   - The marker table's TABLE_MAP and UPDATE_ROWS v2 (markerTableMap,
//     markerUpdate) are built here, in the layout mysqld writes with
//     binlog_row_metadata=FULL, for apply/mysql's table
//     <schema>.apply_marker: no recording of it exists. So is the ROTATE a
//     server sends first on a dump connection (a go-mysql value).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"
)

// recording is a binlog file split into its events, each whole (header,
// body, CRC32).
type recording struct {
	events [][]byte
}

func readRecording(t *testing.T, path string) *recording {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(replication.BinLogFileHeader)) {
		t.Fatalf("%s: not a binlog file", path)
	}
	r := &recording{}
	for off := len(replication.BinLogFileHeader); off < len(b); {
		if len(b)-off < replication.EventHeaderSize {
			t.Fatalf("%s: %d trailing bytes", path, len(b)-off)
		}
		size := int(binary.LittleEndian.Uint32(b[off+9:]))
		if size < replication.EventHeaderSize || off+size > len(b) {
			t.Fatalf("%s: event at %d has size %d", path, off, size)
		}
		r.events = append(r.events, b[off:off+size:off+size])
		off += size
	}
	return r
}

// at returns the recorded event that ends at pos (its header's log_pos).
func (r *recording) at(t *testing.T, pos uint32) []byte {
	t.Helper()
	for _, e := range r.events {
		if binary.LittleEndian.Uint32(e[13:]) == pos {
			return e
		}
	}
	t.Fatalf("no recorded event ends at %d", pos)
	return nil
}

// fde is the recording's format description with the in-use flag cleared.
func (r *recording) fde(t *testing.T) []byte {
	t.Helper()
	e := bytes.Clone(r.events[0])
	if replication.EventType(e[4]) != replication.FORMAT_DESCRIPTION_EVENT {
		t.Fatalf("first event is %s", replication.EventType(e[4]))
	}
	binary.LittleEndian.PutUint16(e[17:], binary.LittleEndian.Uint16(e[17:])&^1)
	return e
}

// Events of mysql-enum-string-set.000001 by the position they end at.
const (
	recDDLEnd = 791 // CREATE TABLE mysql.t
	// INSERT of f1..f5 = 100 digits, 298 digits, 'var1', 'one,three',
	// 10 digits
	recInsGTID, recInsBegin, recInsMap, recInsRows, recInsXID = 870, 946, 1077, 1529, 1560
	// UPDATE of that row to 'field1', 'field_2', 'variant2', 'two,four',
	// 298 digits
	recUpdGTID, recUpdBegin, recUpdMap, recUpdRows, recUpdXID = 1639, 1724, 1855, 2628, 2659
	// DELETE of it
	recDelGTID, recDelBegin, recDelMap, recDelRows, recDelXID = 2738, 2814, 2945, 3300, 3331
	recTableID                                                = 124
)

// mysql8Parser is go-mysql's parser with the options Capture gives its
// syncer, plus checksum verification (the syncer leaves it off): a
// recorded byte changed by accident fails the test.
func mysql8Parser() *replication.BinlogParser {
	c := &Capture{cfg: (&Config{Flavor: FlavorMySQL}).withDefaults()}
	sc := c.syncerConfig("tcp", "127.0.0.1:3306", "u", "p", nil)
	p := replication.NewBinlogParser()
	p.SetFlavor(sc.Flavor)
	p.SetParseTime(sc.ParseTime)
	p.SetTimestampStringLocation(sc.TimestampStringLocation)
	p.SetUseDecimal(sc.UseDecimal)
	p.SetRenderJSONAsMySQLText(sc.RenderJSONAsMySQLText)
	p.SetVerifyChecksum(true)
	return p
}

// replay parses raw events in order and hands each to d, as Run does; it
// stops at the first decoder error. A rotate to binlog.000001 comes first,
// as on a dump connection.
func replay(t *testing.T, d *decoder, p *replication.BinlogParser, raw ...[]byte) ([]*change.Txn, error) {
	t.Helper()
	if _, err := d.handle(&replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.ROTATE_EVENT},
		Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("binlog.000001")}}); err != nil {
		t.Fatal(err)
	}
	var out []*change.Txn
	for _, r := range raw {
		ev, err := p.Parse(r)
		if err != nil {
			t.Fatalf("go-mysql cannot parse event %x...: %v", r[:min(len(r), 19)], err)
		}
		txn, err := d.handle(ev)
		if err != nil {
			return out, err
		}
		if txn != nil {
			out = append(out, txn)
		}
	}
	return out, nil
}

// withChecksum sets the header's event size and appends the CRC32 of e.
func withChecksum(e []byte) []byte {
	binary.LittleEndian.PutUint32(e[9:], uint32(len(e)+replication.BinlogChecksumLength))
	return binary.LittleEndian.AppendUint32(e, crc32.ChecksumIEEE(e))
}

// withPrimaryKey returns the recorded TABLE_MAP tm with a
// SIMPLE_PRIMARY_KEY field naming column 0 inserted before its last field
// (COLUMN_VISIBILITY, 0c 01 f8), size and CRC32 recomputed.
func withPrimaryKey(t *testing.T, tm []byte) []byte {
	t.Helper()
	body := tm[:len(tm)-replication.BinlogChecksumLength]
	visibility := []byte{0x0c, 0x01, 0xf8}
	if replication.EventType(tm[4]) != replication.TABLE_MAP_EVENT || !bytes.HasSuffix(body, visibility) {
		t.Fatalf("not the recorded table map: %x", tm)
	}
	e := bytes.Clone(body[:len(body)-len(visibility)])
	e = append(e, 0x08, 0x01, 0x00) // SIMPLE_PRIMARY_KEY, length 1, column 0
	e = append(e, visibility...)
	return withChecksum(e)
}

// synthesized builds an event: header (server_id 1, as recorded), body,
// CRC32. Its log_pos is not consistent with the recorded events around
// it; the decoder reads positions of commit events only.
func synthesized(typ replication.EventType, ts, logPos uint32, flags uint16, body []byte) []byte {
	e := make([]byte, replication.EventHeaderSize, replication.EventHeaderSize+len(body)+replication.BinlogChecksumLength)
	binary.LittleEndian.PutUint32(e[0:], ts)
	e[4] = byte(typ)
	binary.LittleEndian.PutUint32(e[5:], 1)
	binary.LittleEndian.PutUint32(e[13:], logPos)
	binary.LittleEndian.PutUint16(e[17:], flags)
	return withChecksum(append(e, body...))
}

const (
	markerTableID = 125
	markerName    = "apply_marker" // apply/mysql.MarkerTableName
	rowsStmtEnd   = 0x0001         // rows event flag STMT_END_F
)

func appendTableID(b []byte, id uint64) []byte {
	return append(binary.LittleEndian.AppendUint32(b, uint32(id)), byte(id>>32), byte(id>>40))
}

// markerTableMap is the TABLE_MAP of apply/mysql's
//
//	<schema>.apply_marker (direction VARCHAR(191) NOT NULL PRIMARY KEY,
//	  source_position BIGINT UNSIGNED NOT NULL,
//	  writes BIGINT UNSIGNED NOT NULL, applied_at DATETIME(6) NOT NULL)
//
// with binlog_row_metadata=FULL, utf8mb4 (collation 255).
func markerTableMap(schema string, ts, logPos uint32) []byte {
	b := appendTableID(nil, markerTableID)
	b = append(b, 0x01, 0x00) // flags, as recorded
	b = append(b, byte(len(schema)))
	b = append(append(b, schema...), 0)
	b = append(b, byte(len(markerName)))
	b = append(append(b, markerName...), 0)
	b = append(b, 4, gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_LONGLONG, gomysql.MYSQL_TYPE_LONGLONG, gomysql.MYSQL_TYPE_DATETIME2)
	b = append(b, 3, 0xfc, 0x02, 6) // metadata: VARCHAR of 764 bytes, DATETIME2(6)
	b = append(b, 0x00)             // null bitmap: all NOT NULL
	field := func(typ byte, v []byte) { b = append(append(b, typ, byte(len(v))), v...) }
	field(1, []byte{0xc0})             // SIGNEDNESS: both BIGINTs unsigned
	field(2, []byte{0xfc, 0xff, 0x00}) // DEFAULT_CHARSET 255
	var names []byte
	for _, n := range []string{"direction", "source_position", "writes", "applied_at"} {
		names = append(append(names, byte(len(n))), n...)
	}
	field(4, names)        // COLUMN_NAME
	field(8, []byte{0x00}) // SIMPLE_PRIMARY_KEY: direction
	return synthesized(replication.TABLE_MAP_EVENT, ts, logPos, 0, b)
}

// markerUpdate is the UPDATE_ROWS v2 event of apply/mysql's marker upsert
// (INSERT ... ON DUPLICATE KEY UPDATE on an existing row): writes n-1 → n.
func markerUpdate(ts, logPos uint32, direction string, pos uint64, n uint64, at time.Time) []byte {
	b := appendTableID(nil, markerTableID)
	b = binary.LittleEndian.AppendUint16(b, rowsStmtEnd)
	b = binary.LittleEndian.AppendUint16(b, 2) // no extra row data
	b = append(b, 4, 0x0f, 0x0f)               // 4 columns, all in both images
	image := func(pos, writes uint64, at time.Time) {
		b = append(b, 0x00) // no NULLs
		b = binary.LittleEndian.AppendUint16(b, uint16(len(direction)))
		b = append(b, direction...)
		b = binary.LittleEndian.AppendUint64(b, pos)
		b = binary.LittleEndian.AppendUint64(b, writes)
		b = appendDatetime2(b, at)
	}
	image(pos-1, n-1, at.Add(-time.Second))
	image(pos, n, at)
	return synthesized(replication.UPDATE_ROWS_EVENTv2, ts, logPos, 0, b)
}

// appendDatetime2 appends a DATETIME(6) value in the binlog's packed form.
func appendDatetime2(b []byte, t time.Time) []byte {
	ym := uint64(t.Year()*13 + int(t.Month()))
	packed := (ym<<5|uint64(t.Day()))<<17 | uint64(t.Hour()<<12|t.Minute()<<6|t.Second())
	packed += 0x8000000000
	b = append(b, byte(packed>>32), byte(packed>>24), byte(packed>>16), byte(packed>>8), byte(packed))
	us := t.Nanosecond() / 1000
	return append(b, byte(us>>16), byte(us>>8), byte(us))
}

var (
	recTable  = change.Table{Schema: "mysql", Name: "t"}
	recMarker = change.Table{Schema: "bgsync", Name: markerName}
)

func recDecoder(acceptDDL change.Position) *decoder {
	f := newFilter(&Config{Tables: map[change.Table]bool{recTable: true}, Marker: recMarker})
	return newDecoder(f, Form{Base: "binlog"}, 0, acceptDDL)
}

// TestMySQL8RecordedAsIs: the recording, unchanged, read from its first
// event. The CREATE TABLE of a captured table stops the capture; once
// accepted, the first row event stops it because the table has no primary
// key. Both errors name the table and the recorded position.
func TestMySQL8RecordedAsIs(t *testing.T) {
	rec := readRecording(t, "testdata/mysql8/mysql-enum-string-set.000001")
	all := append([][]byte{rec.fde(t)}, rec.events[1:]...)

	_, err := replay(t, recDecoder(0), mysql8Parser(), all...)
	var sce *SchemaChangeError
	if !errors.As(err, &sce) || sce.Table != recTable || sce.At != "binlog.000001:791" ||
		!strings.HasPrefix(sce.Query, "CREATE TABLE t(f1 CHAR(128)") {
		t.Fatalf("err %v, want the CREATE TABLE of mysql.t at binlog.000001:791", err)
	}

	txns, err := replay(t, recDecoder(1<<32|recDDLEnd), mysql8Parser(), all...)
	var de *DecodeError
	if len(txns) != 0 || !errors.As(err, &de) || de.Table != recTable || de.At != "binlog.000001:1529" ||
		!errors.Is(err, errNoPrimaryKey) {
		t.Fatalf("txns %d, err %v: want no primary key on mysql.t at binlog.000001:1529", len(txns), err)
	}
}

// decimals is "0123456789" repeated to n characters.
func decimals(n int) string { return strings.Repeat("0123456789", n/10+1)[:n] }

// TestMySQL8RecordedTransactions: the three recorded transactions (with a
// primary key on f1 grafted onto their table maps) decode into Txns with
// the recorded GTID sequence numbers, positions, commit times, column
// names, key, values and ops.
func TestMySQL8RecordedTransactions(t *testing.T) {
	rec := readRecording(t, "testdata/mysql8/mysql-enum-string-set.000001")
	var evs [][]byte
	for _, e := range rec.events {
		if replication.EventType(e[4]) == replication.TABLE_MAP_EVENT {
			e = withPrimaryKey(t, e)
		}
		evs = append(evs, e)
	}
	evs[0] = rec.fde(t)
	txns, err := replay(t, recDecoder(1<<32|recDDLEnd), mysql8Parser(), evs...)
	if err != nil {
		t.Fatal(err)
	}

	cols := []change.Column{
		{Name: "f1", Type: "char", Key: true}, {Name: "f2", Type: "varchar"},
		{Name: "f3", Type: "enum"}, {Name: "f4", Type: "set"}, {Name: "f5", Type: "text"},
	}
	// The recorded values, as the writer of the recording asserts them too.
	long := decimals(129) + decimals(129) + decimals(40)
	inserted := change.Row{change.Text(decimals(100)), change.Text(long),
		change.Enum("var1"), change.Text("one,three"), change.Text(decimals(10))}
	updated := change.Row{change.Text("field1"), change.Text("field_2"),
		change.Enum("variant2"), change.Text("two,four"), change.Text(long)}
	want := []*change.Txn{
		{ID: 3, Position: 1<<32 | recInsXID, CommitTime: time.Unix(1647193281, 0),
			Changes: []change.Change{{Op: change.OpInsert, Table: recTable, Columns: cols, After: inserted}}},
		{ID: 4, Position: 1<<32 | recUpdXID, CommitTime: time.Unix(1647193297, 0),
			Changes: []change.Change{{Op: change.OpUpdate, Table: recTable, Columns: cols, Before: inserted, After: updated}}},
		{ID: 5, Position: 1<<32 | recDelXID, CommitTime: time.Unix(1647193306, 0),
			Changes: []change.Change{{Op: change.OpDelete, Table: recTable, Columns: cols, Before: updated}}},
	}
	if diff := cmp.Diff(want, txns); diff != "" {
		t.Errorf("txns (-want +got):\n%s", diff)
	}
}

// TestMySQL8RecordedMarker: the recorded INSERT transaction with a change
// to the marker table (Config.Marker) is bgsync's own and dropped as an
// echo, wherever the marker's row falls in it; without one, or with the
// marker table of another schema, the same recorded events are delivered.
func TestMySQL8RecordedMarker(t *testing.T) {
	rec := readRecording(t, "testdata/mysql8/mysql-enum-string-set.000001")
	const ts = 1647193281 // the recorded transaction's
	gtid, begin := rec.at(t, recInsGTID), rec.at(t, recInsBegin)
	tm, rows, xid := withPrimaryKey(t, rec.at(t, recInsMap)), rec.at(t, recInsRows), rec.at(t, recInsXID)
	at := time.Date(2022, 3, 13, 17, 41, 21, 123456000, time.UTC)
	marker := [][]byte{markerTableMap(recMarker.Schema, ts, recInsBegin), markerUpdate(ts, recInsBegin, "green-to-blue", 1<<32|4711, 42, at)}
	otherMarker := [][]byte{markerTableMap("other", ts, recInsBegin), marker[1]}

	// The synthesized marker events read back as built.
	p := mysql8Parser()
	for _, e := range [][]byte{rec.fde(t), marker[0]} {
		if _, err := p.Parse(e); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := p.Parse(marker[1])
	if err != nil {
		t.Fatal(err)
	}
	re := ev.Event.(*replication.RowsEvent)
	if got := []any{string(re.Table.Schema), string(re.Table.Table), re.Table.ColumnNameString(), re.Table.PrimaryKey, re.Rows[1]}; !cmp.Equal(got, []any{
		"bgsync", "apply_marker", []string{"direction", "source_position", "writes", "applied_at"}, []uint64{0},
		[]any{"green-to-blue", uint64(1<<32 | 4711), uint64(42), at},
	}) {
		t.Fatalf("marker update parses as %v", got)
	}

	cat := func(parts ...[][]byte) [][]byte {
		out := [][]byte{rec.fde(t)}
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		events  [][]byte
		deliver bool
	}{
		{"no marker", cat([][]byte{gtid, begin, tm, rows, xid}), true},
		{"marker first (as apply/mysql writes it)", cat([][]byte{gtid, begin}, marker, [][]byte{tm, rows, xid}), false},
		{"marker after the row", cat([][]byte{gtid, begin, tm, rows}, marker, [][]byte{xid}), false},
		{"marker table of another schema", cat([][]byte{gtid, begin}, otherMarker, [][]byte{tm, rows, xid}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := recDecoder(0)
			txns, err := replay(t, d, mysql8Parser(), tc.events...)
			if err != nil {
				t.Fatal(err)
			}
			s := d.stats
			if tc.deliver {
				if len(txns) != 1 || txns[0].ID != 3 || txns[0].Position != 1<<32|recInsXID || len(txns[0].Changes) != 1 ||
					txns[0].Changes[0].Table != recTable || txns[0].Changes[0].Op != change.OpInsert {
					t.Fatalf("txns %+v: want the recorded insert", txns)
				}
				if s.txns != 1 || s.rows != 1 || s.echoTxns != 0 || s.echoRows != 0 {
					t.Errorf("stats %+v", s)
				}
				return
			}
			if len(txns) != 0 {
				t.Fatalf("echo delivered: %+v", txns[0])
			}
			if s.txns != 0 || s.rows != 0 || s.echoTxns != 1 || s.echoRows != 1 || s.read != 1<<32|recInsXID {
				t.Errorf("stats %+v: want 1 echo transaction of 1 row, read to %d", s, recInsXID)
			}
		})
	}

	// After an echo, the next recorded transaction flows.
	d := recDecoder(0)
	txns, err := replay(t, d, mysql8Parser(), cat([][]byte{gtid, begin}, marker, [][]byte{tm, rows, xid},
		[][]byte{rec.at(t, recUpdGTID), rec.at(t, recUpdBegin), withPrimaryKey(t, rec.at(t, recUpdMap)), rec.at(t, recUpdRows), rec.at(t, recUpdXID)})...)
	if err != nil || len(txns) != 1 || txns[0].ID != 4 || txns[0].Changes[0].Op != change.OpUpdate || d.stats.echoTxns != 1 {
		t.Fatalf("after the echo: txns %+v, err %v, stats %+v", txns, err, d.stats)
	}
}

// TestMySQL8RecordedCompressed: a recorded compressed transaction
// (TRANSACTION_PAYLOAD) is read through: on a captured table its MINIMAL
// table map is refused naming the table and the payload's start; on
// tables not captured it is an empty transaction ending at the payload's
// end.
func TestMySQL8RecordedCompressed(t *testing.T) {
	rec := readRecording(t, "testdata/mysql8/transaction_compression.000001")
	tb1 := change.Table{Schema: "test", Name: "tb1"}

	d := newDecoder(newFilter(&Config{Tables: map[change.Table]bool{tb1: true}}), Form{Base: "binlog"}, 0, 0)
	_, err := replay(t, d, mysql8Parser(), rec.events...)
	var de *DecodeError
	if !errors.As(err, &de) || de.Table != tb1 || de.At != "binlog.000001:274" || !errors.Is(err, errNoColumnNames) {
		t.Fatalf("err %v: want no column names for test.tb1 at binlog.000001:274", err)
	}

	d = newDecoder(newFilter(&Config{Tables: map[change.Table]bool{{Schema: "test", Name: "other"}: true}}), Form{Base: "binlog"}, 0, 0)
	txns, err := replay(t, d, mysql8Parser(), rec.events...)
	if err != nil || len(txns) != 0 || d.stats.empty != 1 || d.stats.read != 1<<32|431 {
		t.Fatalf("txns %v, err %v, stats %+v: want one empty transaction read to 431", txns, err, d.stats)
	}
}
