package mysql

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// readBatch is how many rows one emit gets.
const readBatch = 1000

// Read calls emit with the rows of t whose key k has lower <= k < upper
// (an empty bound is open), in key order, in batches of up to 1000 rows,
// values in Columns order decoded exactly as Capture decodes the same row
// from the binlog. The rows are streamed (text protocol); emit may keep
// nothing: the batch and its rows are reused once it returns. An error from
// emit ends Read with that error. A value capture would refuse (a zero
// date, text that is not UTF-8) ends Read with a *SnapshotError naming the
// table, key and column.
func (v *SnapshotView) Read(ctx context.Context, t change.Table, lower, upper []string, emit func([]change.Row) error) error {
	st, err := v.table(ctx, t)
	if err != nil {
		return err
	}
	where, err := st.rangeWhere(lower, upper)
	if err != nil {
		return err
	}
	q := "SELECT " + st.list + " FROM " + st.from + where + " ORDER BY " + st.keyList
	rows, err := v.conn.QueryContext(ctx, q)
	if err != nil {
		return &SourceError{Op: "read " + t.String(), Err: err}
	}
	defer rows.Close()
	n := len(st.cols)
	raw := make([]sql.RawBytes, n)
	ptrs := make([]any, n)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	batch := make([]change.Row, 0, readBatch)
	store := make([]change.Value, readBatch*n)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return &SourceError{Op: "read " + t.String(), Err: err}
		}
		i := len(batch) * n
		r := change.Row(store[i : i+n : i+n])
		for j := range st.cols {
			val, err := st.cols[j].decode(raw[j])
			if err != nil {
				return &SnapshotError{Table: t, Column: st.cols[j].name, Key: st.keyText(raw), Err: err}
			}
			r[j] = val
		}
		batch = append(batch, r)
		if len(batch) == readBatch {
			if err := emit(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return &SourceError{Op: "read " + t.String(), Err: err}
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}

// decode turns one column's text (nil: NULL) into the value capture gives
// the same column from the binlog. It never keeps b.
func (c *snapColumn) decode(b []byte) (change.Value, error) {
	if b == nil {
		return change.Null(), nil
	}
	switch c.read {
	case readInt:
		if c.unsigned {
			n, err := strconv.ParseUint(string(b), 10, 64)
			if err != nil {
				return change.Value{}, fmt.Errorf("integer %q: %w", b, err)
			}
			return intValue(n) // BIGINT UNSIGNED above MaxInt64: Uint, as capture
		}
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return change.Value{}, fmt.Errorf("integer %q: %w", b, err)
		}
		return change.Int(n), nil
	case readFloat:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return change.Value{}, fmt.Errorf("float %q: %w", b, err)
		}
		return change.Float(f), nil
	case readTimestamp: // printed in the session's zone, UTC
		us, err := parseDatetime(string(b))
		if err != nil {
			return change.Value{}, err
		}
		return change.TimestampTZ(us - change.Epoch2000Unix), nil
	case readBit:
		if len(b) > 8 {
			return change.Value{}, fmt.Errorf("bit value of %d bytes", len(b))
		}
		var n uint64
		for _, x := range b {
			n = n<<8 | uint64(x)
		}
		return c.value(int64(n))
	case readEnum: // the invalid value's '' too, as capture's index 0
		return change.Enum(string(b)), nil
	case readSet:
		return change.Text(string(b)), nil
	case readBytes:
		return change.Bytes(b), nil
	case readBinary16:
		return c.value(string(b)) // as capture's BINARY(16)
	}
	return c.value(string(b))
}

// keyText prints a row's key for an error message: (id=5, name="x").
func (st *snapTable) keyText(raw []sql.RawBytes) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, k := range st.key {
		if i > 0 {
			b.WriteString(", ")
		}
		c := &st.cols[k]
		b.WriteString(c.name)
		b.WriteByte('=')
		switch {
		case raw[k] == nil:
			b.WriteString("NULL")
		case c.lit == litNumber || c.lit == litTemporal || c.lit == litUUID || c.lit == litInet6:
			b.Write(raw[k])
		case c.binary || c.lit == litNone:
			b.WriteString("0x" + hex.EncodeToString(raw[k]))
		default:
			b.WriteString(strconv.Quote(string(raw[k])))
		}
	}
	b.WriteByte(')')
	return b.String()
}
