package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// MariaDB instances of scripts/env.sh (root over TCP).
var (
	myBlueAdminDSN  = envOr("BGSYNC_TEST_MY_BLUE_DSN", "root:bgsync@tcp(127.0.0.1:13306)/")
	myGreenAdminDSN = envOr("BGSYNC_TEST_MY_GREEN_DSN", "root:bgsync@tcp(127.0.0.1:13307)/")
)

const (
	enginePG = "postgres"
	engineMy = "mariadb"
)

// sideDB is one side's test database, PostgreSQL or MariaDB, reached with
// that engine's own driver.
type sideDB struct {
	engine string
	side   string // blue or green
	dsn    string
	schema string // what table names are qualified with in bgsync's config
	my     *sql.DB
	pg     *pgx.Conn
}

// newSideDB creates a fresh database it_<name> of engine on side, dropped
// at cleanup unless BGSYNC_IT_KEEP is set. PostgreSQL sides come from
// newTestDB (both clusters at once), so only MariaDB sides are made here.
func newMySideDB(t *testing.T, side, name string) *sideDB {
	t.Helper()
	admin := myBlueAdminDSN
	if side == "green" {
		admin = myGreenAdminDSN
	}
	db := "it_" + name
	if !validName.MatchString(db) {
		t.Fatalf("bad test database name %q", db)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := sql.Open("mysql", admin)
	if err == nil {
		err = a.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MariaDB %s unreachable (CI is set): %v; run `bash scripts/env.sh up`", side, err)
		}
		t.Skipf("MariaDB %s unreachable: %v; run `bash scripts/env.sh up`", side, err)
	}
	defer a.Close()
	for _, s := range []string{"DROP DATABASE IF EXISTS `" + db + "`", "DROP DATABASE IF EXISTS `" + db + "_bgsync`", "CREATE DATABASE `" + db + "`"} {
		if _, err := a.ExecContext(ctx, s); err != nil {
			t.Fatalf("MariaDB %s: %s: %v", side, s, err)
		}
	}
	t.Cleanup(func() {
		if os.Getenv("BGSYNC_IT_KEEP") != "" {
			return
		}
		if a, err := sql.Open("mysql", admin); err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS `" + db + "`")
			_, _ = a.Exec("DROP DATABASE IF EXISTS `" + db + "_bgsync`")
			a.Close()
		}
	})
	return openMySide(t, admin, side, db)
}

// openMySide is database db of the MariaDB server of admin, as side.
func openMySide(t *testing.T, admin, side, db string) *sideDB {
	t.Helper()
	mc, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatal(err)
	}
	mc.DBName = db
	handle, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { handle.Close() })
	return &sideDB{engine: engineMy, side: side, dsn: mc.FormatDSN(), schema: db, my: handle}
}

// pgSideDB wraps one side of a PostgreSQL test database pair.
func pgSideDB(t *testing.T, side, dsn string) *sideDB {
	return &sideDB{engine: enginePG, side: side, dsn: dsn, schema: "public", pg: mustConnect(t, dsn)}
}

// tx runs stmts in one transaction.
func (s *sideDB) tx(ctx context.Context, stmts ...string) error {
	if s.my != nil {
		tx, err := s.my.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				tx.Rollback()
				return fmt.Errorf("%s %s: %s: %w", s.engine, s.side, clip(st, 200), err)
			}
		}
		return tx.Commit()
	}
	tx, err := s.pg.Begin(ctx)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("%s %s: %s: %w", s.engine, s.side, clip(st, 200), err)
		}
	}
	return tx.Commit(ctx)
}

// mustExec runs each statement on its own, failing the test on error.
func (s *sideDB) mustExec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		if err := s.tx(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
}

// rows runs q and returns each row's columns as text, NULL as "∅".
func (s *sideDB) rows(ctx context.Context, q string) ([][]string, error) {
	var out [][]string
	if s.my != nil {
		rs, err := s.my.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", s.engine, s.side, q, err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return nil, err
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = "∅"
				if v.Valid {
					row[i] = v.String
				}
			}
			out = append(out, row)
		}
		return out, rs.Err()
	}
	// The simple protocol returns every column as text.
	rs, err := s.pg.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w", s.engine, s.side, q, err)
	}
	defer rs.Close()
	for rs.Next() {
		raw := rs.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			row[i] = "∅"
			if v != nil {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// count returns the single integer q selects.
func (s *sideDB) count(ctx context.Context, q string) (int64, error) {
	r, err := s.rows(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(r) != 1 || len(r[0]) != 1 {
		return 0, fmt.Errorf("%s: want one value, got %v", q, r)
	}
	var n int64
	_, err = fmt.Sscan(r[0][0], &n)
	return n, err
}

// table qualifies a table name the way bgsync's config names it.
func (s *sideDB) table(name string) string { return s.schema + "." + name }

// txnRunner opens a connection of s's own (as an application writer has)
// and returns run, which runs body in one transaction on it: exec runs one
// statement with arguments in the engine's placeholder style.
func (s *sideDB) txnRunner(ctx context.Context) (run func(context.Context, func(exec func(string, ...any) error) error) error, closeConn func(), err error) {
	if s.my != nil {
		conn, err := s.my.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		run = func(ctx context.Context, body func(func(string, ...any) error) error) error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := body(func(q string, args ...any) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		}
		return run, func() { conn.Close() }, nil
	}
	conn, err := connect(ctx, s.dsn)
	if err != nil {
		return nil, nil, err
	}
	run = func(ctx context.Context, body func(func(string, ...any) error) error) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if err := body(func(q string, args ...any) error { _, err := tx.Exec(ctx, q, args...); return err }); err != nil {
			tx.Rollback(context.Background())
			return err
		}
		return tx.Commit(ctx)
	}
	return run, func() { conn.Close(context.Background()) }, nil
}
