package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pglogrepl"
)

// valueDecoder turns one text-format column value into a canonical value.
type valueDecoder func(oid uint32, text []byte) (change.Value, error)

// pending is a transaction being received: between Begin and Commit, or
// across the segments of a streamed transaction.
type pending struct {
	xid    uint32
	origin string
	skip   bool // written by one of our origins: dropped
	// changes and their (sub)transaction ids; xids is kept only for streamed
	// transactions, where a subtransaction abort removes its changes.
	changes []change.Change
	xids    []uint32
}

// decoder is the pgoutput state machine. It is used by one goroutine.
type decoder struct {
	rels       map[uint32]*relation
	types      map[uint32]string
	dec        valueDecoder
	skipPrefix string

	cur       *pending            // Begin..Commit
	streams   map[uint32]*pending // streamed transactions by top-level xid
	inStream  bool
	streamXid uint32

	// lastEmitted is the position of the last transaction handed on.
	lastEmitted change.Position
	stats       captureStats
}

type captureStats struct {
	txns, rows, echoTxns, echoRows, aborted, empty uint64
	lastCommit                                     time.Time
	captureLag                                     time.Duration
}

func newDecoder(dec valueDecoder, skipPrefix string) *decoder {
	return &decoder{
		rels:       map[uint32]*relation{},
		types:      map[uint32]string{},
		dec:        dec,
		skipPrefix: skipPrefix,
		streams:    map[uint32]*pending{},
	}
}

// inTxn reports whether a transaction has been begun and not finished, so
// that positions seen now must not be confirmed.
func (d *decoder) inTxn() bool { return d.cur != nil || len(d.streams) > 0 }

// parse wraps pglogrepl.ParseV2, which indexes its input without length
// checks: a malformed message becomes an error, never a panic.
func parse(data []byte, inStream bool) (m pglogrepl.Message, err error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty pgoutput message")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed pgoutput message %q (%d bytes): %v", data[0], len(data), r)
		}
	}()
	return pglogrepl.ParseV2(data, inStream)
}

// handle processes one pgoutput message and returns a transaction when one
// commits.
func (d *decoder) handle(data []byte) (*change.Txn, error) {
	msg, err := parse(data, d.inStream)
	if err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessageV2:
		d.rels[m.RelationID] = newRelation(&m.RelationMessage, d.types)
	case *pglogrepl.TypeMessageV2:
		d.types[m.DataType] = m.Namespace + "." + m.Name
	case *pglogrepl.BeginMessage:
		if d.cur != nil {
			return nil, fmt.Errorf("begin of xid %d inside xid %d", m.Xid, d.cur.xid)
		}
		d.cur = &pending{xid: m.Xid}
	case *pglogrepl.OriginMessage:
		p := d.current()
		if p == nil {
			return nil, fmt.Errorf("origin %q outside a transaction", m.Name)
		}
		p.origin = m.Name
		p.skip = d.skipPrefix != "" && strings.HasPrefix(m.Name, d.skipPrefix)
	case *pglogrepl.CommitMessage:
		p := d.cur
		d.cur = nil
		if p == nil {
			return nil, fmt.Errorf("commit at %s without begin", m.CommitLSN)
		}
		return d.finish(p, m.TransactionEndLSN, m.CommitTime), nil
	case *pglogrepl.StreamStartMessageV2:
		d.inStream, d.streamXid = true, m.Xid
		if d.streams[m.Xid] == nil {
			d.streams[m.Xid] = &pending{xid: m.Xid}
		}
	case *pglogrepl.StreamStopMessageV2:
		d.inStream = false
	case *pglogrepl.StreamCommitMessageV2:
		p := d.streams[m.Xid]
		delete(d.streams, m.Xid)
		if p == nil {
			return nil, fmt.Errorf("stream commit of unknown xid %d", m.Xid)
		}
		return d.finish(p, m.TransactionEndLSN, m.CommitTime), nil
	case *pglogrepl.StreamAbortMessageV2:
		d.abort(m.Xid, m.SubXid)
	case *pglogrepl.InsertMessageV2:
		return nil, d.add(m.Xid, m.RelationID, func(r *relation) (change.Change, error) {
			after, err := r.decodeTuple(m.Tuple, d.dec, false)
			return change.Change{Op: change.OpInsert, After: after}, err
		})
	case *pglogrepl.UpdateMessageV2:
		return nil, d.add(m.Xid, m.RelationID, func(r *relation) (change.Change, error) {
			before, err := r.decodeTuple(m.OldTuple, d.dec, m.OldTupleType == 'K')
			if err != nil {
				return change.Change{}, err
			}
			after, err := r.decodeTuple(m.NewTuple, d.dec, false)
			return change.Change{Op: change.OpUpdate, Before: before, After: after}, err
		})
	case *pglogrepl.DeleteMessageV2:
		return nil, d.add(m.Xid, m.RelationID, func(r *relation) (change.Change, error) {
			before, err := r.decodeTuple(m.OldTuple, d.dec, m.OldTupleType == 'K')
			return change.Change{Op: change.OpDelete, Before: before}, err
		})
	case *pglogrepl.TruncateMessageV2:
		return nil, d.truncate(m)
	}
	// Logical decoding messages and anything newer are not ours: ignore.
	return nil, nil
}

// current is the transaction that data messages belong to now.
func (d *decoder) current() *pending {
	if d.inStream {
		return d.streams[d.streamXid]
	}
	return d.cur
}

func (d *decoder) add(xid, relID uint32, build func(*relation) (change.Change, error)) error {
	p := d.current()
	if p == nil {
		return fmt.Errorf("row change for relation %d outside a transaction", relID)
	}
	if p.skip {
		d.stats.echoRows++
		return nil
	}
	r, ok := d.rels[relID]
	if !ok {
		return fmt.Errorf("row change for unknown relation %d (no Relation message)", relID)
	}
	c, err := build(r)
	if err != nil {
		return fmt.Errorf("xid %d: %w", p.xid, err)
	}
	c.Table, c.Columns, c.Seq = r.table, r.columns, uint32(len(p.changes))
	p.changes = append(p.changes, c)
	if d.inStream {
		p.xids = append(p.xids, xid)
	}
	return nil
}

func (d *decoder) truncate(m *pglogrepl.TruncateMessageV2) error {
	p := d.current()
	if p == nil {
		return fmt.Errorf("truncate outside a transaction")
	}
	if p.skip {
		return nil
	}
	c := change.Change{
		Op:              change.OpTruncate,
		Cascade:         m.Option&pglogrepl.TruncateOptionCascade != 0,
		RestartIdentity: m.Option&pglogrepl.TruncateOptionRestartIdentity != 0,
		Seq:             uint32(len(p.changes)),
	}
	for _, id := range m.RelationIDs {
		r, ok := d.rels[id]
		if !ok {
			return fmt.Errorf("truncate of unknown relation %d", id)
		}
		c.Truncate = append(c.Truncate, r.table)
	}
	if len(c.Truncate) > 0 {
		c.Table = c.Truncate[0]
	}
	p.changes = append(p.changes, c)
	if d.inStream {
		p.xids = append(p.xids, m.Xid)
	}
	return nil
}

// abort drops a streamed transaction, or the part of it from the aborted
// subtransaction's first change on (later changes belong to it or to its
// children, as savepoints nest).
func (d *decoder) abort(xid, subxid uint32) {
	p := d.streams[xid]
	if p == nil {
		return
	}
	if xid == subxid {
		delete(d.streams, xid)
		d.stats.aborted++
		return
	}
	for i, x := range p.xids {
		if x == subxid {
			p.changes, p.xids = p.changes[:i], p.xids[:i]
			return
		}
	}
}

// finish turns a committed pending transaction into a Txn, or nil when it
// is dropped (our own echo, or already handed on before a reconnect).
func (d *decoder) finish(p *pending, end pglogrepl.LSN, commitTime time.Time) *change.Txn {
	pos := change.Position(end)
	d.stats.lastCommit = commitTime
	if p.skip {
		d.stats.echoTxns++
		return nil
	}
	if pos <= d.lastEmitted {
		return nil
	}
	if len(p.changes) == 0 {
		// Nothing to apply (a streamed transaction on unpublished tables, or
		// one whose every change was rolled back to a savepoint). Handing it
		// on would make the pipeline wait for a position that never reaches
		// Kafka; its WAL is confirmed with the next keepalive or transaction.
		d.stats.empty++
		return nil
	}
	d.lastEmitted = pos
	d.stats.captureLag = time.Since(commitTime)
	d.stats.txns++
	d.stats.rows += uint64(len(p.changes))
	return &change.Txn{
		ID:         uint64(p.xid),
		Position:   pos,
		CommitTime: commitTime,
		Origin:     p.origin,
		Changes:    p.changes,
	}
}
