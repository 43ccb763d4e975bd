package transform

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	_ "github.com/go-sql-driver/mysql"
)

// myTestDB returns MariaDB blue of scripts/env.sh (BGSYNC_TEST_MY_BLUE_DSN)
// with a fresh database tfm_live, or skips (fails under CI) when it is
// not reachable.
func myTestDB(t *testing.T) *sql.DB {
	t.Helper()
	if testing.Short() {
		t.Skip("needs MariaDB")
	}
	dsn := os.Getenv("BGSYNC_TEST_MY_BLUE_DSN")
	if dsn == "" {
		dsn = "root:bgsync@tcp(127.0.0.1:13306)/"
	}
	db, err := sql.Open("mysql", dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MariaDB unreachable (CI is set): %v", err)
		}
		t.Skipf("MariaDB unreachable: %v; run `bash scripts/env.sh up`", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS tfm_live")
		db.Close()
	})
	for _, s := range []string{"DROP DATABASE IF EXISTS tfm_live", "CREATE DATABASE tfm_live"} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestReadMySQLColumns(t *testing.T) {
	db := myTestDB(t)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `CREATE TABLE tfm_live.t (
	id    BIGINT UNSIGNED AUTO_INCREMENT,
	k2    INT NOT NULL,
	flag  BOOLEAN NOT NULL DEFAULT 0,
	doc   JSON,
	qty   INT UNSIGNED NOT NULL,
	price DECIMAL(12,2) NOT NULL,
	at    DATETIME(6),
	seen  TIMESTAMP(3) NULL,
	name  VARCHAR(40) NOT NULL,
	twice INT AS (k2 * 2) VIRTUAL,
	kept  INT AS (k2 + 1) STORED,
	mood  ENUM('ok','bad') NOT NULL DEFAULT 'ok',
	bits  BIT(5),
	PRIMARY KEY (id, k2))`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMySQLColumns(ctx, db, change.Table{Schema: "tfm_live", Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, typ, native string
		key, notNull, def bool
	}{
		{"id", "numeric(20,0)", "bigint(20) unsigned", true, true, true},
		{"k2", "integer", "int(11)", true, true, false},
		{"flag", "smallint", "tinyint(1)", false, true, true},
		{"doc", "json", "longtext", false, false, true},
		{"qty", "bigint", "int(10) unsigned", false, true, false},
		{"price", "numeric(12,2)", "decimal(12,2)", false, true, false},
		{"at", "timestamp without time zone", "datetime(6)", false, false, true},
		{"seen", "timestamp(3) with time zone", "timestamp(3)", false, false, true},
		{"name", "character varying(40)", "varchar(40)", false, true, false},
		{"mood", "text", "enum('ok','bad')", false, true, true},
		{"bits", "bit(5)", "bit(5)", false, false, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d columns, want %d (generated ones left out): %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Type != w.typ || g.nativeType() != w.native || g.Key != w.key || g.NotNull != w.notNull ||
			(g.NotNull && g.HasDefault != w.def) {
			t.Errorf("column %d: got %s %q (%s) key=%v notnull=%v default=%v, want %s %q (%s) key=%v notnull=%v default=%v",
				i, g.Name, g.Type, g.nativeType(), g.Key, g.NotNull, g.HasDefault, w.name, w.typ, w.native, w.key, w.notNull, w.def)
		}
	}
	if !got[3].MySQL.JSON || got[3].form() != rawJSONText || !got[2].boolish() {
		t.Errorf("doc is not MariaDB's JSON alias, or flag not a BOOLEAN: %+v %+v", got[3].MySQL, got[2].MySQL)
	}
	if _, err := ReadMySQLColumns(ctx, db, change.Table{Schema: "tfm_live", Name: "nope"}); !errors.Is(err, ErrNoTable) {
		t.Errorf("a missing table: got %v, want ErrNoTable", err)
	}
}
