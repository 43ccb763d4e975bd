package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
)

// Tombstones: what the target's application deleted, and when.
//
// An AFTER DELETE trigger on each synced target table (TombstoneTriggerSQL;
// bgsync setup installs it for two-way pairs) upserts a row of
// <schema>.tombstones for every row the application deletes: the table
// ("db.table"), the key as text (TombstoneKey), the SHA-256 of that text
// (the lookup key: a key text can be longer than an index allows) and the
// delete time, UTC_TIMESTAMP(6). bgsync's own sessions leave none: on
// MariaDB the trigger tests @@session.skip_replication, which every
// bgsync session sets (the same flag the binlog capture drops echoes by);
// MySQL has no such variable, so there it tests the user variable
// @bgsync_applier, which setupSession sets on every bgsync session (the
// marker row flags bgsync's transactions in the binlog, but a trigger
// cannot see what else its transaction wrote). A session of the
// application that sets either keeps its deletes out of the tombstones.
// The trigger runs with its definer's rights (setup's user), so the
// application needs none on bgsync's database.
//
// The key text is, for each key column in key order, the byte length of
// its value's text, a colon and the text: "2:17" for id 17, "1:7" + "3:abc"
// for a composite key. A value's text is what the server prints for it
// (CAST AS CHAR: DECIMAL and temporal values with the column's scale),
// except binary strings (HEX) and TIMESTAMPs (UNIX_TIMESTAMP, free of the
// deleting session's time zone). TombstoneKey builds the same text from a
// change's key values. Keys of FLOAT, DOUBLE, BIT or JSON columns have no
// such text: their tables get no trigger, and no tombstones are read.

// TombstoneTable is the table in bgsync's database that holds tombstones.
const TombstoneTable = "tombstones"

// TombstoneTTL is how long a tombstone is kept: Open removes older ones. A
// tombstone matters only while a change that raced the delete can still
// arrive; a week is far beyond any lag bgsync runs with.
const TombstoneTTL = 7 * 24 * time.Hour

// tombstoneDDL is the tombstones table (part of SchemaSQL).
func tombstoneDDL(s string) string {
	return `CREATE TABLE IF NOT EXISTS ` + s + `.` + TombstoneTable + ` (
	table_name VARCHAR(255) NOT NULL,
	key_hash   BINARY(32) NOT NULL,
	key_text   TEXT NOT NULL,
	deleted_at DATETIME(6) NOT NULL,
	PRIMARY KEY (table_name, key_hash),
	KEY tombstones_deleted_at (deleted_at)
) ENGINE=InnoDB`
}

// tombstonePrefix starts the name of every tombstone trigger of bgsync's
// database schema; DropSchema finds them by it.
func tombstonePrefix(schema string) string { return schema + "_tombstone_" }

// TombstoneTriggerName is the name of the tombstone trigger on table t:
// "<schema>_tombstone_<table>", shortened (triggerName) where that exceeds
// MySQL's 64 characters (trigger names are unique per database, so the
// table is part of it).
func TombstoneTriggerName(schema string, t change.Table) string {
	return triggerName(tombstonePrefix(schema), t)
}

// triggerName is prefix + the table's name, its end replaced by a hash
// of the table name where that exceeds 64 characters.
func triggerName(prefix string, t change.Table) string {
	name := prefix + t.Name
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(t.Name))
	suffix := "_" + hex.EncodeToString(sum[:4])
	return name[:64-len(suffix)] + suffix
}

// keyTextSQL is the SQL expression of one key column's text over row
// ("OLD" or "NEW" in a trigger), "" when the column's values have no key
// text.
func keyTextSQL(c ColumnType, row string) string {
	col := row + "." + quoteIdent(c.Name)
	switch c.class() {
	case classBinary:
		return "HEX(" + col + ")"
	case classTimestamp:
		return "CAST(UNIX_TIMESTAMP(" + col + ") AS CHAR CHARACTER SET utf8mb4)"
	case classInt, classYear, classDecimal, classText, classEnum, classUUID, classDate, classTime, classDatetime:
		return "CAST(" + col + " AS CHAR CHARACTER SET utf8mb4)"
	}
	return ""
}

// keySQL is the SQL expression of tt's key text (TombstoneKey's) over row
// ("OLD" or "NEW"). A key column without a key text is an error naming it.
func keySQL(tt *TargetTable, row string) (string, error) {
	var parts []string
	for _, k := range tt.Key {
		c, _ := tt.Column(k)
		e := keyTextSQL(c, row)
		if e == "" {
			return "", fmt.Errorf("table %s: key column %s (%s) has no key text", tt.Name, k, c.DataType)
		}
		parts = append(parts, "LENGTH("+e+"), ':', "+e)
	}
	return "CONCAT(" + strings.Join(parts, ", ") + ")", nil
}

// ownSessionTest is the condition a trigger body tests to leave bgsync's
// own sessions out: @@session.skip_replication on MariaDB, the user
// variable @bgsync_applier on MySQL (see above).
func ownSessionTest(mariadb bool) string {
	if mariadb {
		return "@@session.skip_replication = 0"
	}
	return "@bgsync_applier IS NULL"
}

// TombstoneTriggerSQL returns the statements that put the tombstone
// trigger on tt (see above), for a MariaDB server or a MySQL one. They
// are idempotent. A table whose key has a column without a key text is
// an error naming the column.
func TombstoneTriggerSQL(schema string, tt *TargetTable, mariadb bool) ([]string, error) {
	key, err := keySQL(tt, "OLD")
	if err != nil {
		return nil, fmt.Errorf("%w; deletes there are not ordered against the other side's writes", err)
	}
	trig := quoteIdent(tt.Name.Schema) + "." + quoteIdent(TombstoneTriggerName(schema, tt.Name))
	return []string{
		"DROP TRIGGER IF EXISTS " + trig,
		"CREATE TRIGGER " + trig + " AFTER DELETE ON " + quoteTable(tt.Name) + " FOR EACH ROW\n" +
			"BEGIN\n\tIF " + ownSessionTest(mariadb) + " THEN\n\t\tINSERT INTO " + quoteIdent(schema) + "." + TombstoneTable +
			" (table_name, key_hash, key_text, deleted_at)\n\t\tVALUES (" + quoteString(tt.Name.String()) + ", UNHEX(SHA2(" + key + ", 256)), " +
			key + ", UTC_TIMESTAMP(6))\n\t\tON DUPLICATE KEY UPDATE key_text = VALUES(key_text), deleted_at = VALUES(deleted_at);\n\tEND IF;\nEND",
	}, nil
}

// TombstoneSetupSQL reads table t on the server q reaches and returns
// TombstoneTriggerSQL for it.
func TombstoneSetupSQL(ctx context.Context, q Querier, schema string, t change.Table) ([]string, error) {
	tt, mariadb, err := readTriggerTarget(ctx, q, t)
	if err != nil {
		return nil, err
	}
	return TombstoneTriggerSQL(schema, tt, mariadb)
}

// readTriggerTarget reads table t and whether the server is MariaDB,
// what the trigger builders need.
func readTriggerTarget(ctx context.Context, q Querier, t change.Table) (*TargetTable, bool, error) {
	tt, err := ReadTable(ctx, q, t)
	if err != nil {
		return nil, false, err
	}
	rows, err := q.QueryContext(ctx, "SELECT @@version")
	if err != nil {
		return nil, false, fmt.Errorf("read server version: %w", err)
	}
	defer rows.Close()
	var version string
	for rows.Next() {
		if err := rows.Scan(&version); err != nil {
			return nil, false, fmt.Errorf("read server version: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read server version: %w", err)
	}
	return tt, strings.Contains(strings.ToLower(version), "mariadb"), nil
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}

// TombstoneKey returns the key text of the key values vals (aligned with
// tt.Key) as the trigger writes it, ok false when a value has no key text
// (then no tombstone can be found for it).
func TombstoneKey(tt *TargetTable, vals []change.Value) (string, bool) {
	var b strings.Builder
	for n, k := range tt.Key {
		c, _ := tt.Column(k)
		if n >= len(vals) {
			return "", false
		}
		s, ok := keyText(c, vals[n])
		if !ok {
			return "", false
		}
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String(), true
}

// keyText is the text the server prints for v stored in column c (see
// keyTextSQL).
func keyText(c ColumnType, v change.Value) (string, bool) {
	if keyTextSQL(c, "OLD") == "" {
		return "", false
	}
	arg, err := Encode(c, v)
	if err != nil || arg == nil {
		return "", false
	}
	var s string
	switch a := arg.(type) {
	case int64:
		s = strconv.FormatInt(a, 10)
	case uint64:
		s = strconv.FormatUint(a, 10)
	case []byte:
		if c.class() != classBinary {
			return "", false
		}
		return strings.ToUpper(hex.EncodeToString(a)), true
	case string:
		s = a
	default:
		return "", false
	}
	switch c.class() {
	case classBinary:
		return strings.ToUpper(hex.EncodeToString([]byte(s))), true
	case classDecimal:
		return decimalText(s, c.Scale)
	case classTime, classDatetime:
		return withFraction(s, c.Scale)
	case classTimestamp:
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
		if err != nil {
			return "", false
		}
		return withFraction(strconv.FormatInt(t.Unix(), 10)+"."+fmt.Sprintf("%06d", t.Nanosecond()/1000), c.Scale)
	}
	return s, true
}

// withFraction gives s (digits, optionally '.' and a fraction) exactly
// scale fraction digits; ok false when that would drop a non-zero digit.
func withFraction(s string, scale int) (string, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return "", false
		}
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	if scale == 0 {
		return whole, true
	}
	return whole + "." + frac, true
}

// decimalText prints a decimal text as a DECIMAL(m, scale) column does.
func decimalText(s string, scale int) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(s, "eE") || strings.Trim(whole+frac, "0123456789") != "" {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	out, ok := withFraction(whole+"."+frac, scale)
	if !ok {
		return "", false
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, true
}

func tombstoneHash(text string) []byte {
	sum := sha256.Sum256([]byte(text))
	return sum[:]
}

// keyHashArgs returns, for the keys of st's table that have a key text,
// their canonical keys by key hash, and the arguments of a lookup by
// (table_name, key_hash): the table's name, then each hash.
func keyHashArgs(st *tableState, keys [][]change.Value) (map[string]string, []any) {
	byHash := make(map[string]string, len(keys))
	args := []any{st.tt.Name.String()}
	for _, vals := range keys {
		text, ok := TombstoneKey(st.tt, vals)
		if !ok {
			continue
		}
		h := tombstoneHash(text)
		byHash[string(h)] = canonicalKey(vals)
		args = append(args, h)
	}
	return byHash, args
}

// fetchTombstones reads the delete times of the tombstones of the keys
// keyHashArgs gave byHash and args for (the group's keys of one table)
// into the table's row states.
func (a *Applier) fetchTombstones(ctx context.Context, tx *sql.Tx, st *tableState, byHash map[string]string, args []any) error {
	if len(args) == 1 {
		return nil
	}
	q := "SELECT key_hash, deleted_at FROM " + quoteIdent(a.cfg.Schema) + "." + TombstoneTable +
		" WHERE table_name = ? AND key_hash IN (?" + strings.Repeat(", ?", len(args)-2) + ")"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return &TargetError{Op: "read tombstones of " + st.tt.Name.String(), Err: err}
	}
	defer rows.Close()
	for rows.Next() {
		var h, at []byte
		if err := rows.Scan(&h, &at); err != nil {
			return &TargetError{Op: "read tombstones of " + st.tt.Name.String(), Err: err}
		}
		key, ok := byHash[string(h)]
		if !ok {
			continue
		}
		ts, err := time.ParseInLocation("2006-01-02 15:04:05.999999", string(at), time.UTC)
		if err != nil {
			return fmt.Errorf("table %s: tombstone time %q: %w", st.tt.Name, at, err)
		}
		st.lookup(key).deleted = ts
	}
	if err := rows.Err(); err != nil {
		return &TargetError{Op: "read tombstones of " + st.tt.Name.String(), Err: err}
	}
	return nil
}

// expireTombstones removes tombstones older than TombstoneTTL.
func (a *Applier) expireTombstones(ctx context.Context) error {
	_, err := a.conn.ExecContext(ctx, "DELETE FROM "+quoteIdent(a.cfg.Schema)+"."+TombstoneTable+
		" WHERE deleted_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND", int64(TombstoneTTL/time.Second))
	if err != nil {
		return &TargetError{Op: "expire tombstones", Err: err}
	}
	return nil
}

// dropTriggers drops every trigger of bgsync's database schema whose name
// starts with prefix and whose body writes table (in that schema), on
// whichever table it is.
func dropTriggers(ctx context.Context, db Execer, schema, prefix, table string) error {
	rows, err := db.QueryContext(ctx, `SELECT TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS
WHERE LEFT(TRIGGER_NAME, ?) = ? AND ACTION_STATEMENT LIKE ?`,
		len(prefix), prefix, "%"+quoteIdent(schema)+"."+table+"%")
	if err != nil {
		return fmt.Errorf("list %s triggers: %w", table, err)
	}
	var names []string
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return fmt.Errorf("list %s triggers: %w", table, err)
		}
		names = append(names, quoteIdent(s)+"."+quoteIdent(n))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list %s triggers: %w", table, err)
	}
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+n); err != nil {
			return fmt.Errorf("drop trigger %s: %w", n, err)
		}
	}
	return nil
}
