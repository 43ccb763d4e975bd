package mysql_test

import (
	"context"
	"database/sql"
	"math"
	"testing"
	"time"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
	driver "github.com/go-sql-driver/mysql"
)

// env is one test's database on the green MariaDB, with its own bgsync
// schema so parallel tests share no checkpoints.
type env struct {
	t      *testing.T
	dsn    string
	dbName string
	schema string
	db     *sql.DB
}

func newEnv(t *testing.T, ddl ...string) *env {
	t.Helper()
	dsn := testenv.NewMySQLDatabase(t, testenv.MyGreenDSN())
	c, err := driver.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dsn: dsn, dbName: c.DBName, db: testenv.OpenMySQL(t, dsn)}
	e.schema = c.DBName + "_bgsync"
	if len(e.schema) > 64 {
		e.schema = e.schema[len(e.schema)-64:]
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("mysql", testenv.MyGreenDSN())
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+e.schema+"`")
	})
	testenv.ExecMySQL(t, e.db, ddl...)
	return e
}

// open opens an Applier for blue-to-green, edited by opts.
func (e *env) open(opts ...func(*mysql.Config)) *mysql.Applier {
	e.t.Helper()
	cfg := mysql.Config{DSN: e.dsn, Schema: e.schema, Direction: "blue-to-green", From: conflict.Blue}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := mysql.Open(context.Background(), cfg)
	if err != nil {
		e.t.Fatalf("open: %v", err)
	}
	e.t.Cleanup(a.Close)
	return a
}

func (e *env) table(name string) change.Table { return change.Table{Schema: e.dbName, Name: name} }

func (e *env) apply(a *mysql.Applier, txns ...*change.Txn) mysql.Result {
	e.t.Helper()
	res, err := a.Apply(context.Background(), txns, 7)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return res
}

// count runs a COUNT(*) (or any one-integer) query.
// execAll runs stmts on the test database, in order.
func (e *env) execAll(t *testing.T, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := e.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// dropSchemaLeavesNoTrigger runs DropSchema and checks that no trigger of
// bgsync's is left on the test database's tables.
func (e *env) dropSchemaLeavesNoTrigger(t *testing.T) {
	t.Helper()
	if _, err := mysql.DropSchema(context.Background(), e.db, e.schema); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ?", e.dbName); n != 0 {
		t.Fatalf("%d triggers left after DropSchema", n)
	}
}

func (e *env) count(q string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// rows returns a query's rows as text ("NULL" for NULL), one string per row.
func (e *env) rows(q string) []string {
	e.t.Helper()
	rs, err := e.db.Query(q)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		s := ""
		for i, v := range vals {
			if i > 0 {
				s += "|"
			}
			if v.Valid {
				s += v.String
			} else {
				s += "NULL"
			}
		}
		out = append(out, s)
	}
	if err := rs.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func txn(pos change.Position, cs ...change.Change) *change.Txn {
	for i := range cs {
		cs[i].Seq = uint32(i)
	}
	return &change.Txn{ID: uint64(pos), Position: pos, CommitTime: base.Add(time.Duration(pos) * time.Second), Changes: cs}
}

// Rows of the test table "items": id INT key, name VARCHAR, n INT.
var itemCols = []change.Column{{Name: "id", Key: true}, {Name: "name"}, {Name: "n"}}

func item(id int64, name string, n int64) change.Row {
	return change.Row{change.Int(id), change.Text(name), change.Int(n)}
}

func ins(t change.Table, row change.Row) change.Change {
	return change.Change{Op: change.OpInsert, Table: t, Columns: itemCols, After: row}
}

func upd(t change.Table, before, after change.Row) change.Change {
	return change.Change{Op: change.OpUpdate, Table: t, Columns: itemCols, Before: before, After: after}
}

func del(t change.Table, before change.Row) change.Change {
	return change.Change{Op: change.OpDelete, Table: t, Columns: itemCols, Before: before}
}

const itemsDDL = "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, n INT NULL)"

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func posInf() float64 { return math.Inf(1) }
