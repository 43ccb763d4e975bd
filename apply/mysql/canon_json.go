package mysql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// Arrays have no MySQL type: they are stored as JSON arrays in json or text
// columns. Elements: NULL → null, bool → true/false, integers and finite
// floats and decimals → numbers, text and enum labels → strings, JSON →
// embedded as it is, arrays → nested arrays. Other element kinds are
// refused.

func appendJSONArray(dst []byte, v change.Value) ([]byte, error) {
	dst = append(dst, '[')
	for i, e := range v.Elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendJSONElem(dst, e); err != nil {
			return nil, fmt.Errorf("array element %d: %w", i+1, err)
		}
	}
	return append(dst, ']'), nil
}

func appendJSONElem(dst []byte, e change.Value) ([]byte, error) {
	switch e.Kind {
	case change.KindNull:
		return append(dst, "null"...), nil
	case change.KindBool:
		return strconv.AppendBool(dst, e.Bool()), nil
	case change.KindInt:
		return strconv.AppendInt(dst, e.I, 10), nil
	case change.KindUint:
		return strconv.AppendUint(dst, e.Uint(), 10), nil
	case change.KindFloat:
		f := e.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("JSON has no NaN or infinity")
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	case change.KindNumeric:
		if !finiteDecimal(e.S) || e.S[0] == '+' {
			return nil, fmt.Errorf("%q is not a JSON number", e.S)
		}
		return append(dst, e.S...), nil
	case change.KindText, change.KindEnum:
		b, err := json.Marshal(e.S)
		if err != nil {
			return nil, err
		}
		return append(dst, b...), nil
	case change.KindJSON:
		if !json.Valid([]byte(e.S)) {
			return nil, fmt.Errorf("invalid JSON text")
		}
		return append(dst, e.S...), nil
	case change.KindArray:
		return appendJSONArray(dst, e)
	}
	return nil, fmt.Errorf("a %s element has no JSON form", e.Kind)
}

// parseJSONArray reads a JSON array back as a KindArray, taking each
// element's kind from like's elements (the first non-NULL one: arrays are
// of one element type).
func parseJSONArray(raw []byte, like change.Value) (change.Value, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return change.Value{}, err
	}
	hint := elemHint(like)
	out := make([]change.Value, len(elems))
	for i, e := range elems {
		v, err := parseJSONElem(e, hint)
		if err != nil {
			return change.Value{}, err
		}
		out[i] = v
	}
	return change.Array(out), nil
}

func elemHint(like change.Value) change.Value {
	for _, e := range like.Elems {
		if e.Kind != change.KindNull {
			return e
		}
	}
	return change.Value{}
}

func parseJSONElem(e json.RawMessage, hint change.Value) (change.Value, error) {
	e = bytes.TrimSpace(e)
	switch {
	case string(e) == "null":
		return change.Null(), nil
	case hint.Kind == change.KindJSON:
		return change.JSON(string(e)), nil
	case e[0] == '[':
		if hint.Kind != change.KindArray { // a nested level of a scalar-typed array
			hint = change.Array([]change.Value{hint})
		}
		return parseJSONArray(e, hint)
	case string(e) == "true" || string(e) == "false":
		return change.Bool(e[0] == 't'), nil
	case e[0] == '"':
		var s string
		if err := json.Unmarshal(e, &s); err != nil {
			return change.Value{}, err
		}
		if hint.Kind == change.KindEnum {
			return change.Enum(s), nil
		}
		return change.Text(s), nil
	case e[0] == '{':
		return change.JSON(string(e)), nil
	}
	s := string(e) // a number
	switch hint.Kind {
	case change.KindFloat:
		f, err := strconv.ParseFloat(s, 64)
		return change.Float(f), err
	case change.KindUint:
		u, err := strconv.ParseUint(s, 10, 64)
		return change.Uint(u), err
	case change.KindNumeric:
		return change.Numeric(s), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return change.Int(n), nil
	}
	return change.Numeric(s), nil
}

// SameJSON reports whether a and b, two values of a JSON column, hold the
// same JSON data: equal values (change.Equal) are; two JSON or text
// values are when their texts have the same jsonb form (pgtext.JSONB:
// object members in any order, any spacing, escapes decoded, numbers by
// their numeric value with the scale written: 1e2 is 100, 1.0 is not 1).
// A text that is not JSON jsonb can hold is only the same as an equal
// text. A MariaDB JSON column keeps the text it was given, and the
// incoming images carry the source's spelling (jsonb's own, from
// PostgreSQL), so the two are compared by data, never by spelling.
func SameJSON(a, b change.Value) bool {
	if change.Equal(a, b) {
		return true
	}
	if !jsonText(a.Kind) || !jsonText(b.Kind) {
		return false
	}
	x, err := pgtext.JSONB(a.S)
	if err != nil {
		return false
	}
	y, err := pgtext.JSONB(b.S)
	return err == nil && x == y
}

func jsonText(k change.Kind) bool { return k == change.KindJSON || k == change.KindText }
