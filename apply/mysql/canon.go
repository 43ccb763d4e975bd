package mysql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// The value rules between change.Value and a MySQL/MariaDB column, both
// ways, by the value's Kind and the target column's DATA_TYPE. Writing:
// Encode gives the driver argument. Reading a target row back for a
// conflict check: Decode gives a change.Value of the same Kind as the
// incoming image's value for that column wherever that is lossless, so
// change.Equal compares like with like. verify can use the same rules.

// ColumnType is what the target says about one column
// (information_schema.COLUMNS).
type ColumnType struct {
	Name string
	// DataType is DATA_TYPE in lower case: "int", "varchar", "datetime", ...
	DataType string
	// Unsigned: COLUMN_TYPE says "unsigned".
	Unsigned bool
	// Length is CHARACTER_MAXIMUM_LENGTH (characters for text, bytes for
	// binary types), 0 where there is none.
	Length int64
	// Scale is NUMERIC_SCALE (decimal), DATETIME_PRECISION (temporal).
	Scale int
	// JSON: a MySQL json column, or MariaDB's alias (longtext with a
	// json_valid check; ReadTable finds both). Its values are compared by
	// the JSON data they hold (SameJSON), and it reads as KindJSON on its
	// own (Kind). MariaDB's alias is read like the text it is otherwise
	// (Decode), as capture/mysql sends it.
	JSON bool
}

// class groups DATA_TYPEs that take and give values the same way.
type class uint8

const (
	classOther class = iota
	classInt
	classYear
	classDecimal
	classFloat
	classBit
	classText
	classBinary
	classEnum
	classDate
	classTime
	classDatetime
	classTimestamp
	classJSON
	classUUID
)

var classes = map[string]class{
	"tinyint": classInt, "smallint": classInt, "mediumint": classInt, "int": classInt, "bigint": classInt,
	"year": classYear, "decimal": classDecimal, "float": classFloat, "double": classFloat, "bit": classBit,
	"char": classText, "varchar": classText, "tinytext": classText, "text": classText,
	"mediumtext": classText, "longtext": classText, "set": classText,
	"binary": classBinary, "varbinary": classBinary, "tinyblob": classBinary, "blob": classBinary,
	"mediumblob": classBinary, "longblob": classBinary,
	"enum": classEnum, "date": classDate, "time": classTime, "datetime": classDatetime,
	"timestamp": classTimestamp, "json": classJSON, "uuid": classUUID,
}

func (c ColumnType) class() class {
	if c.JSON {
		return classJSON
	}
	return classes[c.DataType]
}

// Kind is the Kind a value of the column reads as on its own, with no
// incoming value to match (verify between two MariaDB/MySQL sides).
// Unknown types give KindAbsent.
func (c ColumnType) Kind() change.Kind {
	switch c.class() {
	case classInt:
		if c.DataType == "bigint" && c.Unsigned {
			return change.KindUint
		}
		return change.KindInt
	case classYear:
		return change.KindInt
	case classDecimal:
		return change.KindNumeric
	case classFloat:
		return change.KindFloat
	case classText:
		return change.KindText
	case classBit, classBinary:
		return change.KindBytes
	case classEnum:
		return change.KindEnum
	case classDate:
		return change.KindDate
	case classTime:
		return change.KindTime
	case classDatetime:
		return change.KindTimestamp
	case classTimestamp:
		return change.KindTimestampTZ
	case classJSON:
		return change.KindJSON
	case classUUID:
		return change.KindUUID
	}
	return change.KindAbsent
}

// textual: the column stores text, so JSON (and JSON renderings of
// arrays) can go there.
func (c ColumnType) textual() bool {
	k := c.class()
	return k == classText || k == classJSON
}

// ErrNoForm: the value has no form the target column can store.
var ErrNoForm = errors.New("no MySQL form for this value")

// Encode returns the driver argument that stores v in column col. See
// doc.go for the rules. KindUnchanged and KindAbsent have no argument: the
// caller leaves such columns out of its statement.
func Encode(col ColumnType, v change.Value) (any, error) {
	switch v.Kind {
	case change.KindNull:
		return nil, nil
	case change.KindBool:
		if v.Bool() {
			return int64(1), nil
		}
		return int64(0), nil
	case change.KindInt:
		return v.I, nil
	case change.KindUint:
		return v.Uint(), nil
	case change.KindNumeric:
		if !finiteDecimal(v.S) {
			return nil, noForm(col, v, fmt.Sprintf("%q is not a finite decimal", v.S))
		}
		return v.S, nil
	case change.KindFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, noForm(col, v, "MySQL stores no NaN or infinity")
		}
		return f, nil
	case change.KindText, change.KindEnum, change.KindJSON:
		return v.S, nil
	case change.KindBytes:
		return []byte(v.S), nil
	case change.KindUUID:
		if len(v.S) != 16 {
			return nil, noForm(col, v, fmt.Sprintf("%d bytes, want 16", len(v.S)))
		}
		if col.class() == classBinary {
			return []byte(v.S), nil
		}
		return formatUUID(v.S), nil
	case change.KindDate:
		s, err := formatDate(v.I)
		if err != nil {
			return nil, noForm(col, v, err.Error())
		}
		return s, nil
	case change.KindTime:
		return formatClock(v.I), nil
	case change.KindTimestamp, change.KindTimestampTZ:
		s, err := formatTimestamp(v.I)
		if err != nil {
			return nil, noForm(col, v, err.Error())
		}
		return s, nil
	case change.KindInterval:
		if col.class() == classText {
			return pgText(col, v)
		}
		if v.J != 0 {
			return nil, noForm(col, v, "an interval with months or days has no TIME form")
		}
		s, err := formatTimeValue(v.I)
		if err != nil {
			return nil, noForm(col, v, err.Error())
		}
		return s, nil
	case change.KindTimeTZ:
		if col.class() == classText {
			return pgText(col, v)
		}
		return nil, noForm(col, v, "time with time zone has a text form only")
	case change.KindArray:
		if !col.textual() {
			return nil, noForm(col, v, "an array is stored as JSON text, in a json or text column only")
		}
		b, err := appendJSONArray(nil, v)
		if err != nil {
			return nil, noForm(col, v, err.Error())
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("column %s: a %s value cannot be written", col.Name, v.Kind)
}

func noForm(col ColumnType, v change.Value, why string) error {
	return fmt.Errorf("column %s (%s): %s value: %s: %w", col.Name, col.DataType, v.Kind, why, ErrNoForm)
}

// pgText stores the PostgreSQL text form of v (a text column receiving a
// type MySQL lacks).
func pgText(col ColumnType, v change.Value) (any, error) {
	b, err := pgtext.Encode(nil, v)
	if err != nil {
		return nil, noForm(col, v, err.Error())
	}
	return string(b), nil
}

// Decode reads raw, the text-protocol form of a value of column col (nil =
// NULL), as a change.Value. like is the incoming image's value for the
// column (any Kind, KindNull or KindAbsent when unknown): where the target
// type can hold like's Kind losslessly the result has that Kind, so
// change.Equal compares like with like. A value that does not parse as
// its type (a MySQL zero date) comes back as KindText: it differs from
// every incoming value, so it shows as a conflict instead of failing the
// apply.
func Decode(col ColumnType, raw []byte, like change.Value) (change.Value, error) {
	if raw == nil {
		return change.Null(), nil
	}
	s := string(raw)
	switch col.class() {
	case classInt, classYear:
		return decodeInt(col, s, like.Kind)
	case classDecimal:
		return decodeDecimal(s, like.Kind), nil
	case classFloat:
		bits := 64
		if col.DataType == "float" {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil {
			return change.Value{}, fmt.Errorf("column %s: float %q: %w", col.Name, s, err)
		}
		return change.Float(f), nil
	case classBit:
		return decodeBit(raw, like.Kind), nil
	case classText:
		return decodeText(s, like), nil
	case classBinary:
		switch {
		case like.Kind == change.KindUUID && len(raw) == 16:
			return change.Value{Kind: change.KindUUID, S: s}, nil
		case like.Kind == change.KindText, like.Kind == change.KindJSON, like.Kind == change.KindEnum:
			return change.Value{Kind: like.Kind, S: s}, nil
		}
		return change.Bytes(raw), nil
	case classEnum:
		if like.Kind == change.KindText {
			return change.Text(s), nil
		}
		return change.Enum(s), nil
	case classJSON:
		if col.DataType != "json" { // MariaDB's alias: a longtext
			return decodeText(s, like), nil
		}
		switch like.Kind {
		case change.KindArray:
			if v, err := parseJSONArray(raw, like); err == nil {
				return v, nil
			}
		case change.KindText:
			return change.Text(s), nil
		}
		return change.JSON(s), nil
	case classUUID:
		if like.Kind == change.KindText {
			return change.Text(s), nil
		}
		if u, ok := parseUUID(s); ok {
			return u, nil
		}
		return change.Text(s), nil
	}
	return decodeTemporal(col, s, like.Kind)
}

func decodeInt(col ColumnType, s string, like change.Kind) (change.Value, error) {
	if col.Unsigned {
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return change.Value{}, fmt.Errorf("column %s: integer %q: %w", col.Name, s, err)
		}
		switch {
		case like == change.KindBool && u <= 1:
			return change.Bool(u == 1), nil
		case like == change.KindNumeric:
			return change.Numeric(s), nil
		case like == change.KindInt && u <= math.MaxInt64:
			return change.Int(int64(u)), nil
		case like == change.KindUint || col.DataType == "bigint" || u > math.MaxInt64:
			return change.Uint(u), nil
		}
		return change.Int(int64(u)), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return change.Value{}, fmt.Errorf("column %s: integer %q: %w", col.Name, s, err)
	}
	switch {
	case like == change.KindBool && (n == 0 || n == 1):
		return change.Bool(n == 1), nil
	case like == change.KindUint && n >= 0:
		return change.Uint(uint64(n)), nil
	case like == change.KindNumeric:
		return change.Numeric(s), nil
	}
	return change.Int(n), nil
}

// decodeDecimal: the text protocol prints a DECIMAL with exactly the
// column's scale ("12.340"), which is the canonical Numeric form.
func decodeDecimal(s string, like change.Kind) change.Value {
	if like == change.KindInt && !strings.Contains(s, ".") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return change.Int(n)
		}
	}
	return change.Numeric(s)
}

// decodeBit reads a BIT(n) value, sent as big-endian bytes.
func decodeBit(raw []byte, like change.Kind) change.Value {
	if len(raw) > 8 {
		return change.Bytes(raw)
	}
	var n uint64
	for _, b := range raw {
		n = n<<8 | uint64(b)
	}
	switch {
	case like == change.KindBool && n <= 1:
		return change.Bool(n == 1)
	case like == change.KindInt && n <= math.MaxInt64:
		return change.Int(int64(n))
	case like == change.KindUint:
		return change.Uint(n)
	}
	return change.Bytes(raw)
}

// decodeText reads a text column as the incoming Kind where the text is
// that Kind's form as Encode writes it.
func decodeText(s string, like change.Value) change.Value {
	switch like.Kind {
	case change.KindJSON, change.KindEnum, change.KindBytes, change.KindNumeric:
		return change.Value{Kind: like.Kind, S: s}
	case change.KindUUID:
		if u, ok := parseUUID(s); ok {
			return u
		}
	case change.KindArray:
		if v, err := parseJSONArray([]byte(s), like); err == nil {
			return v
		}
	case change.KindInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return change.Int(n)
		}
	case change.KindUint:
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return change.Uint(n)
		}
	case change.KindFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return change.Float(f)
		}
	case change.KindBool:
		if s == "0" || s == "1" {
			return change.Bool(s == "1")
		}
	case change.KindInterval, change.KindTimeTZ:
		oid := uint32(1186)
		if like.Kind == change.KindTimeTZ {
			oid = 1266
		}
		if v, err := pgtext.Decode(oid, []byte(s)); err == nil {
			return v
		}
	case change.KindDate, change.KindTime, change.KindTimestamp, change.KindTimestampTZ:
		if v, ok := parseTemporal(like.Kind, s); ok {
			return v
		}
	}
	return change.Text(s)
}

// decodeTemporal reads DATE, TIME, DATETIME and TIMESTAMP columns, and
// anything else as text (or bytes when it is not UTF-8 text).
func decodeTemporal(col ColumnType, s string, like change.Kind) (change.Value, error) {
	want := change.KindText
	switch col.class() {
	case classDate:
		want = change.KindDate
	case classTime:
		want = change.KindTime
		if like == change.KindInterval {
			want = change.KindInterval
		}
	case classDatetime:
		want = change.KindTimestamp
		if like == change.KindTimestampTZ {
			want = change.KindTimestampTZ
		}
	case classTimestamp:
		// The session's time_zone is +00:00: the text is UTC wall time.
		want = change.KindTimestampTZ
		if like == change.KindTimestamp {
			want = change.KindTimestamp
		}
	default:
		if like == change.KindText || validUTF8(s) {
			return change.Text(s), nil
		}
		return change.Bytes([]byte(s)), nil
	}
	if v, ok := parseTemporal(want, s); ok {
		return v, nil
	}
	if want == change.KindTime { // beyond a day, or negative: a duration
		if v, ok := parseTemporal(change.KindInterval, s); ok {
			return v, nil
		}
	}
	return change.Text(s), nil // a zero date
}
