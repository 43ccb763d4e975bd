package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

// Helpers bgsync adds to expr's builtins (which already have trim, lower,
// upper, split, join, int, float, string, toJSON, fromJSON, date, ...):
//
//	coalesce(a, b, ...)        the first argument that is not nil
//	split_part(s, sep, n)      the n-th (from 0) part of s split at sep, "" past the end
//	json_get(doc, "a.b.0")     the value at a dotted path in a JSON text, nil if absent
//	json_text(v)               v written as JSON text (maps, lists, strings, numbers)
//	decimal(x)                 x (int, float, string or Decimal) as an exact Decimal
//	scaled(d, n)               the Decimal d times 10^n as an int; an error if a fraction remains
//	unscaled(i, n)             the int i divided by 10^n as an exact Decimal
//	in_zone(t, "Europe/Paris") the wall-clock time t (a timestamp without time zone) placed in a zone
//	wall(t, "Europe/Paris")    the wall-clock time of t in a zone, as a timestamp without time zone
//
// As in SQL, every helper but coalesce, json_get and json_text returns nil
// (NULL) when an argument is nil.
// nullSafe makes f return nil when any argument is nil, as SQL functions
// return NULL: a NULL column in a row must not be a type error.
func nullSafe(f func(args ...any) (any, error)) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		for _, a := range args {
			if a == nil {
				return nil, nil
			}
		}
		return f(args...)
	}
}

func helpers() []expr.Option {
	return []expr.Option{
		expr.Function("coalesce", func(args ...any) (any, error) {
			for _, a := range args {
				if a != nil {
					return a, nil
				}
			}
			return nil, nil
		}),
		expr.Function("split_part", nullSafe(func(args ...any) (any, error) {
			parts := strings.Split(args[0].(string), args[1].(string))
			if n := args[2].(int); n >= 0 && n < len(parts) {
				return parts[n], nil
			}
			return "", nil
		}), new(func(string, string, int) string)),
		expr.Function("json_get", func(args ...any) (any, error) {
			return jsonGet(args[0], args[1].(string))
		}, new(func(any, string) any)),
		expr.Function("json_text", func(args ...any) (any, error) {
			b, err := json.Marshal(args[0])
			return string(b), err
		}, new(func(any) string)),
		expr.Function("decimal", nullSafe(func(args ...any) (any, error) {
			r, err := ratOf(args[0])
			if err != nil {
				return nil, err
			}
			return Decimal(ratText(r)), nil
		}), new(func(any) Decimal)),
		expr.Function("scaled", nullSafe(func(args ...any) (any, error) {
			r, err := ratOf(args[0])
			if err != nil {
				return nil, err
			}
			r.Mul(r, pow10(args[1].(int)))
			if !r.IsInt() || !r.Num().IsInt64() {
				return nil, fmt.Errorf("scaled(%s, %d) is not a whole number within 64 bits", ratText(r), args[1])
			}
			return int(r.Num().Int64()), nil
		}), new(func(any, int) int)),
		expr.Function("unscaled", nullSafe(func(args ...any) (any, error) {
			r := new(big.Rat).SetInt64(int64(args[0].(int)))
			r.Quo(r, pow10(args[1].(int)))
			return Decimal(r.FloatString(max(args[1].(int), 0))), nil
		}), new(func(int, int) Decimal)),
		expr.Function("in_zone", nullSafe(func(args ...any) (any, error) {
			loc, err := time.LoadLocation(args[1].(string))
			if err != nil {
				return nil, err
			}
			t := args[0].(time.Time)
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), nil
		}), new(func(time.Time, string) time.Time)),
		expr.Function("wall", nullSafe(func(args ...any) (any, error) {
			loc, err := time.LoadLocation(args[1].(string))
			if err != nil {
				return nil, err
			}
			t := args[0].(time.Time).In(loc)
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
		}), new(func(time.Time, string) time.Time)),
	}
}

// jsonGet walks a dotted path ("a.b.0") into doc: JSON text, or a value
// fromJSON already decoded.
func jsonGet(doc any, path string) (any, error) {
	if s, ok := doc.(string); ok {
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, fmt.Errorf("json_get: %s is not JSON", clip(s))
		}
	}
	if path == "" {
		return doc, nil
	}
	for _, step := range strings.Split(path, ".") {
		switch d := doc.(type) {
		case map[string]any:
			doc = d[step]
		case []any:
			var i int
			if _, err := fmt.Sscanf(step, "%d", &i); err != nil || i < 0 || i >= len(d) {
				return nil, nil
			}
			doc = d[i]
		default:
			return nil, nil
		}
	}
	if f, ok := doc.(float64); ok && f == float64(int(f)) {
		return int(f), nil // JSON numbers that are whole read as int
	}
	return doc, nil
}

func pow10(n int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n))), nil)
	if n < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// ratOf reads a number exactly.
func ratOf(x any) (*big.Rat, error) {
	switch v := x.(type) {
	case int:
		return new(big.Rat).SetInt64(int64(v)), nil
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(v) == nil {
			return nil, fmt.Errorf("%v is not a finite number", v)
		}
		// The shortest decimal that reads back as v, not its binary expansion.
		return parseDecimal(fmt.Sprint(v))
	case Decimal:
		return parseDecimal(string(v))
	case string:
		return parseDecimal(v)
	case nil:
		return nil, errors.New("a number is required, got nil")
	}
	return nil, fmt.Errorf("a number is required, got a %T", x)
}

func parseDecimal(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || strings.ContainsAny(s, "/") {
		return nil, fmt.Errorf("%q is not a decimal number", clip(s))
	}
	return r, nil
}

// wholeDecimal reads "12.00" as 12.
func wholeDecimal(s string) (int64, bool) {
	r, err := parseDecimal(s)
	if err != nil || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// ratText writes r as the shortest exact decimal (r must have one: the
// inputs are decimals and powers of ten).
func ratText(r *big.Rat) string {
	for prec := 0; prec <= 64; prec++ {
		s := r.FloatString(prec)
		if back, _ := new(big.Rat).SetString(s); back != nil && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(64)
}
