package postgres

import (
	"context"

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
	res, err := conn.Exec(ctx, pgtext.TypesQuery).ReadAll()
	if err != nil {
		return nil, &SourceError{Op: "read pg_type", Err: err}
	}
	reg := &pgtext.Registry{}
	for _, r := range res {
		if r.Err != nil {
			return nil, &SourceError{Op: "read pg_type", Err: r.Err}
		}
		for _, row := range r.Rows {
			if err := reg.RegisterPgType(row); err != nil {
				return nil, err
			}
		}
	}
	return &typeRegistry{reg: reg}, nil
}

func (t *typeRegistry) decode(oid uint32, text []byte) (change.Value, error) {
	return t.reg.Decode(oid, text)
}
