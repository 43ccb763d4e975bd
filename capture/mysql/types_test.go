package mysql_test

import (
	"math"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/google/go-cmp/cmp"
)

// us2000 is a civil time as microseconds since 2000-01-01 (no zone).
func us2000(y int, mo time.Month, d, h, mi, s, us int) int64 {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro() - change.Epoch2000Unix
}

func days(y int, mo time.Month, d int) int64 {
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func TestTypes(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE types (
		id INT PRIMARY KEY,
		ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
		tiu TINYINT UNSIGNED, iu INT UNSIGNED, bu BIGINT UNSIGNED,
		dec12 DECIMAL(12,2), f FLOAT, dbl DOUBLE,
		dt DATETIME(6), ts TIMESTAMP(6) NULL, dte DATE, tm TIME(6), tm0 TIME, yr YEAR,
		b BIT(5), e ENUM('small','medium','large'), st SET('x','y','z'),
		j JSON, bl BLOB, vb VARBINARY(10), bn BINARY(4),
		txt TEXT, vc VARCHAR(20), ch CHAR(5), vcbin VARCHAR(10) COLLATE utf8mb4_bin
	) DEFAULT CHARSET=utf8mb4`)
	r := start(t, d, 0, nil, "types")

	d.exec(t, `SET SESSION time_zone = '+02:00'`, `BEGIN`,
		`INSERT INTO types VALUES (1,
			-128, -32768, -8388608, -2147483648, -9223372036854775808,
			255, 4294967295, 18446744073709551615,
			12.5, 1.5, 3.141592653589793,
			'2024-02-29 13:14:15.123456', '2024-01-02 03:04:05.123456', '2024-02-29', '-12:30:00.5', '30:00:00', 2024,
			b'00101', 'medium', 'z,x',
			'{"a": [1, 2.5, "x"]}', X'00FF10', X'DEAD', X'01',
			'héllo 😀', '😀 emoji', 'ab', 'CaSe')`,
		`INSERT INTO types (id) VALUES (2)`,
		`INSERT INTO types (id, bi, bu, dec12, dt, dte, tm, tm0, yr, b, e, st, vb, ch) VALUES (3,
			9223372036854775807, 9223372036854775807, -0.05,
			'1969-07-20 20:17:40', '1900-01-01', '23:59:59.999999', '00:00:00', 1901,
			b'11111', 'small', '', X'', '')`, `COMMIT`)
	txn := r.next(t)
	if len(txn.Changes) != 3 {
		t.Fatalf("%d changes, want 3", len(txn.Changes))
	}

	wantCols := []change.Column{
		{Name: "id", Type: "int", Key: true},
		{Name: "ti", Type: "tinyint"}, {Name: "si", Type: "smallint"}, {Name: "mi", Type: "mediumint"},
		{Name: "i", Type: "int"}, {Name: "bi", Type: "bigint"},
		{Name: "tiu", Type: "tinyint unsigned"}, {Name: "iu", Type: "int unsigned"}, {Name: "bu", Type: "bigint unsigned"},
		{Name: "dec12", Type: "decimal(12,2)"}, {Name: "f", Type: "float"}, {Name: "dbl", Type: "double"},
		{Name: "dt", Type: "datetime(6)"}, {Name: "ts", Type: "timestamp(6)"}, {Name: "dte", Type: "date"},
		{Name: "tm", Type: "time(6)"}, {Name: "tm0", Type: "time"}, {Name: "yr", Type: "year"},
		{Name: "b", Type: "bit(5)"}, {Name: "e", Type: "enum"}, {Name: "st", Type: "set"},
		{Name: "j", Type: "text"}, {Name: "bl", Type: "blob"}, {Name: "vb", Type: "varbinary"}, {Name: "bn", Type: "binary"},
		{Name: "txt", Type: "text"}, {Name: "vc", Type: "varchar"}, {Name: "ch", Type: "char"}, {Name: "vcbin", Type: "varchar"},
	}
	if diff := cmp.Diff(wantCols, txn.Changes[0].Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}

	const hour = int64(time.Hour / time.Microsecond)
	rows := []change.Row{
		{
			change.Int(1),
			change.Int(-128), change.Int(-32768), change.Int(-8388608), change.Int(math.MinInt32), change.Int(math.MinInt64),
			change.Int(255), change.Int(math.MaxUint32), change.Uint(math.MaxUint64),
			change.Numeric("12.50"), change.Float(1.5), change.Float(3.141592653589793),
			change.Timestamp(us2000(2024, 2, 29, 13, 14, 15, 123456)),
			change.TimestampTZ(us2000(2024, 1, 2, 1, 4, 5, 123456)), // written at +02:00
			change.Date(days(2024, 2, 29)),
			change.Interval(0, 0, -(12*hour + 30*60_000_000 + 500_000)),
			change.Interval(0, 0, 30*hour),
			change.Int(2024),
			change.Enum("00101"), change.Enum("medium"), change.Text("x,z"),
			change.Text(`{"a": [1, 2.5, "x"]}`), // MariaDB JSON is LONGTEXT
			change.Bytes([]byte{0, 0xFF, 0x10}), change.Bytes([]byte{0xDE, 0xAD}), change.Bytes([]byte{1, 0, 0, 0}),
			change.Text("héllo 😀"), change.Text("😀 emoji"), change.Text("ab"), change.Text("CaSe"),
		},
		append(change.Row{change.Int(2)}, make(change.Row, 28)...), // all NULL
		{
			change.Int(3),
			change.Null(), change.Null(), change.Null(), change.Null(), change.Int(math.MaxInt64),
			change.Null(), change.Null(), change.Int(math.MaxInt64),
			change.Numeric("-0.05"), change.Null(), change.Null(),
			change.Timestamp(us2000(1969, 7, 20, 20, 17, 40, 0)),
			change.Null(),
			change.Date(days(1900, 1, 1)),
			change.Time(24*hour - 1),
			change.Time(0),
			change.Int(1901),
			change.Enum("11111"), change.Enum("small"), change.Text(""),
			change.Null(), change.Null(), change.Bytes([]byte{}), change.Null(),
			change.Null(), change.Null(), change.Text(""), change.Null(),
		},
	}
	for i, want := range rows {
		if diff := cmp.Diff(want, txn.Changes[i].After); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i+1, diff)
		}
	}
}
