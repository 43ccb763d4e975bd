package postgres

import (
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pglogrepl"
)

// relation is what a Relation message told us about a table.
type relation struct {
	table   change.Table
	columns []change.Column
	oids    []uint32
	full    bool // REPLICA IDENTITY FULL
}

func newRelation(m *pglogrepl.RelationMessage, types map[uint32]string) *relation {
	r := &relation{
		table:   change.Table{Schema: m.Namespace, Name: m.RelationName},
		columns: make([]change.Column, len(m.Columns)),
		oids:    make([]uint32, len(m.Columns)),
		full:    m.ReplicaIdentity == 'f',
	}
	for i, c := range m.Columns {
		r.columns[i] = change.Column{Name: c.Name, Type: typeName(c.DataType, types), Key: c.Flags&1 != 0}
		r.oids[i] = c.DataType
	}
	return r
}

// typeName names a type for the envelope: user types from Type messages,
// built-ins by OID.
func typeName(oid uint32, types map[uint32]string) string {
	if n, ok := types[oid]; ok {
		return n
	}
	return fmt.Sprintf("oid:%d", oid)
}

// decodeTuple turns pgoutput tuple data into a row image.
func (r *relation) decodeTuple(td *pglogrepl.TupleData, dec valueDecoder, keyOnly bool) (change.Row, error) {
	if td == nil {
		return nil, nil
	}
	if len(td.Columns) != len(r.columns) {
		return nil, fmt.Errorf("table %s: tuple has %d columns, relation has %d", r.table, len(td.Columns), len(r.columns))
	}
	row := make(change.Row, len(td.Columns))
	for i, col := range td.Columns {
		switch col.DataType {
		case pglogrepl.TupleDataTypeNull:
			if keyOnly && !r.columns[i].Key {
				row[i] = change.Absent()
			} else {
				row[i] = change.Null()
			}
		case pglogrepl.TupleDataTypeToast:
			row[i] = change.Unchanged()
		case pglogrepl.TupleDataTypeText:
			v, err := dec(r.oids[i], col.Data)
			if err != nil {
				return nil, fmt.Errorf("table %s key %s column %s (type oid %d): %w",
					r.table, r.rawKey(td), r.columns[i].Name, r.oids[i], err)
			}
			row[i] = v
		default:
			return nil, fmt.Errorf("table %s column %s: unsupported tuple data type %q", r.table, r.columns[i].Name, col.DataType)
		}
	}
	return row, nil
}

// rawKey renders the key columns of a tuple as sent, for error messages
// (it needs no decoding, so it works when a value does not decode).
func (r *relation) rawKey(td *pglogrepl.TupleData) string {
	var b strings.Builder
	b.WriteByte('(')
	n := 0
	for i, c := range r.columns {
		if !c.Key || i >= len(td.Columns) {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(c.Name)
		b.WriteByte('=')
		switch td.Columns[i].DataType {
		case pglogrepl.TupleDataTypeText:
			b.Write(td.Columns[i].Data)
		case pglogrepl.TupleDataTypeNull:
			b.WriteString("NULL")
		default:
			b.WriteString("?")
		}
	}
	b.WriteByte(')')
	return b.String()
}
