package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pgx/v5/pgconn"
)

// typeRegistry knows the user-defined types of the source database (enums,
// domains, arrays of them), which the built-in OID tables do not.
type typeRegistry struct {
	reg *pgtext.Registry
}

// loadTypes reads pg_type for user-defined types. It runs on the
// replication connection before START_REPLICATION (simple protocol).
func loadTypes(ctx context.Context, conn *pgconn.PgConn) (*typeRegistry, error) {
	const q = `SELECT t.oid, t.typtype, t.typelem, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid >= 16384`
	res, err := conn.Exec(ctx, q).ReadAll()
	if err != nil {
		return nil, &SourceError{Op: "read pg_type", Err: err}
	}
	reg := &pgtext.Registry{}
	for _, r := range res {
		if r.Err != nil {
			return nil, &SourceError{Op: "read pg_type", Err: r.Err}
		}
		for _, row := range r.Rows {
			oid, err1 := strconv.ParseUint(string(row[0]), 10, 32)
			elem, err2 := strconv.ParseUint(string(row[2]), 10, 32)
			base, err3 := strconv.ParseUint(string(row[3]), 10, 32)
			if err1 != nil || err2 != nil || err3 != nil || len(row[1]) != 1 || len(row[4]) != 1 {
				return nil, fmt.Errorf("read pg_type: unexpected row %q", row)
			}
			switch {
			case row[4][0] == 'A' && elem != 0: // array
				reg.Register(uint32(oid), pgtext.Type{Elem: uint32(elem)})
			case row[1][0] == 'd': // domain
				reg.Register(uint32(oid), pgtext.Type{Base: uint32(base)})
			}
		}
	}
	return &typeRegistry{reg: reg}, nil
}

func (t *typeRegistry) decode(oid uint32, text []byte) (change.Value, error) {
	return t.reg.Decode(oid, text)
}
