package pgtext

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

var (
	// ErrSyntax: the text is not the type's PostgreSQL output form.
	ErrSyntax = errors.New("invalid syntax")
	// ErrRange: the value is well formed but does not fit the target
	// (an int4 above 2^31, a timestamp beyond change.Value's range, a text
	// with a NUL byte PostgreSQL cannot store).
	ErrRange = errors.New("out of range")
	// ErrNoText: NULL, Unchanged and Absent have no text form; writing them
	// is the caller's business.
	ErrNoText = errors.New("value has no text form")
)

// maxQuoted caps how much of an offending input an error message repeats.
const maxQuoted = 64

func quote(s []byte) string {
	if len(s) > maxQuoted {
		return strconv.Quote(string(s[:maxQuoted])) + "..."
	}
	return strconv.Quote(string(s))
}

func syntaxError(typ string, s []byte) error {
	return fmt.Errorf("pgtext: decode %s %s: %w", typ, quote(s), ErrSyntax)
}

func rangeError(typ string, s []byte) error {
	return fmt.Errorf("pgtext: decode %s %s: %w", typ, quote(s), ErrRange)
}

// Decode converts the text form of a value of the builtin type oid into its
// canonical change.Value. An OID it does not know (an enum, any other user or
// extension type, an array of those) decodes to KindEnum holding the text as
// is, which Encode writes back unchanged. Use a Registry to decode arrays of
// user types element by element and domains as their base type.
func Decode(oid uint32, text []byte) (change.Value, error) {
	return (*Registry)(nil).decode(oid, text, 0)
}

// DecodeArray decodes an array literal whose elements are of type elemOID.
func DecodeArray(elemOID uint32, text []byte) (change.Value, error) {
	return (*Registry)(nil).DecodeArray(elemOID, text)
}

// decodeBuiltin decodes the scalar types pgtext models into *v; ok is false
// for any other OID. It writes through a pointer so that the hot path copies
// the 64-byte Value once, not once per call level.
func decodeBuiltin(oid uint32, s []byte, v *change.Value) (ok bool, err error) {
	switch oid {
	case pgtype.Int4OID:
		*v, err = decodeInt(s, "int4", math.MinInt32, math.MaxInt32)
	case pgtype.Int8OID:
		*v, err = decodeInt(s, "int8", math.MinInt64, math.MaxInt64)
	case pgtype.Int2OID:
		*v, err = decodeInt(s, "int2", math.MinInt16, math.MaxInt16)
	case pgtype.OIDOID:
		*v, err = decodeInt(s, "oid", 0, math.MaxUint32)
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
		pgtype.QCharOID, pgtype.UnknownOID:
		*v = change.Text(string(s))
	case pgtype.NumericOID:
		if !validNumeric(s) {
			return true, syntaxError("numeric", s)
		}
		*v = change.Numeric(string(s))
	case pgtype.BoolOID:
		*v, err = decodeBool(s)
	case pgtype.Float8OID:
		*v, err = decodeFloat(s, "float8", 64)
	case pgtype.Float4OID:
		*v, err = decodeFloat(s, "float4", 32)
	case pgtype.ByteaOID:
		*v, err = decodeBytea(s)
	case pgtype.UUIDOID:
		*v, err = decodeUUID(s)
	case pgtype.JSONOID, pgtype.JSONBOID:
		*v = change.JSON(string(s))
	case pgtype.DateOID:
		*v, err = decodeDate(s)
	case pgtype.TimeOID:
		*v, err = decodeTime(s)
	case pgtype.TimetzOID:
		*v, err = decodeTimeTZ(s)
	case pgtype.TimestampOID:
		*v, err = decodeTimestamp(s, false)
	case pgtype.TimestamptzOID:
		*v, err = decodeTimestamp(s, true)
	case pgtype.IntervalOID:
		*v, err = decodeInterval(s)
	default:
		return false, nil
	}
	return true, err
}

// parseInt parses an optionally signed decimal int64 without allocating.
func parseInt(s []byte) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range s {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func decodeInt(s []byte, typ string, lo, hi int64) (change.Value, error) {
	n, ok := parseInt(s)
	if !ok {
		return change.Value{}, syntaxError(typ, s)
	}
	if n < lo || n > hi {
		return change.Value{}, rangeError(typ, s)
	}
	return change.Int(n), nil
}

func decodeBool(s []byte) (change.Value, error) {
	switch string(s) {
	case "t", "true":
		return change.Bool(true), nil
	case "f", "false":
		return change.Bool(false), nil
	}
	return change.Value{}, syntaxError("bool", s)
}

// validNumeric accepts PostgreSQL's numeric output: -?digits[.digits], NaN,
// Infinity, -Infinity.
func validNumeric[T string | []byte](s T) bool {
	switch string(s) {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	i := 0
	if len(s) > 0 && s[0] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i]-'0' <= 9 {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i]-'0' <= 9 {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// decodeFloat parses float4 (bits 32: the exact float32 value, widened) or
// float8. PostgreSQL prints the shortest text that reads back exactly
// (extra_float_digits >= 1, the default), and NaN, Infinity, -Infinity.
func decodeFloat(s []byte, typ string, bits int) (change.Value, error) {
	if bytes.IndexByte(s, '_') >= 0 {
		return change.Value{}, syntaxError(typ, s)
	}
	f, err := strconv.ParseFloat(string(s), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return change.Value{}, rangeError(typ, s)
		}
		return change.Value{}, syntaxError(typ, s)
	}
	return change.Float(f), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeBytea parses bytea_output hex (\x0a1b) or escape format.
func decodeBytea(s []byte) (change.Value, error) {
	var b strings.Builder
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		h := s[2:]
		if len(h)%2 != 0 {
			return change.Value{}, syntaxError("bytea", s)
		}
		b.Grow(len(h) / 2)
		for i := 0; i < len(h); i += 2 {
			hi, ok1 := unhex(h[i])
			lo, ok2 := unhex(h[i+1])
			if !ok1 || !ok2 {
				return change.Value{}, syntaxError("bytea", s)
			}
			b.WriteByte(hi<<4 | lo)
		}
		return change.Value{Kind: change.KindBytes, S: b.String()}, nil
	}
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && s[i+2]-'0' <= 7 && s[i+3]-'0' <= 7:
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
		default:
			return change.Value{}, syntaxError("bytea", s)
		}
	}
	return change.Value{Kind: change.KindBytes, S: b.String()}, nil
}

func decodeUUID(s []byte) (change.Value, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return change.Value{}, syntaxError("uuid", s)
	}
	j := 0
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return change.Value{}, syntaxError("uuid", s)
		}
		u[j] = hi<<4 | lo
		j++
		i++
	}
	return change.UUID(u), nil
}
