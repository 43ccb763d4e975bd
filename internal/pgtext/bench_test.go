package pgtext

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

var benchValues = []struct {
	name string
	oid  uint32
	text string
}{
	{"int4", pgtype.Int4OID, "123456"},
	{"int8", pgtype.Int8OID, "-9223372036854775808"},
	{"text", pgtype.TextOID, "some customer name"},
	{"numeric", pgtype.NumericOID, "1234567.89"},
	{"float8", pgtype.Float8OID, "0.30000000000000004"},
	{"bool", pgtype.BoolOID, "t"},
	{"uuid", pgtype.UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"timestamptz", pgtype.TimestamptzOID, "2024-01-02 03:04:05.123456+00"},
	{"date", pgtype.DateOID, "2024-02-29"},
	{"interval", pgtype.IntervalOID, "1 year 2 mons -3 days +04:05:06.789"},
	{"int4_array", pgtype.Int4ArrayOID, "{1,2,3,4,5,NULL}"},
	{"text_array", pgtype.TextArrayOID, `{a,"b c","q\"x",NULL}`},
}

func BenchmarkDecode(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			text := []byte(bv.text)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(bv.oid, text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			v, err := Decode(bv.oid, []byte(bv.text))
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = Encode(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeRow decodes a typical 5-column row (int8 key, text,
// numeric, timestamptz, bool), the capture's hot path; rows/s = 1e9/ns.
func BenchmarkDecodeRow(b *testing.B) {
	oids := []uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.NumericOID, pgtype.TimestamptzOID, pgtype.BoolOID}
	cols := [][]byte{[]byte("123456789"), []byte("some customer name"), []byte("1234.50"),
		[]byte("2024-01-02 03:04:05.123456+00"), []byte("t")}
	var reg Registry
	row := make(change.Row, len(cols))
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range cols {
			v, err := reg.Decode(oids[i], c)
			if err != nil {
				b.Fatal(err)
			}
			row[i] = v
		}
	}
}
