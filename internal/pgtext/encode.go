package pgtext

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// Encode appends the PostgreSQL text input form of v to dst: sent as a
// text-format parameter of unspecified type (OID 0), as in
// INSERT ... VALUES ($1) or WHERE col = $1, the server stores exactly v
// whatever the session's TimeZone, DateStyle or IntervalStyle. NULL,
// Unchanged and Absent have no text form: Encode returns an error wrapping
// ErrNoText for them and the caller sends a SQL NULL or keeps the column out
// of the statement. On success the result is never nil, even for an empty
// text, because pgconn sends a nil parameter as NULL. On error dst is
// returned truncated to its original length.
func Encode(dst []byte, v change.Value) ([]byte, error) {
	n := len(dst)
	var err error
	if v.Kind == change.KindArray {
		dst, err = appendArray(dst, v)
	} else {
		dst, err = appendScalar(dst, v)
	}
	if err != nil {
		return dst[:n], fmt.Errorf("pgtext: encode %s: %w", v.Kind, err)
	}
	if dst == nil {
		// pgconn sends a nil parameter as NULL: an empty text must not be.
		dst = []byte{}
	}
	return dst, nil
}

func appendScalar(dst []byte, v change.Value) ([]byte, error) {
	switch v.Kind {
	case change.KindInt:
		return strconv.AppendInt(dst, v.I, 10), nil
	case change.KindText, change.KindJSON, change.KindEnum:
		if strings.IndexByte(v.S, 0) >= 0 {
			return dst, fmt.Errorf("text contains a NUL byte, which PostgreSQL cannot store: %w", ErrRange)
		}
		return append(dst, v.S...), nil
	case change.KindNumeric:
		if !validNumeric(v.S) {
			return dst, fmt.Errorf("%q is not a decimal number: %w", v.S, ErrSyntax)
		}
		return append(dst, v.S...), nil
	case change.KindBool:
		if v.Bool() {
			return append(dst, 't'), nil
		}
		return append(dst, 'f'), nil
	case change.KindUint:
		return strconv.AppendUint(dst, v.Uint(), 10), nil
	case change.KindFloat:
		return appendFloat(dst, v.Float()), nil
	case change.KindBytes:
		return appendBytea(dst, v.S), nil
	case change.KindUUID:
		return appendUUID(dst, v.S)
	case change.KindDate:
		if v.I != change.PosInfinity && v.I != change.NegInfinity && (v.I < minPGDay || v.I > maxPGDay) {
			return dst, fmt.Errorf("date %d days from 1970 outside PostgreSQL's 4714-11-24 BC..5874897-12-31: %w", v.I, ErrRange)
		}
		return appendDate(dst, v.I), nil
	case change.KindTime:
		if v.I < 0 || v.I > usPerDay {
			return dst, fmt.Errorf("time of day %d µs outside 00:00:00..24:00:00: %w", v.I, ErrRange)
		}
		return appendClock(dst, v.I), nil
	case change.KindTimeTZ:
		if v.I < 0 || v.I > usPerDay {
			return dst, fmt.Errorf("time of day %d µs outside 00:00:00..24:00:00: %w", v.I, ErrRange)
		}
		if v.J < -maxZoneOffset || v.J > maxZoneOffset {
			return dst, fmt.Errorf("zone offset %d s beyond PostgreSQL's ±15:59:59: %w", v.J, ErrRange)
		}
		return appendOffset(appendClock(dst, v.I), v.J), nil
	case change.KindTimestamp, change.KindTimestampTZ:
		if v.I != change.NegInfinity && v.I != change.PosInfinity && (v.I < minPGTimestamp || v.I > maxPGTimestamp) {
			return dst, fmt.Errorf("%d µs from 2000 is outside PostgreSQL's 4714-11-24 BC..294276-12-31: %w", v.I, ErrRange)
		}
		return appendTimestamp(dst, v.I, v.Kind == change.KindTimestampTZ), nil
	case change.KindInterval:
		return appendInterval(dst, v), nil
	case change.KindNull, change.KindUnchanged, change.KindAbsent:
		return dst, ErrNoText
	case change.KindArray:
		return appendArray(dst, v)
	}
	return dst, fmt.Errorf("unknown kind %d: %w", v.Kind, ErrSyntax)
}

// appendFloat writes the shortest text that reads back exactly, or NaN,
// Infinity, -Infinity.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// PostgreSQL's date range, 4714-11-24 BC (Julian day 0) to 5874897-12-31, in
// days from 1970-01-01.
var (
	minPGDay = daysFromCivil(-4713, 11, 24)
	// PostgreSQL's timestamp range in microseconds from 2000-01-01.
	minPGTimestamp = (minPGDay - epoch2000Days) * usPerDay
	maxPGTimestamp = (daysFromCivil(294277, 1, 1)-epoch2000Days)*usPerDay - 1
	maxPGDay       = daysFromCivil(5874897, 12, 31)
)

// maxZoneOffset is PostgreSQL's largest timetz offset, 15:59:59.
const maxZoneOffset = 15*3600 + 59*60 + 59

func appendBytea(dst []byte, s string) []byte {
	dst = append(dst, '\\', 'x')
	for i := 0; i < len(s); i++ {
		dst = append(dst, hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
	}
	return dst
}

func appendUUID(dst []byte, s string) ([]byte, error) {
	if len(s) != 16 {
		return dst, fmt.Errorf("uuid of %d bytes, want 16: %w", len(s), ErrRange)
	}
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
	}
	return dst, nil
}
