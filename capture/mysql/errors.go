package mysql

import (
	"errors"
	"fmt"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// SourceError is a failure talking to the source server. It is retryable
// (the supervisor restarts the direction, which reconnects) unless Fatal:
// the server refused the binlog position (purged, or not an event
// boundary) or binary logging is off, which a restart cannot mend.
type SourceError struct {
	Op    string
	Err   error
	Fatal bool
}

func (e *SourceError) Error() string   { return e.Op + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error   { return e.Err }
func (e *SourceError) Retryable() bool { return !e.Fatal }

// erBinlogFatal is ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested file
// or position does not exist (purged binlog, impossible position).
const erBinlogFatal = 1236

func sourceError(op string, err error) *SourceError {
	fatal := false
	var me *gomysql.MyError
	var de *driver.MySQLError
	if errors.As(err, &me) && me.Code == erBinlogFatal || errors.As(err, &de) && de.Number == erBinlogFatal {
		fatal = true
	}
	return &SourceError{Op: op, Err: err, Fatal: fatal}
}

// DecodeError is a row or event the capture cannot turn into a change
// (missing binlog metadata, a table without a primary key, a zero date, a
// partial row image). It is not retryable: the same event fails the same
// way until the operator acts.
type DecodeError struct {
	Table    change.Table // zero when the event names no table
	Column   string       // empty when not about one column
	At       string       // binlog file:offset of the event's end
	Position change.Position
	Err      error
}

func (e *DecodeError) Error() string {
	s := "binlog at " + e.At
	if e.Table != (change.Table{}) {
		s += ", table " + e.Table.String()
	}
	if e.Column != "" {
		s += ", column " + e.Column
	}
	return s + ": " + e.Err.Error()
}
func (e *DecodeError) Unwrap() error   { return e.Err }
func (e *DecodeError) Retryable() bool { return false }

// SchemaChangeError reports DDL on a captured table. Row events carry their
// own column names, so nothing is misdecoded; the direction stops so that
// the operator brings the other side (or the transforms) along. Run
// returns it after handing on every transaction before the change.
type SchemaChangeError struct {
	Table    change.Table
	Query    string
	Position change.Position // the end of the DDL event, or its GTID
	At       string          // Position as binlog file:offset (a GTID's with it)
	Accept   string          // Position as --accept-schema-change takes it
}

func (e *SchemaChangeError) Error() string {
	return fmt.Sprintf("schema change on captured table %s at %s: %q: the direction is paused: "+
		"apply the same change on the other side, then restart bgsync run with --accept-schema-change %s",
		e.Table, e.At, e.Query, e.Accept)
}

// Retryable is false: restarting reads the same DDL again.
func (e *SchemaChangeError) Retryable() bool { return false }
