package pgtext

import (
	"math"
	"strconv"

	"github.com/bgsync/bgsync/change"
)

// Intervals in IntervalStyle postgres, the default:
//
//	1 year 2 mons -3 days +04:05:06.789
//	-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808
//	00:00:00
//
// Years and months make the month count, days are separate, and the clock
// part is the microsecond count; PostgreSQL keeps the three apart. The
// decoder also reads "N hours" and "N.F secs", which Encode uses for the one
// clock value PostgreSQL prints but cannot read back (-2562047788:00:54.775808).

// maxIntervalHours is the largest hour count of an int64 microsecond clock.
const maxIntervalHours = math.MaxInt64 / usPerHour

func decodeInterval(s []byte) (change.Value, error) {
	var acc intervalParts
	sawAny := false
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		if acc.sawClock {
			return change.Value{}, syntaxError("interval", s) // the clock comes last
		}
		j, err := acc.field(s, i)
		if err != nil {
			return change.Value{}, err
		}
		i, sawAny = j, true
	}
	if !sawAny {
		return change.Value{}, syntaxError("interval", s)
	}
	return change.Interval(int32(acc.months), int32(acc.days), acc.us), nil
}

// intervalParts accumulates the fields of an interval, range-checked.
type intervalParts struct {
	months, days, us int64
	sawClock         bool
}

// field reads one "[+-]N unit" or "[+-]H:MM:SS[.f]" at s[i:] and returns
// the index after it.
func (p *intervalParts) field(s []byte, i int) (int, error) {
	sign := int64(1)
	if s[i] == '+' || s[i] == '-' {
		if s[i] == '-' {
			sign = -1
		}
		i++
	}
	n, j, ok := digits(s, i, 1, 12)
	if !ok {
		return 0, syntaxError("interval", s)
	}
	if j < len(s) && s[j] == ':' {
		var mag uint64
		if mag, j, ok = parseIntervalClock(s, n, j+1); !ok {
			return 0, syntaxError("interval", s)
		}
		clock, ok := applySign(mag, sign < 0)
		if ok {
			p.us, ok = addChecked(p.us, clock)
		}
		if !ok {
			return 0, rangeError("interval", s)
		}
		p.sawClock = true
		return j, nil
	}
	hasFrac := j < len(s) && s[j] == '.'
	var frac int64
	if hasFrac {
		if frac, j, ok = fraction(s, j); !ok {
			return 0, syntaxError("interval", s)
		}
	}
	unit, k := unitAt(s, j)
	if hasFrac && unit != 's' {
		return 0, syntaxError("interval", s)
	}
	switch unit {
	case 'y':
		p.months += sign * n * 12
	case 'm':
		p.months += sign * n
	case 'd':
		p.days += sign * n
	case 'h':
		ok = n <= maxIntervalHours
		if ok {
			p.us, ok = addChecked(p.us, sign*n*usPerHour)
		}
	case 's':
		p.us, ok = addChecked(p.us, sign*(n*usPerSecond+frac))
	default:
		return 0, syntaxError("interval", s)
	}
	if !ok || p.months != int64(int32(p.months)) || p.days != int64(int32(p.days)) {
		return 0, rangeError("interval", s)
	}
	return k, nil
}

// unitAt reads " unit" after a number and returns 'y', 'm', 'd', 'h' or 's'
// (0 for anything else) and the index after it.
func unitAt(s []byte, i int) (byte, int) {
	if i >= len(s) || s[i] != ' ' {
		return 0, i
	}
	j := i + 1
	for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
		j++
	}
	switch string(s[i+1 : j]) {
	case "year", "years":
		return 'y', j
	case "mon", "mons":
		return 'm', j
	case "day", "days":
		return 'd', j
	case "hour", "hours":
		return 'h', j
	case "sec", "secs":
		return 's', j
	}
	return 0, j
}

// parseIntervalClock reads :MM:SS[.ffffff] after an hour count h and returns
// the magnitude in microseconds.
func parseIntervalClock(s []byte, h int64, i int) (uint64, int, bool) {
	m, j, ok := digits(s, i, 2, 2)
	if ok {
		j, ok = expect(s, j, ':')
	}
	var sec, frac int64
	if ok {
		sec, j, ok = digits(s, j, 2, 2)
	}
	if ok {
		frac, j, ok = fraction(s, j)
	}
	if !ok || m > 59 || sec > 59 || h > maxIntervalHours+1 {
		return 0, j, false
	}
	return uint64(h)*usPerHour + uint64(m*usPerMinute+sec*usPerSecond+frac), j, true
}

func applySign(mag uint64, neg bool) (int64, bool) {
	if neg {
		if mag > 1<<63 {
			return 0, false
		}
		return int64(-mag), true
	}
	if mag > math.MaxInt64 {
		return 0, false
	}
	return int64(mag), true
}

// appendInterval writes an interval every IntervalStyle accepts: each part
// carries its own sign, so sql_standard's sign propagation cannot apply.
func appendInterval(dst []byte, v change.Value) []byte {
	if m := v.IntervalMonths(); m != 0 {
		dst = appendSigned(dst, int64(m))
		dst = append(dst, " mons "...)
	}
	if d := v.IntervalDays(); d != 0 {
		dst = appendSigned(dst, int64(d))
		dst = append(dst, " days "...)
	}
	us := v.I
	if us == math.MinInt64 {
		// -2562047788:00:54.775808 overflows PostgreSQL's clock parser.
		return append(dst, "-2562047788 hours -54.775808 secs"...)
	}
	if us < 0 {
		dst = append(dst, '-')
		us = -us
	} else {
		dst = append(dst, '+')
	}
	return appendClock(dst, us) // any number of hours
}

func appendSigned(dst []byte, n int64) []byte {
	if n >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, n, 10)
}
