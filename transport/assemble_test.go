package transport

import (
	"errors"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
)

// TestAssembler feeds messages "<txn><seq>" (txn a..d, of the sizes below)
// at consecutive offsets and checks what comes out: the delivered txns in
// order, then the error if any.
func TestAssembler(t *testing.T) {
	txns := map[byte]*change.Txn{
		'a': makeTxn(1, 100, 3),
		'b': makeTxn(2, 200, 2),
		'c': makeTxn(3, 300, 1),
		'd': makeTxn(4, 50, 2), // an earlier position: a re-send
	}
	tests := []struct {
		name    string
		msgs    string
		want    string // delivered txns
		err     error
		dropped uint64 // DroppedTxns
	}{
		{"in order", "a0 a1 a2 b0 b1 c0", "abc", nil, 0},
		{"re-sent from seq 0", "a0 a1 a0 a1 a2 b0 b1", "ab", nil, 1},
		{"retried batch duplicates", "a0 a1 a0 a1 a2", "a", nil, 1},
		{"duplicates inside", "a0 a1 a1 a2", "a", nil, 0},
		{"tail duplicate after completion", "a0 a1 a2 a1 a2 b0 b1", "ab", nil, 0},
		{"partial overtaken", "a0 a1 b0 b1", "", ErrTxnGap, 1},
		{"partial then re-send from earlier", "a0 a1 d0 d1 a0 a1 a2 b0 b1", "dab", nil, 1},
		{"re-send of earlier does not close the hole", "a0 a1 d0 d1 b0 b1", "d", ErrTxnGap, 1},
		{"missing middle", "a0 a2 a0 a1 a2", "a", nil, 1},
		{"missing middle overtaken", "a0 a2 b0 b1", "", ErrTxnGap, 1},
		{"fragment at start, then re-sent", "a1 a2 a0 a1 a2 b0 b1", "ab", nil, 0},
		{"fragment at start overtaken", "a1 a2 b0 b1", "", ErrTxnGap, 0},
		{"old duplicate delivered again", "b0 b1 a0 a1 a2 c0", "bac", nil, 0},
		{"old partial after delivery is stale", "b0 b1 a0 c0", "bc", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssembler(10, 1<<30)
			var got strings.Builder
			var err error
			for i, m := range strings.Fields(tt.msgs) {
				txn := txns[m[0]]
				seq := int(m[1] - '0')
				rec, derr := DecodeRecord(EncodeRecord(nil, txn, seq))
				if derr != nil {
					t.Fatal(derr)
				}
				var out *change.Txn
				if out, err = a.add(&rec, int64(10+i), 100); err != nil {
					break
				}
				if out != nil {
					for k, v := range txns {
						if v.ID == out.ID {
							got.WriteByte(k)
							if diff := cmpDiff(v, out); diff != "" {
								t.Fatalf("%c differs:\n%s", k, diff)
							}
						}
					}
				}
			}
			if got.String() != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("delivered %q, err %v; want %q, err %v", got.String(), err, tt.want, tt.err)
			}
			if a.stats.DroppedTxns != tt.dropped {
				t.Errorf("dropped %d transactions, want %d", a.stats.DroppedTxns, tt.dropped)
			}
		})
	}
}

func TestAssemblerOffsetGap(t *testing.T) {
	a := newAssembler(5, 1<<30)
	txn := makeTxn(1, 1, 2)
	rec, _ := DecodeRecord(EncodeRecord(nil, txn, 0))
	if _, err := a.add(&rec, 5, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := a.add(&rec, 7, 10); !errors.Is(err, ErrOffsetGap) {
		t.Fatalf("err = %v, want ErrOffsetGap", err)
	}
}

func TestAssemblerTooLarge(t *testing.T) {
	a := newAssembler(0, 250)
	txn := makeTxn(1, 1, 3)
	var err error
	for i := range 3 {
		rec, _ := DecodeRecord(EncodeRecord(nil, txn, i))
		if _, err = a.add(&rec, int64(i), 100); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrTxnTooLarge) || !strings.Contains(err.Error(), "after 2 of 3 changes") {
		t.Fatalf("err = %v, want ErrTxnTooLarge after 2 of 3 changes", err)
	}
}

func TestAssemblerHoleOverflow(t *testing.T) {
	a := newAssembler(0, 1<<30)
	off := int64(0)
	for i := range maxHoles + 1 {
		txn := makeTxn(uint64(i+1), change.Position(1000+i), 2)
		rec, _ := DecodeRecord(EncodeRecord(nil, txn, 1)) // a fragment
		if _, err := a.add(&rec, off, 10); err != nil {
			t.Fatal(err)
		}
		off++
	}
	// A re-send of everything from an earlier position cannot close holes
	// that were forgotten: refuse.
	txn := makeTxn(9999, 1, 1)
	rec, _ := DecodeRecord(EncodeRecord(nil, txn, 0))
	if _, err := a.add(&rec, off, 10); !errors.Is(err, ErrTxnGap) {
		t.Fatalf("err = %v, want ErrTxnGap", err)
	}
}
