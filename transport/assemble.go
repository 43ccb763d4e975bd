package transport

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/bgsync/bgsync/change"
)

// ConsumerStats counts what a Consumer received and dropped.
type ConsumerStats struct {
	Messages uint64 // messages read
	// OtherRuns counts messages of earlier producer runs passed over (see
	// ConsumerConfig.Run); their transactions are re-sent in the current run.
	OtherRuns uint64
	Txns      uint64 // complete transactions returned
	// DroppedTxns counts incomplete transactions dropped because another
	// transaction (or the same one from Seq 0 again) followed them.
	DroppedTxns uint64
	// DroppedMessages counts the messages of dropped transactions and of
	// fragments (messages whose transaction start was never seen).
	DroppedMessages uint64
	// Duplicates counts messages repeated inside a transaction (a produce
	// request retried after it had succeeded), which are ignored.
	Duplicates uint64
}

// maxHoles bounds the dropped transactions an assembler tracks.
const maxHoles = 1024

// hole is a transaction that was seen incomplete, dropped, and not yet
// delivered since.
type hole struct {
	pos    change.Position
	offset int64
}

// assembler rebuilds transactions from the records of consecutive messages.
// It is the consumer's logic without Kafka; see the package documentation
// for the rules.
type assembler struct {
	maxBytes int64
	next     int64 // the offset the next message must have
	// onDrop reports a dropped incomplete transaction or fragment.
	onDrop func(reason string, pos change.Position, id uint64, have, size uint32, offset int64)

	cur      *change.Txn
	curSize  uint32
	curBytes int64
	curFirst int64 // offset of cur's first message

	last     change.Position // highest position delivered
	hasLast  bool
	holes    []hole // sorted by position
	overflow bool   // more than maxHoles holes were seen
	frag     hole   // the last fragment reported, to report each once
	stats    ConsumerStats
}

func newAssembler(start, maxBytes int64) *assembler {
	return &assembler{next: start, maxBytes: maxBytes, frag: hole{offset: -1},
		onDrop: func(string, change.Position, uint64, uint32, uint32, int64) {}}
}

// add takes the record decoded from the message at offset, n bytes long.
// It returns the transaction that record completes, if any.
// skip passes over a message that is not for this consumer (another run's),
// checking that offsets stay contiguous.
func (a *assembler) skip(offset int64) error {
	if offset != a.next {
		return fmt.Errorf("expected offset %d, got %d: %w", a.next, offset, ErrOffsetGap)
	}
	a.next = offset + 1
	a.stats.Messages++
	a.stats.OtherRuns++
	return nil
}

func (a *assembler) add(rec *Record, offset int64, n int) (*change.Txn, error) {
	if offset != a.next {
		return nil, fmt.Errorf("expected offset %d, got %d: %w", a.next, offset, ErrOffsetGap)
	}
	a.next = offset + 1
	a.stats.Messages++
	seq := rec.Change.Seq
	if a.cur != nil {
		have := uint32(len(a.cur.Changes))
		switch {
		case !a.sameTxn(rec):
			a.drop("another transaction followed")
		case seq == have:
			return a.append(rec, n)
		case seq == 0:
			a.drop("re-sent from its first change")
		case seq < have:
			a.stats.Duplicates++
			return nil, nil
		default:
			a.drop(fmt.Sprintf("changes %d to %d missing", have, seq-1))
		}
	}
	if seq != 0 {
		a.stats.DroppedMessages++
		a.markHole(rec.Position, offset)
		if a.frag.pos != rec.Position || a.frag.offset != offset-1 {
			a.onDrop("fragment without its first change", rec.Position, rec.TxnID, seq, rec.TxnSize, offset)
		}
		a.frag = hole{pos: rec.Position, offset: offset}
		return nil, nil
	}
	a.cur = &change.Txn{ID: rec.TxnID, Position: rec.Position, CommitTime: rec.CommitTime,
		Origin: rec.Origin, Changes: make([]change.Change, 0, min(rec.TxnSize, 4096))}
	a.curSize, a.curBytes, a.curFirst = rec.TxnSize, 0, offset
	return a.append(rec, n)
}

func (a *assembler) sameTxn(rec *Record) bool {
	c := a.cur
	return rec.Position == c.Position && rec.TxnID == c.ID && rec.TxnSize == a.curSize &&
		rec.Origin == c.Origin && rec.CommitTime.Equal(c.CommitTime)
}

func (a *assembler) append(rec *Record, n int) (*change.Txn, error) {
	a.curBytes += int64(n)
	if a.curBytes > a.maxBytes {
		return nil, fmt.Errorf("transaction %d at %s from offset %d exceeds %d bytes after %d of %d changes: %w",
			a.cur.ID, a.cur.Position, a.curFirst, a.maxBytes, len(a.cur.Changes), a.curSize, ErrTxnTooLarge)
	}
	a.cur.Changes = append(a.cur.Changes, rec.Change)
	if uint32(len(a.cur.Changes)) < a.curSize {
		return nil, nil
	}
	t := a.cur
	a.cur = nil
	if err := a.closeHoles(t.Position); err != nil {
		return nil, err
	}
	if !a.hasLast || t.Position > a.last {
		a.last, a.hasLast = t.Position, true
	}
	a.stats.Txns++
	return t, nil
}

// drop discards the incomplete current transaction.
func (a *assembler) drop(reason string) {
	c := a.cur
	a.cur = nil
	a.stats.DroppedTxns++
	a.stats.DroppedMessages += uint64(len(c.Changes))
	a.markHole(c.Position, a.curFirst)
	a.onDrop(reason, c.Position, c.ID, uint32(len(c.Changes)), a.curSize, a.curFirst)
}

// markHole records that the transaction at pos was not delivered whole,
// unless one at pos or later was delivered already (then it is a stale
// duplicate).
func (a *assembler) markHole(pos change.Position, offset int64) {
	if a.hasLast && pos <= a.last {
		return
	}
	i, found := slices.BinarySearchFunc(a.holes, pos, func(h hole, p change.Position) int {
		return cmp.Compare(h.pos, p)
	})
	if found {
		return
	}
	if len(a.holes) >= maxHoles {
		a.overflow = true
		return
	}
	a.holes = slices.Insert(a.holes, i, hole{pos: pos, offset: offset})
}

// closeHoles is called before delivering a transaction at pos: it forgets
// the hole pos fills and fails if an earlier hole remains.
func (a *assembler) closeHoles(pos change.Position) error {
	if len(a.holes) > 0 && a.holes[0].pos == pos {
		a.holes = a.holes[1:]
	}
	if len(a.holes) > 0 && a.holes[0].pos < pos {
		h := a.holes[0]
		return fmt.Errorf("transaction at %s would overtake the incomplete transaction at %s (offset %d), which was not re-sent: %w",
			pos, h.pos, h.offset, ErrTxnGap)
	}
	if a.overflow {
		return fmt.Errorf("more than %d incomplete transactions dropped: %w", maxHoles, ErrTxnGap)
	}
	return nil
}
