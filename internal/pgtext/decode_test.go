package pgtext

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

// dayOf is an independent oracle for dates: Go's time uses the same
// proleptic Gregorian calendar with astronomical years.
func dayOf(y, m, d int) int64 {
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// microsOf is a timestamp in microseconds from 2000-01-01 (change's epoch).
func microsOf(y, m, d, hh, mm, ss, us int) int64 {
	return time.Date(y, time.Month(m), d, hh, mm, ss, us*1000, time.UTC).UnixMicro() - change.Epoch2000Unix
}

func TestDecode(t *testing.T) {
	uuid := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	tests := []struct {
		name string
		oid  uint32
		text string
		want change.Value
	}{
		{"bool_t", pgtype.BoolOID, "t", change.Bool(true)},
		{"bool_f", pgtype.BoolOID, "f", change.Bool(false)},
		{"int2_min", pgtype.Int2OID, "-32768", change.Int(math.MinInt16)},
		{"int4_max", pgtype.Int4OID, "2147483647", change.Int(math.MaxInt32)},
		{"int8_min", pgtype.Int8OID, "-9223372036854775808", change.Int(math.MinInt64)},
		{"int8_max", pgtype.Int8OID, "9223372036854775807", change.Int(math.MaxInt64)},
		{"oid_max", pgtype.OIDOID, "4294967295", change.Int(math.MaxUint32)},
		{"numeric_scale", pgtype.NumericOID, "1.00", change.Numeric("1.00")},
		{"numeric_negative", pgtype.NumericOID, "-0.0001", change.Numeric("-0.0001")},
		{"numeric_nan", pgtype.NumericOID, "NaN", change.Numeric("NaN")},
		{"numeric_neg_inf", pgtype.NumericOID, "-Infinity", change.Numeric("-Infinity")},
		{"float8", pgtype.Float8OID, "0.1", change.Float(0.1)},
		{"float8_exp", pgtype.Float8OID, "1e+300", change.Float(1e300)},
		{"float8_neg_zero", pgtype.Float8OID, "-0", change.Float(math.Copysign(0, -1))},
		{"float8_nan", pgtype.Float8OID, "NaN", change.Float(math.NaN())},
		{"float8_inf", pgtype.Float8OID, "Infinity", change.Float(math.Inf(1))},
		{"float8_neg_inf", pgtype.Float8OID, "-Infinity", change.Float(math.Inf(-1))},
		{"float4_exact", pgtype.Float4OID, "1.1", change.Float(float64(float32(1.1)))},
		{"text", pgtype.TextOID, "héllo 🎉", change.Text("héllo 🎉")},
		{"text_empty", pgtype.TextOID, "", change.Text("")},
		{"varchar", pgtype.VarcharOID, "x", change.Text("x")},
		{"bpchar_padded", pgtype.BPCharOID, "ab   ", change.Text("ab   ")},
		{"name", pgtype.NameOID, "pg_class", change.Text("pg_class")},
		{"qchar_octal", pgtype.QCharOID, `\377`, change.Text(`\377`)},
		{"bytea_hex", pgtype.ByteaOID, `\x00ff10`, change.Bytes([]byte{0, 0xff, 0x10})},
		{"bytea_hex_upper", pgtype.ByteaOID, `\xABcd`, change.Bytes([]byte{0xab, 0xcd})},
		{"bytea_empty", pgtype.ByteaOID, `\x`, change.Bytes([]byte{})},
		{"bytea_escape", pgtype.ByteaOID, `a\000\\b\377`, change.Bytes([]byte{'a', 0, '\\', 'b', 0xff})},
		{"uuid", pgtype.UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", change.UUID(uuid)},
		{"json", pgtype.JSONOID, `{"b": 1, "a": 2}`, change.JSON(`{"b": 1, "a": 2}`)},
		{"jsonb", pgtype.JSONBOID, `{"a": 2, "b": 1}`, change.JSON(`{"a": 2, "b": 1}`)},
		{"date", pgtype.DateOID, "2024-02-29", change.Date(dayOf(2024, 2, 29))},
		{"date_epoch", pgtype.DateOID, "1970-01-01", change.Date(0)},
		{"date_bc", pgtype.DateOID, "0044-03-15 BC", change.Date(dayOf(-43, 3, 15))},
		{"date_1bc_leap", pgtype.DateOID, "0001-02-29 BC", change.Date(dayOf(0, 2, 29))},
		{"date_min", pgtype.DateOID, "4714-11-24 BC", change.Date(dayOf(-4713, 11, 24))},
		{"date_max", pgtype.DateOID, "5874897-12-31", change.Date(daysFromCivil(5874897, 12, 31))},
		{"date_inf", pgtype.DateOID, "infinity", change.Date(change.PosInfinity)},
		{"date_neg_inf", pgtype.DateOID, "-infinity", change.Date(change.NegInfinity)},
		{"time", pgtype.TimeOID, "12:34:56.789", change.Time(45296789000)},
		{"time_midnight", pgtype.TimeOID, "00:00:00", change.Time(0)},
		{"time_24", pgtype.TimeOID, "24:00:00", change.Time(86400000000)},
		{"time_us", pgtype.TimeOID, "23:59:59.999999", change.Time(86399999999)},
		{"timetz", pgtype.TimetzOID, "12:34:56.789+05:30", change.TimeTZ(45296789000, 19800)},
		{"timetz_hours", pgtype.TimetzOID, "00:00:00-12", change.TimeTZ(0, -43200)},
		{"timetz_seconds", pgtype.TimetzOID, "10:00:00+05:30:15", change.TimeTZ(36000000000, 19815)},
		{"timestamp", pgtype.TimestampOID, "2024-01-02 03:04:05.123456", change.Timestamp(microsOf(2024, 1, 2, 3, 4, 5, 123456))},
		{"timestamp_pre_epoch", pgtype.TimestampOID, "1999-12-31 23:59:59.999999", change.Timestamp(-1)},
		{"timestamp_pg_max", pgtype.TimestampOID, "294276-12-31 23:59:59.999999", change.Timestamp(microsOf(294276, 12, 31, 23, 59, 59, 999999))},
		{"timestamp_bc", pgtype.TimestampOID, "0044-03-15 10:00:00 BC", change.Timestamp(microsOf(-43, 3, 15, 10, 0, 0, 0))},
		{"timestamp_5_digit_year", pgtype.TimestampOID, "10000-01-01 00:00:00", change.Timestamp(microsOf(10000, 1, 1, 0, 0, 0, 0))},
		{"timestamp_inf", pgtype.TimestampOID, "infinity", change.Timestamp(change.PosInfinity)},
		{"timestamptz_utc", pgtype.TimestamptzOID, "2024-01-02 03:04:05.123456+00", change.TimestampTZ(microsOf(2024, 1, 2, 3, 4, 5, 123456))},
		{"timestamptz_ist", pgtype.TimestamptzOID, "2024-01-02 08:34:05.123456+05:30", change.TimestampTZ(microsOf(2024, 1, 2, 3, 4, 5, 123456))},
		{"timestamptz_west", pgtype.TimestamptzOID, "2024-01-01 23:34:05-03:30", change.TimestampTZ(microsOf(2024, 1, 2, 3, 4, 5, 0))},
		{"timestamptz_lmt", pgtype.TimestamptzOID, "1800-01-01 05:53:28+05:53:28", change.TimestampTZ(microsOf(1800, 1, 1, 0, 0, 0, 0))},
		{"timestamptz_bc", pgtype.TimestamptzOID, "0044-03-15 15:53:28+05:53:28 BC", change.TimestampTZ(microsOf(-43, 3, 15, 10, 0, 0, 0))},
		{"timestamptz_neg_inf", pgtype.TimestamptzOID, "-infinity", change.TimestampTZ(change.NegInfinity)},
		{"interval_mixed", pgtype.IntervalOID, "1 year 2 mons -3 days +04:05:06.789", change.Interval(14, -3, 14706789000)},
		{"interval_zero", pgtype.IntervalOID, "00:00:00", change.Interval(0, 0, 0)},
		{"interval_negative_clock", pgtype.IntervalOID, "-04:05:06", change.Interval(0, 0, -14706000000)},
		{"interval_mixed_sign_months", pgtype.IntervalOID, "-1 years +2 mons", change.Interval(-10, 0, 0)},
		{"interval_day", pgtype.IntervalOID, "1 day", change.Interval(0, 1, 0)},
		{"interval_min", pgtype.IntervalOID, "-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808",
			change.Interval(math.MinInt32, math.MinInt32, math.MinInt64)},
		{"interval_max", pgtype.IntervalOID, "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807",
			change.Interval(math.MaxInt32, math.MaxInt32, math.MaxInt64)},
		{"interval_hours_secs", pgtype.IntervalOID, "-2562047788 hours -54.775808 secs", change.Interval(0, 0, math.MinInt64)},
		{"interval_hours_then_clock", pgtype.IntervalOID, "1 hour +00:00:01", change.Interval(0, 0, usPerHour+usPerSecond)},
		{"interval_one_us", pgtype.IntervalOID, "-00:00:00.000001", change.Interval(0, 0, -1)},
		{"enum_unknown_oid", 98765, "happy", change.Enum("happy")},
		{"inet_opaque", 869, "192.168.0.1/24", change.Enum("192.168.0.1/24")},
		{"box_array_opaque", pgtype.BoxArrayOID, "{(3,4),(1,2);(7,8),(5,6)}", change.Enum("{(3,4),(1,2);(7,8),(5,6)}")},
		{"int4_array", pgtype.Int4ArrayOID, "{1,2,NULL}", change.Array([]change.Value{change.Int(1), change.Int(2), change.Null()})},
		{"inet_array", pgtype.InetArrayOID, "{10.0.0.1,::1}", change.Array([]change.Value{change.Enum("10.0.0.1"), change.Enum("::1")})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.oid, []byte(tc.text))
			if err != nil {
				t.Fatalf("Decode(%d, %q): %v", tc.oid, tc.text, err)
			}
			if !change.Equal(got, tc.want) {
				t.Fatalf("Decode(%d, %q) = %+v, want %+v", tc.oid, tc.text, got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		oid  uint32
		text string
		want error
	}{
		{"bool_yes", pgtype.BoolOID, "yes", ErrSyntax},
		{"int2_overflow", pgtype.Int2OID, "32768", ErrRange},
		{"int4_overflow", pgtype.Int4OID, "-2147483649", ErrRange},
		{"int8_overflow", pgtype.Int8OID, "9223372036854775808", ErrSyntax},
		{"int8_too_long", pgtype.Int8OID, "99999999999999999999", ErrSyntax},
		{"int_empty", pgtype.Int4OID, "", ErrSyntax},
		{"int_sign_only", pgtype.Int4OID, "-", ErrSyntax},
		{"int_space", pgtype.Int4OID, " 1", ErrSyntax},
		{"oid_negative", pgtype.OIDOID, "-1", ErrRange},
		{"numeric_exponent", pgtype.NumericOID, "1e5", ErrSyntax},
		{"numeric_trailing_dot", pgtype.NumericOID, "1.", ErrSyntax},
		{"numeric_empty", pgtype.NumericOID, "", ErrSyntax},
		{"float_garbage", pgtype.Float8OID, "abc", ErrSyntax},
		{"float_underscore", pgtype.Float8OID, "1_0", ErrSyntax},
		{"float4_overflow", pgtype.Float4OID, "1e39", ErrRange},
		{"bytea_odd_hex", pgtype.ByteaOID, `\x0`, ErrSyntax},
		{"bytea_bad_hex", pgtype.ByteaOID, `\xzz`, ErrSyntax},
		{"bytea_bad_escape", pgtype.ByteaOID, `\9`, ErrSyntax},
		{"uuid_short", pgtype.UUIDOID, "a0eebc99", ErrSyntax},
		{"uuid_bad_hex", pgtype.UUIDOID, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ErrSyntax},
		{"date_feb_30", pgtype.DateOID, "2023-02-29", ErrRange},
		{"date_year_zero", pgtype.DateOID, "0000-01-01", ErrRange},
		{"date_junk", pgtype.DateOID, "2024-01-01x", ErrSyntax},
		{"date_short_year", pgtype.DateOID, "24-01-01", ErrSyntax},
		{"time_25", pgtype.TimeOID, "25:00:00", ErrSyntax},
		{"time_24_01", pgtype.TimeOID, "24:00:01", ErrSyntax},
		{"time_7_digit_fraction", pgtype.TimeOID, "00:00:00.1234567", ErrSyntax},
		{"timetz_no_offset", pgtype.TimetzOID, "00:00:00", ErrSyntax},
		{"timestamp_24h", pgtype.TimestampOID, "2024-01-01 24:00:00", ErrSyntax},
		{"timestamp_t_separator", pgtype.TimestampOID, "2024-01-01T00:00:00", ErrSyntax},
		{"timestamp_beyond_int64", pgtype.TimestampOID, "294278-01-01 00:00:00", ErrRange},
		{"timestamptz_no_offset", pgtype.TimestamptzOID, "2024-01-01 00:00:00", ErrSyntax},
		{"timestamptz_bad_offset", pgtype.TimestamptzOID, "2024-01-01 00:00:00+5", ErrSyntax},
		{"interval_empty", pgtype.IntervalOID, "", ErrSyntax},
		{"interval_iso", pgtype.IntervalOID, "P1Y", ErrSyntax},
		{"interval_bad_unit", pgtype.IntervalOID, "1 week", ErrSyntax},
		{"interval_months_overflow", pgtype.IntervalOID, "178956971 years", ErrRange},
		{"interval_clock_overflow", pgtype.IntervalOID, "2562047788:00:54.775808", ErrRange},
		{"interval_fraction_days", pgtype.IntervalOID, "1.5 days", ErrSyntax},
		{"interval_hours_overflow", pgtype.IntervalOID, "2562047789 hours", ErrRange},
		{"interval_secs_overflow", pgtype.IntervalOID, "2562047788 hours 55 secs", ErrRange},
		{"interval_clock_not_last", pgtype.IntervalOID, "01:00:00 1 day", ErrSyntax},
		{"array_unterminated", pgtype.Int4ArrayOID, "{1,2", ErrSyntax},
		{"array_bad_element", pgtype.Int4ArrayOID, "{1,x}", ErrSyntax},
		{"array_lower_bound", pgtype.Int4ArrayOID, "[0:1]={1,2}", ErrRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Decode(tc.oid, []byte(tc.text))
			if err == nil {
				t.Fatalf("Decode(%d, %q) = %+v, want error", tc.oid, tc.text, v)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "pgtext: decode ") {
				t.Fatalf("error %q lacks context", err)
			}
		})
	}
}

func TestDecodeErrorQuotesAtMost64Bytes(t *testing.T) {
	_, err := Decode(pgtype.Int4OID, []byte(strings.Repeat("9", 1000)))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error %q: want a short error", err)
	}
}

func TestRegistry(t *testing.T) {
	const (
		moodOID      = 70001
		moodArrayOID = 70002
		domainOID    = 70003
		domArrayOID  = 70004
		citextOID    = 70005
	)
	var reg Registry
	reg.Register(moodArrayOID, Type{Elem: moodOID})
	reg.Register(domainOID, Type{Base: pgtype.Int4OID})
	reg.Register(domArrayOID, Type{Elem: domainOID})
	reg.Register(citextOID, Type{Base: pgtype.TextOID})
	reg.Register(80001, Type{Base: 80002}) // a cycle must not hang
	reg.Register(80002, Type{Base: 80001})
	tests := []struct {
		name string
		oid  uint32
		text string
		want change.Value
	}{
		{"enum", moodOID, "happy", change.Enum("happy")},
		{"enum_array", moodArrayOID, `{sad,NULL,"a \"b\" c"}`, change.Array([]change.Value{change.Enum("sad"), change.Null(), change.Enum(`a "b" c`)})},
		{"domain", domainOID, "42", change.Int(42)},
		{"domain_array", domArrayOID, "{{1,2},{3,4}}", change.Array([]change.Value{
			change.Array([]change.Value{change.Int(1), change.Int(2)}),
			change.Array([]change.Value{change.Int(3), change.Int(4)}),
		})},
		{"citext", citextOID, "Hello", change.Text("Hello")},
		{"builtin_untouched", pgtype.Int4OID, "7", change.Int(7)},
		{"unregistered_array_is_text", 99999, "{a,b}", change.Enum("{a,b}")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := reg.Decode(tc.oid, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !change.Equal(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("cycle", func(t *testing.T) {
		if _, err := reg.Decode(80001, []byte("x")); err == nil || !strings.Contains(err.Error(), "indirections") {
			t.Fatalf("err = %v, want an indirection error", err)
		}
	})
	t.Run("domain_error_propagates", func(t *testing.T) {
		if _, err := reg.Decode(domainOID, []byte("x")); !errors.Is(err, ErrSyntax) {
			t.Fatalf("err = %v, want ErrSyntax", err)
		}
	})
	t.Run("decode_array_by_element", func(t *testing.T) {
		got, err := DecodeArray(moodOID, []byte("{ok,happy}"))
		if err != nil || !change.Equal(got, change.Array([]change.Value{change.Enum("ok"), change.Enum("happy")})) {
			t.Fatalf("DecodeArray = %+v, %v", got, err)
		}
	})
}

func TestCivilRoundTrip(t *testing.T) {
	for days := int64(-3_000_000); days <= 3_000_000; days += 7 {
		y, m, d := civilFromDays(days)
		if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d", days, y, m, d)
		}
		if back := daysFromCivil(y, m, d); back != days {
			t.Fatalf("daysFromCivil(civilFromDays(%d)) = %d", days, back)
		}
		if days%997 == 0 {
			if want := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC).Unix() / 86400; want != days {
				t.Fatalf("%d-%d-%d: time package says day %d, we say %d", y, m, d, want, days)
			}
		}
	}
}
