package verify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/go-sql-driver/mysql"
)

// mySide reads a MariaDB or MySQL side over the text protocol: every
// value arrives as the server prints it, which is what the lines of the
// same-engine path carry and what apply/mysql.Decode reads.
type mySide struct {
	db   *sql.DB
	conn *sql.Conn
	line []byte
	form capturemy.Form // of positions, when this side is a source
}

var _ side = (*mySide)(nil)

// openMy connects with: values as text (parseTime off), arguments
// interpolated (no prepared statements: the text protocol for every
// result), time_zone '+00:00' (TIMESTAMP columns print in UTC),
// utf8mb4 results, a short wait for metadata locks, and the statement
// timeout (MariaDB max_statement_time; MySQL max_execution_time, which
// bounds SELECTs).
func openMy(ctx context.Context, dsn string, e Engine, timeout time.Duration) (*mySide, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, errors.New("invalid connection string") // the driver's message may quote the DSN
	}
	c.ParseTime = false
	c.Loc = time.UTC
	c.InterpolateParams = true
	c.MultiStatements = false
	c.DBName = ""
	c.Params = map[string]string{"time_zone": "'+00:00'", "lock_wait_timeout": "10",
		"character_set_results": "utf8mb4"}
	if e == MariaDB {
		c.Params["max_statement_time"] = strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)
	} else {
		c.Params["max_execution_time"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	}
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, errors.New("invalid connection string")
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	sc, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to %s as %s: %w", c.Addr, c.User, err)
	}
	return &mySide{db: db, conn: sc}, nil
}

func (m *mySide) close() {
	m.conn.Close()
	m.db.Close()
}

// myTable is what a MariaDB/MySQL side's table is read by.
type myTable struct {
	cols map[string]applymy.ColumnType
	// types are COLUMN_TYPE and collation by column: two sides whose
	// columns all agree are compared as printed.
	types map[string]string
}

// readShape reads t's columns and primary key: key first, in key order,
// then the others by name.
func (m *mySide) readShape(ctx context.Context, t change.Table) (*shape, error) {
	tt, err := applymy.ReadTable(ctx, m.conn, t)
	if err != nil {
		return nil, err
	}
	my := &myTable{cols: map[string]applymy.ColumnType{}, types: map[string]string{}}
	rows, err := m.conn.QueryContext(ctx, `SELECT COLUMN_NAME, LOWER(COLUMN_TYPE), COALESCE(COLLATION_NAME, '')
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ, coll string
		if err := rows.Scan(&name, &typ, &coll); err != nil {
			return nil, fmt.Errorf("table %s: %w", t, err)
		}
		my.types[name] = typ + " " + coll
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	s := &shape{table: t, key: tt.Key, my: my}
	var others []string
	for _, c := range tt.Columns {
		my.cols[c.Name] = c
		if !slices.Contains(tt.Key, c.Name) {
			others = append(others, c.Name)
		}
	}
	slices.Sort(others)
	s.cols = append(append([]string(nil), s.key...), others...)
	return s, nil
}

func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// mySelect is s's select list: capture's forms for a mapped table, else
// the columns as they are.
func (s *shape) mySelect() string {
	if s.sel != nil {
		return strings.Join(s.sel, ", ")
	}
	return myList(s.cols)
}

func myTableName(s *shape) string { return myIdent(s.table.Schema) + "." + myIdent(s.table.Name) }

func myList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = myIdent(n)
	}
	return strings.Join(q, ", ")
}

func (m *mySide) chunkBounds(ctx context.Context, s *shape, n int) ([]string, error) {
	var out []string
	last := ""
	for {
		q := "SELECT " + myList(s.key) + " FROM " + myTableName(s)
		if last != "" {
			q += " WHERE " + myKeyCond(s, ">", last, false)
		}
		q += " ORDER BY " + myList(s.key) + " LIMIT 1 OFFSET " + strconv.Itoa(n-1)
		var key []byte
		found := false
		err := m.query(ctx, q, len(s.key), func(line []byte) { key, found = append(key[:0], line...), true })
		if err != nil {
			return nil, err
		}
		if !found {
			return out, nil
		}
		out = append(out, string(key))
		last = string(key)
	}
}

func (m *mySide) chunk(ctx context.Context, s *shape, c chunk, r *rowSet) error {
	return m.query(ctx, myChunkSQL(s, c), len(s.cols), r.add)
}

func (m *mySide) keyed(ctx context.Context, s *shape, keys []string, r *rowSet) error {
	return m.query(ctx, myKeysSQL(s, keys), len(s.cols), r.add)
}

// myChunkSQL selects a chunk's rows; the bounds are key texts as blue
// prints them.
func myChunkSQL(s *shape, c chunk) string {
	q := "SELECT " + s.mySelect() + " FROM " + myTableName(s)
	var where []string
	if c.lo != "" {
		where = append(where, myKeyCond(s, ">", c.lo, false))
	}
	if c.hi != "" {
		where = append(where, myKeyCond(s, "<=", c.hi, false))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q
}

// myKeysSQL selects the rows with the given keys: key texts of the lines
// compared (canonical ones when s is compared by value or mapped).
func myKeysSQL(s *shape, keys []string) string {
	tuples := make([]string, len(keys))
	for i, k := range keys {
		tuples[i] = "(" + strings.Join(myKeyLiterals(s, k, s.canonicalKeys()), ", ") + ")"
	}
	return "SELECT " + s.mySelect() + " FROM " + myTableName(s) + " WHERE (" + myList(s.key) + ") IN (" +
		strings.Join(tuples, ", ") + ")"
}

// myKeyCond is "key op literal" for a key text, the row comparison spelt
// out for a composite key ((a > 1) OR (a = 1 AND b > 2)) so MariaDB reads
// it as a range of the primary key.
func myKeyCond(s *shape, op, key string, canonical bool) string {
	lits := myKeyLiterals(s, key, canonical)
	strict := strings.TrimSuffix(op, "=")
	var ors []string
	for i := range s.key {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, myIdent(s.key[j])+" = "+lits[j])
		}
		o := strict
		if i == len(s.key)-1 {
			o = op
		}
		ands = append(ands, myIdent(s.key[i])+" "+o+" "+lits[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// myKeyLiterals renders each field of a key text as a literal of its
// column.
func myKeyLiterals(s *shape, key string, canonical bool) []string {
	fields := strings.Split(key, "\t")
	out := make([]string, len(fields))
	for i, f := range fields {
		raw := unescapeCopy(f)
		col := s.my.cols[s.key[min(i, len(s.key)-1)]]
		if canonical && s.canonicalKeys() {
			raw = rawOfCanonical(col, s.keyKind(i), raw)
		}
		out[i] = myLiteral(col, raw)
	}
	return out
}

// myLiteral is an SQL literal of raw, the text of a value of col:
// numbers as they are, binary strings and everything else as hex
// literals (no quoting or escaping to get wrong whatever sql_mode says);
// text as utf8mb4, which the column's collation then compares.
func myLiteral(col applymy.ColumnType, raw string) string {
	switch col.DataType {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "year", "decimal", "float", "double":
		if numberText(raw) {
			return raw
		}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit":
		return "X'" + fmt.Sprintf("%x", raw) + "'"
	}
	return "_utf8mb4 X'" + fmt.Sprintf("%x", raw) + "'"
}

func numberText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// query runs q and hands each row to add as a line: every field as
// printed, COPY-escaped, tab-separated, \N for NULL. The line is valid
// until the next call.
func (m *mySide) query(ctx context.Context, q string, ncols int, add func([]byte)) error {
	rows, err := m.conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, ncols)
	ptrs := make([]any, ncols)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		m.line = m.line[:0]
		for i, f := range raw {
			if i > 0 {
				m.line = append(m.line, '\t')
			}
			if f == nil {
				m.line = append(m.line, '\\', 'N')
				continue
			}
			m.line = pgtext.AppendCopyText(m.line, f)
		}
		add(m.line)
	}
	return rows.Err()
}

// position is the source's current binlog position in the form its
// capture makes positions (m.form): the end of the binlog, or the last GTID
// logged in the domain.
func (m *mySide) position(ctx context.Context) (uint64, error) {
	p, err := capturemy.CurrentPositionIn(ctx, m.conn, m.form)
	if err != nil {
		return 0, fmt.Errorf("read binlog position: %w", err)
	}
	return uint64(p), nil
}

// checkpoint reads `<schema>`.checkpoints (apply/mysql's table), where
// source_position is a BIGINT UNSIGNED.
func (m *mySide) checkpoint(ctx context.Context, schema, direction string) (uint64, bool, error) {
	var pos uint64
	err := m.conn.QueryRowContext(ctx, "SELECT source_position FROM "+myIdent(schema)+".checkpoints WHERE direction = ?", direction).Scan(&pos)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("read checkpoint of %s: %w", direction, err)
	}
	return pos, true, nil
}
