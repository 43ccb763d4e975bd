package mysql

import (
	"context"

	"github.com/bgsync/bgsync/change"
)

// SessionVar reads @@session.<name> on the applier's own connection.
func (a *Applier) SessionVar(ctx context.Context, name string) (string, error) {
	var v string
	err := a.conn.QueryRowContext(ctx, "SELECT @@session."+name).Scan(&v)
	return v, err
}

// ExecSession runs a statement on the applier's own connection.
func (a *Applier) ExecSession(ctx context.Context, sql string) error {
	_, err := a.conn.ExecContext(ctx, sql)
	return err
}

// NewTargetTable builds a TargetTable without a server.
func NewTargetTable(name change.Table, cols []ColumnType, key []string) *TargetTable {
	tt := &TargetTable{Name: name, Columns: cols, Key: key, index: map[string]int{}}
	for i, c := range cols {
		tt.index[c.Name] = i
	}
	return tt
}
