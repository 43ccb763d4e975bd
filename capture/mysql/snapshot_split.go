package mysql

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// Split returns the primary-key values that cut t into ranges of about
// rows rows each under the view's snapshot, in key order: ranges [nil,
// c0), [c0, c1), ..., [cN, nil). An empty table, or one of at most rows
// rows, has no cut (one range). Each cut is found with
//
//	SELECT key FROM t WHERE key >= previous ORDER BY key LIMIT 1 OFFSET rows
//
// so each range holds exactly rows rows when cut (the last one fewer).
//
// A cut holds one string per primary-key column, in key order: the
// lowercase hex of the bytes the server printed for the column (its text
// in the column's own character set). It is written back as an exact
// literal of the column's type: integers, YEAR and DECIMAL as the number
// itself; DATE, TIME, DATETIME and TIMESTAMP as the quoted text (TIMESTAMP
// in UTC, the session's zone); CHAR, VARCHAR and TEXT as _charset X'..'
// COLLATE the column's collation, so comparisons follow the index;
// BINARY, VARBINARY and BLOB as X'..'; UUID and INET6 as their quoted
// text, which the server compares in the column's own order. So every cut
// compares exactly like the row it came from, and any view of the same
// source reads it back.
//
// A key with a FLOAT, DOUBLE, BIT, ENUM, SET or GEOMETRY column has no such
// literal (their text is not exact, or compares differently from the
// index order): Split gives such a table no cut, one range.
//
// Composite keys are compared in the expanded form (a > x OR (a = x AND
// b >= y)), with a leading a >= x: MariaDB's range optimizer uses the
// index for it, not for a row constructor comparison.
func (v *SnapshotView) Split(ctx context.Context, t change.Table, rows int) ([][]string, error) {
	st, err := v.table(ctx, t)
	if err != nil {
		return nil, err
	}
	if !st.cuttable() {
		return nil, nil
	}
	rows = max(rows, 1)
	raw := make([]sql.RawBytes, len(st.key))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var cuts [][]string
	var last []string
	for {
		where, err := st.rangeWhere(last, nil)
		if err != nil {
			return nil, err
		}
		q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT 1 OFFSET %d", st.keyList, st.from, where, st.keyList, rows)
		cut, err := v.cut(ctx, q, raw, ptrs)
		if err != nil {
			return nil, &SourceError{Op: "cut " + t.String() + " into ranges", Err: err}
		}
		if cut == nil {
			return cuts, nil
		}
		cuts = append(cuts, cut)
		last = cut
	}
}

// cut runs one cut query; nil when it found no row.
func (v *SnapshotView) cut(ctx context.Context, q string, raw []sql.RawBytes, ptrs []any) ([]string, error) {
	r, err := v.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if !r.Next() {
		return nil, r.Err()
	}
	if err := r.Scan(ptrs...); err != nil {
		return nil, err
	}
	cut := make([]string, len(raw))
	for i, b := range raw {
		cut[i] = hex.EncodeToString(b)
	}
	return cut, r.Close()
}

// cuttable reports whether every key column has an exact literal.
func (st *snapTable) cuttable() bool {
	for _, k := range st.key {
		if st.cols[k].lit == litNone {
			return false
		}
	}
	return true
}

// rangeWhere is the WHERE clause of the rows with lower <= key < upper
// (an empty bound is open), or "".
func (st *snapTable) rangeWhere(lower, upper []string) (string, error) {
	var conds []string
	for _, b := range []struct {
		cut      []string
		strict   string // the comparison for a leading column
		last     string // the comparison for the last column
		prefixOp string // the leading column's bound
	}{{lower, ">", ">=", ">="}, {upper, "<", "<", "<="}} {
		if len(b.cut) == 0 {
			continue
		}
		if len(b.cut) != len(st.key) {
			return "", &SnapshotError{Table: st.name, Err: fmt.Errorf(
				"a range bound has %d values for %d primary-key columns (was the primary key changed since the copy was planned?)",
				len(b.cut), len(st.key))}
		}
		names := make([]string, len(st.key))
		lits := make([]string, len(st.key))
		for i, k := range st.key {
			c := &st.cols[k]
			lit, err := c.literal(b.cut[i])
			if err != nil {
				return "", &SnapshotError{Table: st.name, Column: c.name, Err: err}
			}
			names[i], lits[i] = quoteName(c.name), lit
		}
		conds = append(conds, expandedCompare(names, lits, b.strict, b.last, b.prefixOp))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// expandedCompare writes (k1..kn) op (v1..vn) as
// k1 prefixOp v1 AND (k1 strict v1 OR (k1 = v1 AND k2 strict v2) OR ...
// OR (k1 = v1 AND ... AND kn last vn)).
func expandedCompare(names, lits []string, strict, last, prefixOp string) string {
	n := len(names)
	if n == 1 {
		return names[0] + " " + last + " " + lits[0]
	}
	terms := make([]string, n)
	for i := range n {
		var t []string
		for j := range i {
			t = append(t, names[j]+" = "+lits[j])
		}
		op := strict
		if i == n-1 {
			op = last
		}
		t = append(t, names[i]+" "+op+" "+lits[i])
		terms[i] = "(" + strings.Join(t, " AND ") + ")"
	}
	return "(" + names[0] + " " + prefixOp + " " + lits[0] + " AND (" + strings.Join(terms, " OR ") + "))"
}

// literal writes a cut value back as an exact SQL literal of the column's
// type (see Split). Cuts come back from the target: they are checked, never
// pasted in as they are.
func (c *snapColumn) literal(cut string) (string, error) {
	b, err := hex.DecodeString(cut)
	if err != nil {
		return "", fmt.Errorf("range bound %q is not a cut Split made (hex)", cut)
	}
	bad := func() (string, error) {
		return "", fmt.Errorf("range bound %s is not a %s value", strconv.Quote(string(b)), c.typeName())
	}
	switch c.lit {
	case litNumber:
		if !isNumber(string(b)) {
			return bad()
		}
		return string(b), nil
	case litTemporal:
		if len(b) == 0 || strings.Trim(string(b), "0123456789-:. ") != "" {
			return bad()
		}
		return "'" + string(b) + "'", nil
	case litUUID, litInet6:
		chars := "0123456789abcdefABCDEF-"
		if c.lit == litInet6 {
			chars = "0123456789abcdefABCDEF:."
		}
		if len(b) == 0 || strings.Trim(string(b), chars) != "" {
			return bad()
		}
		return "'" + string(b) + "'", nil
	case litText:
		return "_" + c.charset + " X'" + hex.EncodeToString(b) + "' COLLATE " + c.collation, nil
	case litBinary:
		return "X'" + hex.EncodeToString(b) + "'", nil
	}
	return "", errNotCuttable
}

var errNotCuttable = errors.New("a range bound on a primary key with a FLOAT, DOUBLE, BIT, ENUM, SET or GEOMETRY column (Split gives no cuts on such a key)")

// isNumber matches -?digits(.digits)?.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	ip, fp, dot := strings.Cut(s, ".")
	allDigits := func(x string) bool { return x != "" && strings.Trim(x, "0123456789") == "" }
	return allDigits(ip) && (!dot || allDigits(fp))
}
