package mysql

import (
	"fmt"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// binaryCollation is the collation id of the binary character set: BINARY,
// VARBINARY and BLOB columns carry it; text columns carry another.
const binaryCollation = 63

// column is what decoding one column needs, taken from the table map.
type column struct {
	name     string
	typ      byte   // real type (ENUM, SET and CHAR unpacked from STRING)
	meta     uint16 // the table map's metadata for the column
	unsigned bool
	binary   bool     // character column with the binary collation
	labels   []string // ENUM and SET members, in declaration order
	bits     int      // BIT(n): n
	// size is the byte length of a CHAR/BINARY column: the binlog drops a
	// BINARY value's trailing zero bytes, which the column does store.
	size int
}

// fixedSize is the byte length of a MYSQL_TYPE_STRING column (CHAR,
// BINARY), decoded from its metadata as the server encodes it.
func fixedSize(meta uint16) int {
	if meta >= 256 {
		b0, b1 := meta>>8, meta&0xFF
		if b0&0x30 != 0x30 {
			return int(b1 | ((b0&0x30)^0x30)<<4)
		}
		return int(b1)
	}
	return int(meta)
}

// realType unpacks the type a MYSQL_TYPE_STRING column hides in its
// metadata (CHAR, BINARY, ENUM, SET), as the server does.
func realType(typ byte, meta uint16) byte {
	if typ == gomysql.MYSQL_TYPE_STRING && meta >= 256 {
		b0 := byte(meta >> 8)
		if b0&0x30 != 0x30 {
			return b0 | 0x30
		}
		return b0
	}
	return typ
}

// typeName is the column's declared type as far as the table map tells it
// (informational, for change.Column.Type).
func (c *column) typeName() string {
	u := ""
	if c.unsigned {
		u = " unsigned"
	}
	switch c.typ {
	case gomysql.MYSQL_TYPE_TINY:
		return "tinyint" + u
	case gomysql.MYSQL_TYPE_SHORT:
		return "smallint" + u
	case gomysql.MYSQL_TYPE_INT24:
		return "mediumint" + u
	case gomysql.MYSQL_TYPE_LONG:
		return "int" + u
	case gomysql.MYSQL_TYPE_LONGLONG:
		return "bigint" + u
	case gomysql.MYSQL_TYPE_NEWDECIMAL, gomysql.MYSQL_TYPE_DECIMAL:
		return fmt.Sprintf("decimal(%d,%d)%s", c.meta>>8, c.meta&0xFF, u)
	case gomysql.MYSQL_TYPE_FLOAT:
		return "float"
	case gomysql.MYSQL_TYPE_DOUBLE:
		return "double"
	case gomysql.MYSQL_TYPE_BIT:
		return fmt.Sprintf("bit(%d)", c.bits)
	case gomysql.MYSQL_TYPE_YEAR:
		return "year"
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE:
		return "date"
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		return withFsp("time", c)
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		return withFsp("datetime", c)
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		return withFsp("timestamp", c)
	case gomysql.MYSQL_TYPE_ENUM:
		return "enum"
	case gomysql.MYSQL_TYPE_SET:
		return "set"
	case gomysql.MYSQL_TYPE_JSON:
		return "json"
	case gomysql.MYSQL_TYPE_GEOMETRY:
		return "geometry"
	case gomysql.MYSQL_TYPE_BLOB:
		if c.binary {
			return "blob"
		}
		return "text"
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		if c.binary {
			return "varbinary"
		}
		return "varchar"
	case gomysql.MYSQL_TYPE_STRING:
		if c.binary {
			return "binary"
		}
		return "char"
	}
	return fmt.Sprintf("type%d", c.typ)
}

func withFsp(name string, c *column) string {
	if c.typ == gomysql.MYSQL_TYPE_TIME2 || c.typ == gomysql.MYSQL_TYPE_DATETIME2 || c.typ == gomysql.MYSQL_TYPE_TIMESTAMP2 {
		if c.meta > 0 {
			return fmt.Sprintf("%s(%d)", name, c.meta)
		}
	}
	return name
}
