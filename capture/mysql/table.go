package mysql

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// table is a captured table as one table map describes it.
type table struct {
	tm      *replication.TableMapEvent // the map it was built from
	name    change.Table
	columns []change.Column // shared, read-only, by every change of the table
	cols    []column
}

var (
	errNoColumnNames = errors.New("the binlog carries no column names: set binlog_row_metadata=FULL on the source (and restart the writers' sessions)")
	errNoPrimaryKey  = errors.New("table has no primary key: bgsync needs one to apply changes by key")
)

// newTable reads a table map. It fails when binlog_row_metadata is not
// FULL (no column names) or the table has no primary key.
func newTable(tm *replication.TableMapEvent) (*table, error) {
	t := &table{tm: tm, name: change.Table{Schema: string(tm.Schema), Name: string(tm.Table)}}
	n := int(tm.ColumnCount)
	names := tm.ColumnNameString()
	if len(names) != n || n != len(tm.ColumnType) || n != len(tm.ColumnMeta) {
		return nil, errNoColumnNames
	}
	if len(tm.PrimaryKey) == 0 {
		return nil, errNoPrimaryKey
	}
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	enums := tm.EnumStrValueMap()
	sets := tm.SetStrValueMap()
	t.cols = make([]column, n)
	t.columns = make([]change.Column, n)
	for i := range n {
		meta := tm.ColumnMeta[i]
		c := column{
			name:     names[i],
			typ:      realType(tm.ColumnType[i], meta),
			meta:     meta,
			unsigned: unsigned[i],
			binary:   collations[i] == binaryCollation,
		}
		switch c.typ {
		case gomysql.MYSQL_TYPE_ENUM:
			c.labels = enums[i]
		case gomysql.MYSQL_TYPE_SET:
			c.labels = sets[i]
		case gomysql.MYSQL_TYPE_BIT:
			c.bits = int(meta>>8)*8 + int(meta&0xFF)
		case gomysql.MYSQL_TYPE_STRING:
			c.size = fixedSize(meta)
		}
		t.cols[i] = c
		t.columns[i] = change.Column{Name: c.name, Type: c.typeName()}
	}
	for _, k := range tm.PrimaryKey {
		if k >= uint64(n) {
			return nil, fmt.Errorf("primary key column %d of %d columns", k, n)
		}
		t.columns[k].Key = true
	}
	return t, nil
}

// sameShape reports whether two table maps describe the same columns, so
// a table built from one serves the other. Servers write a table map before
// each statement's rows; rebuilding for each would cost more than the rows.
func sameShape(a, b *replication.TableMapEvent) bool {
	return a.TableID == b.TableID && bytes.Equal(a.Schema, b.Schema) && bytes.Equal(a.Table, b.Table) &&
		bytes.Equal(a.ColumnType, b.ColumnType) && slices.Equal(a.ColumnMeta, b.ColumnMeta) &&
		bytes.Equal(a.SignednessBitmap, b.SignednessBitmap) &&
		slices.Equal(a.DefaultCharset, b.DefaultCharset) && slices.Equal(a.ColumnCharset, b.ColumnCharset) &&
		slices.Equal(a.PrimaryKey, b.PrimaryKey) &&
		slices.EqualFunc(a.ColumnName, b.ColumnName, bytes.Equal) &&
		equalLabels(a.EnumStrValue, b.EnumStrValue) && equalLabels(a.SetStrValue, b.SetStrValue)
}

func equalLabels(a, b [][][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y [][]byte) bool { return slices.EqualFunc(x, y, bytes.Equal) })
}

// row converts one row image. A column the image left out (binlog_row_image
// MINIMAL or NOBLOB) is an error: appliers and conflict checks need whole
// rows.
func (t *table) row(vals []any, skipped []int) (change.Row, error) {
	if len(skipped) > 0 {
		names := make([]string, 0, len(skipped))
		for _, i := range skipped {
			if i >= 0 && i < len(t.cols) {
				names = append(names, t.cols[i].name)
			}
		}
		return nil, fmt.Errorf("row image lacks columns %v: set binlog_row_image=FULL on the source", names)
	}
	if len(vals) != len(t.cols) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(vals), len(t.cols))
	}
	r := make(change.Row, len(vals))
	for i, v := range vals {
		val, err := t.cols[i].value(v)
		if err != nil {
			return nil, &columnError{column: t.cols[i].name, err: err}
		}
		r[i] = val
	}
	return r, nil
}

// columnError names the column a value failed in.
type columnError struct {
	column string
	err    error
}

func (e *columnError) Error() string { return "column " + e.column + ": " + e.err.Error() }
func (e *columnError) Unwrap() error { return e.err }
