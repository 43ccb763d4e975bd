package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// sessionSQL is run once on the applier's connection, before anything
// else: UTC for TIMESTAMP columns and bgsync's own DATETIMEs, a strict
// sql_mode (a value the column cannot hold is an error, never a silently
// changed row; an explicit 0 in an AUTO_INCREMENT column stays 0), READ
// COMMITTED (see doc.go), and @bgsync_applier, by which the tombstone
// triggers on MySQL know bgsync's own deletes (tombstone.go; MariaDB's
// test skip_replication).
var sessionSQL = []string{
	"SET @bgsync_applier = 1",
	"SET SESSION time_zone = '+00:00'",
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO," +
		"NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
}

// connectorDSN returns cfg.DSN with the driver settings the applier relies
// on: values read as text (parseTime off) so Decode sees the server's own
// forms, arguments interpolated client-side (one round trip per statement,
// and the text protocol for every result), matched rather than changed
// rows counted (clientFoundRows, so an UPDATE that writes the values the
// row already has still counts as found), one statement per call.
func connectorDSN(dsn string) (string, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message may quote the DSN, password included.
		return "", errors.New("apply: invalid target DSN (want user:pass@tcp(host:port)/)")
	}
	c.ParseTime = false
	c.Loc = time.UTC
	c.InterpolateParams = true
	c.ClientFoundRows = true
	c.MultiStatements = false
	c.DBName = ""
	return c.FormatDSN(), nil
}

// dsnAddr is host:port for messages, without credentials.
func dsnAddr(dsn string) string {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "?"
	}
	return c.Addr
}

// setupSession prepares the connection and reports whether the server is
// MariaDB. On MariaDB it sets skip_replication and reads it back.
func setupSession(ctx context.Context, conn *sql.Conn) (mariadb bool, err error) {
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT @@version").Scan(&version); err != nil {
		return false, &TargetError{Op: "read server version", Err: err}
	}
	mariadb = strings.Contains(strings.ToLower(version), "mariadb")
	for _, s := range sessionSQL {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return false, &TargetError{Op: "session setup: " + s, Err: err}
		}
	}
	if !mariadb {
		return false, nil
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION skip_replication = 1"); err != nil {
		return true, &TargetError{Op: "set skip_replication", Err: err}
	}
	var on int
	if err := conn.QueryRowContext(ctx, "SELECT @@session.skip_replication").Scan(&on); err != nil {
		return true, &TargetError{Op: "read skip_replication", Err: err}
	}
	if on != 1 {
		return true, fmt.Errorf("apply: skip_replication is %d after SET SESSION skip_replication = 1", on)
	}
	return true, nil
}
