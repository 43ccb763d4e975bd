package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// snapTable is a table as a view reads it: its stored columns, described
// as capture's column (so typeName and value are capture's own), and its
// primary key.
type snapTable struct {
	name    change.Table
	columns []change.Column
	cols    []snapColumn
	key     []int  // indexes into cols of the primary-key columns, in key order
	from    string // "`db`.`t`"
	list    string // the select list, in cols order
	keyList string // the key columns, in key order
}

// snapColumn is one column: capture's description plus how its text is read.
type snapColumn struct {
	column
	read readKind
	lit  litKind
	// charset and collation of a text column, for its key literals.
	charset, collation string
}

// readKind is how Read turns a column's text into a value.
type readKind uint8

const (
	readCapture   readKind = iota // the text as capture's column.value takes it (decimal, date, datetime, time, strings)
	readInt                       // integers and YEAR
	readFloat                     // FLOAT and DOUBLE, selected as CAST(.. AS DOUBLE)
	readTimestamp                 // TIMESTAMP, printed in UTC
	readBit                       // BIT(n): big-endian bytes
	readEnum                      // ENUM: the label
	readSet                       // SET: labels joined by commas
	readBytes                     // GEOMETRY: the stored bytes
	readBinary16                  // UUID, INET6: selected as CAST(.. AS BINARY(16)), the bytes the binlog holds
)

// litKind is how a key value of the column is written back into SQL.
type litKind uint8

const (
	litNone     litKind = iota // no exact literal: the table is not cut
	litNumber                  // integers, YEAR, DECIMAL: the text as a number
	litTemporal                // DATE, TIME, DATETIME, TIMESTAMP: the text quoted
	litText                    // _charset X'..' COLLATE collation
	litBinary                  // X'..'
	litUUID                    // the text form quoted: 'xxxxxxxx-xxxx-...'
	litInet6                   // the text form quoted: '2001:db8::1'
)

// table returns t's description, read once per view.
func (v *SnapshotView) table(ctx context.Context, t change.Table) (*snapTable, error) {
	if st, ok := v.tables[t]; ok {
		return st, nil
	}
	st, err := loadTable(ctx, v.conn, t)
	if err != nil {
		return nil, err
	}
	v.tables[t] = st
	return st, nil
}

// Columns describes t's columns in the order Read returns them, Key set
// on the primary key. Generated columns are left out. Type is the type
// name capture gives the same column from the binlog's table map.
func (v *SnapshotView) Columns(ctx context.Context, t change.Table) ([]change.Column, error) {
	st, err := v.table(ctx, t)
	if err != nil {
		return nil, err
	}
	return slices.Clone(st.columns), nil
}

func loadTable(ctx context.Context, conn *sql.Conn, t change.Table) (*snapTable, error) {
	op := "read the columns of " + t.String()
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
	COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''),
	NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_OCTET_LENGTH,
	EXTRA LIKE '%GENERATED%' OR COALESCE(GENERATION_EXPRESSION, '') <> ''
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return nil, &SourceError{Op: op, Err: err}
	}
	defer rows.Close()
	st := &snapTable{name: t, from: quoteName(t.Schema) + "." + quoteName(t.Name)}
	generated := 0
	for rows.Next() {
		var d columnInfo
		var gen bool
		if err := rows.Scan(&d.name, &d.dataType, &d.columnType, &d.charset, &d.collation,
			&d.precision, &d.scale, &d.fsp, &d.octets, &gen); err != nil {
			return nil, &SourceError{Op: op, Err: err}
		}
		if gen {
			generated++
			continue
		}
		c, err := d.snapColumn()
		if err != nil {
			return nil, &SnapshotError{Table: t, Column: d.name, Err: err}
		}
		st.cols = append(st.cols, c)
		st.columns = append(st.columns, change.Column{Name: c.name, Type: c.typeName()})
	}
	if err := rows.Err(); err != nil {
		return nil, &SourceError{Op: op, Err: err}
	}
	if len(st.cols) == 0 && generated == 0 {
		return nil, fmt.Errorf("snapshot: table %s does not exist on the source (or this user cannot see it)", t)
	}
	keys, err := primaryKey(ctx, conn, t)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, &SnapshotError{Table: t, Err: errNoPrimaryKey}
	}
	for _, k := range keys {
		i := slices.IndexFunc(st.cols, func(c snapColumn) bool { return c.name == k })
		if i < 0 {
			return nil, &SnapshotError{Table: t, Column: k, Err: errors.New("the primary key has a generated column: not supported")}
		}
		st.key = append(st.key, i)
		st.columns[i].Key = true
	}
	list := make([]string, len(st.cols))
	for i, c := range st.cols {
		list[i] = quoteName(c.name)
		switch c.read {
		case readFloat:
			list[i] = "CAST(" + list[i] + " AS DOUBLE)"
		case readBinary16:
			list[i] = "CAST(" + list[i] + " AS BINARY(16))"
		}
	}
	st.list = strings.Join(list, ", ")
	st.keyList = strings.Join(quoteNames(keys), ", ")
	return st, nil
}

// primaryKey lists t's primary-key columns in key order.
func primaryKey(ctx context.Context, conn *sql.Conn, t change.Table) ([]string, error) {
	op := "read the primary key of " + t.String()
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return nil, &SourceError{Op: op, Err: err}
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, &SourceError{Op: op, Err: err}
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, &SourceError{Op: op, Err: err}
	}
	return keys, nil
}

// columnInfo is one row of information_schema.COLUMNS.
type columnInfo struct {
	name, dataType, columnType, charset, collation string
	precision, scale, fsp, octets                  sql.NullInt64
}

// snapColumn maps the column to the type capture sees in the binlog's
// table map (realType, metadata, signedness, binary collation), so that
// capture's typeName and value serve the snapshot too.
func (d *columnInfo) snapColumn() (snapColumn, error) {
	c := snapColumn{column: column{name: d.name, unsigned: strings.Contains(strings.ToLower(d.columnType), "unsigned")}}
	c.binary = d.charset == "binary"
	c.charset, c.collation = d.charset, d.collation
	set := func(typ byte, read readKind, lit litKind) { c.typ, c.read, c.lit = typ, read, lit }
	switch dt := strings.ToLower(d.dataType); dt {
	case "tinyint":
		set(gomysql.MYSQL_TYPE_TINY, readInt, litNumber)
	case "smallint":
		set(gomysql.MYSQL_TYPE_SHORT, readInt, litNumber)
	case "mediumint":
		set(gomysql.MYSQL_TYPE_INT24, readInt, litNumber)
	case "int", "integer":
		set(gomysql.MYSQL_TYPE_LONG, readInt, litNumber)
	case "bigint":
		set(gomysql.MYSQL_TYPE_LONGLONG, readInt, litNumber)
	case "year":
		set(gomysql.MYSQL_TYPE_YEAR, readInt, litNumber)
	case "decimal", "numeric":
		set(gomysql.MYSQL_TYPE_NEWDECIMAL, readCapture, litNumber)
		c.meta = uint16(d.precision.Int64)<<8 | uint16(d.scale.Int64)
	case "float":
		set(gomysql.MYSQL_TYPE_FLOAT, readFloat, litNone)
	case "double", "real":
		set(gomysql.MYSQL_TYPE_DOUBLE, readFloat, litNone)
	case "bit":
		set(gomysql.MYSQL_TYPE_BIT, readBit, litNone)
		c.bits = int(d.precision.Int64)
	case "date":
		set(gomysql.MYSQL_TYPE_DATE, readCapture, litTemporal)
	case "time":
		set(gomysql.MYSQL_TYPE_TIME2, readCapture, litTemporal)
		c.meta = uint16(d.fsp.Int64)
	case "datetime":
		set(gomysql.MYSQL_TYPE_DATETIME2, readCapture, litTemporal)
		c.meta = uint16(d.fsp.Int64)
	case "timestamp":
		set(gomysql.MYSQL_TYPE_TIMESTAMP2, readTimestamp, litTemporal)
		c.meta = uint16(d.fsp.Int64)
	case "enum":
		set(gomysql.MYSQL_TYPE_ENUM, readEnum, litNone)
	case "set":
		set(gomysql.MYSQL_TYPE_SET, readSet, litNone)
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		typ := byte(gomysql.MYSQL_TYPE_BLOB)
		switch dt {
		case "char":
			typ = gomysql.MYSQL_TYPE_STRING
			c.size = int(d.octets.Int64)
		case "varchar":
			typ = gomysql.MYSQL_TYPE_VARCHAR
		}
		set(typ, readCapture, litText)
		if c.binary {
			c.lit = litBinary
		} else if !isIdent(c.charset) || !isIdent(c.collation) {
			c.lit = litNone // cannot be written back: no cuts on it
		}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		typ := byte(gomysql.MYSQL_TYPE_BLOB)
		switch dt {
		case "binary":
			typ = gomysql.MYSQL_TYPE_STRING
			c.size = int(d.octets.Int64)
		case "varbinary":
			typ = gomysql.MYSQL_TYPE_VARCHAR
		}
		set(typ, readCapture, litBinary)
		c.binary = true
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection":
		set(gomysql.MYSQL_TYPE_GEOMETRY, readBytes, litNone)
	case "uuid", "inet6": // MariaDB 10.7+/10.5+: BINARY(16) in the binlog
		set(gomysql.MYSQL_TYPE_STRING, readCapture, litUUID)
		if dt == "inet6" {
			c.lit = litInet6
		}
		c.read, c.binary, c.size = readBinary16, true, 16
	default:
		return c, fmt.Errorf("type %s is not supported by the snapshot yet", d.columnType)
	}
	return c, nil
}

// isIdent reports whether s is a plain charset or collation name that can
// be written into SQL unquoted.
func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return s != ""
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteName(n)
	}
	return out
}
