package transform

import (
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// Canonical returns a text of v that is equal for equal data whatever
// column type carried it: numeric without insignificant zeros ("12.50" and
// "12.5"), integers of any width and numerics holding the same whole
// number alike, JSON as a jsonb column prints it (json, jsonb and JSON
// text alike), NULL as a text no column value has. verify and
// check-transforms compare a mapped row with the row the other side holds
// through it.
func Canonical(v change.Value) string {
	switch v.Kind {
	case change.KindNull:
		return "\x00null" // PostgreSQL text never holds a NUL byte
	case change.KindUnchanged, change.KindAbsent:
		return "\x00unsent"
	case change.KindNumeric:
		return canonicalDecimal(v.S)
	case change.KindJSON:
		return canonicalJSON(v.S)
	}
	b, err := pgtext.Encode(nil, v)
	if err != nil {
		return "\x00unencodable " + v.Kind.String()
	}
	return string(b) // an integer's text is a whole numeric's canonical text

}

// canonicalDecimal drops a plus sign, leading zeros and zeros after the
// point that carry no value; NaN and the infinities stay as they are.
func canonicalDecimal(s string) string {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	if s == "" || s[0] < '0' && s[0] != '.' || s[0] > '9' || strings.ContainsAny(s, "eE") {
		return s // NaN, Infinity, or an exponent form: leave it
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	s = strings.TrimLeft(s, "0")
	if s == "" || s[0] == '.' {
		s = "0" + s
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// canonicalJSON is a JSON text as a jsonb column prints it (sorted keys,
// one layout), so json, jsonb and JSON in text compare by data; a text
// that does not parse is returned as is.
func canonicalJSON(s string) string {
	if out, err := jsonbText(s); err == nil {
		return out
	}
	return s
}
