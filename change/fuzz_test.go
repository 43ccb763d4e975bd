package change

import (
	"bytes"
	"testing"
)

func FuzzDecodeValue(f *testing.F) {
	for _, tc := range sampleValues() {
		f.Add(AppendValue(nil, tc.v))
	}
	f.Add([]byte{byte(KindArray), 2, byte(KindArray), 0, byte(KindText), 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, n, err := DecodeValue(data)
		if err != nil {
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		enc := AppendValue(nil, v)
		// Only canonical encodings are accepted, so re-encoding is exact.
		if !bytes.Equal(enc, data[:n]) {
			t.Fatalf("re-encoding %x differs from input %x", enc, data[:n])
		}
		v2, n2, err := DecodeValue(enc)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if n2 != len(enc) || !Equal(v, v2) {
			t.Fatalf("second round trip: %+v (%d bytes) vs %+v", v2, n2, v)
		}
	})
}

func FuzzDecodeRow(f *testing.F) {
	f.Add(AppendRow(nil, nil))
	f.Add(AppendRow(nil, Row{}))
	f.Add(AppendRow(nil, benchRow()))
	var all Row
	for _, tc := range sampleValues() {
		all = append(all, tc.v)
	}
	f.Add(AppendRow(nil, all))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, n, err := DecodeRow(data)
		if err != nil {
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		enc := AppendRow(nil, r)
		if !bytes.Equal(enc, data[:n]) {
			t.Fatalf("re-encoding %x differs from input %x", enc, data[:n])
		}
		r2, n2, err := DecodeRow(enc)
		if err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
		if n2 != len(enc) || (r == nil) != (r2 == nil) || len(r) != len(r2) {
			t.Fatalf("second round trip: %+v vs %+v", r2, r)
		}
		for i := range r {
			if !Equal(r[i], r2[i]) {
				t.Fatalf("column %d: %+v vs %+v", i, r2[i], r[i])
			}
		}
	})
}
