package transform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// storedForm returns v as the target column will print it once stored:
// a numeric(p,s) with exactly s decimals, a jsonb in PostgreSQL's jsonb
// output. A mapped before-image is compared with the target's current row
// value by value (conflict detection), so "12.5" must be "12.50" and
// {"b":1,"a":2} must be {"a": 2, "b": 1} as the target holds them.
func storedForm(v change.Value, pgType string) (change.Value, error) {
	switch {
	case v.Kind == change.KindNumeric:
		if s, ok := numericScale(pgType); ok {
			r, err := parseDecimal(v.S)
			if err != nil {
				return v, err
			}
			return change.Numeric(r.FloatString(s)), nil // rounds half away from zero, as PostgreSQL does
		}
	case v.Kind == change.KindJSON && strings.TrimSpace(pgType) == "jsonb":
		s, err := jsonbText(v.S)
		if err != nil {
			return v, err
		}
		return change.JSON(s), nil
	}
	return v, nil
}

// numericScale reads s from "numeric(p,s)" ("numeric(p)" is scale 0).
func numericScale(pgType string) (int, bool) {
	if familyOf(pgType) != famNumeric {
		return 0, false
	}
	i := strings.IndexByte(pgType, '(')
	j := strings.IndexByte(pgType, ')')
	if i < 0 || j < i {
		return 0, false
	}
	_, scale, found := strings.Cut(pgType[i+1:j], ",")
	if !found {
		return 0, true
	}
	s, err := strconv.Atoi(strings.TrimSpace(scale))
	return s, err == nil && s >= 0
}

// jsonbText writes a JSON text the way PostgreSQL prints a jsonb
// (pgtext.JSONB).
func jsonbText(s string) (string, error) {
	out, err := pgtext.JSONB(s)
	switch {
	case errors.Is(err, pgtext.ErrRange):
		return "", fmt.Errorf("%q does not fit a jsonb: %v", clip(s), err)
	case err != nil:
		return "", fmt.Errorf("%q is not JSON: %v", clip(s), err)
	}
	return out, nil
}
