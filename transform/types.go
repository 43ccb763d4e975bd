package transform

import "strings"

// family groups PostgreSQL types by how values convert between them.
type family uint8

const (
	famOther family = iota // copied only to the very same type
	famInt
	famNumeric
	famFloat
	famText
	famJSON
	famBool
	famDate
	famTimestamp   // without time zone
	famTimestampTZ // with time zone
	famUUID
	famBytes
	famTime // time of day, without time zone
)

var familyNames = [...]string{"other", "integer", "numeric", "float", "text", "json", "boolean", "date",
	"timestamp", "timestamptz", "uuid", "bytea", "time"}

func (f family) String() string { return familyNames[f] }

// familyOf classifies a type as format_type() writes it ("integer",
// "numeric(12,2)", "character varying(40)", "timestamp with time zone").
func familyOf(pgType string) family {
	t := pgType
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i]) + t[strings.IndexByte(t, ')')+1:]
	}
	switch t {
	case "smallint", "integer", "bigint":
		return famInt
	case "numeric", "decimal":
		return famNumeric
	case "real", "double precision":
		return famFloat
	case "text", "character varying", "character", "varchar", "char", "name", "citext", `"char"`:
		return famText
	case "json", "jsonb":
		return famJSON
	case "boolean":
		return famBool
	case "date":
		return famDate
	case "timestamp without time zone", "timestamp":
		return famTimestamp
	case "timestamp with time zone", "timestamptz":
		return famTimestampTZ
	case "uuid":
		return famUUID
	case "bytea":
		return famBytes
	case "time without time zone", "time":
		return famTime
	}
	return famOther
}

// copyable reports whether a value of type from can be written, unchanged
// in meaning, to a column of type to without an expression, and why not.
func copyable(from, to string) (bool, string) {
	if from == to {
		return true, ""
	}
	f, t := familyOf(from), familyOf(to)
	switch {
	case f == t && f != famOther:
		return true, "" // e.g. integer → bigint, varchar(40) → text; the target checks range and length
	case f == famInt && (t == famNumeric || t == famFloat):
		return true, ""
	case f == famText && t == famJSON, f == famJSON && t == famText:
		return true, "" // the target parses (or prints) the JSON
	case (f == famTimestamp && t == famTimestampTZ) || (f == famTimestampTZ && t == famTimestamp):
		return true, "" // through the rule's zone
	case f == famDate && (t == famTimestamp || t == famTimestampTZ):
		return true, ""
	case f == famUUID && t == famText:
		return true, ""
	}
	return false, "a " + from + " cannot be copied to a " + to + " without losing or inventing data; compute it with set:"
}

// copyableCol is copyable for two live columns, of either engine: a
// MariaDB/MySQL TINYINT(1) (its BOOLEAN) and a boolean copy both ways,
// 0 and 1 only. Messages name each column's own type.
func copyableCol(from, to Column) (bool, string) {
	if (from.boolish() && familyOf(to.Type) == famBool) || (to.boolish() && familyOf(from.Type) == famBool) {
		return true, ""
	}
	ok, _ := copyable(from.Type, to.Type)
	if ok {
		return true, ""
	}
	return false, "a " + from.nativeType() + " cannot be copied to a " + to.nativeType() +
		" without losing or inventing data; compute it with set:"
}
