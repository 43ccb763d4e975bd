package change

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// The canonical binary encoding of Values and Rows (version 1).
//
//	value   = kind:byte payload
//	payload = (nothing)                     null, unchanged, absent
//	        | 0x00 | 0x01                    bool
//	        | varint(I)                      int, date, time, timestamp, timestamptz
//	        | uvarint(uint64(I))             uint
//	        | uvarint(reverse_bytes(bits))   float (every NaN as 0x7FF8000000000000)
//	        | uvarint(len) bytes             numeric, text, bytes, uuid, json, enum
//	        | varint(I) varint(J)            timetz
//	        | varint(I) varint(months) varint(days)   interval
//	        | uvarint(count) value*          array
//	row     = uvarint(0)                     nil row (no image)
//	        | uvarint(count+1) value*
//
// varint and uvarint are encoding/binary's. Only the minimal encoding of
// every number is accepted, so the encoding is a bijection: two Values are
// Equal exactly when their encodings are identical, and decoding then
// re-encoding any accepted input reproduces it byte for byte. A float's bytes
// are reversed before the uvarint so that common floats (small integers,
// short binary fractions) take 1–4 bytes instead of 8.
//
// Fields a Kind does not use are ignored: Int(5) with a stray S encodes, and
// compares, as Int(5).

// MaxArrayDepth is the deepest array nesting DecodeValue accepts (a scalar
// array has depth 1). PostgreSQL allows 6 dimensions. AppendValue encodes
// deeper arrays, but they do not decode.
const MaxArrayDepth = 16

// ErrMalformed is wrapped by every error DecodeValue and DecodeRow return for
// input that is not a canonical encoding.
var ErrMalformed = errors.New("malformed encoding")

// canonicalNaN is the one NaN the encoding carries.
const canonicalNaN = 0x7FF8000000000000

func canonicalFloatBits(i int64) uint64 {
	b := uint64(i)
	if math.IsNaN(math.Float64frombits(b)) {
		return canonicalNaN
	}
	return b
}

// AppendValue appends the canonical encoding of v to dst and returns the
// extended buffer.
func AppendValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.Kind))
	switch v.Kind {
	case KindBool:
		if v.I != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case KindInt, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		return binary.AppendVarint(dst, v.I)
	case KindUint:
		return binary.AppendUvarint(dst, uint64(v.I))
	case KindFloat:
		return binary.AppendUvarint(dst, bits.ReverseBytes64(canonicalFloatBits(v.I)))
	case KindNumeric, KindText, KindBytes, KindUUID, KindJSON, KindEnum:
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		return append(dst, v.S...)
	case KindTimeTZ:
		dst = binary.AppendVarint(dst, v.I)
		return binary.AppendVarint(dst, v.J)
	case KindInterval:
		dst = binary.AppendVarint(dst, v.I)
		dst = binary.AppendVarint(dst, int64(v.IntervalMonths()))
		return binary.AppendVarint(dst, int64(v.IntervalDays()))
	case KindArray:
		dst = binary.AppendUvarint(dst, uint64(len(v.Elems)))
		for _, e := range v.Elems {
			dst = AppendValue(dst, e)
		}
		return dst
	}
	// KindNull, KindUnchanged, KindAbsent carry no payload; an unknown Kind
	// is written as its bare tag and rejected by DecodeValue.
	return dst
}

// AppendRow appends the canonical encoding of r to dst. A nil Row (no image)
// and an empty non-nil Row encode differently.
func AppendRow(dst []byte, r Row) []byte {
	if r == nil {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r))+1)
	for _, v := range r {
		dst = AppendValue(dst, v)
	}
	return dst
}

// DecodeValue decodes one value from the start of src and returns it with the
// number of bytes it took. Bytes after the value are left alone. It never
// panics, and allocates at most a small multiple of len(src).
func DecodeValue(src []byte) (v Value, n int, err error) {
	v, n, err = decodeValue(src, 0)
	if err != nil {
		return Value{}, 0, fmt.Errorf("decode value: %w", err)
	}
	return v, n, nil
}

// DecodeRow decodes one row written by AppendRow from the start of src and
// returns it with the number of bytes it took. A nil Row means no image.
func DecodeRow(src []byte) (Row, int, error) {
	count, n, err := readUvarint(src)
	if err != nil {
		return nil, 0, fmt.Errorf("decode row: length: %w", err)
	}
	if count == 0 {
		return nil, n, nil
	}
	count--
	// Every value takes at least one byte.
	if count > uint64(len(src)-n) {
		return nil, 0, fmt.Errorf("decode row: %d columns but %d bytes left: %w", count, len(src)-n, ErrMalformed)
	}
	r := make(Row, count)
	for i := range r {
		v, m, err := decodeValue(src[n:], 0)
		if err != nil {
			return nil, 0, fmt.Errorf("decode row: column %d: %w", i, err)
		}
		r[i] = v
		n += m
	}
	return r, n, nil
}

func decodeValue(src []byte, depth int) (Value, int, error) {
	if len(src) == 0 {
		return Value{}, 0, fmt.Errorf("kind: unexpected end of input: %w", ErrMalformed)
	}
	k := Kind(src[0])
	v := Value{Kind: k}
	n := 1
	var err error
	switch k {
	case KindNull, KindUnchanged, KindAbsent:
		return v, n, nil
	case KindBool:
		if len(src) < 2 {
			return Value{}, 0, fmt.Errorf("bool: unexpected end of input: %w", ErrMalformed)
		}
		if src[1] > 1 {
			return Value{}, 0, fmt.Errorf("bool: byte %#x: %w", src[1], ErrMalformed)
		}
		v.I = int64(src[1])
		return v, 2, nil
	case KindInt, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		v.I, n, err = readVarint(src, n)
	case KindUint:
		var u uint64
		u, n, err = readUvarintAt(src, n)
		v.I = int64(u)
	case KindFloat:
		var u uint64
		u, n, err = readUvarintAt(src, n)
		b := bits.ReverseBytes64(u)
		if err == nil && math.IsNaN(math.Float64frombits(b)) && b != canonicalNaN {
			err = fmt.Errorf("non-canonical NaN %#x: %w", b, ErrMalformed)
		}
		v.I = int64(b)
	case KindNumeric, KindText, KindBytes, KindUUID, KindJSON, KindEnum:
		v.S, n, err = readString(src, n)
	case KindTimeTZ:
		v.I, n, err = readVarint(src, n)
		if err == nil {
			v.J, n, err = readVarint(src, n)
		}
	case KindInterval:
		return decodeInterval(src, n)
	case KindArray:
		return decodeArray(src, n, depth)
	default:
		return Value{}, 0, fmt.Errorf("unknown kind %d: %w", k, ErrMalformed)
	}
	if err != nil {
		return Value{}, 0, fmt.Errorf("%s: %w", k, err)
	}
	return v, n, nil
}

func decodeInterval(src []byte, n int) (Value, int, error) {
	us, n, err := readVarint(src, n)
	if err != nil {
		return Value{}, 0, fmt.Errorf("interval: microseconds: %w", err)
	}
	months, n, err := readVarint(src, n)
	if err != nil {
		return Value{}, 0, fmt.Errorf("interval: months: %w", err)
	}
	days, n, err := readVarint(src, n)
	if err != nil {
		return Value{}, 0, fmt.Errorf("interval: days: %w", err)
	}
	if months != int64(int32(months)) || days != int64(int32(days)) {
		return Value{}, 0, fmt.Errorf("interval: months %d or days %d out of int32 range: %w", months, days, ErrMalformed)
	}
	return Interval(int32(months), int32(days), us), n, nil
}

func decodeArray(src []byte, n, depth int) (Value, int, error) {
	if depth >= MaxArrayDepth {
		return Value{}, 0, fmt.Errorf("array: nested deeper than %d: %w", MaxArrayDepth, ErrMalformed)
	}
	count, n, err := readUvarintAt(src, n)
	if err != nil {
		return Value{}, 0, fmt.Errorf("array: length: %w", err)
	}
	// Every element takes at least one byte.
	if count > uint64(len(src)-n) {
		return Value{}, 0, fmt.Errorf("array: %d elements but %d bytes left: %w", count, len(src)-n, ErrMalformed)
	}
	elems := make([]Value, count)
	for i := range elems {
		e, m, err := decodeValue(src[n:], depth+1)
		if err != nil {
			return Value{}, 0, fmt.Errorf("array: element %d: %w", i, err)
		}
		elems[i] = e
		n += m
	}
	return Array(elems), n, nil
}

// readUvarint reads a minimally encoded uvarint from the start of src.
func readUvarint(src []byte) (uint64, int, error) {
	u, n := binary.Uvarint(src)
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("varint: unexpected end of input: %w", ErrMalformed)
	case n < 0:
		return 0, 0, fmt.Errorf("varint: overflows 64 bits: %w", ErrMalformed)
	case n > 1 && src[n-1] == 0:
		return 0, 0, fmt.Errorf("varint: not minimally encoded: %w", ErrMalformed)
	}
	return u, n, nil
}

// readUvarintAt reads a uvarint at src[off:] and returns the offset after it.
func readUvarintAt(src []byte, off int) (uint64, int, error) {
	u, n, err := readUvarint(src[off:])
	return u, off + n, err
}

// readVarint reads a zig-zag varint at src[off:] and returns the offset after it.
func readVarint(src []byte, off int) (int64, int, error) {
	u, n, err := readUvarintAt(src, off)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, n, err
}

// readString reads a length-prefixed string at src[off:].
func readString(src []byte, off int) (string, int, error) {
	l, n, err := readUvarintAt(src, off)
	if err != nil {
		return "", 0, fmt.Errorf("length: %w", err)
	}
	if l > uint64(len(src)-n) {
		return "", 0, fmt.Errorf("length %d exceeds the %d bytes left: %w", l, len(src)-n, ErrMalformed)
	}
	end := n + int(l)
	return string(src[n:end]), end, nil
}

// Equal reports whether a and b are the same canonical value: the same Kind
// and the same data for that Kind, ignoring fields the Kind does not use.
// Every NaN equals every NaN; otherwise floats compare by bits, so -0 and +0
// differ (PostgreSQL keeps and prints the sign). Numeric strings compare
// exactly ("1.00" differs from "1.0"). Arrays compare element by element; a
// nil and an empty Elems are equal. Equal(a, b) holds exactly when
// AppendValue(nil, a) and AppendValue(nil, b) are identical.
func Equal(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindBool:
		return (a.I != 0) == (b.I != 0)
	case KindInt, KindUint, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		return a.I == b.I
	case KindFloat:
		return canonicalFloatBits(a.I) == canonicalFloatBits(b.I)
	case KindNumeric, KindText, KindBytes, KindUUID, KindJSON, KindEnum:
		return a.S == b.S
	case KindTimeTZ, KindInterval:
		return a.I == b.I && a.J == b.J
	case KindArray:
		if len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !Equal(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
		return true
	}
	// Null, Unchanged, Absent and unknown kinds carry no data.
	return true
}
