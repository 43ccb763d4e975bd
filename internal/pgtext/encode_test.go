package pgtext

import (
	"errors"
	"math"
	"testing"

	"github.com/bgsync/bgsync/change"
)

func TestEncode(t *testing.T) {
	uuid := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	arr := func(el ...change.Value) change.Value { return change.Array(el) }
	tests := []struct {
		name string
		v    change.Value
		want string
	}{
		{"bool_true", change.Bool(true), "t"},
		{"bool_false", change.Bool(false), "f"},
		{"int_min", change.Int(math.MinInt64), "-9223372036854775808"},
		{"uint_max", change.Uint(math.MaxUint64), "18446744073709551615"},
		{"numeric", change.Numeric("-12.340"), "-12.340"},
		{"numeric_nan", change.Numeric("NaN"), "NaN"},
		{"float_tenth", change.Float(0.1), "0.1"},
		{"float_big", change.Float(1e21), "1e+21"},
		{"float_neg_zero", change.Float(math.Copysign(0, -1)), "-0"},
		{"float_nan", change.Float(math.NaN()), "NaN"},
		{"float_inf", change.Float(math.Inf(1)), "Infinity"},
		{"float_neg_inf", change.Float(math.Inf(-1)), "-Infinity"},
		{"text", change.Text(`a "b" \c`), `a "b" \c`},
		{"json", change.JSON(`{"a":1}`), `{"a":1}`},
		{"enum", change.Enum("happy"), "happy"},
		{"bytes", change.Bytes([]byte{0, 0xff, 0x10}), `\x00ff10`},
		{"bytes_empty", change.Bytes(nil), `\x`},
		{"uuid", change.UUID(uuid), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"date", change.Date(dayOf(2024, 2, 29)), "2024-02-29"},
		{"date_bc", change.Date(dayOf(-43, 3, 15)), "0044-03-15 BC"},
		{"date_1bc", change.Date(dayOf(0, 12, 31)), "0001-12-31 BC"},
		{"date_5_digit", change.Date(daysFromCivil(12345, 6, 7)), "12345-06-07"},
		{"date_inf", change.Date(change.PosInfinity), "infinity"},
		{"date_neg_inf", change.Date(change.NegInfinity), "-infinity"},
		{"time", change.Time(45296789000), "12:34:56.789"},
		{"time_24", change.Time(86400000000), "24:00:00"},
		{"time_us", change.Time(1), "00:00:00.000001"},
		{"timetz", change.TimeTZ(45296789000, 19800), "12:34:56.789+05:30"},
		{"timetz_west", change.TimeTZ(0, -43200), "00:00:00-12:00"},
		{"timetz_seconds", change.TimeTZ(0, 19815), "00:00:00+05:30:15"},
		{"timestamp", change.Timestamp(microsOf(2024, 1, 2, 3, 4, 5, 123456)), "2024-01-02 03:04:05.123456"},
		{"timestamp_pre_epoch", change.Timestamp(-1), "1999-12-31 23:59:59.999999"},
		{"timestamp_bc", change.Timestamp(microsOf(-43, 3, 15, 10, 0, 0, 0)), "0044-03-15 10:00:00 BC"},
		{"timestamp_inf", change.Timestamp(change.PosInfinity), "infinity"},
		{"timestamptz", change.TimestampTZ(microsOf(2024, 1, 2, 3, 4, 5, 120000)), "2024-01-02 03:04:05.12+00"},
		{"timestamptz_bc", change.TimestampTZ(microsOf(-43, 3, 15, 10, 0, 0, 0)), "0044-03-15 10:00:00+00 BC"},
		{"timestamptz_neg_inf", change.TimestampTZ(change.NegInfinity), "-infinity"},
		{"interval_zero", change.Interval(0, 0, 0), "+00:00:00"},
		{"interval_mixed", change.Interval(14, -3, 14706789000), "+14 mons -3 days +04:05:06.789"},
		{"interval_negative_clock", change.Interval(0, 0, -1), "-00:00:00.000001"},
		{"interval_big_hours", change.Interval(0, 0, math.MaxInt64), "+2562047788:00:54.775807"},
		{"interval_min", change.Interval(math.MinInt32, math.MinInt32, math.MinInt64), "-2147483648 mons -2147483648 days -2562047788 hours -54.775808 secs"},
		{"array_empty", arr(), "{}"},
		{"array_ints", arr(change.Int(1), change.Null(), change.Int(-3)), "{1,NULL,-3}"},
		{"array_2d", arr(arr(change.Int(1), change.Int(2)), arr(change.Int(3), change.Int(4))), "{{1,2},{3,4}}"},
		{"array_quoting", arr(change.Text(""), change.Text("NULL"), change.Text("null"), change.Text("a b"), change.Text(`q"x`),
			change.Text(`back\slash`), change.Text("{}"), change.Text("x,y"), change.Text("a;b"), change.Text("tab\t"), change.Text("plain"), change.Text("é")),
			`{"","NULL","null","a b","q\"x","back\\slash","{}","x,y","a;b","tab	",plain,é}`},
		{"array_bytea", arr(change.Bytes([]byte{1})), `{"\\x01"}`},
		{"array_dates", arr(change.Date(dayOf(-43, 3, 15)), change.Date(change.PosInfinity)), `{"0044-03-15 BC",infinity}`},
		{"array_enum", arr(change.Enum(`a "b" c`)), `{"a \"b\" c"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode([]byte("keep:"), tc.v)
			if err != nil {
				t.Fatalf("Encode(%+v): %v", tc.v, err)
			}
			if string(got) != "keep:"+tc.want {
				t.Fatalf("Encode(%+v) = %q, want %q", tc.v, got, "keep:"+tc.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	arr := func(el ...change.Value) change.Value { return change.Array(el) }
	tests := []struct {
		name string
		v    change.Value
		want error
	}{
		{"null", change.Null(), ErrNoText},
		{"unchanged", change.Unchanged(), ErrNoText},
		{"absent", change.Absent(), ErrNoText},
		{"text_nul", change.Text("a\x00b"), ErrRange},
		{"json_nul", change.JSON("\x00"), ErrRange},
		{"numeric_bad", change.Numeric("1e5"), ErrSyntax},
		{"uuid_short", change.Value{Kind: change.KindUUID, S: "abc"}, ErrRange},
		{"time_negative", change.Time(-1), ErrRange},
		{"timetz_offset_too_big", change.TimeTZ(0, 16*3600), ErrRange},
		{"date_absurd", change.Date(math.MaxInt64 - 1), ErrRange},
		{"date_before_julian_day_0", change.Date(dayOf(-4713, 11, 23)), ErrRange},
		{"date_after_pg_max", change.Date(daysFromCivil(5874898, 1, 1)), ErrRange},
		{"timestamp_before_julian_day_0", change.Timestamp(microsOf(-4713, 11, 23, 23, 59, 59, 999999)), ErrRange},
		{"timestamptz_min_repr", change.TimestampTZ(math.MinInt64 + 1), ErrRange},
		{"timestamp_after_pg_max", change.Timestamp(microsOf(294277, 1, 1, 0, 0, 0, 0)), ErrRange},
		{"timestamptz_max_repr", change.TimestampTZ(math.MaxInt64 - 1), ErrRange},
		{"timetz_too_big", change.TimeTZ(86400000001, 0), ErrRange},
		{"unknown_kind", change.Value{Kind: 200}, ErrSyntax},
		{"array_unchanged_element", arr(change.Unchanged()), ErrNoText},
		{"array_ragged", arr(arr(change.Int(1)), arr(change.Int(1), change.Int(2))), ErrRange},
		{"array_ragged_deep", arr(arr(arr(change.Int(1)), arr(change.Int(2))), arr(arr(change.Int(1), change.Int(2)), arr(change.Int(3), change.Int(4)))), ErrRange},
		{"array_mixed", arr(arr(change.Int(1)), change.Int(2)), ErrRange},
		{"array_null_subarray", arr(arr(change.Int(1)), change.Null()), ErrRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode([]byte("keep"), tc.v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Encode(%+v) error = %v, want %v", tc.v, err, tc.want)
			}
			if string(got) != "keep" {
				t.Fatalf("Encode left %q in dst after an error", got)
			}
		})
	}
}

func TestEncodeEmptyIsNotNil(t *testing.T) {
	got, err := Encode(nil, change.Text(""))
	if err != nil || got == nil {
		t.Fatalf("Encode(nil, Text(\"\")) = %#v, %v; want a non-nil empty slice (nil means NULL to pgconn)", got, err)
	}
}

// TestEncodeDecode checks that encoding then decoding returns the value for
// values built in Go (the server round trip is in server_test.go).
func TestEncodeDecode(t *testing.T) {
	tests := []struct {
		name string
		oid  uint32
		v    change.Value
	}{
		{"timestamp_min_pg", 1114, change.Timestamp(microsOf(-4713, 11, 24, 0, 0, 0, 0))},
		{"timestamp_max_pg", 1114, change.Timestamp(microsOf(294276, 12, 31, 23, 59, 59, 999999))},
		{"timestamptz_us", 1184, change.TimestampTZ(-62135596800000001)},
		{"interval_max", 1186, change.Interval(math.MaxInt32, math.MaxInt32, math.MaxInt64)},
		{"interval_min_clock", 1186, change.Interval(-1, 1, math.MinInt64+1)},
		{"date_far", 1082, change.Date(-2_000_000)},
		{"text_array_awkward", 1009, change.Array([]change.Value{change.Text(` lead`), change.Text(`trail `), change.Text(`\`), change.Text(`"`), change.Null()})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := Encode(nil, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(tc.oid, enc)
			if err != nil {
				t.Fatalf("Decode(%q): %v", enc, err)
			}
			if !change.Equal(got, tc.v) {
				t.Fatalf("Decode(Encode(v)) = %+v via %q, want %+v", got, enc, tc.v)
			}
		})
	}
}
