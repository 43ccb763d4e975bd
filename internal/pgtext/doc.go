// Package pgtext converts between PostgreSQL's text format and canonical
// change.Values. capture/postgres decodes what pgoutput sends with it;
// apply/postgres encodes the parameters it sends with it.
//
// Decoding. Decode(oid, text) turns the output form of a builtin type into
// its change.Value:
//
//	bool                               KindBool
//	int2, int4, int8, oid              KindInt (range-checked per type)
//	numeric                            KindNumeric, the exact text: scale kept, NaN, Infinity, -Infinity
//	float4, float8                     KindFloat (float4 as its exact float32 value)
//	text, varchar, bpchar, name,
//	"char", unknown                    KindText, as sent (bpchar keeps its padding)
//	bytea (hex or escape output)       KindBytes
//	date                               KindDate, infinity and BC included
//	time, timetz                       KindTime, KindTimeTZ
//	timestamp, timestamptz             KindTimestamp, KindTimestampTZ (the printed offset is applied)
//	interval                           KindInterval
//	uuid                               KindUUID
//	json, jsonb                        KindJSON, the text as sent
//	arrays of the above (and of inet,
//	ranges, ... as KindEnum elements)  KindArray, nested for more dimensions, NULL elements as KindNull
//	anything else                      KindEnum holding the text as is
//
// Arrays and domains of user types need their OIDs: a Registry, fed by the
// caller from pgoutput Type messages and pg_type, decodes a registered array
// type element by element (e.g. an enum's array type with Type{Elem: enumOID})
// and a domain as its base type (Type{Base: ...}). DecodeArray decodes an
// array literal given its element OID directly.
//
// The server must print in the styles pgtext parses; a capture sets them as
// startup parameters of its replication connection: DateStyle=ISO,
// IntervalStyle=postgres, extra_float_digits>=1 (the default, the shortest
// exact float text). bytea_output may be hex or escape; TimeZone may be any
// zone (timestamptz offsets, also odd local-mean-time ones like +05:53:28,
// are applied). Timestamps cover PostgreSQL's whole range (change counts
// them from 2000-01-01, as PostgreSQL does). Arrays with lower bounds other
// than 1 ([0:2]={...}), which change.Value cannot hold, are errors wrapping
// ErrRange: never silently altered values.
//
// Encoding. Encode(dst, v) appends the text input form of v, such that a
// text-format parameter of unspecified type (OID 0) makes the server store
// exactly v in a column of v's original type, whatever the session's
// TimeZone, DateStyle or IntervalStyle: timestamptz is written in UTC with an
// explicit +00, every interval part carries its own sign, dates are ISO
// year-first, floats use the shortest exact form. NULL, Unchanged and Absent
// return an error wrapping ErrNoText: sending SQL NULL or leaving the column
// alone is the caller's decision. Text containing a NUL byte, which
// PostgreSQL cannot store, is an error wrapping ErrRange.
//
// jsonb. JSONB(s) returns the text the server prints for the JSON text s
// stored as a jsonb (keys sorted, one layout, escapes decoded, numbers as
// numeric prints them), or an error where the server refuses s. It is
// bgsync's canonical JSON: two texts hold the same jsonb value exactly when
// their JSONB texts are equal (transform, verify and the appliers compare
// JSON through it).
//
// Guarantees: for every value PostgreSQL prints in the styles above,
// Decode then Encode gives a text the server reads back as the same value
// (tested against a live server for every type listed); Decode never panics
// on arbitrary input (fuzzed); errors name the type and quote at most 64
// bytes of the offending text. Decode allocates only what the Value keeps
// (nothing for ints, one string for text and numeric).
//
// Usage:
//
//	var reg pgtext.Registry
//	reg.Register(moodArrayOID, pgtext.Type{Elem: moodOID}) // from pg_type
//	v, err := reg.Decode(col.DataType, tupleData)           // capture
//	...
//	buf, err = pgtext.Encode(buf[:0], v)                    // apply
package pgtext
