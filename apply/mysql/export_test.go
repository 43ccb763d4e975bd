package mysql

import "context"

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
