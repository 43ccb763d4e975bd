package change

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// sampleValues is a fixed list covering every Kind and its edge cases. The
// golden file holds the encoding of exactly this list, in this order.
func sampleValues() []struct {
	name string
	v    Value
} {
	uuid := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	return []struct {
		name string
		v    Value
	}{
		{"null", Null()},
		{"unchanged", Unchanged()},
		{"absent", Absent()},
		{"bool_false", Bool(false)},
		{"bool_true", Bool(true)},
		{"int_zero", Int(0)},
		{"int_one", Int(1)},
		{"int_minus_one", Int(-1)},
		{"int_min", Int(math.MinInt64)},
		{"int_max", Int(math.MaxInt64)},
		{"uint_zero", Uint(0)},
		{"uint_max", Uint(math.MaxUint64)},
		{"numeric_1.00", Numeric("1.00")},
		{"numeric_1.0", Numeric("1.0")},
		{"numeric_negative", Numeric("-12.340")},
		{"numeric_big", Numeric("123456789012345678901234567890.123456789")},
		{"numeric_nan", Numeric("NaN")},
		{"numeric_inf", Numeric("Infinity")},
		{"numeric_neg_inf", Numeric("-Infinity")},
		{"float_zero", Float(0)},
		{"float_neg_zero", Float(math.Copysign(0, -1))},
		{"float_one", Float(1)},
		{"float_tenth", Float(0.1)},
		{"float_nan", Float(math.NaN())},
		{"float_inf", Float(math.Inf(1))},
		{"float_neg_inf", Float(math.Inf(-1))},
		{"float_max", Float(math.MaxFloat64)},
		{"float_smallest", Float(math.SmallestNonzeroFloat64)},
		{"text_empty", Text("")},
		{"text_ascii", Text("hello, world")},
		{"text_unicode", Text("日本語 🎉 émoji ∑")},
		{"text_nul", Text("a\x00b")},
		{"text_invalid_utf8", Text("\xff\xfe")},
		{"bytes_empty", Bytes([]byte{})},
		{"bytes_binary", Bytes([]byte{0, 1, 0xff, 0x80, '\\', 'x'})},
		{"date_epoch", Date(0)},
		{"date_2024", Date(19782)},
		{"date_bc", Date(-735604)},
		{"date_pos_inf", Date(PosInfinity)},
		{"date_neg_inf", Date(NegInfinity)},
		{"time_midnight", Time(0)},
		{"time_end", Time(86400000000)},
		{"timetz_ist", TimeTZ(45296789000, 19800)},
		{"timetz_west", TimeTZ(1, -43200)},
		{"timestamp_us", Timestamp(1704164645123456)},
		{"timestamp_pre_epoch", Timestamp(-1)},
		{"timestamp_pos_inf", Timestamp(PosInfinity)},
		{"timestamp_neg_inf", Timestamp(NegInfinity)},
		{"timestamptz_us", TimestampTZ(1704164645123456)},
		{"timestamptz_pos_inf", TimestampTZ(PosInfinity)},
		{"timestamptz_neg_inf", TimestampTZ(NegInfinity)},
		{"interval_zero", Interval(0, 0, 0)},
		{"interval_mixed", Interval(14, -3, 14706789000)},
		{"interval_negative", Interval(-1, -2, -3)},
		{"interval_extremes", Interval(math.MinInt32, math.MaxInt32, math.MinInt64)},
		{"uuid", UUID(uuid)},
		{"json_object", JSON(`{"a": [1, 2, null], "b": "é"}`)},
		{"json_null", JSON("null")},
		{"enum", Enum("happy")},
		{"enum_awkward", Enum(`a "b" c`)},
		{"array_empty", Array([]Value{})},
		{"array_ints", Array([]Value{Int(1), Int(2), Int(3)})},
		{"array_with_null", Array([]Value{Text("a b"), Null(), Text(`q"x`)})},
		{"array_2d", Array([]Value{Array([]Value{Int(1), Int(2)}), Array([]Value{Int(3), Null()})})},
		{"array_3d", Array([]Value{Array([]Value{Array([]Value{Enum("x")})})})},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range sampleValues() {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendValue([]byte("prefix"), tc.v)
			if !bytes.HasPrefix(enc, []byte("prefix")) {
				t.Fatalf("AppendValue lost dst prefix: %x", enc)
			}
			enc = enc[len("prefix"):]
			got, n, err := DecodeValue(append(enc, 0xAA, 0xBB))
			if err != nil {
				t.Fatalf("DecodeValue(%x): %v", enc, err)
			}
			if n != len(enc) {
				t.Fatalf("DecodeValue consumed %d bytes, encoding has %d", n, len(enc))
			}
			if !Equal(got, tc.v) {
				t.Fatalf("round trip: got %+v, want %+v", got, tc.v)
			}
			if again := AppendValue(nil, got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding differs: %x vs %x", again, enc)
			}
		})
	}
}

func TestEqualMatchesEncoding(t *testing.T) {
	vals := sampleValues()
	for _, a := range vals {
		for _, b := range vals {
			eq := Equal(a.v, b.v)
			same := bytes.Equal(AppendValue(nil, a.v), AppendValue(nil, b.v))
			if eq != same {
				t.Errorf("Equal(%s, %s) = %v but identical encodings = %v", a.name, b.name, eq, same)
			}
			if eq != (a.name == b.name) {
				t.Errorf("Equal(%s, %s) = %v", a.name, b.name, eq)
			}
		}
	}
}

func TestEqual(t *testing.T) {
	otherNaN := Value{Kind: KindFloat, I: int64(math.Float64bits(math.NaN()) ^ 0x5)}
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"nan_equals_nan", Float(math.NaN()), otherNaN, true},
		{"zero_sign_differs", Float(0), Float(math.Copysign(0, -1)), false},
		{"numeric_scale_kept", Numeric("1.00"), Numeric("1.0"), false},
		{"kind_differs", Text("a"), Enum("a"), false},
		{"int_vs_uint", Int(1), Uint(1), false},
		{"bool_nonzero", Value{Kind: KindBool, I: 7}, Bool(true), true},
		{"unused_fields_ignored", Value{Kind: KindInt, I: 5, S: "x", J: 9}, Int(5), true},
		{"array_nil_vs_empty", Array(nil), Array([]Value{}), true},
		{"array_elementwise", Array([]Value{Int(1), Null()}), Array([]Value{Int(1), Null()}), true},
		{"array_element_differs", Array([]Value{Int(1), Null()}), Array([]Value{Int(1), Int(0)}), false},
		{"array_length_differs", Array([]Value{Int(1)}), Array([]Value{Int(1), Int(1)}), false},
		{"array_nan", Array([]Value{Float(math.NaN())}), Array([]Value{otherNaN}), true},
		{"timetz_offset_differs", TimeTZ(0, 3600), TimeTZ(0, 0), false},
		{"interval_days_differ", Interval(0, 1, 0), Interval(0, 2, 0), false},
		{"null_vs_unchanged", Null(), Unchanged(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Fatalf("Equal = %v, want %v", got, tc.want)
			}
			if got := Equal(tc.b, tc.a); got != tc.want {
				t.Fatalf("Equal (swapped) = %v, want %v", got, tc.want)
			}
			if same := bytes.Equal(AppendValue(nil, tc.a), AppendValue(nil, tc.b)); same != tc.want {
				t.Fatalf("identical encodings = %v, want %v", same, tc.want)
			}
		})
	}
}

func TestRowRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		row  Row
	}{
		{"nil", nil},
		{"empty", Row{}},
		{"one_null", Row{Null()}},
		{"mixed", Row{Int(42), Text("x"), Null(), Unchanged(), Absent(), Array([]Value{Bool(true)})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendRow(nil, tc.row)
			got, n, err := DecodeRow(enc)
			if err != nil {
				t.Fatalf("DecodeRow(%x): %v", enc, err)
			}
			if n != len(enc) {
				t.Fatalf("consumed %d of %d bytes", n, len(enc))
			}
			if (got == nil) != (tc.row == nil) {
				t.Fatalf("nil-ness lost: got nil=%v, want nil=%v", got == nil, tc.row == nil)
			}
			if len(got) != len(tc.row) {
				t.Fatalf("got %d columns, want %d", len(got), len(tc.row))
			}
			for i := range got {
				if !Equal(got[i], tc.row[i]) {
					t.Fatalf("column %d: got %+v, want %+v", i, got[i], tc.row[i])
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := bytes.Repeat([]byte{byte(KindArray), 1}, MaxArrayDepth+1)
	deep = append(deep, byte(KindNull))
	okDeep := bytes.Repeat([]byte{byte(KindArray), 1}, MaxArrayDepth)
	okDeep = append(okDeep, byte(KindNull))
	if _, _, err := DecodeValue(okDeep); err != nil {
		t.Fatalf("array of depth %d rejected: %v", MaxArrayDepth, err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "unexpected end of input"},
		{"unknown_kind", []byte{byte(kindCount)}, "unknown kind"},
		{"bool_truncated", []byte{byte(KindBool)}, "unexpected end of input"},
		{"bool_two", []byte{byte(KindBool), 2}, "bool"},
		{"int_truncated", []byte{byte(KindInt), 0x80}, "unexpected end of input"},
		{"int_overflow", append(append([]byte{byte(KindInt)}, bytes.Repeat([]byte{0xff}, 9)...), 0x02), "overflows"},
		{"int_non_minimal", []byte{byte(KindInt), 0x80, 0x00}, "not minimally encoded"},
		{"text_length_too_long", []byte{byte(KindText), 5, 'a'}, "exceeds"},
		{"text_huge_length", append([]byte{byte(KindText)}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "exceeds"},
		{"float_noncanonical_nan", []byte{byte(KindFloat), 0xff, 0xf1, 0x03}, "non-canonical NaN"},
		{"interval_months_range", []byte{byte(KindInterval), 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, "out of int32 range"},
		{"array_count_too_big", []byte{byte(KindArray), 3, 0}, "elements but"},
		{"array_too_deep", deep, "nested deeper"},
		{"array_bad_element", []byte{byte(KindArray), 1, 0xee}, "element 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeValue(tc.in)
			if err == nil {
				t.Fatalf("DecodeValue(%x) succeeded", tc.in)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "decode value: ") {
				t.Fatalf("error %q, want it to start with %q and contain %q", err, "decode value: ", tc.want)
			}
		})
	}
}

func TestDecodeRowErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "unexpected end of input"},
		{"count_too_big", []byte{4, 0}, "columns but"},
		{"bad_column", []byte{3, byte(KindNull), 0xee}, "column 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeRow(tc.in)
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("DecodeRow(%x) error = %v, want ErrMalformed containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func benchRow() Row {
	return Row{Int(123456789), Text("some customer name"), Numeric("1234.50"), TimestampTZ(1704164645123456), Bool(true)}
}

func BenchmarkAppendRow(b *testing.B) {
	r := benchRow()
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRow(buf[:0], r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeRow(b *testing.B) {
	enc := AppendRow(nil, benchRow())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeRow(enc); err != nil {
			b.Fatal(err)
		}
	}
}
