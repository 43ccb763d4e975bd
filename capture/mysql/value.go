package mysql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// errZeroDate: MySQL's '0000-00-00' (or a date with a zero month or day)
// has no canonical form; it is never turned into NULL silently.
var errZeroDate = errors.New("zero date (or zero month/day): no canonical value; fix the row or the sql_mode that let it in")

// value converts one go-mysql row value into a canonical value. The
// syncer runs with ParseTime on, so DATETIME and TIMESTAMP come as
// time.Time except zero dates and DATETIMEs before 1970, which come as
// text; DECIMAL, DATE, TIME and CHAR/VARCHAR as strings; BLOB/TEXT as bytes;
// ENUM, SET and BIT as int64.
func (c *column) value(v any) (change.Value, error) {
	if v == nil {
		return change.Null(), nil
	}
	switch c.typ {
	case gomysql.MYSQL_TYPE_TINY, gomysql.MYSQL_TYPE_SHORT, gomysql.MYSQL_TYPE_INT24,
		gomysql.MYSQL_TYPE_LONG, gomysql.MYSQL_TYPE_LONGLONG, gomysql.MYSQL_TYPE_YEAR:
		return intValue(v)
	case gomysql.MYSQL_TYPE_FLOAT, gomysql.MYSQL_TYPE_DOUBLE:
		switch f := v.(type) {
		case float32:
			return change.Float(float64(f)), nil
		case float64:
			return change.Float(f), nil
		}
	case gomysql.MYSQL_TYPE_NEWDECIMAL, gomysql.MYSQL_TYPE_DECIMAL:
		if s, ok := v.(string); ok {
			return change.Numeric(s), nil
		}
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		switch t := v.(type) {
		case time.Time:
			return change.Timestamp(t.UnixMicro() - change.Epoch2000Unix), nil
		case string:
			us, err := parseDatetime(t)
			return change.Timestamp(us - change.Epoch2000Unix), err
		}
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		switch t := v.(type) {
		case time.Time: // an instant: its zone does not matter
			return change.TimestampTZOf(t), nil
		case string: // only the zero timestamp comes as text
			return change.Value{}, errZeroDate
		}
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE:
		if s, ok := v.(string); ok {
			days, err := parseDate(s)
			return change.Date(days), err
		}
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		if s, ok := v.(string); ok {
			us, err := parseTime(s)
			if err != nil {
				return change.Value{}, err
			}
			if us >= 0 && us < 24*int64(time.Hour/time.Microsecond) {
				return change.Time(us), nil
			}
			return change.Interval(0, 0, us), nil
		}
	case gomysql.MYSQL_TYPE_BIT:
		if n, ok := v.(int64); ok {
			s := strconv.FormatUint(uint64(n), 2)
			if len(s) < c.bits {
				s = strings.Repeat("0", c.bits-len(s)) + s
			}
			return change.Enum(s), nil
		}
	case gomysql.MYSQL_TYPE_ENUM:
		if n, ok := v.(int64); ok {
			if n == 0 { // the '' MySQL stores for an invalid value
				return change.Enum(""), nil
			}
			if n < 0 || int(n) > len(c.labels) {
				return change.Value{}, fmt.Errorf("enum index %d beyond its %d labels", n, len(c.labels))
			}
			return change.Enum(c.labels[n-1]), nil
		}
	case gomysql.MYSQL_TYPE_SET:
		if n, ok := v.(int64); ok {
			return c.setValue(uint64(n))
		}
	case gomysql.MYSQL_TYPE_JSON: // MySQL's binary JSON, rendered as text by go-mysql
		switch j := v.(type) {
		case string:
			return change.JSON(j), nil
		case []byte: // an empty document: MySQL reads it as JSON null
			if len(j) == 0 {
				return change.JSON("null"), nil
			}
			return change.JSON(string(j)), nil
		}
		return change.Value{}, fmt.Errorf("partial JSON update (%T): set binlog_row_value_options='' so rows carry whole documents", v)
	case gomysql.MYSQL_TYPE_GEOMETRY:
		if b, ok := v.([]byte); ok {
			return change.Bytes(b), nil
		}
	case gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING, gomysql.MYSQL_TYPE_STRING:
		switch s := v.(type) {
		case []byte:
			return c.stringValue(string(s))
		case string:
			return c.stringValue(s)
		}
	default:
		return change.Value{}, fmt.Errorf("unsupported column type %d", c.typ)
	}
	return change.Value{}, fmt.Errorf("unexpected %T for a %s column", v, c.typeName())
}

func intValue(v any) (change.Value, error) {
	switch n := v.(type) {
	case int8:
		return change.Int(int64(n)), nil
	case int16:
		return change.Int(int64(n)), nil
	case int32:
		return change.Int(int64(n)), nil
	case int64:
		return change.Int(n), nil
	case int:
		return change.Int(int64(n)), nil
	case uint8:
		return change.Int(int64(n)), nil
	case uint16:
		return change.Int(int64(n)), nil
	case uint32:
		return change.Int(int64(n)), nil
	case uint64:
		if n > math.MaxInt64 {
			return change.Uint(n), nil
		}
		return change.Int(int64(n)), nil
	}
	return change.Value{}, fmt.Errorf("unexpected %T for an integer column", v)
}

func (c *column) stringValue(s string) (change.Value, error) {
	if c.binary {
		if c.typ == gomysql.MYSQL_TYPE_STRING && len(s) < c.size { // BINARY(n): restore the zero padding
			s += strings.Repeat("\x00", c.size-len(s))
		}
		return change.Value{Kind: change.KindBytes, S: s}, nil
	}
	if !utf8.ValidString(s) {
		return change.Value{}, errors.New("text is not valid UTF-8 (only utf8mb4/utf8mb3/ascii text columns are supported; use a binary type for other bytes)")
	}
	return change.Text(s), nil
}

func (c *column) setValue(bits uint64) (change.Value, error) {
	var b strings.Builder
	for i := 0; bits != 0; i++ {
		if bits&1 != 0 {
			if i >= len(c.labels) {
				return change.Value{}, fmt.Errorf("set member %d beyond its %d labels", i+1, len(c.labels))
			}
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.labels[i])
		}
		bits >>= 1
	}
	return change.Text(b.String()), nil
}

// parseDate reads YYYY-MM-DD into days since 1970-01-01.
func parseDate(s string) (int64, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	if m == 0 || d == 0 {
		return 0, errZeroDate
	}
	if m > 12 || d > 31 {
		return 0, fmt.Errorf("date %q out of range", s)
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400, nil
}

// parseDatetime reads "YYYY-MM-DD HH:MM:SS[.f…]" (no zone) into Unix
// microseconds.
func parseDatetime(s string) (int64, error) {
	if len(s) < 19 || s[10] != ' ' {
		return 0, fmt.Errorf("datetime %q: want YYYY-MM-DD HH:MM:SS", s)
	}
	days, err := parseDate(s[:10])
	if err != nil {
		return 0, err
	}
	us, err := parseClock(s[11:], false)
	if err != nil {
		return 0, fmt.Errorf("datetime %q: %w", s, err)
	}
	return days*86400_000_000 + us, nil
}

// parseTime reads a TIME value "[-]H…H:MM:SS[.f…]" into microseconds.
func parseTime(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	us, err := parseClock(strings.TrimPrefix(s, "-"), true)
	if err != nil {
		return 0, fmt.Errorf("time %q: %w", s, err)
	}
	if neg {
		us = -us
	}
	return us, nil
}

// parseClock reads "HH:MM:SS[.f…]"; wideHours allows TIME's up to 838 hours.
func parseClock(s string, wideHours bool) (int64, error) {
	hs, rest, ok := strings.Cut(s, ":")
	if !ok || len(rest) < 5 || rest[2] != ':' || len(hs) < 2 || len(hs) > 3 || (!wideHours && len(hs) != 2) {
		return 0, errors.New("want HH:MM:SS")
	}
	h, ok1 := digits(hs)
	m, ok2 := digits(rest[0:2])
	sec, ok3 := digits(rest[3:5])
	if !ok1 || !ok2 || !ok3 || m > 59 || sec > 59 || (!wideHours && h > 23) {
		return 0, errors.New("want HH:MM:SS")
	}
	us := (int64(h)*3600 + int64(m)*60 + int64(sec)) * 1_000_000
	if frac := rest[5:]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 7 {
			return 0, errors.New("bad fraction")
		}
		f, ok := digits(frac[1:])
		if !ok {
			return 0, errors.New("bad fraction")
		}
		for i := len(frac) - 1; i < 6; i++ {
			f *= 10
		}
		us += int64(f)
	}
	return us, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}
