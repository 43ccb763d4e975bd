package verify

import (
	"fmt"
	"strings"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5/pgtype"
)

// Comparison by canonical value, for sides of different engines (and
// MariaDB/MySQL sides whose column types differ). Each side's printed
// row is decoded column by column into change.Values — PostgreSQL's
// text by pgtext (the column's type OID), MariaDB/MySQL's by
// apply/mysql.Decode — and each value is rendered as transform.Canonical
// prints it. The rules, per column pair (doc.go lists them for users):
//
//   - A MariaDB/MySQL value is decoded as the Kind the PostgreSQL
//     column's type gives (its "like"): TINYINT(1) 0/1 as a boolean,
//     DATETIME as a timestamptz's UTC instant (or a timestamp's wall
//     time), a JSON or text column holding JSON as JSON, INT UNSIGNED as
//     a bigint, BLOB as bytea, DECIMAL as numeric. Two MariaDB/MySQL
//     sides read both values as blue's column type gives.
//   - NULL is \N, a text no value renders as; an empty text is empty.
//   - Decimals by value (Canonical drops zeros the scale adds: 12.50 and
//     12.5 are one value; the sides print at their declared scales).
//   - Date/time values to the microsecond; timestamps with time zone in
//     UTC (the MariaDB session runs with time_zone '+00:00').
//   - JSON by value: keys sorted, one layout, numbers as written.
//   - Text by bytes, UTF-8 (the MariaDB session reads utf8mb4); the one
//     normalisation: fixed-length CHAR(n)/character(n) columns lose
//     trailing spaces on both sides (MariaDB strips them, PostgreSQL pads).
//   - Bytes by bytes (hex), NUL bytes included.
//   - A value that does not decode (a MariaDB zero date is read as text
//     and differs) makes the row different, with the error naming the
//     side and column.

// lineConv turns a side's printed line into the line that is hashed.
type lineConv interface {
	line(in []byte) []byte
}

// canonical is how one table's two sides are read by value.
type canonical struct {
	sides [2]canonSide
	// keyKinds are the Kinds the key columns are read as, by key
	// position: a key text is turned back into a MariaDB/MySQL literal
	// by them (rawOfCanonical).
	keyKinds []change.Kind
}

// canonSide is one side's columns in line order.
type canonSide struct {
	name string
	pg   []transform.Column   // a PostgreSQL side
	my   []applymy.ColumnType // a MariaDB/MySQL side
	like []change.Value       // MariaDB/MySQL: the Kind each column is read as
	trim []bool               // CHAR(n) on either side: trailing spaces dropped
}

func (c *canonical) keyKind(i int) change.Kind {
	if i < len(c.keyKinds) {
		return c.keyKinds[i]
	}
	return change.KindAbsent
}

// newCanonical binds the rules to a table's columns: cols (key first)
// on both sides; pg[i] are side i's PostgreSQL columns (nil for a
// MariaDB/MySQL side, whose types are in sh[i].my).
func newCanonical(sh [2]*shape, pg [2][]transform.Column, cols []string, nkey int) (*canonical, error) {
	c := &canonical{}
	for i := range c.sides {
		cs := &c.sides[i]
		cs.name = sideName[i]
		for _, n := range cols {
			if pg[i] == nil {
				cs.my = append(cs.my, sh[i].my.cols[n])
				continue
			}
			j := -1
			for k, pc := range pg[i] {
				if pc.Name == n {
					j = k
				}
			}
			if j < 0 {
				return nil, fmt.Errorf("%s: column %s is generated: verify compares stored columns", sideName[i], n)
			}
			cs.pg = append(cs.pg, pg[i][j])
		}
	}
	likes := make([]change.Value, len(cols))
	for j := range cols {
		switch {
		case pg[0] != nil:
			likes[j] = pgLike(c.sides[0].pg[j].OID)
		case pg[1] != nil:
			likes[j] = pgLike(c.sides[1].pg[j].OID)
		default:
			likes[j] = myLike(c.sides[0].my[j])
		}
		if j < nkey {
			c.keyKinds = append(c.keyKinds, likes[j].Kind)
		}
	}
	for i := range c.sides {
		cs := &c.sides[i]
		cs.trim = make([]bool, len(cols))
		if cs.my != nil {
			cs.like = likes
		}
		for j := range cols {
			for _, s := range c.sides {
				if s.pg != nil && s.pg[j].OID == pgtype.BPCharOID || s.my != nil && s.my[j].DataType == "char" {
					cs.trim[j] = true
				}
			}
		}
	}
	return c, nil
}

// pgLike is a value of the Kind a PostgreSQL type's values decode to.
func pgLike(oid uint32) change.Value {
	k := change.KindEnum // user types: their text, as pgtext decodes them
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		k = change.KindInt
	case pgtype.NumericOID:
		k = change.KindNumeric
	case pgtype.BoolOID:
		k = change.KindBool
	case pgtype.Float4OID, pgtype.Float8OID:
		k = change.KindFloat
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.QCharOID:
		k = change.KindText
	case pgtype.ByteaOID:
		k = change.KindBytes
	case pgtype.UUIDOID:
		k = change.KindUUID
	case pgtype.JSONOID, pgtype.JSONBOID:
		k = change.KindJSON
	case pgtype.DateOID:
		k = change.KindDate
	case pgtype.TimeOID:
		k = change.KindTime
	case pgtype.TimetzOID:
		k = change.KindTimeTZ
	case pgtype.TimestampOID:
		k = change.KindTimestamp
	case pgtype.TimestamptzOID:
		k = change.KindTimestampTZ
	case pgtype.IntervalOID:
		k = change.KindInterval
	}
	return change.Value{Kind: k}
}

// myLike is a value of the Kind a MariaDB/MySQL column's values are read
// as on their own (two MariaDB/MySQL sides of different types read both
// as blue's column gives).
func myLike(c applymy.ColumnType) change.Value { return change.Value{Kind: c.Kind()} }

// decode reads column j's printed text (nil: NULL).
func (cs *canonSide) decode(j int, f []byte) (change.Value, error) {
	if f == nil {
		return change.Null(), nil
	}
	if cs.pg != nil {
		v, err := pgtext.Decode(cs.pg[j].OID, f)
		if err != nil {
			return v, fmt.Errorf("column %s (%s): %w", cs.pg[j].Name, cs.pg[j].Type, err)
		}
		return v, nil
	}
	return applymy.Decode(cs.my[j], f, cs.like[j])
}

func (cs *canonSide) ncols() int { return max(len(cs.pg), len(cs.my)) }

// appendCanonical appends v's canonical field: \N for NULL, else
// transform.Canonical COPY-escaped; trim drops a text's trailing spaces.
func appendCanonical(dst []byte, v change.Value, trim bool) []byte {
	if v.Kind == change.KindNull {
		return append(dst, '\\', 'N')
	}
	if trim && v.Kind == change.KindText {
		v = change.Text(strings.TrimRight(v.S, " "))
	}
	return pgtext.AppendCopyText(dst, transform.Canonical(v))
}

// canonConv is one rowSet's converter; it reuses its buffers.
type canonConv struct {
	cs     *canonSide
	nkey   int
	fields [][]byte
	buf    []byte
}

func (c *canonical) converter(i, nkey int) lineConv {
	return &canonConv{cs: &c.sides[i], nkey: nkey}
}

// line returns the canonical line of a printed line, valid until the
// next call. A row with a value that does not decode gets a line of its
// key and the error (naming side and column), which matches no row of
// the other side.
func (c *canonConv) line(in []byte) []byte {
	c.fields = splitFields(c.fields[:0], in)
	c.buf = c.buf[:0]
	if len(c.fields) != c.cs.ncols() {
		return c.fail(0, fmt.Errorf("%s: row has %d fields for %d columns", c.cs.name, len(c.fields), c.cs.ncols()))
	}
	for j, f := range c.fields {
		v, err := c.cs.decode(j, f)
		if err != nil {
			return c.fail(j, fmt.Errorf("%s: %w", c.cs.name, err))
		}
		if j > 0 {
			c.buf = append(c.buf, '\t')
		}
		c.buf = appendCanonical(c.buf, v, c.cs.trim[j])
	}
	return c.buf
}

// fail renders the key (canonical where it decoded, as printed from the
// first field that did not) and the error.
func (c *canonConv) fail(bad int, err error) []byte {
	c.buf = c.buf[:0]
	for j := 0; j < c.nkey && j < len(c.fields); j++ {
		if j > 0 {
			c.buf = append(c.buf, '\t')
		}
		v, derr := c.cs.decode(j, c.fields[j])
		if j >= bad || derr != nil || len(c.fields) != c.cs.ncols() {
			c.buf = pgtext.AppendCopyText(c.buf, c.fields[j])
			continue
		}
		c.buf = appendCanonical(c.buf, v, c.cs.trim[j])
	}
	c.buf = append(c.buf, '\t')
	c.buf = append(c.buf, errMark...)
	return pgtext.AppendCopyText(c.buf, err.Error())
}

// splitFields cuts a COPY text line into its fields, unescaped; \N is
// nil, an empty field an empty non-nil slice.
func splitFields(dst [][]byte, in []byte) [][]byte {
	for {
		i := -1
		for k, b := range in {
			if b == '\t' {
				i = k
				break
			}
		}
		f := in
		if i >= 0 {
			f = in[:i]
		}
		switch {
		case len(f) == 2 && f[0] == '\\' && f[1] == 'N':
			f = nil
		case hasBackslash(f):
			f = []byte(unescapeCopy(string(f)))
		case f == nil:
			f = []byte{}
		}
		dst = append(dst, f)
		if i < 0 {
			return dst
		}
		in = in[i+1:]
	}
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// rawOfCanonical turns a key field's canonical text back into the text
// the MariaDB/MySQL column prints, for a literal: booleans as 1/0, bytes
// from their hex, timestamps without the UTC offset, a UUID into 16
// bytes for a binary column.
func rawOfCanonical(col applymy.ColumnType, k change.Kind, s string) string {
	switch k {
	case change.KindBool:
		switch s {
		case "t":
			return "1"
		case "f":
			return "0"
		}
	case change.KindBytes:
		if v, err := pgtext.Decode(pgtype.ByteaOID, []byte(s)); err == nil {
			return v.S
		}
	case change.KindTimestampTZ:
		return strings.TrimSuffix(s, "+00")
	case change.KindUUID:
		if v, err := pgtext.Decode(pgtype.UUIDOID, []byte(s)); err == nil && strings.Contains(col.DataType, "binary") {
			return v.S
		}
	}
	return s
}
