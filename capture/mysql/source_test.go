package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/internal/testenv"
	driver "github.com/go-sql-driver/mysql"
)

func TestCurrentPosition(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	ctx := context.Background()
	p1, base, err := capmy.CurrentPosition(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	d.exec(t, `INSERT INTO a VALUES (1)`)
	p2, base2, err := capmy.CurrentPosition(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	if base == "" || base != base2 || p2 <= p1 {
		t.Errorf("positions %s then %s", capmy.FormatPosition(p1, base), capmy.FormatPosition(p2, base2))
	}
	_, _, err = capmy.CurrentPosition(ctx, "root:wrongpass@tcp(127.0.0.1:1)/")
	if err == nil || strings.Contains(err.Error(), "wrongpass") {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestKilledConnectionFailsRun: when the source drops the binlog
// connection, Run returns a retryable error instead of hanging or
// reconnecting on its own; a new Run resumes.
func TestKilledConnectionFailsRun(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	// A user of its own, so that the test kills its own dump thread only.
	user := fmt.Sprintf("capkill_%d", os.Getpid())
	admin := testenv.OpenMySQL(t, testenv.MyBlueDSN())
	testenv.ExecMySQL(t, admin,
		"DROP USER IF EXISTS '"+user+"'@'127.0.0.1'",
		"CREATE USER '"+user+"'@'127.0.0.1' IDENTIFIED BY 'pw'",
		"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '"+user+"'@'127.0.0.1'")
	t.Cleanup(func() { _, _ = admin.Exec("DROP USER IF EXISTS '" + user + "'@'127.0.0.1'") })
	cfg, _ := driver.ParseDSN(d.dsn)
	cfg.User, cfg.Passwd, cfg.DBName = user, "pw", ""
	capDSN := cfg.FormatDSN()

	r := start(t, d, 0, func(c *capmy.Config) { c.DSN = capDSN }, "a")
	d.exec(t, `INSERT INTO a VALUES (1)`)
	t1 := r.next(t)
	testenv.ExecMySQL(t, admin, `BEGIN NOT ATOMIC
		FOR p IN (SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '`+user+`' AND COMMAND LIKE 'Binlog Dump%') DO
			KILL p.ID;
		END FOR;
	END`)
	err := r.fail(t)
	var se *capmy.SourceError
	if !errors.As(err, &se) || !se.Retryable() {
		t.Fatalf("Run ended with %T %v, want a retryable *SourceError", err, err)
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("error leaks the password: %v", err)
	}
	d.exec(t, `INSERT INTO a VALUES (2)`)
	r.c.Ack(t1.Position)
	r2 := run(t, r.c)
	if got := firstID(r2.next(t)); got != 2 {
		t.Fatalf("after reconnect: id %d, want 2", got)
	}
}

// TestRunStopsOnCancel: Run returns ctx.Err() promptly, with the syncer
// closed.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	r := start(t, d, 0, nil, "a")
	t0 := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
}

func TestPurgedPositionIsFatal(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`)
	gone, _ := capmy.PositionOf("mysql-bin.999990", 4)
	r := start(t, d, gone, nil, "a")
	err := r.fail(t)
	var se *capmy.SourceError
	if !errors.As(err, &se) || se.Retryable() {
		t.Fatalf("Run ended with %T %v, want a fatal *SourceError", err, err)
	}
	if !strings.Contains(err.Error(), "mysql-bin.999990:4") {
		t.Errorf("error does not name the position: %v", err)
	}
}
