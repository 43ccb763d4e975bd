package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

var myReplicaAdminDSN = envOr("BGSYNC_TEST_MY_REPLICA_DSN", "root:bgsync@tcp(127.0.0.1:13309)/")

// TestBinlogSourceFailover: MariaDB blue fails over to its standby while
// the blue-to-green direction is behind, and bgsync follows it by GTID.
//
// The standby (scripts/env.sh "replica": blue's GTID domain,
// log_slave_updates) replicates blue's test database by GTID. bgsync runs
// blue → PostgreSQL green; mid-workload it is SIGKILLed, the rest of the
// workload lands on blue and, through replication, on the standby. Then
// the standby is promoted (replication stopped) and becomes blue in the
// config: bgsync resumes there from green's checkpoint — a GTID of the old
// primary, which the standby logged — so it must send what the old primary
// committed after the checkpoint (read from the standby's own binlog, at
// other files and offsets) and then what the application writes on the new
// primary. Green must end equal to the new primary, with every transaction
// applied exactly once.
func TestBinlogSourceFailover(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	ctx := context.Background()
	replica := openReplica(t)
	const name = "fo_my_pg"
	db := "it_" + name
	// Point the standby at blue's current GTID, before the test database
	// exists, replicating only this test's database (bgsync's own tables,
	// capture_start and heartbeats, live in it too).
	follow(t, replica, db)

	e := newBinlogEnv(t, name, engineMy, enginePG, "blue-to-green")
	e.setup()
	run := e.procs.startRun()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	w := newBinlogWorkload(seed, "blue", 1, 0)
	done := make(chan error, 1)
	go func() { done <- w.script(ctx, e.blue, 600, 5_000, false, 5*time.Millisecond) }()
	time.Sleep(1500 * time.Millisecond)
	applied, _ := e.green.count(ctx, "SELECT count(*) FROM txlog")
	run.kill()
	t.Logf("SIGKILL of bgsync with green holding %d of blue's transactions", applied)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	onBlue, _ := e.blue.count(ctx, "SELECT count(*) FROM txlog")

	// Fail over: wait for the standby to hold everything blue committed,
	// stop replication, and make the standby blue.
	var pos string
	if err := e.blue.my.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	var waited int
	if err := replica.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, 60)", pos).Scan(&waited); err != nil || waited != 0 {
		t.Fatalf("standby did not reach blue's GTID %s: %d %v\n%s", pos, waited, err, replicaStatus(replica))
	}
	mustExecMy(t, replica, "STOP SLAVE", "RESET SLAVE ALL")
	newBlue := openMySide(t, myReplicaAdminDSN, "blue", db)
	if n, _ := newBlue.count(ctx, "SELECT count(*) FROM txlog"); n != onBlue {
		t.Fatalf("standby holds %d transactions of blue's %d after catching up", n, onBlue)
	}
	cfg := e.cfg
	cfg.BlueDSN = newBlue.dsn
	if err := os.WriteFile(e.cfgPath, []byte(cfg.render()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("failed over: blue is now the standby, at GTID %s (old primary's last)", pos)

	run = e.procs.startRun()
	if err := w.run(ctx, newBlue, 200, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, newBlue, e.green, 3*time.Minute, run.checkRunning)
	assertAppliedOnceOn(t, e.green, "blue", w.txns)
	assertPositionText(t, e, e.green, "blue-to-green", engineMy)
	var text string
	if err := e.green.pg.QueryRow(ctx, "SELECT source_position_text FROM "+e.cfg.Name+".checkpoints WHERE direction = 'blue-to-green'").Scan(&text); err != nil {
		t.Fatal(err)
	}
	// The checkpoint is now a GTID the new primary wrote (server_id 14).
	if parts := strings.Split(text, "-"); len(parts) != 3 || parts[1] != "14" {
		t.Errorf("checkpoint %q after the failover: want a GTID of the new primary's server_id 14", text)
	}
	t.Logf("green equal to the new primary: %d transactions each applied once (%d before the failover), checkpoint %s", w.txns, onBlue, text)
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}

// openReplica connects to blue's standby (skipping without it, failing on
// CI).
func openReplica(t *testing.T) *sql.DB {
	t.Helper()
	r, err := sql.Open("mysql", myReplicaAdminDSN)
	if err == nil {
		err = r.Ping()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MariaDB replica unreachable (CI is set): %v; run `bash scripts/env.sh up`", err)
		}
		t.Skipf("MariaDB replica unreachable: %v; run `bash scripts/env.sh up`", err)
	}
	r.SetMaxOpenConns(1)
	t.Cleanup(func() {
		_, _ = r.Exec("STOP SLAVE")
		_, _ = r.Exec("RESET SLAVE ALL")
		r.Close()
	})
	return r
}

// follow makes the standby a fresh replica of blue from blue's current
// GTID, replicating database db only.
func follow(t *testing.T, replica *sql.DB, db string) {
	t.Helper()
	blue, err := sql.Open("mysql", myBlueAdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer blue.Close()
	var pos string
	if err := blue.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	bc, err := mysql.ParseDSN(myBlueAdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(bc.Addr, ":")
	mustExecMy(t, replica,
		"STOP SLAVE", "RESET SLAVE ALL",
		"DROP DATABASE IF EXISTS `"+db+"`",
		// Its binlog starts again: the last run's promoted writes are gone.
		"RESET MASTER",
		"SET GLOBAL gtid_slave_pos = '"+pos+"'",
		"SET GLOBAL replicate_wild_do_table = '"+db+".%'",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST = '%s', MASTER_PORT = %s, MASTER_USER = '%s', MASTER_PASSWORD = '%s', MASTER_USE_GTID = slave_pos",
			host, port, bc.User, bc.Passwd),
		"START SLAVE")
}

func mustExecMy(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// replicaStatus is SHOW SLAVE STATUS's error columns, for a failure message.
func replicaStatus(db *sql.DB) string {
	rows, err := db.Query("SHOW SLAVE STATUS")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "no replication configured"
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err.Error()
	}
	var out []string
	for i, c := range cols {
		if strings.Contains(c, "Error") || strings.Contains(c, "Running") || c == "Gtid_IO_Pos" {
			out = append(out, c+"="+vals[i].String)
		}
	}
	return strings.Join(out, " ")
}
