package change

import (
	"math"
	"strconv"
	"time"
)

// Kind is the canonical type of a Value.
type Kind uint8

const (
	KindNull Kind = iota
	// KindUnchanged: the source did not send the value because it did not
	// change (PostgreSQL unchanged TOAST). Keep the target's value.
	KindUnchanged
	// KindAbsent: the column is not part of this image (a non-key column of
	// a key-only old image).
	KindAbsent
	KindBool        // I: 0 or 1
	KindInt         // I: any signed integer width
	KindUint        // I: uint64 bits (MySQL BIGINT UNSIGNED)
	KindNumeric     // S: exact decimal, scale kept ("-12.340"), or "NaN", "Infinity", "-Infinity"
	KindFloat       // I: math.Float64bits (NaN, ±Inf allowed)
	KindText        // S: UTF-8 text
	KindBytes       // S: raw bytes
	KindDate        // I: days since 1970-01-01; math.MaxInt64 / math.MinInt64 = ±infinity
	KindTime        // I: microseconds since midnight
	KindTimeTZ      // I: microseconds since midnight (local), J: zone offset in seconds east of UTC
	KindTimestamp   // I: microseconds since 2000-01-01 00:00:00 (no zone); ±infinity as for KindDate
	KindTimestampTZ // I: microseconds since 2000-01-01 00:00:00 UTC; ±infinity as for KindDate
	KindInterval    // I: microseconds, J: months<<32 | uint32(days)
	KindUUID        // S: the 16 bytes
	KindJSON        // S: JSON text
	KindArray       // Elems: the elements (nested arrays for more dimensions)
	KindEnum        // S: the label
	kindCount
)

var kindNames = [...]string{"null", "unchanged", "absent", "bool", "int", "uint", "numeric", "float",
	"text", "bytes", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "uuid", "json",
	"array", "enum"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Epoch2000Unix is 2000-01-01 00:00:00 UTC in Unix microseconds: the zero of
// KindTimestamp and KindTimestampTZ. It is PostgreSQL's own epoch, so its
// whole range (4713 BC to 294276 AD) fits in the 64-bit count; counted from
// 1970 the last 29 years would not.
const Epoch2000Unix int64 = 946_684_800_000_000

// Infinity sentinels for KindDate, KindTimestamp and KindTimestampTZ.
const (
	PosInfinity int64 = math.MaxInt64
	NegInfinity int64 = math.MinInt64
)

// Value is one canonical value. The zero Value is NULL.
type Value struct {
	Kind  Kind
	I     int64
	J     int64
	S     string
	Elems []Value
}

// Constructors.

func Null() Value              { return Value{} }
func Unchanged() Value         { return Value{Kind: KindUnchanged} }
func Absent() Value            { return Value{Kind: KindAbsent} }
func Int(v int64) Value        { return Value{Kind: KindInt, I: v} }
func Uint(v uint64) Value      { return Value{Kind: KindUint, I: int64(v)} }
func Float(v float64) Value    { return Value{Kind: KindFloat, I: int64(math.Float64bits(v))} }
func Text(s string) Value      { return Value{Kind: KindText, S: s} }
func Bytes(b []byte) Value     { return Value{Kind: KindBytes, S: string(b)} }
func Numeric(s string) Value   { return Value{Kind: KindNumeric, S: s} }
func JSON(s string) Value      { return Value{Kind: KindJSON, S: s} }
func Enum(label string) Value  { return Value{Kind: KindEnum, S: label} }
func Array(el []Value) Value   { return Value{Kind: KindArray, Elems: el} }
func Date(days int64) Value    { return Value{Kind: KindDate, I: days} }
func Time(us int64) Value      { return Value{Kind: KindTime, I: us} }
func Timestamp(us int64) Value { return Value{Kind: KindTimestamp, I: us} }

func Bool(b bool) Value {
	if b {
		return Value{Kind: KindBool, I: 1}
	}
	return Value{Kind: KindBool}
}

func TimeTZ(us int64, offsetSec int32) Value {
	return Value{Kind: KindTimeTZ, I: us, J: int64(offsetSec)}
}

// TimestampTZ takes microseconds since 2000-01-01 00:00:00 UTC.
func TimestampTZ(us int64) Value { return Value{Kind: KindTimestampTZ, I: us} }

// TimestampTZOf converts a time.Time (any zone) to KindTimestampTZ.
func TimestampTZOf(t time.Time) Value { return TimestampTZ(t.UnixMicro() - Epoch2000Unix) }

func Interval(months, days int32, us int64) Value {
	return Value{Kind: KindInterval, I: us, J: int64(months)<<32 | int64(uint32(days))}
}

func UUID(b [16]byte) Value { return Value{Kind: KindUUID, S: string(b[:])} }

// Accessors.

func (v Value) IsNull() bool          { return v.Kind == KindNull }
func (v Value) Bool() bool            { return v.I != 0 }
func (v Value) Float() float64        { return math.Float64frombits(uint64(v.I)) }
func (v Value) Uint() uint64          { return uint64(v.I) }
func (v Value) IntervalMonths() int32 { return int32(v.J >> 32) }
func (v Value) IntervalDays() int32   { return int32(uint32(v.J)) }
func (v Value) ZoneOffset() int32     { return int32(v.J) }
