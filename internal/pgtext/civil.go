package pgtext

import "math"

// Calendar arithmetic on the proleptic Gregorian calendar with astronomical
// year numbering (1 BC is year 0, 2 BC is year -1), which is what PostgreSQL
// uses for date and timestamp.

const (
	usPerSecond = 1_000_000
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d.
// m is 1..12, d is 1..31; |y| must stay below about 10^12.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400                     // 0..399
	mp := (m + 9) % 12                     // March is 0
	doy := (153*mp+2)/5 + d - 1            // 0..365
	doe := yoe*365 + yoe/4 - yoe/100 + doy // 0..146096
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// addChecked returns a+b, or ok=false on int64 overflow.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// epoch2000Days is 2000-01-01 in days from 1970-01-01: timestamps count
// from 2000 (change.Epoch2000Unix), dates from 1970.
const epoch2000Days = 10957

// timestampMicros combines days from 1970 and a time of day into
// microseconds since 2000-01-01 00:00, refusing results that overflow or collide with the
// infinity sentinels.
func timestampMicros(days, tod int64) (int64, bool) {
	days -= epoch2000Days
	const maxDays = math.MaxInt64 / usPerDay
	if days > maxDays || days < -maxDays-1 {
		return 0, false
	}
	var us int64
	var ok bool
	if days < 0 {
		// (days+1)*usPerDay cannot overflow where days*usPerDay might.
		us, ok = addChecked((days+1)*usPerDay, tod-usPerDay)
	} else {
		us, ok = addChecked(days*usPerDay, tod)
	}
	if !ok || us == math.MaxInt64 || us == math.MinInt64 {
		return 0, false
	}
	return us, true
}
