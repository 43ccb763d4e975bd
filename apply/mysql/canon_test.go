package mysql

import (
	"errors"
	"math"
	"testing"

	"github.com/bgsync/bgsync/change"
)

func col(dataType string) ColumnType { return ColumnType{Name: "c", DataType: dataType} }

func uuidOf(s string) change.Value {
	v, ok := parseUUID(s)
	if !ok {
		panic(s)
	}
	return v
}

func TestEncode(t *testing.T) {
	u := uuidOf("0123e456-89ab-cdef-0123-456789abcdef")
	cases := []struct {
		name string
		col  ColumnType
		v    change.Value
		want any
	}{
		{"null", col("int"), change.Null(), nil},
		{"bool", col("tinyint"), change.Bool(true), int64(1)},
		{"int", col("bigint"), change.Int(-5), int64(-5)},
		{"uint", col("bigint"), change.Uint(math.MaxUint64), uint64(math.MaxUint64)},
		{"numeric", col("decimal"), change.Numeric("-12.340"), "-12.340"},
		{"float", col("double"), change.Float(1.5), 1.5},
		{"text", col("varchar"), change.Text("héllo"), "héllo"},
		{"enum", col("enum"), change.Enum("b"), "b"},
		{"json", col("longtext"), change.JSON(`{"a": 1}`), `{"a": 1}`},
		{"uuid binary", ColumnType{Name: "c", DataType: "binary", Length: 16}, u, []byte(u.S)},
		{"uuid text", col("char"), u, "0123e456-89ab-cdef-0123-456789abcdef"},
		{"date", col("date"), change.Date(19000), "2022-01-08"},
		{"date before 1970", col("date"), change.Date(-1), "1969-12-31"},
		{"time", col("time"), change.Time(13*3600e6 + 5e6 + 7), "13:00:05.000007"},
		{"interval", col("time"), change.Interval(0, 0, -(100*3600e6 + 1)), "-100:00:00.000001"},
		{"interval in text", col("varchar"), change.Interval(1, 2, 0), "+1 mons +2 days +00:00:00"},
		{"timestamp", col("datetime"), change.Timestamp(1), "2000-01-01 00:00:00.000001"},
		{"timestamptz", col("timestamp"), change.TimestampTZ(-1), "1999-12-31 23:59:59.999999"},
		{"array", col("json"), change.Array([]change.Value{change.Int(1), change.Null(), change.Int(3)}), "[1,null,3]"},
		{"text array", col("text"), change.Array([]change.Value{change.Text(`a"b`)}), `["a\"b"]`},
		{"bytes", col("blob"), change.Bytes([]byte{0, 1}), []byte{0, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Encode(c.col, c.v)
			if err != nil {
				t.Fatal(err)
			}
			if b, ok := c.want.([]byte); ok {
				if string(got.([]byte)) != string(b) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				return
			}
			if got != c.want {
				t.Fatalf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		col  ColumnType
		v    change.Value
	}{
		{"NaN float", col("double"), change.Float(math.NaN())},
		{"NaN numeric", col("decimal"), change.Numeric("NaN")},
		{"infinite date", col("date"), change.Date(change.PosInfinity)},
		{"infinite timestamp", col("datetime"), change.Timestamp(change.NegInfinity)},
		{"interval with days in TIME", col("time"), change.Interval(0, 1, 0)},
		{"array in int", col("int"), change.Array(nil)},
		{"timetz in time", col("time"), change.TimeTZ(0, 3600)},
		{"interval beyond TIME", col("time"), change.Interval(0, 0, 900*3600e6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Encode(c.col, c.v)
			if !errors.Is(err, ErrNoForm) {
				t.Fatalf("got %v, want ErrNoForm", err)
			}
			if want := "column c "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
				t.Fatalf("error %q does not name the column first", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	u := uuidOf("0123e456-89ab-cdef-0123-456789abcdef")
	unsigned := func(dt string) ColumnType { return ColumnType{Name: "c", DataType: dt, Unsigned: true} }
	cases := []struct {
		name string
		col  ColumnType
		raw  []byte
		like change.Value
		want change.Value
	}{
		{"null", col("int"), nil, change.Int(1), change.Null()},
		{"int", col("int"), []byte("-7"), change.Value{}, change.Int(-7)},
		{"tinyint as bool", col("tinyint"), []byte("1"), change.Bool(false), change.Bool(true)},
		{"tinyint 2 is no bool", col("tinyint"), []byte("2"), change.Bool(false), change.Int(2)},
		{"bigint unsigned", unsigned("bigint"), []byte("18446744073709551615"), change.Value{}, change.Uint(math.MaxUint64)},
		{"int unsigned as int", unsigned("int"), []byte("5"), change.Int(0), change.Int(5)},
		{"int as uint", col("int"), []byte("5"), change.Uint(0), change.Uint(5)},
		{"decimal keeps scale", ColumnType{Name: "c", DataType: "decimal", Scale: 3}, []byte("-12.340"), change.Numeric("1"), change.Numeric("-12.340")},
		{"float is float32", col("float"), []byte("1.1"), change.Float(0), change.Float(float64(float32(1.1)))},
		{"double", col("double"), []byte("1e+100"), change.Float(0), change.Float(1e100)},
		{"bit as bool", col("bit"), []byte{1}, change.Bool(false), change.Bool(true)},
		{"bit as bytes", col("bit"), []byte{1, 2}, change.Value{}, change.Bytes([]byte{1, 2})},
		{"varchar", col("varchar"), []byte("x"), change.Text(""), change.Text("x")},
		{"empty varchar", col("varchar"), []byte{}, change.Text(""), change.Text("")},
		{"text as json", col("longtext"), []byte(`{"a": 1}`), change.JSON("{}"), change.JSON(`{"a": 1}`)},
		{"json as json", ColumnType{Name: "c", DataType: "json", JSON: true}, []byte(`[1]`), change.Value{}, change.JSON(`[1]`)},
		{"text as enum", col("varchar"), []byte("b"), change.Enum("a"), change.Enum("b")},
		{"enum", col("enum"), []byte("b"), change.Value{}, change.Enum("b")},
		{"enum as text", col("enum"), []byte("b"), change.Text(""), change.Text("b")},
		{"char as uuid", col("char"), []byte("0123e456-89ab-cdef-0123-456789abcdef"), u, u},
		{"binary16 as uuid", ColumnType{Name: "c", DataType: "binary", Length: 16}, []byte(u.S), u, u},
		{"binary as bytes", col("varbinary"), []byte{0, 255}, change.Value{}, change.Bytes([]byte{0, 255})},
		{"uuid type", col("uuid"), []byte("0123e456-89ab-cdef-0123-456789abcdef"), change.Value{}, u},
		{"date", col("date"), []byte("1969-12-31"), change.Date(0), change.Date(-1)},
		{"zero date is text", col("date"), []byte("0000-00-00"), change.Date(0), change.Text("0000-00-00")},
		{"time", col("time"), []byte("13:00:05.000007"), change.Time(0), change.Time(13*3600e6 + 5e6 + 7)},
		{"time beyond a day", col("time"), []byte("-100:00:00.5"), change.Time(0), change.Interval(0, 0, -(100*3600e6 + 500000))},
		{"time as interval", col("time"), []byte("01:00:00"), change.Interval(0, 0, 0), change.Interval(0, 0, 3600e6)},
		{"datetime", col("datetime"), []byte("2000-01-01 00:00:00.000001"), change.Value{}, change.Timestamp(1)},
		{"datetime as timestamptz", col("datetime"), []byte("1999-12-31 23:59:59.999999"), change.TimestampTZ(0), change.TimestampTZ(-1)},
		{"datetime(0)", col("datetime"), []byte("2000-01-01 00:00:01"), change.Timestamp(0), change.Timestamp(1e6)},
		{"timestamp", col("timestamp"), []byte("2000-01-01 00:00:00"), change.Value{}, change.TimestampTZ(0)},
		{"timestamp as timestamp", col("timestamp"), []byte("2000-01-01 00:00:00"), change.Timestamp(5), change.Timestamp(0)},
		{"json array", col("json"), []byte(`[1, null, 3]`), change.Array([]change.Value{change.Int(0)}),
			change.Array([]change.Value{change.Int(1), change.Null(), change.Int(3)})},
		{"text array of numerics", col("text"), []byte(`[1.50,[2]]`), change.Array([]change.Value{change.Numeric("1")}),
			change.Array([]change.Value{change.Numeric("1.50"), change.Array([]change.Value{change.Numeric("2")})})},
		{"text as interval", col("varchar"), []byte("+1 mons +2 days +00:00:00"), change.Interval(0, 0, 0), change.Interval(1, 2, 0)},
		{"year", col("year"), []byte("2024"), change.Int(0), change.Int(2024)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(c.col, c.raw, c.like)
			if err != nil {
				t.Fatal(err)
			}
			if !change.Equal(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestRoundTrip: what Encode writes as text, Decode reads back equal when
// the column has the value's natural type.
func TestRoundTrip(t *testing.T) {
	vals := []struct {
		col ColumnType
		v   change.Value
	}{
		{col("date"), change.Date(-719162)}, // 0001-01-01
		{col("date"), change.Date(2932896)}, // 9999-12-31
		{col("datetime"), change.Timestamp(-63082281600000000 + 1)},
		{col("time"), change.Time(86400e6)},
		{col("time"), change.Interval(0, 0, maxTimeMicros)},
		{col("varchar"), change.Text("")},
		{col("json"), change.Array([]change.Value{change.Array([]change.Value{change.Text("x"), change.Null()})})},
		{col("text"), change.Array([]change.Value{change.Float(0.1), change.Float(-2e300)})},
		{col("varchar"), change.TimeTZ(3600e6, -3600)},
	}
	for _, c := range vals {
		arg, err := Encode(c.col, c.v)
		if err != nil {
			t.Fatalf("%s %v: %v", c.col.DataType, c.v, err)
		}
		var raw []byte
		switch a := arg.(type) {
		case string:
			raw = []byte(a)
		case []byte:
			raw = a
		default:
			t.Fatalf("%s: argument %T is not text", c.col.DataType, arg)
		}
		got, err := Decode(c.col, raw, c.v)
		if err != nil || !change.Equal(got, c.v) {
			t.Fatalf("%s %s: got %+v (%v), want %+v", c.col.DataType, raw, got, err, c.v)
		}
	}
}

func TestParseClock(t *testing.T) {
	for _, bad := range []string{"", "1", "1:2:3", "01:60:00", "01:00:00.", "01:00:00.1234567", "01:00:00x"} {
		if _, ok := parseClock(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
