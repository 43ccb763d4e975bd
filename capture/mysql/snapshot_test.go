package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/google/go-cmp/cmp"
)

// openViews opens n snapshot views on d's server, closed at cleanup.
func openViews(t testing.TB, d *testDB, n int) []*capmy.SnapshotView {
	t.Helper()
	src, err := capmy.NewSnapshotSource(d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := src.Open(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != n {
		t.Fatalf("Open(%d) gave %d views", n, len(vs))
	}
	t.Cleanup(func() {
		for _, v := range vs {
			if err := v.Close(); err != nil {
				t.Errorf("close view: %v", err)
			}
		}
	})
	return vs
}

// readRange reads a range of t under v, copying the rows out of the
// reused batches.
func readRange(t testing.TB, v *capmy.SnapshotView, tbl change.Table, lower, upper []string) []change.Row {
	t.Helper()
	var out []change.Row
	err := v.Read(context.Background(), tbl, lower, upper, func(rows []change.Row) error {
		if len(rows) == 0 || len(rows) > 1000 {
			t.Errorf("batch of %d rows", len(rows))
		}
		for _, r := range rows {
			out = append(out, slices.Clone(r))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s [%v, %v): %v", tbl, lower, upper, err)
	}
	return out
}

// TestSnapshotTypesMatchCapture: a row read by a snapshot view is the
// same change.Row, value for value and bit for bit, as capture decodes
// from the binlog, for every column type capture supports; Columns are
// capture's columns (generated ones left out).
func TestSnapshotTypesMatchCapture(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE types (
		id INT PRIMARY KEY,
		ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
		tiu TINYINT UNSIGNED, siu SMALLINT UNSIGNED, miu MEDIUMINT UNSIGNED, iu INT UNSIGNED, bu BIGINT UNSIGNED,
		dec12 DECIMAL(12,2), dec65 DECIMAL(65,30), dec0 DECIMAL(5,0), decu DECIMAL(10,4) UNSIGNED, dec33 DECIMAL(3,3),
		f FLOAT, dbl DOUBLE, d2 DOUBLE(10,2), f2 FLOAT(7,3),
		dt DATETIME(6), dt0 DATETIME, dt3 DATETIME(3), ts TIMESTAMP(6) NULL, ts0 TIMESTAMP NULL,
		dte DATE, tm TIME(6), tm0 TIME, tm3 TIME(3), yr YEAR,
		b BIT(5), b1 BIT(1), b64 BIT(64), e ENUM('small','medium','large'), st SET('x','y','z'),
		j JSON, bl BLOB, tbl TINYBLOB, mbl MEDIUMBLOB, lbl LONGBLOB, vb VARBINARY(10), bn BINARY(4),
		txt TEXT, ttx TINYTEXT, mtx MEDIUMTEXT, ltx LONGTEXT, vc VARCHAR(20), ch CHAR(5),
		vcbin VARCHAR(10) COLLATE utf8mb4_bin, lat VARCHAR(10) CHARACTER SET latin1, u3 VARCHAR(10) CHARACTER SET utf8mb3,
		g POINT, gg GEOMETRY,
		gen INT AS (i + 1) VIRTUAL, gens INT AS (bi DIV 2) PERSISTENT
	) DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE floats (id INT PRIMARY KEY, f FLOAT, d DOUBLE)`,
		`CREATE TABLE mdb (id INT PRIMARY KEY, u UUID, i6 INET6)`)
	r := start(t, d, 0, nil, "types", "floats", "mdb")

	cols := `id, ti, si, mi, i, bi, tiu, siu, miu, iu, bu, dec12, dec65, dec0, decu, dec33, f, dbl, d2, f2,
		dt, dt0, dt3, ts, ts0, dte, tm, tm0, tm3, yr, b, b1, b64, e, st,
		j, bl, tbl, mbl, lbl, vb, bn, txt, ttx, mtx, ltx, vc, ch, vcbin, lat, u3, g, gg`
	d.exec(t, `SET SESSION time_zone = '+02:00'`, `SET SESSION sql_mode = ''`, `BEGIN`,
		`INSERT INTO types (`+cols+`) VALUES (1,
			-128, -32768, -8388608, -2147483648, -9223372036854775808,
			0, 0, 0, 0, 0,
			-9999999999.99, -99999999999999999999999999999999999.999999999999999999999999999999, -99999, 0, -0.999,
			-3.40282e38, -1.7976931348623157e308, -12345678.91, -1234.567,
			'1000-01-01 00:00:00', '1000-01-01 00:00:00', '1969-12-31 23:59:59.999', '1970-01-01 02:00:01', '1970-01-01 02:00:01',
			'1000-01-01', '-838:59:59', '-838:59:59', '-00:00:00.001', 1901,
			b'00000', b'0', 0, 'small', '',
			'[]', X'', X'00', X'0000', X'00FF00', X'00', X'00000000',
			'', '', '', '', '', '', '', '', '', POINT(0, 0), ST_GeomFromText('LINESTRING(0 0, 1 1)'))`,
		`INSERT INTO types (id) VALUES (2)`,
		`INSERT INTO types (`+cols+`) VALUES (3,
			127, 32767, 8388607, 2147483647, 9223372036854775807,
			255, 65535, 16777215, 4294967295, 18446744073709551615,
			9999999999.99, 99999999999999999999999999999999999.999999999999999999999999999999, 99999, 999999.9999, 0.999,
			3.40282e38, 1.7976931348623157e308, 12345678.91, 1234.567,
			'9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2024-02-29 12:00:00.5', '2038-01-19 05:14:07.999999', '2038-01-19 05:14:07',
			'9999-12-31', '838:59:59', '838:59:59', '23:59:59.999', 2155,
			b'11111', b'1', 0xFFFFFFFFFFFFFFFF, 'large', 'z,y,x',
			'{"a": [1, 2.5, "x"], "e": "😀"}', X'00FF10', X'FF', REPEAT(X'AB', 70000), X'000102',
			X'DEADBEEF00', X'01',
			'héllo 😀 a\0b', 'a\tb\nc', REPEAT('ü', 30000), 'x', '😀 emoji', 'ab ', 'CaSe ', 'plain', 'ünï',
			POINT(1.5, -2.25), ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 0))', 4326))`,
		`INSERT INTO types (`+cols+`) VALUES (4,
			0, 0, 0, 0, 0, 1, 1, 1, 1, 9223372036854775808,
			-0.05, -0.000000000000000000000000000001, 0, 0.0001, 0.001,
			0.1, 0.1, -0.01, 0.001,
			'1969-07-20 20:17:40.000001', '1970-01-01 00:00:00', '2000-01-01 00:00:00.001',
			'2024-01-02 03:04:05.123456', '2024-03-31 04:30:00',
			'1969-12-31', '-12:30:00.5', '30:00:00', '00:00:00', 0,
			b'00101', b'1', b'1000000000000000000000000000000000000000000000000000000000000001', 'bogus', 'z,x',
			'null', NULL, NULL, NULL, NULL, X'', X'FFFFFFFF',
			'  lead', 'trail  ', 'tab\t', '\\\\', '''q''', 'é', 'é', 'e', 'ß',
			NULL, NULL)`,
		`COMMIT`)

	// FLOAT and DOUBLE from random bit patterns (subnormals, extremes,
	// negative zero): the text a query prints must give back every bit.
	rng := rand.New(rand.NewPCG(1, 2))
	var args []any
	var ph []string
	for i := range 300 {
		f := math.Float32frombits(rng.Uint32())
		for math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			f = math.Float32frombits(rng.Uint32())
		}
		x := math.Float64frombits(rng.Uint64())
		for math.IsNaN(x) || math.IsInf(x, 0) {
			x = math.Float64frombits(rng.Uint64())
		}
		switch i {
		case 0:
			f, x = float32(math.Copysign(0, -1)), math.Copysign(0, -1)
		case 1:
			f, x = math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat64
		case 2:
			f, x = math.MaxFloat32, math.MaxFloat64
		}
		args = append(args, i, float64(f), x)
		ph = append(ph, "(?, ?, ?)")
	}
	if _, err := d.db.Exec("INSERT INTO floats VALUES "+strings.Join(ph, ", "), args...); err != nil {
		t.Fatal(err)
	}

	// MariaDB's own types: UUID (time-based ones are ordered by time, not
	// by their text) and INET6.
	d.exec(t, `INSERT INTO mdb VALUES
		(1, 'e9f2ab5c-1d7e-11ee-8c90-0242ac120002', '::1'),
		(2, 'f9f2ab5c-0d7e-11ee-8c90-0242ac120002', '::ffff:1.2.3.4'),
		(3, '7d444840-9dc0-41d4-8c2b-3f1e7bc4c1a0', '2001:db8::1'),
		(4, '00000000-0000-0000-0000-000000000000', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'),
		(5, NULL, NULL)`)

	txnTypes, txnFloats, txnMDB := r.next(t), r.next(t), r.next(t)
	v := openViews(t, d, 1)[0]
	if v.Position() < txnMDB.Position {
		t.Fatalf("view at %d, before the transactions it must see (%d)", v.Position(), txnMDB.Position)
	}
	for _, tc := range []struct {
		table string
		txn   *change.Txn
	}{{"types", txnTypes}, {"floats", txnFloats}, {"mdb", txnMDB}} {
		compareWithCapture(t, v, d.table(tc.table), tc.txn)
	}
}

// compareWithCapture reads table tbl under v and compares it with the
// inserts of txn, which capture read from the binlog.
func compareWithCapture(t *testing.T, v *capmy.SnapshotView, tbl change.Table, txn *change.Txn) {
	t.Helper()
	cols, err := v.Columns(context.Background(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	capCols := txn.Changes[0].Columns
	// capture's columns minus the generated ones, which Columns leaves out
	idx := make([]int, len(cols))
	var want []change.Column
	for i, c := range cols {
		idx[i] = slices.IndexFunc(capCols, func(cc change.Column) bool { return cc.Name == c.Name })
	}
	for _, cc := range capCols {
		if !strings.HasPrefix(cc.Name, "gen") {
			want = append(want, cc)
		}
	}
	if diff := cmp.Diff(want, cols); diff != "" {
		t.Errorf("%s: Columns differ from capture's (-capture +snapshot):\n%s", tbl, diff)
	}
	rows := readRange(t, v, tbl, nil, nil)
	if len(rows) != len(txn.Changes) {
		t.Fatalf("%s: read %d rows, capture has %d", tbl, len(rows), len(txn.Changes))
	}
	for n, c := range txn.Changes {
		for i, col := range cols {
			if idx[i] < 0 {
				t.Fatalf("%s: column %s not in capture's columns", tbl, col.Name)
			}
			got, want := rows[n][i], c.After[idx[i]]
			if !cmp.Equal(got, want) {
				t.Errorf("%s row %d column %s (%s): snapshot %s, capture %s", tbl, n+1, col.Name, col.Type, show(got), show(want))
			}
		}
	}
}

func show(v change.Value) string {
	s := fmt.Sprintf("%s I=%d J=%d S=%q", v.Kind, v.I, v.J, v.S)
	if v.Kind == change.KindFloat {
		s += fmt.Sprintf(" (%g)", v.Float())
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// TestSnapshotErrors: what a view cannot read is a clear error naming the
// table (and column and key), never a panic or a silent NULL.
func TestSnapshotErrors(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE nopk (a INT)`,
		`CREATE TABLE zd (id INT, k VARCHAR(5), dt DATETIME, PRIMARY KEY (k, id))`,
		`CREATE TABLE lat (id INT PRIMARY KEY, s VARCHAR(5) CHARACTER SET latin1)`,
		`CREATE TABLE fk (f DOUBLE PRIMARY KEY, x INT)`,
		`CREATE TABLE ok (id INT PRIMARY KEY, n DECIMAL(5,1), dt DATETIME, s VARCHAR(5))`,
		`SET SESSION sql_mode = ''`,
		`INSERT INTO zd VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '0000-00-00 00:00:00')`,
		`INSERT INTO lat VALUES (1, 'é')`,
		`INSERT INTO fk VALUES (1.5, 1), (2.5, 2)`,
		`INSERT INTO ok VALUES (1, 1.5, '2024-01-01', 'a'), (2, 2.5, '2024-01-02', 'b')`)
	v := openViews(t, d, 1)[0]
	ctx := context.Background()
	nothing := func([]change.Row) error { return nil }

	check := func(name string, err error, wants ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", name)
			return
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", name, err, w)
			}
		}
	}
	_, err := v.Columns(ctx, d.table("nopk"))
	check("no primary key", err, d.table("nopk").String(), "primary key")
	_, err = v.Columns(ctx, d.table("missing"))
	check("missing table", err, d.table("missing").String(), "does not exist")
	_, err = v.Estimate(ctx, d.table("missing"))
	check("estimate of a missing table", err, d.table("missing").String())

	err = v.Read(ctx, d.table("zd"), nil, nil, nothing)
	var se *capmy.SnapshotError
	if !errors.As(err, &se) || se.Table != d.table("zd") || se.Column != "dt" || se.Key != `(k="b", id=2)` {
		t.Errorf("zero date: %v", err)
	}
	check("zero date", err, "zero date")
	err = v.Read(ctx, d.table("lat"), nil, nil, nothing)
	check("latin1 text", err, "column s", "UTF-8", "(id=1)")

	// A FLOAT key has no exact literal: one range, and bounds are refused.
	cuts, err := v.Split(ctx, d.table("fk"), 1)
	if err != nil || len(cuts) != 0 {
		t.Errorf("split on a float key: %v, %v", cuts, err)
	}
	if rows := readRange(t, v, d.table("fk"), nil, nil); len(rows) != 2 {
		t.Errorf("float key: read %d rows", len(rows))
	}
	check("bound on a float key", v.Read(ctx, d.table("fk"), []string{"31"}, nil, nothing), "FLOAT")

	// Cuts come back from the target: anything but a cut Split made is
	// refused, never pasted into SQL.
	hex := func(s string) string { return fmt.Sprintf("%x", s) }
	for _, bad := range [][]string{
		{"zz"},                    // not hex
		{hex("1 OR 1=1")},         // not a number
		{hex("1"), hex("2")},      // too many values
		{hex("1e5")},              // not a plain number
		{hex("")},                 // empty number
		{hex("-")},                //
		{hex("1.")},               //
		{hex("'; DROP TABLE ok")}, // not a number
	} {
		check(fmt.Sprintf("bound %q", bad), v.Read(ctx, d.table("ok"), bad, nil, nothing), d.table("ok").String())
	}
	check("bad upper bound", v.Read(ctx, d.table("ok"), nil, []string{hex("1 OR 1=1")}, nothing), "range bound")

	// An error from emit ends Read with that error.
	stop := errors.New("stop here")
	if err := v.Read(ctx, d.table("ok"), nil, nil, func([]change.Row) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error: got %v", err)
	}
	// The view still works after it.
	if rows := readRange(t, v, d.table("ok"), nil, nil); len(rows) != 2 {
		t.Errorf("after an emit error: read %d rows", len(rows))
	}

	if _, err := capmy.NewSnapshotSource("root:secretpw@tcp(127.0.0.1:1/"); err == nil || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("bad DSN: %v", err)
	}
	src, err := capmy.NewSnapshotSource("root:secretpw@tcp(127.0.0.1:1)/")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := src.Open(ctx, 2)
	if err == nil || len(vs) != 0 || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("unreachable server: %v, %d views", err, len(vs))
	}
}
