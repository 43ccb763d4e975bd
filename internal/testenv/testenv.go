// Package testenv gives tests the project's test databases (started by
// scripts/env.sh) and fresh, isolated databases on them. When a database
// cannot be reached the test fails under CI (env CI set) and is skipped
// otherwise; under -short, tests that need one are skipped.
package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults match scripts/env.sh.
const (
	defaultBlue  = "postgres://postgres:bgsync@127.0.0.1:15433/postgres?sslmode=disable"
	defaultGreen = "postgres://postgres:bgsync@127.0.0.1:15434/postgres?sslmode=disable"
)

// BlueDSN and GreenDSN return the admin DSNs of the test clusters.
func BlueDSN() string  { return env("BGSYNC_TEST_BLUE_DSN", defaultBlue) }
func GreenDSN() string { return env("BGSYNC_TEST_GREEN_DSN", defaultGreen) }

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var seq atomic.Int64

// NewDatabase creates a fresh database on the cluster of adminDSN, named
// after the test, drops it at cleanup, and returns its DSN.
func NewDatabase(t testing.TB, adminDSN string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a database; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("test database unreachable (run scripts/env.sh up): %v", err)
		}
		t.Skipf("test database unreachable (run scripts/env.sh up): %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("t_%s_%d_%d", sanitize(t.Name()), os.Getpid(), seq.Add(1))
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, name)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(adminDSN)
	if err != nil || u.Scheme == "" {
		t.Fatalf("test DSN must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Connect opens a connection closed at cleanup.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Exec runs statements, failing the test on error.
func Exec(t testing.TB, c *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
