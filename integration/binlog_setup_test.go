package integration

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// myPlainAdminDSN is scripts/env.sh's MariaDB with the binlog settings
// bgsync refuses: STATEMENT format, MINIMAL row image and metadata, one
// hour of retention.
var myPlainAdminDSN = envOr("BGSYNC_TEST_MY_PLAIN_DSN", "root:bgsync@tcp(127.0.0.1:13308)/")

// TestBinlogSetupRefuses points setup at a MariaDB whose binlog bgsync
// cannot read, as a user without replication privileges, with a table
// lacking a primary key and a timestamp column that holds no time: setup
// exits 2 naming every problem with its fix.
func TestBinlogSetupRefuses(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := sql.Open("mysql", myPlainAdminDSN)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("MariaDB plain unreachable: %v; run `bash scripts/env.sh up`", err)
	}
	defer admin.Close()
	const db = "it_bl_refuse"
	for _, s := range []string{
		"DROP DATABASE IF EXISTS " + db,
		"CREATE DATABASE " + db,
		"CREATE TABLE " + db + ".nokey (a INT, b TEXT)",
		"CREATE TABLE " + db + ".items (id BIGINT PRIMARY KEY, version INT)",
		"CREATE USER IF NOT EXISTS 'it_noprivs'@'127.0.0.1'",
		"ALTER USER 'it_noprivs'@'127.0.0.1' IDENTIFIED BY 'noprivs'",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON " + db + ".* TO 'it_noprivs'@'127.0.0.1'",
	} {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + db)
		_, _ = admin.Exec("DROP USER IF EXISTS 'it_noprivs'@'127.0.0.1'")
	})
	mc, err := mysql.ParseDSN(myPlainAdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	mc.User, mc.Passwd = "it_noprivs", "noprivs"
	green := newMySideDB(t, "green", "bl_refuse")
	green.mustExec(t, "CREATE TABLE nokey (a INT PRIMARY KEY, b TEXT)", "CREATE TABLE items (id BIGINT PRIMARY KEY, version INT)")
	cfg := itConfig{
		Name: db, StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN: mc.FormatDSN(), BlueEngine: engineMy,
		GreenDSN: green.dsn, GreenEngine: engineMy,
		Tables: []string{db + ".items", db + ".nokey"},
	}
	// A last-writer-wins timestamp column that holds no time.
	rendered := strings.Replace(cfg.render(), "  - name: "+db+".items\n",
		"  - name: "+db+".items\n    conflict: {policy: last-writer-wins, timestamp_column: version}\n", 1)
	path := writeFile(t, "bgsync.yaml", rendered)
	r := runBgsync(t, time.Minute, "setup", "--config", path)
	if r.Code != 2 {
		t.Fatalf("setup exited %d, want 2:\n%s", r.Code, r)
	}
	t.Logf("setup refused, as it should:\n%s", strings.TrimSpace(r.Stderr))
	// The test password is "bgsync", so the scrubber masks the word.
	stderr := strings.ReplaceAll(r.Stderr, "xxxxx", "bgsync")
	for _, want := range []string{
		"binlog_format is STATEMENT, bgsync needs ROW: SET GLOBAL binlog_format = 'ROW'",
		"binlog_row_image is MINIMAL, bgsync needs FULL",
		"binlog_row_metadata is MINIMAL, bgsync needs FULL",
		"binlogs expire after 1h0m0s, shorter than 24h0m0s",
		"the user lacks REPLICATION SLAVE and BINLOG MONITOR, which reading the binlog needs: GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*",
		"table " + db + ".nokey has no primary key",
		`tables[0].conflict.timestamp_column: table ` + db + `.items on blue: column "version" is int; with a MariaDB/MySQL side the timestamp column must hold times`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("setup's errors do not say %q", want)
		}
	}
	if strings.Contains(r.Stderr, "noprivs") {
		t.Errorf("setup's errors show the password")
	}
}

// TestBinlogPurgedPosition: when the binlog no longer holds where a
// direction resumes, setup and run both refuse (exit 2) and say what was
// lost and how to start afresh.
func TestBinlogPurgedPosition(t *testing.T) {
	e := newBinlogEnv(t, "bl_purged", engineMy, engineMy, "blue-to-green")
	e.setup()
	// Point the recorded start at a binary log the server never had: the
	// check compares it with SHOW BINARY LOGS, as it would a purged one.
	admin, err := sql.Open("mysql", myBlueAdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("UPDATE `" + e.cfg.Name + "`.capture_start SET position = 4, position_text = 'mysql-bin.000000:4'"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"setup", "run"} {
		r := runBgsync(t, time.Minute, cmd, "--config", e.cfgPath)
		if r.Code != 2 {
			t.Fatalf("%s exited %d, want 2:\n%s", cmd, r.Code, r)
		}
		for _, want := range []string{"resumes at binlog position mysql-bin.000000:4, which the server no longer has", "bgsync teardown, bgsync setup"} {
			if !strings.Contains(strings.ReplaceAll(r.Stderr, "xxxxx", "bgsync"), want) {
				t.Errorf("%s's error does not say %q:\n%s", cmd, want, r.Stderr)
			}
		}
	}
	// check-transforms only reads the tables: the lost position does not
	// stop it, and it reads MariaDB sides (their tables are empty here).
	r := runBgsync(t, time.Minute, "check-transforms", "--config", e.cfgPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, "no lossy rows in 4 checks") || strings.Contains(r.Stderr, "does not support") {
		t.Errorf("check-transforms on a MariaDB pair: want exit 0 and no lossy rows in 4 checks, got:\n%s", r)
	}
}
