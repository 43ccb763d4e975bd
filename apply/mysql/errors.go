package mysql

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/go-sql-driver/mysql"
)

// TargetError is a failure talking to the target. Retryable: the pipeline
// reopens the applier and replays from the checkpoint.
type TargetError struct {
	Op  string
	Err error
}

func (e *TargetError) Error() string   { return e.Op + ": " + e.Err.Error() }
func (e *TargetError) Unwrap() error   { return e.Err }
func (e *TargetError) Retryable() bool { return true }

// ApplyError is a change the target rejected, or that has no form the
// target can store, with what was being applied: the target table, the
// operation, the row's key, the column when one is involved, and the
// source position.
type ApplyError struct {
	Table    change.Table
	Op       change.Op
	Key      string
	Column   string
	Position change.Position
	// PositionText is Position as the source prints it (Config.FormatPosition).
	PositionText string
	Err          error
}

func (e *ApplyError) Error() string {
	col := ""
	if e.Column != "" {
		col = " column " + e.Column
	}
	pos := e.PositionText
	if pos == "" {
		pos = e.Position.String()
	}
	return fmt.Sprintf("apply %s to %s key %s%s (source position %s): %v", e.Op, e.Table, e.Key, col, pos, e.Err)
}
func (e *ApplyError) Unwrap() error { return e.Err }

// Retryable: a value with no MySQL form, or a data or schema error, fails
// again the same way; races and anything else may pass on a retry (the
// supervisor retries with backoff, so a fixed target resumes).
func (e *ApplyError) Retryable() bool {
	if errors.Is(e.Err, ErrNoForm) {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(e.Err, &me) {
		switch me.Number {
		case 1048, // column cannot be null
			1054, // unknown column
			1146, // no such table
			1264, // out of range
			1265, // data truncated
			1292, // incorrect date/time value
			1364, // field has no default
			1366, // incorrect value for the column's type
			1406, // data too long
			1451, // a foreign key refuses the delete
			1452: // a foreign key refuses the row
			return false
		}
	}
	return true
}

// lostRace reports whether err is the target refusing a statement because
// of a concurrent application transaction: retrying the group re-reads the
// rows and decides again.
func lostRace(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1062, // duplicate key: a key read as missing was inserted since
		1213, // deadlock: InnoDB rolled the transaction back
		1205: // lock wait timeout
		return true
	}
	return false
}

// isStatementError tells a server's rejection of a statement from a lost
// connection.
func isStatementError(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me)
}

// changeError is an error about one change, before any statement ran.
func (a *Applier) changeError(tt *TargetTable, t *change.Txn, c *change.Change, column string, err error) error {
	return &ApplyError{Table: tt.Name, Op: c.Op, Key: keyString(tt, c), Column: column, Position: t.Position, PositionText: a.cfg.positionText(t.Position), Err: err}
}

// stmtError is a statement the target refused. run is the changes the
// statement carried; when the server names the row ("at row N") and the
// column, the error names them too.
func (a *Applier) stmtError(tt *TargetTable, t *change.Txn, run []change.Change, err error) error {
	if !isStatementError(err) {
		return &TargetError{Op: "apply transaction group at source position " + a.cfg.positionText(t.Position), Err: err}
	}
	col, row := errorDetail(err)
	c := &run[0]
	if row >= 1 && row <= len(run) {
		c = &run[row-1]
	}
	return &ApplyError{Table: tt.Name, Op: c.Op, Key: keyString(tt, c), Column: col, Position: t.Position, PositionText: a.cfg.positionText(t.Position), Err: err}
}

var (
	reColumn = regexp.MustCompile("(?:for column|Column) (?:'([^']+)'|`[^`]*`\\.`[^`]*`\\.`([^`]+)`|`([^`]+)`)")
	reRow    = regexp.MustCompile(`at row (\d+)`)
)

// errorDetail reads the column and the statement's row number (from 1)
// that a MySQL data error names ("Data too long for column 'c' at row 2"),
// to put them in the error. Classification never depends on it.
func errorDetail(err error) (column string, row int) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return "", 0
	}
	if m := reColumn.FindStringSubmatch(me.Message); m != nil {
		column = m[1] + m[2] + m[3]
	}
	if m := reRow.FindStringSubmatch(me.Message); m != nil {
		row, _ = strconv.Atoi(m[1])
	}
	return column, row
}

// keyString renders a change's key for messages, e.g. (id=42).
func keyString(tt *TargetTable, c *change.Change) string {
	img := c.After
	if c.Before != nil {
		img = c.Before
	}
	var b strings.Builder
	b.WriteByte('(')
	for n, k := range tt.Key {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(img) {
			if txt, err := pgtext.Encode(nil, img[i]); err == nil {
				b.Write(txt)
			} else {
				b.WriteString(img[i].Kind.String())
			}
		}
	}
	b.WriteByte(')')
	return b.String()
}
