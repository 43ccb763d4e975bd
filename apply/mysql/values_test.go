package mysql_test

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
)

// kindColumns: one column per value kind, of the MariaDB type it maps to.
var kindColumns = []struct {
	name, ddl string
	val       change.Value
}{
	{"b", "TINYINT(1)", change.Bool(true)},
	{"bit1", "BIT(1)", change.Bool(true)},
	{"i", "BIGINT", change.Int(math.MinInt64)},
	{"i32", "INT", change.Int(-2147483648)},
	{"u", "BIGINT UNSIGNED", change.Uint(math.MaxUint64)},
	{"num", "DECIMAL(12,3)", change.Numeric("-123456789.120")},
	{"f", "DOUBLE", change.Float(-1.2345678901234567e-300)},
	{"f4", "FLOAT", change.Float(float64(float32(3.14159)))},
	{"t", "VARCHAR(50)", change.Text("héllo 'wörld' \\ \x00 end")},
	{"tx", "TEXT", change.Text("")},
	{"e", "ENUM('small','large')", change.Enum("large")},
	{"by", "VARBINARY(10)", change.Bytes([]byte{0, 1, 0xfe, 0xff, '\''})},
	{"blb", "BLOB", change.Bytes([]byte("\\\x00\n"))},
	{"j", "JSON", change.JSON(`{"a": [1, 2.5, "x"], "b": null}`)},
	{"ub", "BINARY(16)", uuid("7d444840-9dc0-11d1-b245-5ffdce74fad2")},
	{"ut", "CHAR(36)", uuid("7d444840-9dc0-11d1-b245-5ffdce74fad2")},
	{"uu", "UUID", uuid("7d444840-9dc0-11d1-b245-5ffdce74fad2")},
	{"d", "DATE", change.Date(-25567)}, // 1900-01-01
	{"tm", "TIME(6)", change.Time(23*3600e6 + 59*60e6 + 59e6 + 999999)},
	{"iv", "TIME(6)", change.Interval(0, 0, -(838*3600e6 + 59*60e6 + 59e6))},
	{"ts", "DATETIME(6)", change.Timestamp(-30 * 365 * 86400e6)},
	{"tz", "TIMESTAMP(6) NULL", change.TimestampTZ(20 * 365 * 86400e6)},
	{"tzd", "DATETIME(6)", change.TimestampTZ(4e15 + 123456)},
	{"arr", "JSON", change.Array([]change.Value{change.Int(1), change.Null(), change.Int(-3)})},
	{"arrt", "TEXT", change.Array([]change.Value{change.Array([]change.Value{change.Text("a,b"), change.Text(`"q"`)})})},
	{"ivt", "VARCHAR(60)", change.Interval(14, -3, 5e6)},
	{"ttz", "VARCHAR(40)", change.TimeTZ(12*3600e6, 5*3600+1800)},
	{"nul", "INT NULL", change.Null()},
}

func uuid(s string) change.Value {
	var b [16]byte
	j := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		var n byte
		for _, c := range []byte{s[i], s[i+1]} {
			n <<= 4
			switch {
			case c >= '0' && c <= '9':
				n |= c - '0'
			default:
				n |= c - 'a' + 10
			}
		}
		b[j] = n
		j++
		i++
	}
	return change.UUID(b)
}

// TestValueKinds: every value kind, written to the MariaDB column type it
// maps to, reads back through canon's Decode (with the written value as the
// like value) as an equal change.Value; an update whose before image is the
// written row finds no conflict; and a second, different row does differ.
func TestValueKinds(t *testing.T) {
	t.Parallel()
	ddl := "CREATE TABLE kinds (id INT PRIMARY KEY"
	cols := []change.Column{{Name: "id", Key: true}}
	row := change.Row{change.Int(1)}
	for _, c := range kindColumns {
		ddl += ", `" + c.name + "` " + c.ddl
		cols = append(cols, change.Column{Name: c.name})
		row = append(row, c.val)
	}
	e := newEnv(t, ddl+")")
	a := e.open()
	kinds := e.table("kinds")
	e.apply(a, txn(1, change.Change{Op: change.OpInsert, Table: kinds, Columns: cols, After: row}))

	got := readRow(t, e, kinds, cols, row)
	for i := range cols {
		if !change.Equal(got[i], row[i]) {
			t.Errorf("column %s: read back %+v, wrote %+v", cols[i].Name, got[i], row[i])
		}
	}

	// The written row is what the target holds: an update with it as the
	// before image is no conflict, and its new values land exactly.
	after := append(change.Row(nil), row...)
	after[3] = change.Int(42)                                              // i
	after[len(after)-1] = change.Int(7)                                    // nul
	after[19] = change.Time(0)                                             // tm
	after[24] = change.Array([]change.Value{change.Int(9), change.Int(8)}) // arr
	res := e.apply(a, txn(2, change.Change{Op: change.OpUpdate, Table: kinds, Columns: cols, Before: row, After: after}))
	if len(res.Conflicts) != 0 || res.Updated != 1 {
		t.Fatalf("update with the written row as before image: %+v", res)
	}
	got = readRow(t, e, kinds, cols, after)
	for i := range cols {
		if !change.Equal(got[i], after[i]) {
			t.Errorf("after update, column %s: read back %+v, wrote %+v", cols[i].Name, got[i], after[i])
		}
	}
	// A stale before image is a conflict (update_differs).
	res = e.apply(a, txn(3, change.Change{Op: change.OpUpdate, Table: kinds, Columns: cols, Before: row, After: row}))
	if res.Conflicts[mysql.ConflictLabel{Kind: "update_differs", Resolution: "incoming_wins"}] != 1 {
		t.Fatalf("stale before image: %+v", res.Conflicts)
	}
}

// readRow reads row id of t and decodes it like the given image.
func readRow(t *testing.T, e *env, tbl change.Table, cols []change.Column, like change.Row) change.Row {
	t.Helper()
	ctx := context.Background()
	tt, err := mysql.ReadTable(ctx, e.db, tbl)
	if err != nil {
		t.Fatal(err)
	}
	q := "SELECT "
	for i, c := range cols {
		if i > 0 {
			q += ", "
		}
		q += "`" + c.Name + "`"
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	// Interpolated (text protocol) like the applier: a query with no
	// arguments is sent as text.
	rs, err := e.db.QueryContext(ctx, q+" FROM `"+tbl.Schema+"`.`"+tbl.Name+"` WHERE id = "+strconv.FormatInt(like[0].I, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !rs.Next() {
		t.Fatalf("no row: %v", rs.Err())
	}
	if err := rs.Scan(dest...); err != nil {
		t.Fatal(err)
	}
	out := make(change.Row, len(cols))
	for i, c := range cols {
		ct, ok := tt.Column(c.Name)
		if !ok {
			t.Fatalf("no column %s", c.Name)
		}
		v, err := mysql.Decode(ct, raw[i], like[i])
		if err != nil {
			t.Fatalf("column %s: %v", c.Name, err)
		}
		out[i] = v
	}
	return out
}
