package transform

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// MySQLType is a MariaDB/MySQL column's own type, as
// information_schema.COLUMNS gives it. DataType, Unsigned, Length, Scale
// and JSON mean what apply/mysql's ColumnType fields of the same names
// mean: what the applier writes a value by.
type MySQLType struct {
	// DataType is DATA_TYPE in lower case: "int", "varchar", "datetime".
	DataType string
	// ColumnType is COLUMN_TYPE in lower case: "tinyint(1)",
	// "int(10) unsigned", "decimal(12,2)", "enum('a','b')".
	ColumnType string
	Unsigned   bool
	// Length is CHARACTER_MAXIMUM_LENGTH, 0 where there is none.
	Length int64
	// Precision is NUMERIC_PRECISION (decimal digits, or bits of a BIT).
	Precision int
	// Scale is NUMERIC_SCALE (decimal) or DATETIME_PRECISION (temporal).
	Scale int
	// JSON: a MySQL json column, or MariaDB's alias (longtext with a
	// json_valid check).
	JSON bool
}

// rawForm is how capture/mysql sends the values of a MariaDB/MySQL column
// whose kind differs from the kind of the PostgreSQL type the column maps
// to (see doc.go). A Mapping lifts such values into the mapped type's kind
// before converting or computing with them, and lowers values for such a
// target column back into the form its own capture sends.
type rawForm uint8

const (
	rawNone     rawForm = iota // values arrive in the mapped type's kind
	rawJSONText                // MariaDB JSON alias: Text, mapped to json
	rawUint64                  // BIGINT UNSIGNED: Int, or Uint above MaxInt64, mapped to numeric(20,0)
	rawEnum                    // ENUM: Enum, mapped to text
)

// form is c's raw form (rawNone for a PostgreSQL column).
func (c Column) form() rawForm {
	m := c.MySQL
	switch {
	case m == nil:
		return rawNone
	case m.JSON && m.DataType != "json":
		return rawJSONText
	case m.DataType == "bigint" && m.Unsigned:
		return rawUint64
	case m.DataType == "enum":
		return rawEnum
	}
	return rawNone
}

// boolish reports whether c is MariaDB/MySQL's BOOLEAN, a TINYINT(1):
// its values arrive as integers, and it may be copied to and from a
// boolean column (0 and 1 only).
func (c Column) boolish() bool {
	return c.MySQL != nil && c.MySQL.DataType == "tinyint" && strings.HasPrefix(c.MySQL.ColumnType, "tinyint(1)")
}

// nativeType is the column's type as its own engine names it.
func (c Column) nativeType() string {
	if c.MySQL != nil && c.MySQL.ColumnType != "" {
		return c.MySQL.ColumnType
	}
	return c.Type
}

// PGTypeOf returns the PostgreSQL type (as format_type writes it) that
// holds the values of a MariaDB/MySQL column of type t, in the kind
// capture/mysql sends them where it can: the Type of such a Column. Types
// with no PostgreSQL counterpart keep their own COLUMN_TYPE, which is
// copied only to the very same type.
func PGTypeOf(t MySQLType) string {
	switch t.DataType {
	case "tinyint", "year":
		return "smallint"
	case "smallint":
		if t.Unsigned {
			return "integer"
		}
		return "smallint"
	case "mediumint":
		return "integer"
	case "int", "integer":
		if t.Unsigned {
			return "bigint"
		}
		return "integer"
	case "bigint":
		if t.Unsigned {
			return "numeric(20,0)"
		}
		return "bigint"
	case "decimal", "numeric":
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case "float":
		return "real"
	case "double", "real":
		return "double precision"
	case "bit":
		return fmt.Sprintf("bit(%d)", max(t.Precision, 1))
	case "char":
		return fmt.Sprintf("character(%d)", t.Length)
	case "varchar":
		return fmt.Sprintf("character varying(%d)", t.Length)
	case "tinytext", "text", "mediumtext", "longtext":
		if t.JSON {
			return "json"
		}
		return "text"
	case "set", "enum":
		return "text"
	case "json":
		return "json"
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return "bytea"
	case "date":
		return "date"
	case "time":
		return withPrecision("time", t.Scale, " without time zone")
	case "datetime":
		return withPrecision("timestamp", t.Scale, " without time zone")
	case "timestamp":
		return withPrecision("timestamp", t.Scale, " with time zone")
	}
	if t.ColumnType != "" {
		return t.ColumnType
	}
	return t.DataType
}

// withPrecision writes "timestamp(3) without time zone"; 6 digits, the
// PostgreSQL default, are left out as format_type leaves them out.
func withPrecision(base string, digits int, suffix string) string {
	if digits >= 6 || digits < 0 {
		return base + suffix
	}
	return fmt.Sprintf("%s(%d)%s", base, digits, suffix)
}

// lift turns a value as capture/mysql sends it for a column of form f into
// the kind of the PostgreSQL type the column maps to.
func lift(v change.Value, f rawForm) change.Value {
	switch {
	case f == rawJSONText && v.Kind == change.KindText:
		return change.JSON(v.S)
	case f == rawUint64 && v.Kind == change.KindInt:
		return change.Numeric(strconv.FormatInt(v.I, 10))
	case f == rawUint64 && v.Kind == change.KindUint:
		return change.Numeric(strconv.FormatUint(v.Uint(), 10))
	case f == rawEnum && v.Kind == change.KindEnum:
		return change.Text(v.S)
	}
	return v
}

// lower turns a value of the mapped PostgreSQL type's kind into the form
// capture/mysql sends for a column of form f, the form the target's own
// changes of that column carry.
func lower(v change.Value, f rawForm) (change.Value, error) {
	switch {
	case f == rawJSONText && v.Kind == change.KindJSON:
		return change.Text(v.S), nil
	case f == rawEnum && (v.Kind == change.KindText || v.Kind == change.KindJSON):
		return change.Enum(v.S), nil
	case f == rawUint64 && v.Kind == change.KindNumeric:
		s := strings.TrimSpace(v.S)
		if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
			s = s[:i] // 12.000: a whole number
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64)
		if err != nil {
			return v, fmt.Errorf("%s is not a BIGINT UNSIGNED (a whole number from 0 to %d)", v.S, uint64(math.MaxUint64))
		}
		if u <= math.MaxInt64 {
			return change.Int(int64(u)), nil
		}
		return change.Uint(u), nil
	}
	return v, nil
}

// boolOf reads a TINYINT(1) value as a boolean: 0 and 1 only.
func boolOf(v change.Value) (change.Value, error) {
	switch v.Kind {
	case change.KindBool:
		return v, nil
	case change.KindInt, change.KindUint:
		if v.I == 0 || v.I == 1 {
			return change.Bool(v.I == 1), nil
		}
		return v, fmt.Errorf("%d in a tinyint(1) is not a boolean: only 0 and 1 convert to a boolean column", v.I)
	}
	return v, fmt.Errorf("a %s value is not a tinyint(1) boolean", v.Kind)
}

// intOfBool writes a boolean as a TINYINT(1) stores it.
func intOfBool(v change.Value) change.Value {
	if v.Kind == change.KindBool {
		return change.Int(v.I & 1)
	}
	return v
}
