package verify

import (
	"strings"
	"testing"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5/pgtype"
)

// myLine is a printed MariaDB row as mySide.query builds it (nil: NULL).
func myLine(fields ...[]byte) []byte {
	var b []byte
	for i, f := range fields {
		if i > 0 {
			b = append(b, '\t')
		}
		if f == nil {
			b = append(b, `\N`...)
			continue
		}
		b = pgtext.AppendCopyText(b, f)
	}
	return b
}

var pgID = transform.Column{Name: "id", Type: "bigint", OID: pgtype.Int8OID, Key: true}
var myID = applymy.ColumnType{Name: "id", DataType: "bigint"}

// mixed binds the rules for a table (id, v) with v of type my on a
// MariaDB side and pg on a PostgreSQL side; myBlue picks which is blue.
func mixed(t *testing.T, my applymy.ColumnType, pg transform.Column, myBlue bool) (*canonical, int, int) {
	t.Helper()
	my.Name, pg.Name = "v", "v"
	var sh [2]*shape
	var cols [2][]transform.Column
	mi, pi := 0, 1
	if !myBlue {
		mi, pi = 1, 0
	}
	sh[mi] = &shape{my: &myTable{cols: map[string]applymy.ColumnType{"id": myID, "v": my}}}
	sh[pi] = &shape{}
	cols[pi] = []transform.Column{pgID, pg}
	c, err := newCanonical(sh, cols, []string{"id", "v"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return c, mi, pi
}

func TestCanonicalRulesAcrossEngines(t *testing.T) {
	num := func(typ string) transform.Column { return transform.Column{Type: typ, OID: pgtype.NumericOID} }
	dec := func(scale int) applymy.ColumnType { return applymy.ColumnType{DataType: "decimal", Scale: scale} }
	tstz := transform.Column{Type: "timestamp with time zone", OID: pgtype.TimestamptzOID}
	dt6 := applymy.ColumnType{DataType: "datetime", Scale: 6}
	jsonb := transform.Column{Type: "jsonb", OID: pgtype.JSONBOID}
	myJSON := applymy.ColumnType{DataType: "longtext"} // MariaDB's JSON alias
	text := transform.Column{Type: "text", OID: pgtype.TextOID}
	vchar := applymy.ColumnType{DataType: "varchar", Length: 200}
	bytea := transform.Column{Type: "bytea", OID: pgtype.ByteaOID}
	blob := applymy.ColumnType{DataType: "blob"}
	for _, tc := range []struct {
		name    string
		my      applymy.ColumnType
		pg      transform.Column
		myv     []byte // nil: NULL
		pgv     []byte // as COPY prints it, unescaped; nil: NULL
		equal   bool
		errPart string // a side's error names this
	}{
		{"decimal same scale", dec(2), num("numeric(12,2)"), []byte("12.50"), []byte("12.50"), true, ""},
		{"decimal by value across scales", dec(2), num("numeric"), []byte("12.50"), []byte("12.5"), true, ""},
		{"decimal differs", dec(2), num("numeric(12,2)"), []byte("12.51"), []byte("12.50"), false, ""},
		{"decimal negative", dec(2), num("numeric(12,2)"), []byte("-0.05"), []byte("-0.05"), true, ""},
		{"decimal negative zero", dec(2), num("numeric(12,2)"), []byte("-0.00"), []byte("0.00"), true, ""},
		{"decimal zero scale", dec(0), num("numeric(10,0)"), []byte("-42"), []byte("-42"), true, ""},
		{"decimal sign matters", dec(0), num("numeric(10,0)"), []byte("-42"), []byte("42"), false, ""},
		{"tinyint(1) true", applymy.ColumnType{DataType: "tinyint"}, transform.Column{Type: "boolean", OID: pgtype.BoolOID}, []byte("1"), []byte("t"), true, ""},
		{"tinyint(1) false", applymy.ColumnType{DataType: "tinyint"}, transform.Column{Type: "boolean", OID: pgtype.BoolOID}, []byte("0"), []byte("f"), true, ""},
		{"tinyint 2 is no boolean", applymy.ColumnType{DataType: "tinyint"}, transform.Column{Type: "boolean", OID: pgtype.BoolOID}, []byte("2"), []byte("t"), false, ""},
		{"datetime(6) as UTC instant", dt6, tstz, []byte("2024-02-29 23:59:59.123456"), []byte("2024-02-29 23:59:59.123456+00"), true, ""},
		{"datetime(6) microsecond differs", dt6, tstz, []byte("2024-02-29 23:59:59.123457"), []byte("2024-02-29 23:59:59.123456+00"), false, ""},
		{"datetime year 0001", dt6, tstz, []byte("0001-01-01 00:00:00.000000"), []byte("0001-01-01 00:00:00+00"), true, ""},
		{"datetime year 9999", dt6, tstz, []byte("9999-12-31 23:59:59.999999"), []byte("9999-12-31 23:59:59.999999+00"), true, ""},
		{"datetime vs timestamp wall time", dt6, transform.Column{Type: "timestamp without time zone", OID: pgtype.TimestampOID},
			[]byte("2020-06-01 12:00:00.500000"), []byte("2020-06-01 12:00:00.5"), true, ""},
		{"date", applymy.ColumnType{DataType: "date"}, transform.Column{Type: "date", OID: pgtype.DateOID}, []byte("2024-02-29"), []byte("2024-02-29"), true, ""},
		{"date year 0001", applymy.ColumnType{DataType: "date"}, transform.Column{Type: "date", OID: pgtype.DateOID}, []byte("0001-01-01"), []byte("0001-01-01"), true, ""},
		{"date differs", applymy.ColumnType{DataType: "date"}, transform.Column{Type: "date", OID: pgtype.DateOID}, []byte("9999-12-31"), []byte("9999-12-30"), false, ""},
		{"time(6)", applymy.ColumnType{DataType: "time", Scale: 6}, transform.Column{Type: "time without time zone", OID: pgtype.TimeOID}, []byte("23:59:59.000001"), []byte("23:59:59.000001"), true, ""},
		{"zero date differs", applymy.ColumnType{DataType: "datetime"}, tstz, []byte("0000-00-00 00:00:00"), []byte("2000-01-01 00:00:00+00"), false, ""},
		{"NULL equals NULL", vchar, text, nil, nil, true, ""},
		{"NULL is not empty", vchar, text, nil, []byte(""), false, ""},
		{"empty is not NULL", vchar, text, []byte(""), nil, false, ""},
		{"empty equals empty", vchar, text, []byte(""), []byte(""), true, ""},
		{"text \\N is not NULL", vchar, text, []byte(`\N`), nil, false, ""},
		{"JSON key order and spacing", myJSON, jsonb, []byte(`{"b":1,"a":[1, 2],"c":{"y":null,"x":"s"}}`), []byte(`{"a": [1, 2], "b": 1, "c": {"x": "s", "y": null}}`), true, ""},
		{"JSON value differs", myJSON, jsonb, []byte(`{"a":1}`), []byte(`{"a": 2}`), false, ""},
		{"BIGINT UNSIGNED max", applymy.ColumnType{DataType: "bigint", Unsigned: true}, num("numeric(20,0)"), []byte("18446744073709551615"), []byte("18446744073709551615"), true, ""},
		{"INT UNSIGNED max into bigint", applymy.ColumnType{DataType: "int", Unsigned: true}, transform.Column{Type: "bigint", OID: pgtype.Int8OID}, []byte("4294967295"), []byte("4294967295"), true, ""},
		{"utf8mb4 4-byte characters", vchar, text, []byte("emoji 🚀 𝄞"), []byte("emoji 🚀 𝄞"), true, ""},
		{"text by bytes: NFC is not NFD", vchar, text, []byte("caf\u00e9"), []byte("cafe\u0301"), false, ""},
		{"text trailing space matters", vchar, text, []byte("a "), []byte("a"), false, ""},
		{"CHAR(n) padding dropped", applymy.ColumnType{DataType: "char", Length: 5}, transform.Column{Type: "character(5)", OID: pgtype.BPCharOID}, []byte("ab"), []byte("ab   "), true, ""},
		{"tab and newline in text", vchar, text, []byte("a\tb\nc\\d"), []byte("a\tb\nc\\d"), true, ""},
		{"bytes with NUL", blob, bytea, []byte{0, 0xff, 0, 'x'}, []byte(`\x00ff0078`), true, ""},
		{"bytes differ", blob, bytea, []byte{0, 0xff, 0}, []byte(`\x00ff01`), false, ""},
		{"bytes empty is not NULL", blob, bytea, []byte{}, nil, false, ""},
		{"float", applymy.ColumnType{DataType: "double"}, transform.Column{Type: "double precision", OID: pgtype.Float8OID}, []byte("0.1"), []byte("0.1"), true, ""},
		{"undecodable integer names the column", applymy.ColumnType{DataType: "int"}, transform.Column{Type: "integer", OID: pgtype.Int4OID}, []byte("x"), []byte("1"), false, "column v"},
	} {
		for _, myBlue := range []bool{true, false} {
			name := tc.name + map[bool]string{true: " (MariaDB blue)", false: " (PostgreSQL blue)"}[myBlue]
			t.Run(name, func(t *testing.T) {
				c, mi, pi := mixed(t, tc.my, tc.pg, myBlue)
				ml := string(c.converter(mi, 1).line(myLine([]byte("7"), tc.myv)))
				var pf []byte
				if tc.pgv != nil {
					pf = tc.pgv
				}
				pl := string(c.converter(pi, 1).line(myLine([]byte("7"), pf)))
				if (ml == pl) != tc.equal {
					t.Fatalf("MariaDB line %q, PostgreSQL line %q: equal %v, want %v", ml, pl, ml == pl, tc.equal)
				}
				if !strings.HasPrefix(ml, "7\t") || !strings.HasPrefix(pl, "7\t") {
					t.Errorf("lines must start with the key: %q %q", ml, pl)
				}
				if tc.errPart != "" {
					e := lineError(ml) + lineError(pl)
					if !strings.Contains(e, tc.errPart) || !strings.Contains(e, sideName[mi]) {
						t.Errorf("error %q should name the side %s and %q", e, sideName[mi], tc.errPart)
					}
				}
			})
		}
	}
}

// Two MariaDB sides whose column types differ read both values as blue's
// column type reads them.
func TestCanonicalMariaDBPairOfDifferentTypes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		blue, grn applymy.ColumnType
		bv, gv    string
		equal     bool
	}{
		{"int vs bigint", applymy.ColumnType{DataType: "int"}, applymy.ColumnType{DataType: "bigint"}, "42", "42", true},
		{"datetime vs timestamp (UTC)", applymy.ColumnType{DataType: "datetime", Scale: 6}, applymy.ColumnType{DataType: "timestamp", Scale: 6},
			"2021-01-02 03:04:05.000006", "2021-01-02 03:04:05.000006", true},
		{"decimal scales", applymy.ColumnType{DataType: "decimal", Scale: 2}, applymy.ColumnType{DataType: "decimal", Scale: 4}, "1.50", "1.5000", true},
		{"unsigned vs signed bigint", applymy.ColumnType{DataType: "bigint", Unsigned: true}, applymy.ColumnType{DataType: "bigint"}, "5", "5", true},
		{"varchar vs text", applymy.ColumnType{DataType: "varchar"}, applymy.ColumnType{DataType: "text"}, "x", "y", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.blue.Name, tc.grn.Name = "v", "v"
			sh := [2]*shape{{my: &myTable{cols: map[string]applymy.ColumnType{"id": myID, "v": tc.blue}}},
				{my: &myTable{cols: map[string]applymy.ColumnType{"id": myID, "v": tc.grn}}}}
			c, err := newCanonical(sh, [2][]transform.Column{}, []string{"id", "v"}, 1)
			if err != nil {
				t.Fatal(err)
			}
			bl := string(c.converter(0, 1).line(myLine([]byte("1"), []byte(tc.bv))))
			gl := string(c.converter(1, 1).line(myLine([]byte("1"), []byte(tc.gv))))
			if (bl == gl) != tc.equal {
				t.Fatalf("blue %q green %q: equal %v, want %v", bl, gl, bl == gl, tc.equal)
			}
		})
	}
}

func TestMariaDBKeySQL(t *testing.T) {
	s := &shape{table: testShape.table, key: []string{"a", "b"}, cols: []string{"a", "b", "v"},
		my: &myTable{cols: map[string]applymy.ColumnType{"a": {Name: "a", DataType: "varchar"}, "b": {Name: "b", DataType: "int"},
			"v": {Name: "v", DataType: "blob"}}}}
	got := myChunkSQL(s, chunk{lo: "x'y\t1", hi: "z\\tq\t2"})
	want := "SELECT `a`, `b`, `v` FROM `public`.`t` WHERE ((`a` > _utf8mb4 X'782779') OR (`a` = _utf8mb4 X'782779' AND `b` > 1))" +
		" AND ((`a` < _utf8mb4 X'7a0971') OR (`a` = _utf8mb4 X'7a0971' AND `b` <= 2))"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := myKeysSQL(s, []string{"k\t3", "\t4"}); !strings.HasSuffix(got, "WHERE (`a`, `b`) IN ((_utf8mb4 X'6b', 3), (_utf8mb4 X'', 4))") {
		t.Fatalf("keys SQL: %s", got)
	}
	for _, tc := range []struct {
		col  applymy.ColumnType
		raw  string
		want string
	}{
		{applymy.ColumnType{DataType: "bigint"}, "-12", "-12"},
		{applymy.ColumnType{DataType: "bigint"}, "1 OR 1=1", "_utf8mb4 X'31204f5220313d31'"},
		{applymy.ColumnType{DataType: "varbinary"}, "\x00\xff", "X'00ff'"},
		{applymy.ColumnType{DataType: "decimal"}, "12.50", "12.50"},
	} {
		if got := myLiteral(tc.col, tc.raw); got != tc.want {
			t.Errorf("myLiteral(%s, %q) = %s, want %s", tc.col.DataType, tc.raw, got, tc.want)
		}
	}
}

func TestRawOfCanonicalKey(t *testing.T) {
	for _, tc := range []struct {
		col  applymy.ColumnType
		like change.Kind
		in   string
		want string
	}{
		{applymy.ColumnType{DataType: "tinyint"}, change.KindBool, "t", "1"},
		{applymy.ColumnType{DataType: "blob"}, change.KindBytes, `\x00ff`, "\x00\xff"},
		{applymy.ColumnType{DataType: "datetime"}, change.KindTimestampTZ, "2020-01-01 10:00:00.5+00", "2020-01-01 10:00:00.5"},
		{applymy.ColumnType{DataType: "binary"}, change.KindUUID, "00112233-4455-6677-8899-aabbccddeeff", "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff"},
		{applymy.ColumnType{DataType: "varchar"}, change.KindText, "naïve", "naïve"},
	} {
		if got := rawOfCanonical(tc.col, tc.like, tc.in); got != tc.want {
			t.Errorf("rawOfCanonical(%s, %q) = %q, want %q", tc.col.DataType, tc.in, got, tc.want)
		}
	}
}

func TestKeyRangesOnlyWhereBothSidesOrderAlike(t *testing.T) {
	my := func(typ, coll string) *shape {
		return &shape{key: []string{"k"}, my: &myTable{cols: map[string]applymy.ColumnType{"k": {Name: "k", DataType: typ}},
			types: map[string]string{"k": typ + " " + coll}}}
	}
	pgs := &shape{key: []string{"k"}}
	pgc := func(oid uint32) []transform.Column { return []transform.Column{{Name: "k", OID: oid}} }
	for _, tc := range []struct {
		name string
		b, g *shape
		pg   [2][]transform.Column
		want bool
	}{
		{"MariaDB text, same collation", my("varchar", "utf8mb4_bin"), my("varchar", "utf8mb4_bin"), [2][]transform.Column{}, true},
		{"MariaDB text, other collation", my("varchar", "utf8mb4_bin"), my("varchar", "utf8mb4_general_ci"), [2][]transform.Column{}, false},
		{"MariaDB int vs bigint", my("int", ""), my("bigint", ""), [2][]transform.Column{}, true},
		{"MariaDB bigint vs PostgreSQL bigint", my("bigint", ""), pgs, [2][]transform.Column{nil, pgc(pgtype.Int8OID)}, true},
		{"PostgreSQL int4 vs MariaDB int", pgs, my("int", ""), [2][]transform.Column{pgc(pgtype.Int4OID), nil}, true},
		{"text keys across engines", my("varchar", "utf8mb4_bin"), pgs, [2][]transform.Column{nil, pgc(pgtype.TextOID)}, false},
		{"decimal keys across engines", my("decimal", ""), pgs, [2][]transform.Column{nil, pgc(pgtype.NumericOID)}, false},
	} {
		if got := sameKeyOrder(tc.b, tc.g, tc.pg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
