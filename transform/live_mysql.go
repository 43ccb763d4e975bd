package transform

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// Querier is what ReadMySQLColumns needs: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadMySQLColumns reads the live columns of a MariaDB/MySQL table (the
// database is t.Schema), in column order, for Compile. Each Column's Type
// is the PostgreSQL type of the same value domain (PGTypeOf) and MySQL its
// own type. Generated columns are left out: no one writes them.
func ReadMySQLColumns(ctx context.Context, q Querier, t change.Table) ([]Column, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.COLUMN_NAME, LOWER(c.DATA_TYPE), LOWER(c.COLUMN_TYPE), c.IS_NULLABLE = 'NO',
	c.COLUMN_DEFAULT IS NOT NULL OR LOWER(c.EXTRA) LIKE '%auto_increment%',
	COALESCE(c.CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(c.NUMERIC_PRECISION, 0), COALESCE(c.NUMERIC_SCALE, c.DATETIME_PRECISION, 0),
	EXISTS (SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = c.TABLE_SCHEMA AND s.TABLE_NAME = c.TABLE_NAME
		AND s.INDEX_NAME = 'PRIMARY' AND s.COLUMN_NAME = c.COLUMN_NAME)
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ?
	AND LOWER(c.EXTRA) NOT LIKE '%virtual generated%' AND LOWER(c.EXTRA) NOT LIKE '%stored generated%'
	AND LOWER(c.EXTRA) NOT LIKE '%persistent generated%'
ORDER BY c.ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	var cols []Column
	longtext := false
	for rows.Next() {
		var c Column
		m := &MySQLType{}
		if err := rows.Scan(&c.Name, &m.DataType, &m.ColumnType, &c.NotNull, &c.HasDefault, &m.Length, &m.Precision, &m.Scale, &c.Key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s: %w", t, err)
		}
		m.Unsigned = strings.Contains(m.ColumnType, "unsigned")
		m.JSON = m.DataType == "json"
		longtext = longtext || m.DataType == "longtext"
		c.MySQL = m
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: %w", t, ErrNoTable)
	}
	if longtext {
		json, err := mariaDBJSONColumns(ctx, q, t)
		if err != nil {
			return nil, err
		}
		for i := range cols {
			if cols[i].MySQL.DataType == "longtext" && json[cols[i].Name] {
				cols[i].MySQL.JSON = true
			}
		}
	}
	for i := range cols {
		cols[i].Type = PGTypeOf(*cols[i].MySQL)
	}
	return cols, nil
}

// jsonValid matches the check MariaDB adds to a column declared JSON.
var jsonValid = regexp.MustCompile("(?i)^\\s*json_valid\\(\\s*`?([^`]+?)`?\\s*\\)\\s*$")

// mariaDBJSONColumns returns the columns of t that MariaDB declared JSON:
// a longtext with a json_valid(column) check. MySQL, whose CHECK_CONSTRAINTS
// has no TABLE_NAME, has a json type of its own: none are found there.
func mariaDBJSONColumns(ctx context.Context, q Querier, t change.Table) (map[string]bool, error) {
	out := map[string]bool{}
	rows, err := q.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, t.Schema, t.Name)
	if err != nil {
		return out, nil // MySQL: no TABLE_NAME column, and no alias to find
	}
	defer rows.Close()
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return nil, fmt.Errorf("read checks of %s: %w", t, err)
		}
		if m := jsonValid.FindStringSubmatch(clause); m != nil {
			out[m[1]] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checks of %s: %w", t, err)
	}
	return out, nil
}
