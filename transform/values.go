package transform

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
)

// Decimal is a numeric value in expressions: its exact decimal text
// ("12.50"). Use float(), or the decimal helpers, to compute with it.
type Decimal string

// epoch1970 is change's zero for dates (timestamps count from
// change.Epoch2000Unix).
var epoch1970 = time.Unix(0, 0).UTC()

// toGo turns a canonical value into what an expression sees: nil, bool,
// int, float64, string, Decimal, time.Time (timestamps without zone are
// wall-clock times in UTC), []any for arrays. ok is false for the values
// that carry no data (unchanged, absent).
func toGo(v change.Value) (any, bool) {
	switch v.Kind {
	case change.KindNull:
		return nil, true
	case change.KindUnchanged, change.KindAbsent:
		return nil, false
	case change.KindBool:
		return v.Bool(), true
	case change.KindInt:
		return int(v.I), true
	case change.KindUint:
		if v.Uint() > math.MaxInt64 {
			return float64(v.Uint()), true
		}
		return int(v.I), true
	case change.KindNumeric:
		return Decimal(v.S), true
	case change.KindFloat:
		return v.Float(), true
	case change.KindText, change.KindEnum, change.KindJSON, change.KindBytes:
		return v.S, true
	case change.KindUUID:
		return uuidText(v.S), true
	case change.KindDate:
		return epoch1970.AddDate(0, 0, int(v.I)), true
	case change.KindTimestamp, change.KindTimestampTZ:
		return time.UnixMicro(v.I + change.Epoch2000Unix).UTC(), true
	case change.KindArray:
		out := make([]any, len(v.Elems))
		for i, e := range v.Elems {
			out[i], _ = toGo(e)
		}
		return out, true
	}
	// time, timetz, interval: their text form.
	return fmt.Sprint(v.I), true
}

func uuidText(b string) string {
	if len(b) != 16 {
		return b
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[b[i]>>4], hex[b[i]&15])
	}
	return string(out)
}

// sample is a value of the type an expression sees for a column of type
// pgType, for compile-time type checks.
func sample(pgType string) any {
	switch familyOf(pgType) {
	case famInt:
		return 0
	case famNumeric:
		return Decimal("0")
	case famFloat:
		return 0.0
	case famBool:
		return false
	case famDate, famTimestamp, famTimestampTZ:
		return time.Time{}
	case famText, famJSON, famUUID, famBytes:
		return ""
	}
	return nil // unknown to the checker: any
}

// fromGo turns what an expression returned into a value for a column of
// type pgType; zone places timestamps without time zone.
func fromGo(x any, pgType string, zone *time.Location) (change.Value, error) {
	if x == nil {
		return change.Null(), nil
	}
	if d, ok := x.(Decimal); ok && familyOf(pgType) != famNumeric {
		x = string(d) // numeric text into any other column: parse as text
	}
	switch familyOf(pgType) {
	case famInt:
		switch v := x.(type) {
		case int:
			return change.Int(int64(v)), nil
		case int64:
			return change.Int(v), nil
		case float64:
			if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
				return change.Int(int64(v)), nil
			}
			return change.Value{}, fmt.Errorf("%v is not a whole number", v)
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				if n, ok := wholeDecimal(v); ok {
					return change.Int(n), nil
				}
				return change.Value{}, fmt.Errorf("%q is not an integer", v)
			}
			return change.Int(n), nil
		}
	case famNumeric:
		switch v := x.(type) {
		case Decimal:
			return change.Numeric(string(v)), nil
		case int:
			return change.Numeric(strconv.Itoa(v)), nil
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return change.Value{}, fmt.Errorf("%v is not a number a numeric column takes here", v)
			}
			return change.Numeric(strconv.FormatFloat(v, 'f', -1, 64)), nil
		case string:
			if _, err := parseDecimal(v); err != nil {
				return change.Value{}, err
			}
			return change.Numeric(strings.TrimSpace(v)), nil
		}
	case famFloat:
		switch v := x.(type) {
		case float64:
			return change.Float(v), nil
		case int:
			return change.Float(float64(v)), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return change.Value{}, fmt.Errorf("%q is not a number", v)
			}
			return change.Float(f), nil
		}
	case famText:
		switch v := x.(type) {
		case string:
			return change.Text(v), nil
		case int:
			return change.Text(strconv.Itoa(v)), nil
		case float64:
			return change.Text(strconv.FormatFloat(v, 'g', -1, 64)), nil
		case bool:
			return change.Text(strconv.FormatBool(v)), nil
		case time.Time:
			return change.Text(v.Format(time.RFC3339Nano)), nil
		}
	case famJSON:
		switch v := x.(type) {
		case string:
			if !json.Valid([]byte(v)) {
				return change.Value{}, fmt.Errorf("%q is not JSON", clip(v))
			}
			return change.JSON(v), nil
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return change.Value{}, fmt.Errorf("cannot write %T as JSON: %v", x, err)
			}
			return change.JSON(string(b)), nil
		}
	case famBool:
		if v, ok := x.(bool); ok {
			return change.Bool(v), nil
		}
	case famDate:
		if v, ok := x.(time.Time); ok {
			y, m, d := v.Date()
			// Whole days since 1970 (Sub's Duration would saturate beyond 292 years).
			return change.Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400), nil
		}
	case famTimestamp:
		if v, ok := x.(time.Time); ok {
			wall := v.In(zone)
			local := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
			return change.Timestamp(local.UnixMicro() - change.Epoch2000Unix), nil
		}
	case famTimestampTZ:
		if v, ok := x.(time.Time); ok {
			return change.TimestampTZOf(v), nil
		}
	case famUUID, famBytes, famOther:
		if v, ok := x.(string); ok {
			return change.Text(v), nil // the target parses the text form
		}
	}
	return change.Value{}, fmt.Errorf("a %T (%s) cannot be written to a %s column", x, clip(fmt.Sprint(x)), pgType)
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
