package mysql

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/bgsync/bgsync/change"
)

// Text forms of dates, times, timestamps and UUIDs as MySQL reads and
// prints them.

const (
	dayMicros = 86_400_000_000
	// maxTimeMicros is 838:59:59.999999, the TIME type's bound.
	maxTimeMicros = (838*3600+59*60+59)*1_000_000 + 999_999
	layoutDate    = "2006-01-02"
	layoutStamp   = "2006-01-02 15:04:05.000000"
)

// The years 1 to 9999 are what both MySQL and Go's time formatting cover.
var (
	minDay = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	maxDay = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400
)

var errRange = errors.New("outside the years 1 to 9999")

func formatDate(days int64) (string, error) {
	if days < minDay || days > maxDay {
		return "", errRange
	}
	return time.Unix(days*86400, 0).UTC().Format(layoutDate), nil
}

// formatTimestamp prints microseconds since 2000-01-01 as
// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC wall time for a TimestampTZ).
func formatTimestamp(us int64) (string, error) {
	lo := minDay*dayMicros - change.Epoch2000Unix
	hi := (maxDay+1)*dayMicros - 1 - change.Epoch2000Unix
	if us < lo || us > hi {
		return "", errRange
	}
	return time.UnixMicro(us + change.Epoch2000Unix).UTC().Format(layoutStamp), nil
}

// formatClock prints a time of day (0 to 24:00:00) as HH:MM:SS.ffffff.
func formatClock(us int64) string {
	b := make([]byte, 0, 16)
	return string(appendClock(b, us))
}

// formatTimeValue prints a signed duration as a TIME value.
func formatTimeValue(us int64) (string, error) {
	if us > maxTimeMicros || us < -maxTimeMicros {
		return "", fmt.Errorf("beyond TIME's ±838:59:59.999999")
	}
	b := make([]byte, 0, 17)
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	return string(appendClock(b, us)), nil
}

func appendClock(b []byte, us int64) []byte {
	h := us / 3_600_000_000
	us -= h * 3_600_000_000
	m := us / 60_000_000
	us -= m * 60_000_000
	s := us / 1_000_000
	us -= s * 1_000_000
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, h, 10)
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	frac := strconv.AppendInt(nil, us+1_000_000, 10) // 1 + six digits
	return append(b, frac[1:]...)
}

// parseTemporal reads s as a value of kind: DATE text for KindDate, TIME
// text for KindTime (a time of day only) and KindInterval, DATETIME text
// for KindTimestamp and KindTimestampTZ (as UTC).
func parseTemporal(kind change.Kind, s string) (change.Value, bool) {
	switch kind {
	case change.KindDate:
		t, err := time.Parse(layoutDate, s)
		if err != nil {
			return change.Value{}, false
		}
		return change.Date(t.Unix() / 86400), true
	case change.KindTimestamp, change.KindTimestampTZ:
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
		if err != nil {
			return change.Value{}, false
		}
		return change.Value{Kind: kind, I: t.UnixMicro() - change.Epoch2000Unix}, true
	case change.KindTime:
		us, ok := parseClock(s)
		if !ok || us < 0 || us > dayMicros {
			return change.Value{}, false
		}
		return change.Time(us), true
	case change.KindInterval:
		us, ok := parseClock(s)
		if !ok {
			return change.Value{}, false
		}
		return change.Interval(0, 0, us), true
	}
	return change.Value{}, false
}

// parseClock reads [-]H+:MM:SS[.f{1,6}] as signed microseconds.
func parseClock(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	i := 0
	var h int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 4 {
		h = h*10 + int64(s[i]-'0')
		i++
	}
	if i == 0 || len(s) < i+6 || s[i] != ':' || s[i+3] != ':' {
		return 0, false
	}
	m, ok1 := two(s[i+1:])
	sec, ok2 := two(s[i+4:])
	if !ok1 || !ok2 || m > 59 || sec > 59 {
		return 0, false
	}
	us := ((h*60+m)*60 + sec) * 1_000_000
	rest := s[i+6:]
	if rest != "" {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 7 {
			return 0, false
		}
		var f int64
		for j := 1; j < 7; j++ {
			f *= 10
			if j < len(rest) {
				if rest[j] < '0' || rest[j] > '9' {
					return 0, false
				}
				f += int64(rest[j] - '0')
			}
		}
		us += f
	}
	if neg {
		us = -us
	}
	return us, true
}

func two(s string) (int64, bool) {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int64(s[0]-'0')*10 + int64(s[1]-'0'), true
}

// formatUUID prints 16 bytes as 8-4-4-4-12 lower-case hex.
func formatUUID(b string) string {
	var out [36]byte
	hex.Encode(out[0:8], []byte(b[0:4]))
	hex.Encode(out[9:13], []byte(b[4:6]))
	hex.Encode(out[14:18], []byte(b[6:8]))
	hex.Encode(out[19:23], []byte(b[8:10]))
	hex.Encode(out[24:36], []byte(b[10:16]))
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// parseUUID reads the 8-4-4-4-12 form (either case).
func parseUUID(s string) (change.Value, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return change.Value{}, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	b, err := hex.DecodeString(h)
	if err != nil {
		return change.Value{}, false
	}
	return change.Value{Kind: change.KindUUID, S: string(b)}, true
}

// finiteDecimal: [+-]digits[.digits], the form MySQL's DECIMAL reads.
func finiteDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
