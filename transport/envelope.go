package transport

import (
	"encoding/binary"
	"time"

	"github.com/bgsync/bgsync/change"
)

// The binary envelope, versions 1 and 2. One message value per row change:
//
//	record = magic:0xBC version:(0x01 | 0x02) op:byte
//	         string(schema) string(table)
//	         uvarint(ncolumns) column*
//	         row(before) row(after)            change.AppendRow: nil and empty differ
//	         varint(commit time, Unix microseconds)
//	         uvarint(position) uvarint(txn id)
//	         uvarint(seq) uvarint(txn size)    0 <= seq < size <= 2^32-1
//	         string(origin)
//	         uvarint(ntruncate) (string(schema) string(table))*
//	         flags:byte                        bit 0 CASCADE, bit 1 RESTART IDENTITY
//	         [varint(change time - commit time, microseconds)]   version 2 only
//	column = string(name) string(type) key:byte (0 or 1)
//	string = uvarint(len) bytes
//
// Version 2 adds the change's own time (change.Change.Time: a MariaDB or
// MySQL row event's statement time) after the flags. EncodeRecord writes
// version 1 when the change has none, so a topic fed by PostgreSQL, and
// every record whose change happened in its commit's second, stays
// readable by builds that know version 1 only.
//
// varint and uvarint are encoding/binary's, minimally encoded. Decoding
// accepts exactly what encoding produces, so a decoded record re-encodes to
// the same bytes. A new field means a new version; decoders keep reading the
// old ones (testdata/ holds a golden file per version).
//
// The message key is string(schema) string(table) followed by the canonical
// encoding (change.AppendValue) of each key column's value, so that equal
// rows have equal keys and partitioning by key would keep per-row order.
const (
	envelopeMagic = 0xBC
	// EnvelopeVersion is the newest version EncodeRecord writes.
	EnvelopeVersion = 2
	// envelopeTimed is the first version with the change's own time.
	envelopeTimed = 2
)

const (
	flagCascade         = 1 << 0
	flagRestartIdentity = 1 << 1
	knownFlags          = flagCascade | flagRestartIdentity
)

// EncodeKey returns the message key of c: its table and the values of its
// key columns (from Before when present, else After) in canonical encoding.
// A TRUNCATE's key is its first table alone.
func EncodeKey(c *change.Change) []byte { return AppendKey(nil, c) }

// AppendKey appends the message key of c (see EncodeKey) to dst.
func AppendKey(dst []byte, c *change.Change) []byte {
	dst = appendString(dst, c.Table.Schema)
	dst = appendString(dst, c.Table.Name)
	img := c.After
	if c.Before != nil {
		img = c.Before
	}
	for i, col := range c.Columns {
		if col.Key && i < len(img) {
			dst = change.AppendValue(dst, img[i])
		}
	}
	return dst
}

// EncodeRecord appends the envelope of t.Changes[i] with t's header to dst.
// The change's own Seq is written; the producer checks it equals i.
func EncodeRecord(dst []byte, t *change.Txn, i int) []byte {
	return appendEnvelope(dst, t.ID, t.Position, t.CommitTime.UnixMicro(), t.Origin,
		uint32(len(t.Changes)), &t.Changes[i])
}

// AppendRecord appends the envelope of r to dst.
func AppendRecord(dst []byte, r *Record) []byte {
	return appendEnvelope(dst, r.TxnID, r.Position, r.CommitTime.UnixMicro(), r.Origin,
		r.TxnSize, &r.Change)
}

func appendEnvelope(dst []byte, id uint64, pos change.Position, commitMicros int64,
	origin string, size uint32, c *change.Change) []byte {
	version := byte(1)
	if !c.Time.IsZero() && change.TimeWithin(c.Time, time.UnixMicro(commitMicros)) {
		version = envelopeTimed // a Time out of bounds is not the change's (change.MaxTimeOffset)
	}
	dst = append(dst, envelopeMagic, version, byte(c.Op))
	dst = appendString(dst, c.Table.Schema)
	dst = appendString(dst, c.Table.Name)
	dst = binary.AppendUvarint(dst, uint64(len(c.Columns)))
	for _, col := range c.Columns {
		dst = appendString(dst, col.Name)
		dst = appendString(dst, col.Type)
		dst = append(dst, boolByte(col.Key))
	}
	dst = change.AppendRow(dst, c.Before)
	dst = change.AppendRow(dst, c.After)
	dst = binary.AppendVarint(dst, commitMicros)
	dst = binary.AppendUvarint(dst, uint64(pos))
	dst = binary.AppendUvarint(dst, id)
	dst = binary.AppendUvarint(dst, uint64(c.Seq))
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = appendString(dst, origin)
	dst = binary.AppendUvarint(dst, uint64(len(c.Truncate)))
	for _, t := range c.Truncate {
		dst = appendString(dst, t.Schema)
		dst = appendString(dst, t.Name)
	}
	var flags byte
	if c.Cascade {
		flags |= flagCascade
	}
	if c.RestartIdentity {
		flags |= flagRestartIdentity
	}
	dst = append(dst, flags)
	if version == envelopeTimed {
		dst = binary.AppendVarint(dst, c.Time.UnixMicro()-commitMicros)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
