package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
)

// Column writes: when the target's application last wrote each column of
// a row, for column-merge (conflict/merge.go).
//
// Two triggers on each target table under column-merge in a two-way pair
// (ColumnTriggerSQL; bgsync setup installs them), AFTER INSERT and AFTER
// UPDATE, upsert a row of <schema>.column_writes per column the
// application's statement wrote: every column of an insert; for an update,
// each column whose value changed (NOT (OLD.c <=> NEW.c), text compared
// as bytes, so a change of case or trailing spaces counts as the change
// the binlog carries), under the row's new key. The row holds the table,
// the SHA-256 of the key text (exactly the tombstones' key_hash, from the
// same key SQL, see tombstone.go), the column name and UTC_TIMESTAMP(6),
// which in a trigger is the start of the application's statement. bgsync's
// own sessions record nothing (the same test as the tombstone trigger), so
// a column the stream wrote last carries no time: conflict.Input's zero.
//
// One row per column rather than a JSON object per row: each trigger is a
// single INSERT ... SELECT ... ON DUPLICATE KEY UPDATE with no JSON read
// and rewritten (MariaDB's JSON is text: JSON_SET would parse and reprint
// the whole object on every write), the applier reads plain rows, and old
// entries expire one by one by an index on written_at. The key text is not
// stored (the tombstones hold it for a deleted key; the hash finds a row's
// entries from its key values).
//
// Apply reads the entries of the group's keys with their rows and
// tombstones, one query per table, and passes them as
// conflict.Input.ColumnTimes truncated to whole seconds: the other side
// compares the same two writes by the time this side's binlog carries for
// the application's statement, its start in whole seconds, which is what
// UTC_TIMESTAMP(6) recorded, truncated. A write before the key's last
// tombstone belongs to a row the application since deleted and counts
// for nothing (apply/postgres deletes those entries with the row). Within
// one group, a column the group itself wrote counts as the stream's. Open
// removes entries older than TombstoneTTL.

// ColumnWritesTable is the table in bgsync's database that holds column
// write times.
const ColumnWritesTable = "column_writes"

// columnWritesDDL is the column_writes table (part of SchemaSQL).
// column_name is 64 characters: MySQL's limit for a column name.
func columnWritesDDL(s string) string {
	return `CREATE TABLE IF NOT EXISTS ` + s + `.` + ColumnWritesTable + ` (
	table_name  VARCHAR(255) NOT NULL,
	key_hash    BINARY(32) NOT NULL,
	column_name VARCHAR(64) NOT NULL,
	written_at  DATETIME(6) NOT NULL,
	PRIMARY KEY (table_name, key_hash, column_name),
	KEY column_writes_written_at (written_at)
) ENGINE=InnoDB`
}

// columnInsertPrefix and columnUpdatePrefix start the names of the
// column-write triggers of bgsync's database schema; DropSchema finds
// them by these.
func columnInsertPrefix(schema string) string { return schema + "_colins_" }
func columnUpdatePrefix(schema string) string { return schema + "_colupd_" }

// ColumnTriggerNames are the names of the column-write triggers on table
// t: "<schema>_colins_<table>" (AFTER INSERT) and "<schema>_colupd_<table>"
// (AFTER UPDATE), shortened as TombstoneTriggerName is.
func ColumnTriggerNames(schema string, t change.Table) (insert, update string) {
	return triggerName(columnInsertPrefix(schema), t), triggerName(columnUpdatePrefix(schema), t)
}

// ColumnTriggerSQL returns the statements that put the column-write
// triggers on tt when merge is set (its policy is column-merge), for a
// MariaDB server or a MySQL one, and that remove them otherwise. They are
// idempotent. With merge, a table whose key has a column without a key
// text is an error naming the column.
func ColumnTriggerSQL(schema string, tt *TargetTable, mariadb, merge bool) ([]string, error) {
	ins, upd := ColumnTriggerNames(schema, tt.Name)
	ins = quoteIdent(tt.Name.Schema) + "." + quoteIdent(ins)
	upd = quoteIdent(tt.Name.Schema) + "." + quoteIdent(upd)
	out := []string{"DROP TRIGGER IF EXISTS " + ins, "DROP TRIGGER IF EXISTS " + upd}
	if !merge {
		return out, nil
	}
	key, err := keySQL(tt, "NEW")
	if err != nil {
		return nil, fmt.Errorf("%w; column-merge there cannot tell which columns the application wrote (every column an incoming change modified is written)", err)
	}
	var all, changed []string
	for i, c := range tt.Columns {
		name := quoteString(c.Name)
		if i == 0 {
			name += " AS n"
		}
		all = append(all, "SELECT "+name)
		old, cur := "OLD."+quoteIdent(c.Name), "NEW."+quoteIdent(c.Name)
		if c.class() == classText || (c.JSON && c.DataType != "json") {
			old, cur = "CAST("+old+" AS BINARY)", "CAST("+cur+" AS BINARY)"
		}
		w := "NOT (" + old + " <=> " + cur + ")"
		if i == 0 {
			w += " AS w"
		}
		changed = append(changed, "SELECT "+name+", "+w)
	}
	body := func(from string) string {
		return "BEGIN\n\tIF " + ownSessionTest(mariadb) + " THEN\n\t\tINSERT INTO " + quoteIdent(schema) + "." + ColumnWritesTable +
			" (table_name, key_hash, column_name, written_at)\n\t\tSELECT " + quoteString(tt.Name.String()) + ", UNHEX(SHA2(" + key +
			", 256)), c.n, UTC_TIMESTAMP(6)\n\t\tFROM " + from +
			"\n\t\tON DUPLICATE KEY UPDATE written_at = VALUES(written_at);\n\tEND IF;\nEND"
	}
	return append(out,
		"CREATE TRIGGER "+ins+" AFTER INSERT ON "+quoteTable(tt.Name)+" FOR EACH ROW\n"+
			body("("+strings.Join(all, " UNION ALL ")+") AS c"),
		"CREATE TRIGGER "+upd+" AFTER UPDATE ON "+quoteTable(tt.Name)+" FOR EACH ROW\n"+
			body("("+strings.Join(changed, " UNION ALL ")+") AS c WHERE c.w"),
	), nil
}

// ConflictTriggerSQL reads table t on the server q reaches and returns
// the statements that prepare it for conflict handling in a two-way pair:
// TombstoneTriggerSQL, then ColumnTriggerSQL with merge.
func ConflictTriggerSQL(ctx context.Context, q Querier, schema string, t change.Table, merge bool) ([]string, error) {
	tt, mariadb, err := readTriggerTarget(ctx, q, t)
	if err != nil {
		return nil, err
	}
	tomb, err := TombstoneTriggerSQL(schema, tt, mariadb)
	if err != nil && merge {
		return nil, fmt.Errorf("%w; nor can column-merge tell which columns the application wrote (every column an incoming change modified is written)", err)
	}
	if err != nil {
		return nil, err
	}
	cols, err := ColumnTriggerSQL(schema, tt, mariadb, merge)
	if err != nil {
		return nil, err
	}
	return append(tomb, cols...), nil
}

// fetchColumnTimes reads the column write times of the keys keyHashArgs
// gave byHash and args for (the group's keys of one table, under
// column-merge) into the table's row states.
func (a *Applier) fetchColumnTimes(ctx context.Context, tx *sql.Tx, st *tableState, byHash map[string]string, args []any) error {
	if len(args) == 1 {
		return nil
	}
	q := "SELECT key_hash, column_name, written_at FROM " + quoteIdent(a.cfg.Schema) + "." + ColumnWritesTable +
		" WHERE table_name = ? AND key_hash IN (?" + strings.Repeat(", ?", len(args)-2) + ")"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return &TargetError{Op: "read column writes of " + st.tt.Name.String(), Err: err}
	}
	defer rows.Close()
	for rows.Next() {
		var h, at []byte
		var col string
		if err := rows.Scan(&h, &col, &at); err != nil {
			return &TargetError{Op: "read column writes of " + st.tt.Name.String(), Err: err}
		}
		key, ok := byHash[string(h)]
		if !ok {
			continue
		}
		ts, err := time.ParseInLocation("2006-01-02 15:04:05.999999", string(at), time.UTC)
		if err != nil {
			return fmt.Errorf("table %s: column %s write time %q: %w", st.tt.Name, col, at, err)
		}
		rs := st.lookup(key)
		if rs.colTimes == nil {
			rs.colTimes = map[string]time.Time{}
		}
		rs.colTimes[col] = ts
	}
	if err := rows.Err(); err != nil {
		return &TargetError{Op: "read column writes of " + st.tt.Name.String(), Err: err}
	}
	return nil
}

// columnTimes aligns the application's column write times of rs with
// cols, for conflict.Input.ColumnTimes: whole seconds (see above), zero
// where the stream wrote the column last, the time is unknown, or the
// write is older than the key's tombstone. Nil when none is known.
func (rs *rowState) columnTimes(cols []change.Column) []time.Time {
	if len(rs.colTimes) == 0 {
		return nil
	}
	out := make([]time.Time, len(cols))
	for i, c := range cols {
		if t, ok := rs.colTimes[c.Name]; ok && t.After(rs.deleted) {
			out[i] = t.Truncate(time.Second)
		}
	}
	return out
}

// expireColumnWrites removes column write times older than TombstoneTTL.
func (a *Applier) expireColumnWrites(ctx context.Context) error {
	_, err := a.conn.ExecContext(ctx, "DELETE FROM "+quoteIdent(a.cfg.Schema)+"."+ColumnWritesTable+
		" WHERE written_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND", int64(TombstoneTTL/time.Second))
	if err != nil {
		return &TargetError{Op: "expire column writes", Err: err}
	}
	return nil
}
