package pgtext

import (
	"errors"
	"math"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

var fuzzOIDs = []uint32{
	pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID, pgtype.NumericOID,
	pgtype.Float4OID, pgtype.Float8OID, pgtype.TextOID, pgtype.ByteaOID, pgtype.UUIDOID, pgtype.JSONBOID,
	pgtype.DateOID, pgtype.TimeOID, pgtype.TimetzOID, pgtype.TimestampOID, pgtype.TimestamptzOID,
	pgtype.IntervalOID, pgtype.Int4ArrayOID, pgtype.TextArrayOID, pgtype.ByteaArrayOID, pgtype.Float8ArrayOID,
	pgtype.DateArrayOID, pgtype.IntervalArrayOID, pgtype.InetArrayOID, 99999,
}

// FuzzDecode: Decode never panics, and whatever it accepts either encodes
// to a text that decodes to an Equal value, or is refused by Encode with a
// classified error (a NUL in text, a ragged array).
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		oid  uint32
		text string
	}{
		{pgtype.Int4OID, "-2147483648"}, {pgtype.NumericOID, "-12.340"}, {pgtype.Float8OID, "-Infinity"},
		{pgtype.ByteaOID, `\x00ff`}, {pgtype.ByteaOID, `a\000\\`}, {pgtype.UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{pgtype.DateOID, "0044-03-15 BC"}, {pgtype.TimetzOID, "10:00:00+05:30:15"},
		{pgtype.TimestamptzOID, "0044-03-15 15:53:28+05:53:28 BC"}, {pgtype.TimestampOID, "10000-01-01 00:00:00.5"},
		{pgtype.IntervalOID, "-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808"},
		{pgtype.TextArrayOID, `{NULL,"a b","q\"x","",{}}`}, {pgtype.Int4ArrayOID, "{{1,2},{3,NULL}}"},
		{pgtype.Int4ArrayOID, "[1:2]={1,2}"}, {pgtype.TextArrayOID, `{a\,b, c\ }`},
	}
	for _, s := range seeds {
		for i, oid := range fuzzOIDs {
			if oid == s.oid {
				f.Add(uint8(i), []byte(s.text))
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, text []byte) {
		oid := fuzzOIDs[int(which)%len(fuzzOIDs)]
		v, err := Decode(oid, text)
		if err != nil {
			return
		}
		enc, err := Encode(nil, v)
		if err != nil {
			if !errors.Is(err, ErrRange) && !errors.Is(err, ErrNoText) {
				t.Fatalf("Encode(Decode(%d, %q) = %+v): unclassified error %v", oid, text, v, err)
			}
			return
		}
		back, err := Decode(oid, enc)
		if err != nil {
			t.Fatalf("Decode(%d, %q) = %+v encodes to %q, which does not decode: %v", oid, text, v, enc, err)
		}
		if !change.Equal(back, v) {
			t.Fatalf("Decode(%d, %q) = %+v encodes to %q, which decodes to %+v", oid, text, v, enc, back)
		}
	})
}

// scalarOIDs maps each Kind Encode writes to the type whose Decode gives
// the same Kind back.
var scalarOIDs = map[change.Kind]uint32{
	change.KindBool: pgtype.BoolOID, change.KindInt: pgtype.Int8OID, change.KindNumeric: pgtype.NumericOID,
	change.KindFloat: pgtype.Float8OID, change.KindText: pgtype.TextOID, change.KindBytes: pgtype.ByteaOID,
	change.KindDate: pgtype.DateOID, change.KindTime: pgtype.TimeOID, change.KindTimeTZ: pgtype.TimetzOID,
	change.KindTimestamp: pgtype.TimestampOID, change.KindTimestampTZ: pgtype.TimestamptzOID,
	change.KindInterval: pgtype.IntervalOID, change.KindUUID: pgtype.UUIDOID, change.KindJSON: pgtype.JSONBOID,
	change.KindEnum: 99999,
}

// leafKind returns the one Kind of an array's non-NULL leaves (KindNull if
// there are none), ok=false if they differ.
func leafKind(v change.Value) (change.Kind, bool) {
	k := change.KindNull
	for _, e := range v.Elems {
		ek := e.Kind
		if ek == change.KindArray {
			var ok bool
			if ek, ok = leafKind(e); !ok {
				return 0, false
			}
		}
		if ek == change.KindNull {
			continue
		}
		if k != change.KindNull && k != ek {
			return 0, false
		}
		k = ek
	}
	return k, true
}

// FuzzEncode builds arbitrary Values with the change codec: Encode never
// panics, refuses what PostgreSQL cannot store with a classified error, and
// what it writes decodes back to an Equal value.
func FuzzEncode(f *testing.F) {
	for _, v := range []change.Value{
		change.Interval(math.MinInt32, math.MinInt32, math.MinInt64), change.Timestamp(math.MaxInt64 - 1),
		change.TimeTZ(86400000000, -57599), change.Float(math.SmallestNonzeroFloat64), change.Date(-2_000_000),
		change.Array([]change.Value{change.Text(""), change.Null(), change.Text(`"\{}, `)}),
		change.Array([]change.Value{change.Array([]change.Value{change.Date(-800000)}), change.Array([]change.Value{change.Null()})}),
	} {
		f.Add(change.AppendValue(nil, v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, _, err := change.DecodeValue(data)
		if err != nil {
			return
		}
		enc, err := Encode(nil, v)
		if err != nil {
			if !errors.Is(err, ErrRange) && !errors.Is(err, ErrNoText) && !errors.Is(err, ErrSyntax) {
				t.Fatalf("Encode(%+v): unclassified error %v", v, err)
			}
			return
		}
		var back change.Value
		switch {
		case v.Kind == change.KindArray:
			k, ok := leafKind(v)
			if !ok || k == change.KindUint {
				return // PostgreSQL arrays have one element type; uint decodes as numeric
			}
			elem, ok := scalarOIDs[k]
			if !ok {
				elem = pgtype.TextOID
			}
			back, err = DecodeArray(elem, enc)
		case v.Kind == change.KindUint:
			return // written as a decimal for a numeric column; decodes as KindNumeric
		default:
			back, err = Decode(scalarOIDs[v.Kind], enc)
		}
		if err != nil {
			t.Fatalf("Encode(%+v) = %q, which does not decode: %v", v, enc, err)
		}
		if !change.Equal(back, v) {
			t.Fatalf("Encode(%+v) = %q, which decodes to %+v", v, enc, back)
		}
	})
}
