package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bgsync/bgsync/change"
)

// ErrMalformed is wrapped by every error DecodeRecord returns for input that
// is not an envelope this build can read.
var ErrMalformed = errors.New("malformed envelope")

// VersionError reports an envelope version this build cannot read.
type VersionError struct{ Version byte }

func (e *VersionError) Error() string {
	return fmt.Sprintf("envelope version %d not supported (this build reads versions 1 to %d)", e.Version, EnvelopeVersion)
}

func (e *VersionError) Unwrap() error { return ErrMalformed }

// DecodeRecord decodes one binary envelope. It never panics, allocates at
// most a small multiple of len(b), and accepts exactly the encodings
// EncodeRecord produces (the whole of b, no trailing bytes).
func DecodeRecord(b []byte) (Record, error) {
	var d RecordDecoder
	return d.Decode(b)
}

// RecordDecoder decodes binary envelopes like DecodeRecord, and shares one
// Columns slice between the records of a table whose column list did not
// change, which saves most of the decoding allocations: treat Columns as
// read-only (copy before changing it). The zero value is ready to use; it
// is not safe for concurrent use.
type RecordDecoder struct {
	tables map[string]*tableEntry
	last   *tableEntry // the entry of the previous record
	origin string
}

// tableEntry is a decoded table section. cols is handed out and shared;
// orig is a private copy to detect a caller that modified cols.
type tableEntry struct {
	section []byte
	table   change.Table
	cols    []change.Column
	orig    []change.Column
}

// intact reports whether the shared cols still equal what was decoded.
func (e *tableEntry) intact() bool {
	for i := range e.cols {
		if e.cols[i] != e.orig[i] {
			return false
		}
	}
	return true
}

// maxCachedTables bounds the decoder's table cache; it is reset when full.
const maxCachedTables = 256

// Decode decodes one envelope (see DecodeRecord).
func (d *RecordDecoder) Decode(b []byte) (Record, error) {
	var rec Record
	if len(b) < 3 {
		return rec, fmt.Errorf("envelope of %d bytes is too short: %w", len(b), ErrMalformed)
	}
	if b[0] != envelopeMagic {
		return rec, fmt.Errorf("not a bgsync envelope (first byte %#x, want %#x): %w", b[0], envelopeMagic, ErrMalformed)
	}
	version := b[1]
	if version < 1 || version > EnvelopeVersion {
		return rec, &VersionError{Version: version}
	}
	c := &rec.Change
	c.Op = change.Op(b[2])
	if c.Op < change.OpInsert || c.Op > change.OpTruncate {
		return rec, fmt.Errorf("op %d unknown: %w", b[2], ErrMalformed)
	}
	off, err := d.decodeTable(b, 3, c)
	if err != nil {
		return rec, err
	}
	if c.Before, off, err = decodeImage(b, off, "before", len(c.Columns)); err != nil {
		return rec, err
	}
	if c.After, off, err = decodeImage(b, off, "after", len(c.Columns)); err != nil {
		return rec, err
	}
	if off, err = d.decodeHeader(b, off, &rec); err != nil {
		return rec, err
	}
	if off, err = decodeTruncate(b, off, c); err != nil {
		return rec, err
	}
	if version >= envelopeTimed {
		delta, n, err := readVarint(b, off)
		if err != nil {
			return rec, fmt.Errorf("change time: %w", err)
		}
		commit := rec.CommitTime.UnixMicro()
		at := commit + delta
		limit := change.MaxTimeOffset.Microseconds()
		if delta < -limit || delta > limit || (delta > 0) != (at > commit) || time.UnixMicro(at).IsZero() {
			return rec, fmt.Errorf("change time %d µs from the commit time: %w", delta, ErrMalformed)
		}
		c.Time, off = time.UnixMicro(at).UTC(), n
	}
	if off != len(b) {
		return rec, fmt.Errorf("%d trailing bytes after the envelope: %w", len(b)-off, ErrMalformed)
	}
	return rec, nil
}

// decodeTable decodes the table identity and the column list starting at
// off, reusing a cached copy when the same bytes were seen before. The
// section is prefix-free, so matching the previous record's section bytes
// is enough to reuse it without scanning.
func (d *RecordDecoder) decodeTable(b []byte, off int, c *change.Change) (int, error) {
	if e := d.last; e != nil && bytes.HasPrefix(b[off:], e.section) && e.intact() {
		c.Table, c.Columns = e.table, e.cols
		return off + len(e.section), nil
	}
	end, ncols, err := scanTable(b, off)
	if err != nil {
		return 0, err
	}
	section := b[off:end]
	e, ok := d.tables[string(section)]
	if !ok || !e.intact() {
		e = newTableEntry(section, ncols)
		if d.tables == nil || len(d.tables) >= maxCachedTables {
			d.tables = make(map[string]*tableEntry)
		}
		d.tables[string(e.section)] = e
	}
	d.last = e
	c.Table, c.Columns = e.table, e.cols
	return end, nil
}

// newTableEntry decodes a table section that scanTable validated.
func newTableEntry(section []byte, ncols int) *tableEntry {
	e := &tableEntry{section: bytes.Clone(section)}
	p := 0
	e.table.Schema, p, _ = readString(section, p)
	e.table.Name, p, _ = readString(section, p)
	_, p, _ = readUvarint(section, p)
	if ncols > 0 {
		e.cols = make([]change.Column, ncols)
	}
	for i := range e.cols {
		e.cols[i].Name, p, _ = readString(section, p)
		e.cols[i].Type, p, _ = readString(section, p)
		e.cols[i].Key = section[p] == 1
		p++
	}
	e.orig = slices.Clone(e.cols)
	return e
}

// scanTable validates the table section starting at off and returns where
// it ends and how many columns it holds, without allocating.
func scanTable(b []byte, off int) (end, ncols int, err error) {
	if off, err = skipString(b, off, "table schema"); err != nil {
		return 0, 0, err
	}
	if off, err = skipString(b, off, "table name"); err != nil {
		return 0, 0, err
	}
	n, off, err := readUvarint(b, off)
	if err != nil {
		return 0, 0, fmt.Errorf("column count: %w", err)
	}
	// Every column takes at least three bytes.
	if n > uint64(len(b)-off)/3 {
		return 0, 0, fmt.Errorf("%d columns but %d bytes left: %w", n, len(b)-off, ErrMalformed)
	}
	for i := range int(n) {
		if off, err = skipString(b, off, "column name"); err != nil {
			return 0, 0, fmt.Errorf("column %d: %w", i, err)
		}
		if off, err = skipString(b, off, "column type"); err != nil {
			return 0, 0, fmt.Errorf("column %d: %w", i, err)
		}
		if off >= len(b) {
			return 0, 0, fmt.Errorf("column %d: key flag: unexpected end of input: %w", i, ErrMalformed)
		}
		if b[off] > 1 {
			return 0, 0, fmt.Errorf("column %d: key flag %#x: %w", i, b[off], ErrMalformed)
		}
		off++
	}
	return off, int(n), nil
}

func decodeImage(b []byte, off int, what string, ncols int) (change.Row, int, error) {
	r, n, err := change.DecodeRow(b[off:])
	if err != nil {
		return nil, 0, fmt.Errorf("%s image: %w: %w", what, err, ErrMalformed)
	}
	if r != nil && len(r) != ncols {
		return nil, 0, fmt.Errorf("%s image has %d values for %d columns: %w", what, len(r), ncols, ErrMalformed)
	}
	return r, off + n, nil
}

// decodeHeader decodes the transaction header fields: commit time,
// position, txn id, seq, size and origin.
func (d *RecordDecoder) decodeHeader(b []byte, off int, rec *Record) (int, error) {
	micros, off, err := readVarint(b, off)
	if err != nil {
		return 0, fmt.Errorf("commit time: %w", err)
	}
	rec.CommitTime = time.UnixMicro(micros).UTC()
	pos, off, err := readUvarint(b, off)
	if err != nil {
		return 0, fmt.Errorf("position: %w", err)
	}
	rec.Position = change.Position(pos)
	if rec.TxnID, off, err = readUvarint(b, off); err != nil {
		return 0, fmt.Errorf("transaction id: %w", err)
	}
	seq, off, err := readUvarint(b, off)
	if err != nil {
		return 0, fmt.Errorf("seq: %w", err)
	}
	size, off, err := readUvarint(b, off)
	if err != nil {
		return 0, fmt.Errorf("transaction size: %w", err)
	}
	if size == 0 || size > math.MaxUint32 || seq >= size {
		return 0, fmt.Errorf("seq %d of a transaction of %d changes: %w", seq, size, ErrMalformed)
	}
	rec.Change.Seq, rec.TxnSize = uint32(seq), uint32(size)
	start, end, err := stringBounds(b, off, "origin")
	if err != nil {
		return 0, err
	}
	if string(b[start:end]) != d.origin {
		d.origin = string(b[start:end])
	}
	rec.Origin = d.origin
	return end, nil
}

func decodeTruncate(b []byte, off int, c *change.Change) (int, error) {
	n, off, err := readUvarint(b, off)
	if err != nil {
		return 0, fmt.Errorf("truncate table count: %w", err)
	}
	// Every table takes at least two bytes.
	if n > uint64(len(b)-off)/2 {
		return 0, fmt.Errorf("%d truncated tables but %d bytes left: %w", n, len(b)-off, ErrMalformed)
	}
	if n > 0 {
		c.Truncate = make([]change.Table, n)
	}
	for i := range c.Truncate {
		t := &c.Truncate[i]
		if t.Schema, off, err = readString(b, off); err != nil {
			return 0, fmt.Errorf("truncated table %d schema: %w", i, err)
		}
		if t.Name, off, err = readString(b, off); err != nil {
			return 0, fmt.Errorf("truncated table %d name: %w", i, err)
		}
	}
	if off >= len(b) {
		return 0, fmt.Errorf("flags: unexpected end of input: %w", ErrMalformed)
	}
	flags := b[off]
	if flags&^knownFlags != 0 {
		return 0, fmt.Errorf("flags %#x unknown: %w", flags, ErrMalformed)
	}
	c.Cascade = flags&flagCascade != 0
	c.RestartIdentity = flags&flagRestartIdentity != 0
	return off + 1, nil
}

// readUvarint reads a minimally encoded uvarint at b[off:].
func readUvarint(b []byte, off int) (uint64, int, error) {
	if off > len(b) {
		return 0, 0, fmt.Errorf("varint: unexpected end of input: %w", ErrMalformed)
	}
	u, n := binary.Uvarint(b[off:])
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("varint: unexpected end of input: %w", ErrMalformed)
	case n < 0:
		return 0, 0, fmt.Errorf("varint: overflows 64 bits: %w", ErrMalformed)
	case n > 1 && b[off+n-1] == 0:
		return 0, 0, fmt.Errorf("varint: not minimally encoded: %w", ErrMalformed)
	}
	return u, off + n, nil
}

// readVarint reads a minimally encoded zig-zag varint at b[off:].
func readVarint(b []byte, off int) (int64, int, error) {
	u, off, err := readUvarint(b, off)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, off, err
}

// stringBounds returns where the length-prefixed string at b[off:] lies.
func stringBounds(b []byte, off int, what string) (start, end int, err error) {
	l, start, err := readUvarint(b, off)
	if err != nil {
		return 0, 0, fmt.Errorf("%s length: %w", what, err)
	}
	if l > uint64(len(b)-start) {
		return 0, 0, fmt.Errorf("%s length %d exceeds the %d bytes left: %w", what, l, len(b)-start, ErrMalformed)
	}
	return start, start + int(l), nil
}

func skipString(b []byte, off int, what string) (int, error) {
	_, end, err := stringBounds(b, off, what)
	return end, err
}

func readString(b []byte, off int) (string, int, error) {
	start, end, err := stringBounds(b, off, "string")
	if err != nil {
		return "", 0, err
	}
	return string(b[start:end]), end, nil
}
