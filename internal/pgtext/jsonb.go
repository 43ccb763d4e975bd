package pgtext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONB returns the text PostgreSQL prints for the JSON text s stored in a
// jsonb column: object keys sorted by length, then bytes (the last of
// duplicate keys kept), ", " and ": " as separators, strings with their
// escapes decoded and re-escaped as escape_json does, numbers as numeric
// prints them (the exponent applied, the scale kept: "1.50" stays, "1e2"
// is "100", "-0" is "0"). Two JSON texts hold the same jsonb value
// exactly when their JSONB texts are equal, so this is also the canonical
// form by which bgsync compares JSON (transform.Canonical, verify, the
// appliers' conflict checks).
//
// s must be one JSON value (surrounding white space allowed). It is an
// error, as the server refuses it, when s is not valid UTF-8 or not JSON,
// has a \u0000 escape or a lone UTF-16 surrogate, or a number beyond
// numeric's range (more than 131072 digits before the point or 16383
// after it; that error wraps ErrRange). Work is linear in len(s): exponents are bounded before any
// number is expanded.
func JSONB(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
	}
	if err := checkEscapes(s); err != nil {
		return "", err
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return "", err
	}
	if strings.TrimLeft(s[d.InputOffset():], " \t\n\r") != "" {
		return "", errors.New("text after the value")
	}
	var b bytes.Buffer
	b.Grow(len(s))
	if err := appendJSONB(&b, x); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkEscapes refuses the \u escapes jsonb cannot store: \u0000 and
// UTF-16 surrogates that are not a high one followed by a low one
// (encoding/json would turn those into U+FFFD). A backslash occurs in
// JSON only inside strings, so the raw text is scanned as it is.
func checkEscapes(s string) error {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // a two-character escape (or a syntax error the decoder reports)
			continue
		}
		switch {
		case r == 0:
			return errors.New(`unsupported Unicode escape sequence \u0000`)
		case r >= 0xD800 && r < 0xDC00:
			if lo, ok := hex4(i + 6); !ok || lo < 0xDC00 || lo > 0xDFFF {
				return fmt.Errorf(`Unicode high surrogate \u%04x must be followed by a low surrogate`, r)
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return fmt.Errorf(`Unicode low surrogate \u%04x must follow a high surrogate`, r)
		default:
			i += 5
		}
	}
	return nil
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

// numeric's limits: digits before and after the decimal point, and the
// exponent its input accepts at all.
const (
	numericMaxWeight = 131072
	numericMaxScale  = 16383
	numericMaxExp    = 1<<30 - 1 // PG_INT32_MAX / 2
)

var errNumericOverflow = fmt.Errorf("value overflows numeric format: %w", ErrRange)

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
	if exp >= numericMaxExp || exp <= -numericMaxExp {
		return "", fmt.Errorf("JSON number %s: %w", s, errNumericOverflow)
	}
	digits := strings.TrimPrefix(mant, "-")
	point, frac := len(digits), 0
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		point, frac = i, len(digits)-i-1
		digits = digits[:i] + digits[i+1:]
	}
	scale := max(frac-exp, 0)
	if scale > numericMaxScale {
		return "", fmt.Errorf("JSON number %s: %w", s, errNumericOverflow)
	}
	first := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	if first < 0 { // zero, at the scale it was written with
		if scale == 0 {
			return "0", nil
		}
		return "0." + strings.Repeat("0", scale), nil
	}
	if point-first+exp > numericMaxWeight { // digits before the point
		return "", fmt.Errorf("JSON number %s: %w", s, errNumericOverflow)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("JSON number %s does not parse", s)
	}
	return r.FloatString(scale), nil
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
