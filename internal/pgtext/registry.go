package pgtext

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

// Type tells a Registry how to decode a type pgtext does not know by OID.
// Set at most one field; a Type with neither decodes as KindEnum text.
type Type struct {
	// Elem, when non-zero, makes the type an array whose elements are of
	// type Elem (pg_type.typelem of an array type, e.g. the element of a
	// user enum's array type).
	Elem uint32
	// Base, when non-zero, decodes the type as type Base: a domain's base
	// type (pg_type.typbasetype), or pgtype.TextOID for text-like extension
	// types such as citext.
	Base uint32
}

// Registry decodes values of user and extension types on top of the
// builtin ones. Capture registers the types it learns about (from pgoutput
// Type messages and pg_type) before decoding rows that use them. The zero
// Registry is ready to use, a nil *Registry knows only the builtin types, and
// all methods are safe for concurrent use. Builtin OIDs are decoded without
// consulting the registry (and without locking), so registering one has no
// effect.
type Registry struct {
	mu    sync.RWMutex
	types map[uint32]Type
}

// maxTypeChain bounds domain and array indirections, so a cycle of
// registrations fails instead of recursing forever.
const maxTypeChain = 8

// Register records how to decode values of type oid, replacing any earlier
// registration.
func (r *Registry) Register(oid uint32, t Type) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.types == nil {
		r.types = make(map[uint32]Type)
	}
	r.types[oid] = t
}

// TypesQuery lists a database's user-defined types; give each row, in text
// format, to RegisterPgType.
const TypesQuery = `SELECT t.oid, t.typtype, t.typelem, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid >= 16384`

// RegisterPgType registers one row of TypesQuery: arrays by element type,
// domains by base type. Other types decode as text (KindEnum).
func (r *Registry) RegisterPgType(row [][]byte) error {
	if len(row) != 5 {
		return fmt.Errorf("pg_type: want 5 columns, got %d", len(row))
	}
	oid, err1 := strconv.ParseUint(string(row[0]), 10, 32)
	elem, err2 := strconv.ParseUint(string(row[2]), 10, 32)
	base, err3 := strconv.ParseUint(string(row[3]), 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || len(row[1]) != 1 || len(row[4]) != 1 {
		return fmt.Errorf("pg_type: unexpected row %q", row)
	}
	switch {
	case row[4][0] == 'A' && elem != 0:
		r.Register(uint32(oid), Type{Elem: uint32(elem)})
	case row[1][0] == 'd':
		r.Register(uint32(oid), Type{Base: uint32(base)})
	}
	return nil
}

func (r *Registry) lookup(oid uint32) (Type, bool) {
	if r == nil {
		return Type{}, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.types[oid]
	return t, ok
}

// Decode converts the text form of a value of type oid into its canonical
// change.Value: builtin types as Decode does, registered arrays element by
// element, registered domains as their base type, anything else as KindEnum
// holding the text as is.
func (r *Registry) Decode(oid uint32, text []byte) (change.Value, error) {
	return r.decode(oid, text, 0)
}

// DecodeArray decodes an array literal whose elements are of type elemOID.
func (r *Registry) DecodeArray(elemOID uint32, text []byte) (change.Value, error) {
	return r.decodeArray(elemOID, text, 0)
}

func (r *Registry) decode(oid uint32, text []byte, chain int) (v change.Value, err error) {
	if ok, err := decodeBuiltin(oid, text, &v); ok {
		return v, err
	}
	return r.decodeOther(oid, text, chain)
}

// decodeOther decodes arrays, registered types and the KindEnum fallback.
func (r *Registry) decodeOther(oid uint32, text []byte, chain int) (change.Value, error) {
	if elem, ok := builtinArrays[oid]; ok {
		return r.decodeArray(elem, text, chain)
	}
	if t, ok := r.lookup(oid); ok && (t.Elem != 0 || t.Base != 0) {
		if chain >= maxTypeChain {
			return change.Value{}, fmt.Errorf("pgtext: type %d: more than %d domain/array indirections (a registration cycle?)", oid, maxTypeChain)
		}
		if t.Elem != 0 {
			return r.decodeArray(t.Elem, text, chain+1)
		}
		return r.decode(t.Base, text, chain+1)
	}
	return change.Enum(string(text)), nil
}

// builtinArrays maps builtin array type OIDs to their element OIDs. Arrays
// of types pgtext does not model still decode element by element, each
// element as KindEnum text. box[] is left out on purpose: its elements are
// separated by ';', so it stays one opaque KindEnum text.
var builtinArrays = map[uint32]uint32{
	pgtype.BoolArrayOID:        pgtype.BoolOID,
	pgtype.ByteaArrayOID:       pgtype.ByteaOID,
	pgtype.QCharArrayOID:       pgtype.QCharOID,
	pgtype.NameArrayOID:        pgtype.NameOID,
	pgtype.Int8ArrayOID:        pgtype.Int8OID,
	pgtype.Int2ArrayOID:        pgtype.Int2OID,
	pgtype.Int4ArrayOID:        pgtype.Int4OID,
	pgtype.TextArrayOID:        pgtype.TextOID,
	pgtype.OIDArrayOID:         pgtype.OIDOID,
	pgtype.JSONArrayOID:        pgtype.JSONOID,
	pgtype.Float4ArrayOID:      pgtype.Float4OID,
	pgtype.Float8ArrayOID:      pgtype.Float8OID,
	pgtype.BPCharArrayOID:      pgtype.BPCharOID,
	pgtype.VarcharArrayOID:     pgtype.VarcharOID,
	pgtype.DateArrayOID:        pgtype.DateOID,
	pgtype.TimeArrayOID:        pgtype.TimeOID,
	pgtype.TimestampArrayOID:   pgtype.TimestampOID,
	pgtype.TimestamptzArrayOID: pgtype.TimestamptzOID,
	pgtype.IntervalArrayOID:    pgtype.IntervalOID,
	pgtype.NumericArrayOID:     pgtype.NumericOID,
	pgtype.TimetzArrayOID:      pgtype.TimetzOID,
	pgtype.UUIDArrayOID:        pgtype.UUIDOID,
	pgtype.JSONBArrayOID:       pgtype.JSONBOID,
	// Element types kept as text.
	pgtype.XMLArrayOID:       pgtype.XMLOID,
	pgtype.CIDRArrayOID:      pgtype.CIDROID,
	pgtype.InetArrayOID:      pgtype.InetOID,
	pgtype.MacaddrArrayOID:   pgtype.MacaddrOID,
	pgtype.BitArrayOID:       pgtype.BitOID,
	pgtype.VarbitArrayOID:    pgtype.VarbitOID,
	pgtype.PointArrayOID:     pgtype.PointOID,
	pgtype.LsegArrayOID:      pgtype.LsegOID,
	pgtype.PathArrayOID:      pgtype.PathOID,
	pgtype.PolygonArrayOID:   pgtype.PolygonOID,
	pgtype.LineArrayOID:      pgtype.LineOID,
	pgtype.CircleArrayOID:    pgtype.CircleOID,
	pgtype.TIDArrayOID:       pgtype.TIDOID,
	pgtype.XIDArrayOID:       pgtype.XIDOID,
	pgtype.CIDArrayOID:       pgtype.CIDOID,
	pgtype.TSVectorArrayOID:  pgtype.TSVectorOID,
	pgtype.JSONPathArrayOID:  pgtype.JSONPathOID,
	pgtype.Int4rangeArrayOID: pgtype.Int4rangeOID,
	pgtype.Int8rangeArrayOID: pgtype.Int8rangeOID,
	pgtype.NumrangeArrayOID:  pgtype.NumrangeOID,
	pgtype.DaterangeArrayOID: pgtype.DaterangeOID,
	pgtype.TsrangeArrayOID:   pgtype.TsrangeOID,
	pgtype.TstzrangeArrayOID: pgtype.TstzrangeOID,
}
