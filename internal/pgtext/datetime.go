package pgtext

import (
	"strconv"

	"github.com/bgsync/bgsync/change"
)

// Parsing and formatting of date, time, timetz, timestamp and timestamptz in
// PostgreSQL's ISO output style (DateStyle ISO).

// digits reads between lo and hi ASCII digits at s[i:].
func digits(s []byte, i, lo, hi int) (v int64, j int, ok bool) {
	j = i
	for j < len(s) && j-i < hi && s[j]-'0' <= 9 {
		v = v*10 + int64(s[j]-'0')
		j++
	}
	return v, j, j-i >= lo
}

func expect(s []byte, i int, c byte) (int, bool) {
	if i < len(s) && s[i] == c {
		return i + 1, true
	}
	return i, false
}

// parseYMD reads YYYY-MM-DD (the year may have up to 9 digits).
func parseYMD(s []byte, i int) (y, m, d int64, j int, ok bool) {
	y, j, ok = digits(s, i, 4, 9)
	if ok {
		j, ok = expect(s, j, '-')
	}
	if ok {
		m, j, ok = digits(s, j, 2, 2)
	}
	if ok {
		j, ok = expect(s, j, '-')
	}
	if ok {
		d, j, ok = digits(s, j, 2, 2)
	}
	return y, m, d, j, ok
}

// parseClock reads HH:MM:SS[.ffffff] and returns microseconds since
// midnight; the hour may be 24 only for 24:00:00.
func parseClock(s []byte, i int) (us int64, j int, ok bool) {
	var h, m, sec, frac int64
	h, j, ok = digits(s, i, 2, 2)
	if ok {
		j, ok = expect(s, j, ':')
	}
	if ok {
		m, j, ok = digits(s, j, 2, 2)
	}
	if ok {
		j, ok = expect(s, j, ':')
	}
	if ok {
		sec, j, ok = digits(s, j, 2, 2)
	}
	if ok {
		frac, j, ok = fraction(s, j)
	}
	if !ok || h > 24 || m > 59 || sec > 59 || (h == 24 && (m|sec|frac) != 0) {
		return 0, j, false
	}
	return h*usPerHour + m*usPerMinute + sec*usPerSecond + frac, j, true
}

// fraction reads an optional .f to .ffffff and returns it in microseconds.
func fraction(s []byte, i int) (us int64, j int, ok bool) {
	if i >= len(s) || s[i] != '.' {
		return 0, i, true
	}
	start := i + 1
	us, j, ok = digits(s, start, 1, 6)
	for k := j - start; k < 6; k++ {
		us *= 10
	}
	if j < len(s) && s[j]-'0' <= 9 {
		return 0, j, false // more than microsecond precision
	}
	return us, j, ok
}

// parseOffset reads a zone offset +HH[:MM[:SS]] and returns seconds east of UTC.
func parseOffset(s []byte, i int) (sec int64, j int, ok bool) {
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, i, false
	}
	neg := s[i] == '-'
	h, j, ok := digits(s, i+1, 2, 2)
	if !ok {
		return 0, j, false
	}
	var m, ss int64
	if k, colon := expect(s, j, ':'); colon {
		if m, j, ok = digits(s, k, 2, 2); !ok {
			return 0, j, false
		}
		if k, colon = expect(s, j, ':'); colon {
			if ss, j, ok = digits(s, k, 2, 2); !ok {
				return 0, j, false
			}
		}
	}
	if m > 59 || ss > 59 {
		return 0, j, false
	}
	sec = h*3600 + m*60 + ss
	if neg {
		sec = -sec
	}
	return sec, j, true
}

func parseBC(s []byte, i int) (bc bool, j int) {
	if len(s)-i == 3 && string(s[i:]) == " BC" {
		return true, len(s)
	}
	return false, i
}

// civilDays validates a PostgreSQL calendar date (year counted from 1, BC
// flagged) and returns its days since 1970-01-01.
func civilDays(y, m, d int64, bc bool) (int64, bool) {
	if y == 0 {
		return 0, false
	}
	if bc {
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

func infinity(s []byte) (int64, bool) {
	switch string(s) {
	case "infinity":
		return change.PosInfinity, true
	case "-infinity":
		return change.NegInfinity, true
	}
	return 0, false
}

func decodeDate(s []byte) (change.Value, error) {
	if inf, ok := infinity(s); ok {
		return change.Date(inf), nil
	}
	y, m, d, i, ok := parseYMD(s, 0)
	bc, i := parseBC(s, i)
	if !ok || i != len(s) {
		return change.Value{}, syntaxError("date", s)
	}
	days, ok := civilDays(y, m, d, bc)
	if !ok {
		return change.Value{}, rangeError("date", s)
	}
	return change.Date(days), nil
}

func decodeTime(s []byte) (change.Value, error) {
	us, i, ok := parseClock(s, 0)
	if !ok || i != len(s) {
		return change.Value{}, syntaxError("time", s)
	}
	return change.Time(us), nil
}

func decodeTimeTZ(s []byte) (change.Value, error) {
	us, i, ok := parseClock(s, 0)
	var off int64
	if ok {
		off, i, ok = parseOffset(s, i)
	}
	if !ok || i != len(s) {
		return change.Value{}, syntaxError("timetz", s)
	}
	return change.TimeTZ(us, int32(off)), nil
}

// decodeTimestamp parses timestamp, or timestamptz when tz is set (then the
// offset PostgreSQL printed in the session's TimeZone is applied).
func decodeTimestamp(s []byte, tz bool) (change.Value, error) {
	name, mk := "timestamp", change.Timestamp
	if tz {
		name, mk = "timestamptz", change.TimestampTZ
	}
	if inf, ok := infinity(s); ok {
		return mk(inf), nil
	}
	y, m, d, i, ok := parseYMD(s, 0)
	if ok {
		i, ok = expect(s, i, ' ')
	}
	var tod, off int64
	if ok {
		tod, i, ok = parseClock(s, i)
	}
	if ok && tz {
		off, i, ok = parseOffset(s, i)
	}
	bc, i := parseBC(s, i)
	if !ok || i != len(s) || tod >= usPerDay {
		return change.Value{}, syntaxError(name, s)
	}
	days, ok := civilDays(y, m, d, bc)
	if !ok {
		return change.Value{}, rangeError(name, s)
	}
	us, ok := timestampMicros(days, tod)
	if ok && tz {
		us, ok = addChecked(us, -off*usPerSecond)
		ok = ok && us != change.PosInfinity && us != change.NegInfinity
	}
	if !ok {
		return change.Value{}, rangeError(name, s)
	}
	return mk(us), nil
}

// appendPadded appends a non-negative v with at least width digits.
func appendPadded(dst []byte, v int64, width int) []byte {
	n := 1
	for x := v; x >= 10; x /= 10 {
		n++
	}
	for ; n < width; n++ {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, v, 10)
}

func appendDate(dst []byte, days int64) []byte {
	switch days {
	case change.PosInfinity:
		return append(dst, "infinity"...)
	case change.NegInfinity:
		return append(dst, "-infinity"...)
	}
	dst, bc := appendYMD(dst, days)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

func appendYMD(dst []byte, days int64) ([]byte, bool) {
	y, m, d := civilFromDays(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2), bc
}

// appendClock appends HH:MM:SS[.ffffff] for us >= 0 (HH grows past 24 for
// interval clocks).
func appendClock(dst []byte, us int64) []byte {
	dst = appendPadded(dst, us/usPerHour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, us/usPerMinute%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, us/usPerSecond%60, 2)
	return appendFraction(dst, us%usPerSecond)
}

// appendFraction appends .ffffff without trailing zeros, nothing for 0.
func appendFraction(dst []byte, us int64) []byte {
	if us == 0 {
		return dst
	}
	dst = append(dst, '.')
	start := len(dst)
	dst = appendPadded(dst, us, 6)
	end := len(dst)
	for end > start && dst[end-1] == '0' {
		end--
	}
	return dst[:end]
}

func appendOffset(dst []byte, sec int64) []byte {
	if sec < 0 {
		dst = append(dst, '-')
		sec = -sec
	} else {
		dst = append(dst, '+')
	}
	dst = appendPadded(dst, sec/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec/60%60, 2)
	if sec%60 != 0 {
		dst = append(dst, ':')
		dst = appendPadded(dst, sec%60, 2)
	}
	return dst
}

// appendTimestamp appends a timestamp; with tz it is written in UTC with an
// explicit +00 offset, so the session's TimeZone does not matter.
func appendTimestamp(dst []byte, us int64, tz bool) []byte {
	switch us {
	case change.PosInfinity:
		return append(dst, "infinity"...)
	case change.NegInfinity:
		return append(dst, "-infinity"...)
	}
	days := floorDiv(us, usPerDay)
	dst, bc := appendYMD(dst, days+epoch2000Days)
	dst = append(dst, ' ')
	dst = appendClock(dst, us-days*usPerDay)
	if tz {
		dst = append(dst, "+00"...)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}
