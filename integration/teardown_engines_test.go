package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestTeardownEngines: on a MariaDB↔MariaDB pair syncing both ways, where
// bgsync's database is also the application's (the config name is the
// user database), `bgsync teardown` is refused while bgsync run reads the
// binlogs, then, once run has stopped, drops every table setup and run
// created there and nothing else: the user table and its rows stay; the
// table is under column-merge, so that is the tombstone trigger and both
// column-write triggers too (setup --dry-run prints them). A second
// teardown has nothing left to do; setup and run work again.
func TestTeardownEngines(t *testing.T) {
	e := newPairEnv(t, "tdn_my_my", pairMy, stormDDL, itConfig{Directions: "both", Policy: "column-merge"}, "storm")
	ctx := context.Background()
	r := runBgsync(t, time.Minute, "setup", "--config", e.cfgPath, "--dry-run")
	for _, want := range []string{" AFTER DELETE ON ", " AFTER INSERT ON ", " AFTER UPDATE ON "} {
		if r.Code != 0 || strings.Count(r.Stdout, want) != 2 {
			t.Fatalf("setup --dry-run: want %q once per side:\n%s", want, r)
		}
	}
	e.setup()
	own := []string{"apply_marker", "capture_start", "checkpoints", "column_writes", "conflicts", "dead_letters", "heartbeats", "tombstones", "verify_runs"}
	for _, s := range []*sideDB{e.blue, e.green} {
		if got := myTables(t, s, e.cfg.Name); !slices.Equal(got, sortedWith(own, "storm")) {
			t.Fatalf("%s after setup holds %v, want bgsync's tables and storm", s.side, got)
		}
		if n := myTriggers(t, s); n != 3 {
			t.Fatalf("%s after setup has %d triggers on %s, want the tombstone and both column-write triggers", s.side, n, s.schema)
		}
	}

	run := e.procs.startRun()
	write := func(s *sideDB, from, to int) {
		t.Helper()
		var stmts []string
		for id := from; id < to; id++ {
			stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, a, b, updated_at) VALUES (%d, '%s %d', %d, UTC_TIMESTAMP(6))",
				s.table("storm"), id, s.side, id, id))
		}
		s.mustExec(t, stmts...)
	}
	write(e.blue, 1, 101)
	write(e.green, 101, 201)
	waitStormEqual(t, e, 200)

	r = runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath)
	// The test password is "bgsync": messages print it as xxxxx.
	if r.Code != 2 || !strings.Contains(strings.ReplaceAll(r.Stderr, "xxxxx", "bgsync"), "stop bgsync run first") {
		t.Fatalf("teardown while bgsync run reads the binlogs: want exit 2 saying to stop it first, got:\n%s", r)
	}
	t.Logf("teardown while running: exit %d: %s", r.Code, strings.TrimSpace(tailLines(r.Stderr, 3)))
	for _, s := range []*sideDB{e.blue, e.green} {
		if got := myTables(t, s, e.cfg.Name); len(got) != len(own)+1 {
			t.Fatalf("a refused teardown changed %s: %v", s.side, got)
		}
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Fatalf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	blueRows, err1 := stormRows(ctx, e.blue)
	greenRows, err2 := stormRows(ctx, e.green)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}

	start := time.Now()
	r = runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath)
	if r.Code != 0 {
		t.Fatalf("bgsync teardown failed:\n%s", r)
	}
	t.Logf("teardown after stop (%s):\n%s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.Stdout))
	for _, s := range []*sideDB{e.blue, e.green} {
		if got := myTables(t, s, e.cfg.Name); !slices.Equal(got, []string{"storm"}) {
			t.Errorf("%s's database %s after teardown holds %v, want only the user table storm", s.side, e.cfg.Name, got)
		}
		if n := myTriggers(t, s); n != 0 {
			t.Errorf("%s after teardown still has %d triggers: the application's deletes would fail on the dropped tombstones table", s.side, n)
		}
	}
	if after, err := stormRows(ctx, e.blue); err != nil || !maps.Equal(after, blueRows) {
		t.Errorf("teardown changed blue's rows (%d before, %d after, %v)", len(blueRows), len(after), err)
	}
	if after, err := stormRows(ctx, e.green); err != nil || !maps.Equal(after, greenRows) {
		t.Errorf("teardown changed green's rows (%d before, %d after, %v)", len(greenRows), len(after), err)
	}
	r = runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath)
	if r.Code != 0 {
		t.Errorf("a second teardown: exit %d, want 0 (nothing left to do):\n%s", r.Code, r)
	}

	// Set up afresh, the sync starts from now and works both ways.
	e.setup()
	run = e.procs.startRun()
	write(e.green, 201, 251)
	write(e.blue, 251, 301)
	waitStormEqual(t, e, 300)
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run after a new setup exited %d after SIGTERM, want 0", code)
	}
}

// myTables lists the tables of database db on a MariaDB side, sorted.
func myTables(t *testing.T, s *sideDB, db string) []string {
	t.Helper()
	rows, err := s.rows(context.Background(), "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+db+"' ORDER BY TABLE_NAME")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

func sortedWith(list []string, more ...string) []string {
	out := append(slices.Clone(list), more...)
	slices.Sort(out)
	return out
}

// waitStormEqual waits until both sides hold the same n storm rows.
func waitStormEqual(t *testing.T, e *binlogEnv, n int) {
	t.Helper()
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d equal storm rows on both sides", n), func() bool {
		b, err1 := stormRows(context.Background(), e.blue)
		g, err2 := stormRows(context.Background(), e.green)
		return err1 == nil && err2 == nil && len(b) == n && maps.Equal(b, g)
	})
}

// TestTeardownLeastPrivilege: bgsync run and teardown connect to a
// MariaDB source as a user without REPLICATION MASTER ADMIN (so SHOW SLAVE
// HOSTS is denied). Teardown still refuses while run reads the binlog —
// it finds run's binlog dump thread among its own user's threads — and
// works once run has stopped.
func TestTeardownLeastPrivilege(t *testing.T) {
	e := newPairEnv(t, "tdn_lp", pairMyPG, itemsDDL, itConfig{}, "items", "txlog")
	e.blue.mustExec(t, "GRANT ALL ON `"+e.cfg.Name+"`.* TO 'bgsync'@'127.0.0.1'")
	mc, err := mysql.ParseDSN(e.blue.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mc.User, mc.Passwd = "bgsync", "bgsync"
	e.cfg.BlueDSN = mc.FormatDSN()
	e.cfgPath = writeFile(t, "bgsync.yaml", e.cfg.render())
	e.procs = newProcSet(t, e.cfgPath)
	e.setup()
	run := e.procs.startRun()
	e.blue.mustExec(t, "INSERT INTO items (id, qty) VALUES (1, 1)", "INSERT INTO txlog VALUES (1, 'blue')")
	waitItemsEqual(t, e.blue, e.green, time.Minute, run.checkRunning)
	r := runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath)
	if r.Code != 2 || !strings.Contains(strings.ReplaceAll(r.Stderr, "xxxxx", "bgsync"), "stop bgsync run first") {
		t.Fatalf("teardown as the least-privilege user while run reads the binlog: want exit 2 saying to stop it first, got:\n%s", r)
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Fatalf("bgsync run exited %d after SIGTERM", code)
	}
	if r := runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath); r.Code != 0 {
		t.Fatalf("teardown as the least-privilege user after run stopped:\n%s", r)
	}
	if got := myTables(t, e.blue, e.cfg.Name); !slices.Equal(got, []string{"applied_log", "items", "txlog"}) {
		t.Errorf("blue's database after teardown holds %v, want only the user tables", got)
	}
}

// myTriggers counts the triggers in s's database.
func myTriggers(t *testing.T, s *sideDB) int {
	t.Helper()
	n, err := s.count(context.Background(), "SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '"+s.schema+"'")
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
