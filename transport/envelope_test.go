package transport

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bgsync/bgsync/change"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenVersion is the envelope version a golden record encodes as.
func goldenVersion(r Record) int {
	if !r.Change.Time.IsZero() {
		return envelopeTimed
	}
	return 1
}

func goldenPath(name string, version int) string {
	return filepath.Join("testdata", fmt.Sprintf("envelope_v%d_%s.hex", version, name))
}

// writeHex writes b as hex, 32 bytes per line, after a comment line.
func writeHex(path, comment string, b []byte) error {
	var sb strings.Builder
	sb.WriteString("# " + comment + "\n")
	for len(b) > 0 {
		n := min(32, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

func readHex(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []byte
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// TestGolden decodes every golden envelope, checks it against the record it
// was made from, and re-encodes it byte for byte. Run with -update after a
// deliberate format change (which needs a new EnvelopeVersion).
func TestGolden(t *testing.T) {
	for name, want := range goldenRecords() {
		t.Run(name, func(t *testing.T) {
			path := goldenPath(name, goldenVersion(want))
			if *update {
				comment := fmt.Sprintf("bgsync envelope v%d: %s %s", goldenVersion(want), want.Change.Op, want.Change.Table)
				if err := writeHex(path, comment, AppendRecord(nil, &want)); err != nil {
					t.Fatal(err)
				}
			}
			b, err := readHex(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeRecord(b)
			if err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
				t.Errorf("decoded record differs (-want +got):\n%s", diff)
			}
			if re := AppendRecord(nil, &got); !bytes.Equal(re, b) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", re, b)
			}
		})
	}
}

func TestRoundTripTxn(t *testing.T) {
	for _, n := range []int{1, 2, 7, 64} {
		txn := makeTxn(uint64(n), change.Position(n)<<20, n)
		d := new(RecordDecoder)
		for i := range txn.Changes {
			b := EncodeRecord(nil, txn, i)
			rec, err := d.Decode(b)
			if err != nil {
				t.Fatalf("txn of %d, change %d: %v", n, i, err)
			}
			want := Record{TxnID: txn.ID, Position: txn.Position, CommitTime: txn.CommitTime,
				Origin: txn.Origin, TxnSize: uint32(n), Change: txn.Changes[i]}
			if diff := cmp.Diff(want, rec, cmpOpts...); diff != "" {
				t.Fatalf("txn of %d, change %d (-want +got):\n%s", n, i, diff)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := AppendRecord(nil, ptr(goldenRecords()["update_toast"]))
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"magic", mutate(func(b []byte) []byte { b[0] = 0x00; return b }), "not a bgsync envelope"},
		{"version", mutate(func(b []byte) []byte { b[1] = 3; return b }), "envelope version 3 not supported"},
		{"version 2 without the change time", mutate(func(b []byte) []byte { b[1] = 2; return b }), "change time: varint: unexpected end"},
		{"change time too far", append(mutate(func(b []byte) []byte { b[1] = 2; return b }), binary.AppendVarint(nil, -(change.MaxTimeOffset.Microseconds()+1))...), "µs from the commit time"},
		{"op", mutate(func(b []byte) []byte { b[2] = 9; return b }), "op 9 unknown"},
		{"trailing", append(bytes.Clone(good), 0), "trailing bytes"},
		{"flags", mutate(func(b []byte) []byte { b[len(b)-1] = 0x80; return b }), "flags 0x80 unknown"},
		{"huge column count", []byte{envelopeMagic, 1, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "columns but"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRecord(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v does not wrap ErrMalformed", err)
			}
		})
	}
	var ve *VersionError
	if _, err := DecodeRecord(mutate(func(b []byte) []byte { b[1] = 7; return b })); !errors.As(err, &ve) || ve.Version != 7 {
		t.Fatalf("version 7: err = %v, want a *VersionError", err)
	}
}

// TestDecodeEveryPrefix checks that no truncation of a valid envelope
// decodes (and none panics).
func TestDecodeEveryPrefix(t *testing.T) {
	for name, r := range goldenRecords() {
		b := AppendRecord(nil, &r)
		for i := range len(b) {
			if _, err := DecodeRecord(b[:i]); err == nil {
				t.Fatalf("%s: prefix of %d/%d bytes decoded", name, i, len(b))
			}
		}
	}
}

func TestEncodeKey(t *testing.T) {
	recs := goldenRecords()
	ins, upd, del := recs["insert"].Change, recs["update_toast"].Change, recs["delete"].Change
	if !bytes.Equal(EncodeKey(&ins), EncodeKey(&upd)) {
		t.Errorf("insert and update of row 42 have different keys: %x vs %x", EncodeKey(&ins), EncodeKey(&upd))
	}
	if bytes.Equal(EncodeKey(&ins), EncodeKey(&del)) {
		t.Errorf("rows 42 and 7 have the same key %x", EncodeKey(&ins))
	}
	want := appendString(appendString(nil, "public"), "accounts")
	want = change.AppendValue(want, change.Int(7))
	if got := EncodeKey(&del); !bytes.Equal(got, want) {
		t.Errorf("delete key = %x, want %x (from the before image)", got, want)
	}
	tr := recs["truncate"].Change
	if got, want := EncodeKey(&tr), appendString(appendString(nil, "public"), "accounts"); !bytes.Equal(got, want) {
		t.Errorf("truncate key = %x, want %x", got, want)
	}
	// Composite keys keep column order.
	txn := makeTxn(5, 1, 3)
	k := EncodeKey(&txn.Changes[2])
	rest := k[len(appendString(appendString(nil, "public"), "orders")):]
	wantRest := change.AppendValue(change.AppendValue(nil, txn.Changes[2].After[0]), txn.Changes[2].After[1])
	if !bytes.Equal(rest, wantRest) {
		t.Errorf("composite key values = %x, want %x", rest, wantRest)
	}
}

func TestCodecByName(t *testing.T) {
	if c, err := CodecByName(""); err != nil || c.Name() != BinaryCodecName {
		t.Fatalf(`CodecByName("") = %v, %v`, c, err)
	}
	if _, err := CodecByName("debezium-json"); err == nil {
		t.Fatal("debezium-json: want an error until it is built")
	}
}

func ptr[T any](v T) *T { return &v }

// TestDecoderSharesColumnsSafely: records of one table share Columns, and
// a caller that modifies the shared slice does not corrupt later records.
func TestDecoderSharesColumnsSafely(t *testing.T) {
	txn := makeTxn(1, 1, 5) // changes 0 and 1 are on accounts
	d := new(RecordDecoder)
	r0, err0 := d.Decode(EncodeRecord(nil, txn, 0))
	r1, err1 := d.Decode(EncodeRecord(nil, txn, 1))
	if err0 != nil || err1 != nil {
		t.Fatal(err0, err1)
	}
	if &r0.Change.Columns[0] != &r1.Change.Columns[0] {
		t.Error("records of the same table do not share Columns")
	}
	r1.Change.Columns[1].Name = "renamed"
	r4, err := d.Decode(EncodeRecord(nil, txn, 4))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(accountCols, r4.Change.Columns); diff != "" {
		t.Fatalf("columns after a caller modified the shared slice (-want +got):\n%s", diff)
	}
}

// TestChangeTimeEdges: a change's own time equal to its commit time
// still travels (version 2, offset 0) and comes back equal; one further
// than change.MaxTimeOffset is not written (version 1, read back as the
// commit time), so the encoder never writes what the decoder refuses; a
// version 2 record whose time lands on the zero time is refused (it
// would re-encode as version 1).
func TestChangeTimeEdges(t *testing.T) {
	rec := goldenRecords()["delete_timed"]
	rec.Change.Time = rec.CommitTime
	b := AppendRecord(nil, &rec)
	got, err := DecodeRecord(b)
	if err != nil || b[1] != 2 || !got.Change.Time.Equal(rec.CommitTime) {
		t.Fatalf("offset 0: version %d, err %v, time %v", b[1], err, got.Change.Time)
	}
	if re := AppendRecord(nil, &got); !bytes.Equal(re, b) {
		t.Fatalf("offset 0 re-encodes differently")
	}

	rec.Change.Time = rec.CommitTime.Add(-change.MaxTimeOffset - time.Microsecond)
	b = AppendRecord(nil, &rec)
	if got, err = DecodeRecord(b); err != nil || b[1] != 1 || !got.Change.Time.IsZero() {
		t.Fatalf("out of bounds: version %d, err %v, time %v; want version 1 without a time", b[1], err, got.Change.Time)
	}

	rec.CommitTime = time.Time{}.Add(time.Hour)
	rec.Change.Time = rec.CommitTime.Add(-time.Hour) // the zero time
	b = AppendRecord(nil, &Record{TxnID: rec.TxnID, Position: rec.Position, CommitTime: rec.CommitTime, TxnSize: rec.TxnSize,
		Change: change.Change{Op: change.OpDelete, Table: rec.Change.Table, Columns: rec.Change.Columns, Before: rec.Change.Before, Seq: 1}})
	b[1] = 2
	b = binary.AppendVarint(b, -time.Hour.Microseconds())
	if _, err := DecodeRecord(b); err == nil || !errors.Is(err, ErrMalformed) {
		t.Fatalf("a change time at the zero time: err %v, want malformed", err)
	}
}
