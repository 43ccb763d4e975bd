package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
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

// jsonbText writes a JSON text the way PostgreSQL prints a jsonb: object
// keys sorted by length, then bytes (the last of duplicate keys kept),
// ", " and ": " as separators, numbers as numeric prints them.
func jsonbText(s string) (string, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return "", fmt.Errorf("%q is not JSON: %v", clip(s), err)
	}
	if d.More() {
		return "", fmt.Errorf("%q is not JSON: text after the value", clip(s))
	}
	var b bytes.Buffer
	if err := appendJSONB(&b, x); err != nil {
		return "", err
	}
	return b.String(), nil
}

func appendJSONB(b *bytes.Buffer, x any) error {
	switch v := x.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		n, err := jsonbNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(n)
	case string:
		appendJSONBString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := appendJSONB(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) < len(keys[j])
			}
			return keys[i] < keys[j]
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			appendJSONBString(b, k)
			b.WriteString(": ")
			if err := appendJSONB(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("unexpected JSON value %T", x)
	}
	return nil
}

// jsonbNumber prints a JSON number as PostgreSQL's numeric does: the
// exponent applied, the scale kept ("1.50" stays, "1.5e-3" is "0.0015").
func jsonbNumber(s string) (string, error) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil {
			return "", fmt.Errorf("JSON number %s: %v", s, err)
		}
		mant, exp = s[:i], e
	}
	frac := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		frac = len(mant) - i - 1
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("JSON number %s does not parse", s)
	}
	out := r.FloatString(max(frac-exp, 0))
	if strings.HasPrefix(out, "-") && strings.Trim(out, "-0.") == "" {
		out = out[1:] // numeric has no negative zero
	}
	return out, nil
}

// appendJSONBString quotes s as PostgreSQL's escape_json does.
func appendJSONBString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
