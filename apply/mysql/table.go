package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/go-sql-driver/mysql"
)

// Querier is what ReadTable needs: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// TargetTable is what the target says about one table.
type TargetTable struct {
	Name    change.Table
	Columns []ColumnType // in table order
	Key     []string     // primary key columns, in index order
	index   map[string]int
}

// Column returns the column named name.
func (t *TargetTable) Column(name string) (ColumnType, bool) {
	i, ok := t.index[name]
	if !ok {
		return ColumnType{}, false
	}
	return t.Columns[i], true
}

// ErrNoTable: the target table does not exist.
var ErrNoTable = errors.New("table does not exist")

// ReadTable reads t's columns from information_schema.COLUMNS and its
// primary key from information_schema.KEY_COLUMN_USAGE. A column is JSON
// when its DATA_TYPE is json (MySQL) or, on MariaDB, whose JSON is an
// alias, when it is a longtext with a json_valid(column) check
// (information_schema.CHECK_CONSTRAINTS), which MariaDB adds to every
// column declared JSON.
func ReadTable(ctx context.Context, q Querier, t change.Table) (*TargetTable, error) {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, LOWER(DATA_TYPE), LOWER(COLUMN_TYPE),
	COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(NUMERIC_SCALE, DATETIME_PRECISION, 0)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("inspect target table %s: %w", t, err)
	}
	tt := &TargetTable{Name: t, index: map[string]int{}}
	longtext := false
	for rows.Next() {
		var c ColumnType
		var colType string
		if err := rows.Scan(&c.Name, &c.DataType, &colType, &c.Length, &c.Scale); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inspect target table %s: %w", t, err)
		}
		c.Unsigned = strings.Contains(colType, "unsigned")
		c.JSON = c.DataType == "json"
		longtext = longtext || c.DataType == "longtext"
		tt.index[c.Name] = len(tt.Columns)
		tt.Columns = append(tt.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inspect target table %s: %w", t, err)
	}
	if len(tt.Columns) == 0 {
		return nil, fmt.Errorf("target table %s: %w", t, ErrNoTable)
	}
	if longtext {
		json, err := mariaDBJSONColumns(ctx, q, t)
		if err != nil {
			return nil, err
		}
		for i, c := range tt.Columns {
			if c.DataType == "longtext" && json[c.Name] {
				tt.Columns[i].JSON = true
			}
		}
	}
	rows, err = q.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("inspect primary key of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("inspect primary key of %s: %w", t, err)
		}
		tt.Key = append(tt.Key, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inspect primary key of %s: %w", t, err)
	}
	if len(tt.Key) == 0 {
		return nil, fmt.Errorf("target table %s has no primary key", t)
	}
	return tt, nil
}

// jsonValid matches the check MariaDB adds to a column declared JSON
// (transform.ReadMySQLColumns knows the alias by the same rule).
var jsonValid = regexp.MustCompile("(?i)^\\s*json_valid\\(\\s*`?([^`]+?)`?\\s*\\)\\s*$")

// mariaDBJSONColumns returns the columns of t that MariaDB declared JSON:
// those with a json_valid(column) check. MySQL has a json type of its own
// and no such alias; its CHECK_CONSTRAINTS has no TABLE_NAME (8.0.16+) or
// does not exist: none are found there.
func mariaDBJSONColumns(ctx context.Context, q Querier, t change.Table) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, t.Schema, t.Name)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1054 || me.Number == 1109) { // unknown column, unknown table
			return nil, nil
		}
		return nil, fmt.Errorf("inspect checks of %s: %w", t, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return nil, fmt.Errorf("inspect checks of %s: %w", t, err)
		}
		if m := jsonValid.FindStringSubmatch(clause); m != nil {
			out[m[1]] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inspect checks of %s: %w", t, err)
	}
	return out, nil
}

// CheckTargets verifies that every target table exists and has a primary
// key, listing every problem at once.
func CheckTargets(ctx context.Context, q Querier, tables []change.Table) error {
	var errs []error
	for _, t := range tables {
		if _, err := ReadTable(ctx, q, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// target returns the target table of a source table, read once.
func (a *Applier) target(ctx context.Context, src change.Table) (*TargetTable, error) {
	if tt, ok := a.tables[src]; ok {
		return tt, nil
	}
	dst := src
	if name, ok := a.cfg.Tables[src.String()]; ok {
		if s, n, found := strings.Cut(name, "."); found {
			dst = change.Table{Schema: s, Name: n}
		} else {
			dst = change.Table{Schema: src.Schema, Name: name}
		}
	}
	tt, err := ReadTable(ctx, a.conn, dst)
	if err != nil {
		return nil, err
	}
	a.tables[src] = tt
	return tt, nil
}

// checkColumns makes sure the target has every column the change carries
// and that the change carries the target's key.
func checkColumns(tt *TargetTable, c *change.Change) error {
	for _, col := range c.Columns {
		if _, ok := tt.index[col.Name]; !ok {
			return fmt.Errorf("column %s of source table %s does not exist in target table %s", col.Name, c.Table, tt.Name)
		}
	}
	for _, k := range tt.Key {
		if columnIndex(c.Columns, k) < 0 {
			return fmt.Errorf("target table %s key column %s is not in the source row of %s", tt.Name, k, c.Table)
		}
	}
	return nil
}

func columnIndex(cols []change.Column, name string) int {
	for i := range cols {
		if cols[i].Name == name {
			return i
		}
	}
	return -1
}
