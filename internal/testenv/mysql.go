package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Defaults match scripts/env.sh (root over TCP, the test password).
const (
	defaultMyBlue  = "root:bgsync@tcp(127.0.0.1:13306)/"
	defaultMyGreen = "root:bgsync@tcp(127.0.0.1:13307)/"
)

// MyBlueDSN and MyGreenDSN return the admin DSNs (go-sql-driver form) of the
// test MariaDB instances.
func MyBlueDSN() string  { return env("BGSYNC_TEST_MY_BLUE_DSN", defaultMyBlue) }
func MyGreenDSN() string { return env("BGSYNC_TEST_MY_GREEN_DSN", defaultMyGreen) }

// NewMySQLDatabase creates a fresh database on the MariaDB instance of
// adminDSN, named after the test, drops it at cleanup, and returns a DSN
// (go-sql-driver form, same user) whose default database it is.
func NewMySQLDatabase(t testing.TB, adminDSN string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a database; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("mysql", adminDSN)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("test MariaDB unreachable (run scripts/env.sh up): %v", err)
		}
		t.Skipf("test MariaDB unreachable (run scripts/env.sh up): %v", err)
	}
	defer admin.Close()
	name := fmt.Sprintf("t_%s_%d_%d", sanitize(t.Name()), os.Getpid(), seq.Add(1))
	if len(name) > 64 {
		name = name[len(name)-64:]
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("mysql", adminDSN)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	})
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		t.Fatalf("test DSN %q: %v", adminDSN, err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// OpenMySQL opens a database handle closed at cleanup.
func OpenMySQL(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ExecMySQL runs statements, failing the test on error.
func ExecMySQL(t testing.TB, db *sql.DB, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
