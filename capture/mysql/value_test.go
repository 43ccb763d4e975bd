package mysql

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

func ts2000(y int, mo time.Month, d, h, mi, s, us int) int64 {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro() - change.Epoch2000Unix
}

func TestColumnValue(t *testing.T) {
	const hourUS = int64(time.Hour / time.Microsecond)
	for _, tc := range []struct {
		name string
		col  column
		in   any
		want change.Value
	}{
		{"null", column{typ: gomysql.MYSQL_TYPE_LONG}, nil, change.Null()},
		{"int8", column{typ: gomysql.MYSQL_TYPE_TINY}, int8(-128), change.Int(-128)},
		{"uint64 small", column{typ: gomysql.MYSQL_TYPE_LONGLONG, unsigned: true}, uint64(math.MaxInt64), change.Int(math.MaxInt64)},
		{"uint64 big", column{typ: gomysql.MYSQL_TYPE_LONGLONG, unsigned: true}, uint64(math.MaxUint64), change.Uint(math.MaxUint64)},
		{"year", column{typ: gomysql.MYSQL_TYPE_YEAR}, 2024, change.Int(2024)},
		{"float32", column{typ: gomysql.MYSQL_TYPE_FLOAT}, float32(0.1), change.Float(float64(float32(0.1)))},
		{"decimal", column{typ: gomysql.MYSQL_TYPE_NEWDECIMAL}, "12.50", change.Numeric("12.50")},
		{"datetime time", column{typ: gomysql.MYSQL_TYPE_DATETIME2}, time.Date(2024, 2, 29, 1, 2, 3, 4000, time.UTC), change.Timestamp(ts2000(2024, 2, 29, 1, 2, 3, 4))},
		{"datetime text before 1970", column{typ: gomysql.MYSQL_TYPE_DATETIME2}, "1969-07-20 20:17:40.5", change.Timestamp(ts2000(1969, 7, 20, 20, 17, 40, 500000))},
		{"timestamp other zone", column{typ: gomysql.MYSQL_TYPE_TIMESTAMP2}, time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 7200)), change.TimestampTZ(ts2000(2024, 1, 2, 1, 4, 5, 0))},
		{"date", column{typ: gomysql.MYSQL_TYPE_DATE}, "1969-12-31", change.Date(-1)},
		{"time", column{typ: gomysql.MYSQL_TYPE_TIME2}, "23:59:59.999999", change.Time(24*hourUS - 1)},
		{"time frac 3", column{typ: gomysql.MYSQL_TYPE_TIME2}, "00:00:01.5", change.Time(1_500_000)},
		{"time negative", column{typ: gomysql.MYSQL_TYPE_TIME2}, "-00:00:01.25", change.Interval(0, 0, -1_250_000)},
		{"time 24h", column{typ: gomysql.MYSQL_TYPE_TIME2}, "24:00:00", change.Interval(0, 0, 24*hourUS)},
		{"time max", column{typ: gomysql.MYSQL_TYPE_TIME2}, "838:59:59", change.Interval(0, 0, (838*3600+59*60+59)*1_000_000)},
		{"bit", column{typ: gomysql.MYSQL_TYPE_BIT, bits: 5}, int64(5), change.Enum("00101")},
		{"bit64", column{typ: gomysql.MYSQL_TYPE_BIT, bits: 64}, int64(-1), change.Enum("1111111111111111111111111111111111111111111111111111111111111111")},
		{"enum", column{typ: gomysql.MYSQL_TYPE_ENUM, labels: []string{"a", "b"}}, int64(2), change.Enum("b")},
		{"enum invalid", column{typ: gomysql.MYSQL_TYPE_ENUM, labels: []string{"a"}}, int64(0), change.Enum("")},
		{"set", column{typ: gomysql.MYSQL_TYPE_SET, labels: []string{"x", "y", "z"}}, int64(5), change.Text("x,z")},
		{"set empty", column{typ: gomysql.MYSQL_TYPE_SET, labels: []string{"x"}}, int64(0), change.Text("")},
		{"json", column{typ: gomysql.MYSQL_TYPE_JSON}, `{"a":1}`, change.JSON(`{"a":1}`)},
		{"json empty", column{typ: gomysql.MYSQL_TYPE_JSON}, []byte{}, change.JSON("null")},
		{"blob", column{typ: gomysql.MYSQL_TYPE_BLOB, binary: true}, []byte{0, 0xff}, change.Bytes([]byte{0, 0xff})},
		{"text", column{typ: gomysql.MYSQL_TYPE_BLOB}, []byte("h😀"), change.Text("h😀")},
		{"varchar", column{typ: gomysql.MYSQL_TYPE_VARCHAR}, "abc", change.Text("abc")},
		{"varbinary", column{typ: gomysql.MYSQL_TYPE_VARCHAR, binary: true}, "\x00\x01", change.Bytes([]byte{0, 1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.col.value(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestColumnValueErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		col  column
		in   any
		zero bool
	}{
		{"zero date", column{typ: gomysql.MYSQL_TYPE_DATE}, "0000-00-00", true},
		{"zero day", column{typ: gomysql.MYSQL_TYPE_DATE}, "2024-01-00", true},
		{"zero datetime", column{typ: gomysql.MYSQL_TYPE_DATETIME2}, "0000-00-00 00:00:00.000000", true},
		{"zero timestamp", column{typ: gomysql.MYSQL_TYPE_TIMESTAMP2}, "0000-00-00 00:00:00", true},
		{"bad date", column{typ: gomysql.MYSQL_TYPE_DATE}, "2024-1-1", false},
		{"bad time", column{typ: gomysql.MYSQL_TYPE_TIME2}, "1:2", false},
		{"enum index", column{typ: gomysql.MYSQL_TYPE_ENUM, labels: []string{"a"}}, int64(2), false},
		{"set member", column{typ: gomysql.MYSQL_TYPE_SET, labels: []string{"a"}}, int64(2), false},
		{"invalid utf8", column{typ: gomysql.MYSQL_TYPE_VARCHAR}, "\xff", false},
		{"wrong go type", column{typ: gomysql.MYSQL_TYPE_LONG}, "1", false},
		{"partial json", column{typ: gomysql.MYSQL_TYPE_JSON}, &replication.JsonDiff{}, false},
		{"unknown type", column{typ: 200}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.col.value(tc.in)
			if err == nil {
				t.Fatalf("got %+v, want an error", v)
			}
			if tc.zero != errors.Is(err, errZeroDate) {
				t.Errorf("error %v: zero date = %v, want %v", err, !tc.zero, tc.zero)
			}
		})
	}
}

func TestNewTableNeedsFullMetadata(t *testing.T) {
	tm := &replication.TableMapEvent{Schema: []byte("db"), Table: []byte("t"), ColumnCount: 1,
		ColumnType: []byte{gomysql.MYSQL_TYPE_LONG}, ColumnMeta: []uint16{0}}
	if _, err := newTable(tm); !errors.Is(err, errNoColumnNames) {
		t.Errorf("no column names: %v", err)
	}
	tm.ColumnName = [][]byte{[]byte("id")}
	if _, err := newTable(tm); !errors.Is(err, errNoPrimaryKey) {
		t.Errorf("no primary key: %v", err)
	}
	tm.PrimaryKey = []uint64{0}
	tb, err := newTable(tm)
	if err != nil {
		t.Fatal(err)
	}
	want := []change.Column{{Name: "id", Type: "int", Key: true}}
	if diff := cmp.Diff(want, tb.columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if _, err := tb.row([]any{int32(1)}, []int{0}); err == nil {
		t.Error("a row image with a skipped column was accepted")
	}
}
