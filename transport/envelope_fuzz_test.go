package transport

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeRecord: decoding never panics, and whatever decodes re-encodes
// to the same bytes and decodes again to the same record.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range goldenRecords() {
		f.Add(AppendRecord(nil, &r))
	}
	txn := makeTxn(3, 1<<32, 4)
	for i := range txn.Changes {
		f.Add(EncodeRecord(nil, txn, i))
	}
	f.Add([]byte{envelopeMagic, EnvelopeVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DecodeRecord(b)
		if err != nil {
			return
		}
		re := AppendRecord(nil, &rec)
		if !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, re)
		}
		// A decoder that saw the record already takes its cached table.
		d := new(RecordDecoder)
		for range 2 {
			again, err := d.Decode(re)
			if err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if diff := cmp.Diff(rec, again, cmpOpts...); diff != "" {
				t.Fatalf("second decode differs (-first +second):\n%s", diff)
			}
		}
	})
}
