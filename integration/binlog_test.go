package integration

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// binlogEnv is a test's pair of sides, each PostgreSQL or MariaDB, with
// its tables made from a per-engine DDL and a config syncing them: the
// engine-pair suites (TestPair*, TestConflictStorm*) run on it.
type binlogEnv struct {
	t           *testing.T
	blue, green *sideDB
	cfg         itConfig
	cfgPath     string
	procs       *procSet
}

// enginePair names the engines of blue and green.
type enginePair struct{ name, blue, green string }

var (
	pairPG   = enginePair{"pg_pg", enginePG, enginePG}
	pairMy   = enginePair{"my_my", engineMy, engineMy}
	pairMyPG = enginePair{"my_pg", engineMy, enginePG}
)

// hasMy reports whether a side of the pair is MariaDB.
func (p enginePair) hasMy() bool { return p.blue == engineMy || p.green == engineMy }

// newBinlogEnv makes it_<name> on each side with the given engines, the
// items schema, and a config syncing items and txlog.
func newBinlogEnv(t *testing.T, name, blueEngine, greenEngine, directions string) *binlogEnv {
	t.Helper()
	return newPairEnv(t, name, enginePair{blue: blueEngine, green: greenEngine}, itemsDDL,
		itConfig{Directions: directions}, "items", "txlog")
}

// newPairEnv makes it_<name> on each side of p, runs ddl[engine] there
// ("{s}" is the schema), and writes cfg (name, state dir, sides, tables and
// listen address filled in) syncing tables.
func newPairEnv(t *testing.T, name string, p enginePair, ddl map[string][]string, cfg itConfig, tables ...string) *binlogEnv {
	t.Helper()
	requireIntegration(t)
	requireBinary(t)
	var blue, green *sideDB
	var pg *testDB
	if p.blue == enginePG || p.green == enginePG {
		pg = newTestDB(t, name)
	}
	if p.blue == engineMy {
		blue = newMySideDB(t, "blue", name)
	} else {
		blue = pgSideDB(t, "blue", pg.BlueDSN)
	}
	if p.green == engineMy {
		green = newMySideDB(t, "green", name)
	} else {
		green = pgSideDB(t, "green", pg.GreenDSN)
	}
	// A PostgreSQL side keeps the tables in a schema named like the
	// MariaDB database, so one config name fits both sides.
	schema := "it_" + name
	for _, s := range []*sideDB{blue, green} {
		if s.engine == enginePG {
			s.mustExec(t, "CREATE SCHEMA "+schema, "SET search_path = "+schema)
			s.schema = schema
		}
		for _, stmt := range ddl[s.engine] {
			s.mustExec(t, strings.ReplaceAll(stmt, "{s}", schema))
		}
	}
	cfg.Name = "it_" + name
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	cfg.BlueDSN, cfg.GreenDSN = blue.dsn, green.dsn
	cfg.BlueEngine, cfg.GreenEngine = blue.engine, green.engine
	cfg.Tables = nil
	for _, tbl := range tables {
		cfg.Tables = append(cfg.Tables, schema+"."+tbl)
	}
	cfg.HTTPListen = freePort(t)
	path := writeFile(t, "bgsync.yaml", cfg.render())
	return &binlogEnv{t: t, blue: blue, green: green, cfg: cfg, cfgPath: path, procs: newProcSet(t, path)}
}

func (e *binlogEnv) setup() {
	e.t.Helper()
	args := []string{"setup", "--config", e.cfgPath}
	if e.cfg.Directions == "both" {
		args = append(args, "--replica-identity-full") // for a PostgreSQL source
	}
	r := runBgsync(e.t, 2*time.Minute, args...)
	if r.Code != 0 {
		e.t.Fatalf("bgsync setup failed:\n%s", r)
	}
	e.t.Logf("setup:\n%s", strings.TrimSpace(r.Stdout))
}

// TestPairSync is the sync suite every engine pair runs, one way and both
// ways: a workload of small transactions (inserts, updates, primary-key
// moves, deletes) with one 100k-change transaction in the middle, and one
// way a TRUNCATE, on each writing side while bgsync runs. The sides must
// end equal (compared column by column across engines), every source
// transaction applied exactly once and none echoed back, each direction's
// lag measured by heartbeats, progress logged, and SIGTERM a clean exit.
func TestPairSync(t *testing.T) {
	for _, p := range []enginePair{pairPG, pairMy, pairMyPG} {
		for _, dirs := range []string{"blue-to-green", "both"} {
			name := p.name + "_" + map[string]string{"blue-to-green": "one_way", "both": "both"}[dirs]
			t.Run(name, func(t *testing.T) { testPairSync(t, "ps_"+name, p, dirs) })
		}
	}
}

func testPairSync(t *testing.T, name string, p enginePair, dirs string) {
	e := newBinlogEnv(t, name, p.blue, p.green, dirs)
	e.setup()
	run := e.procs.startRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	const n = 300
	bulkRows := 50_000 // with its update: a 100k-change transaction
	if dirs == "both" {
		bulkRows = 20_000 // on each side at once
	}
	both := dirs == "both"
	bw := newBinlogWorkload(seed, "blue", 1, 0)
	done := make(chan error, 2)
	start := time.Now()
	go func() { done <- bw.script(ctx, e.blue, n, bulkRows, !both, 0) }()
	var gw *binlogWorkload
	if both {
		gw = newBinlogWorkload(seed^0x5eed, "green", 1_000_000, 1_000_000)
		go func() { done <- gw.script(ctx, e.green, n, bulkRows, false, 0) }()
	} else {
		done <- nil
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	waitItemsEqual(t, e.blue, e.green, 3*time.Minute, run.checkRunning)
	rows, _ := itemsText(ctx, e.blue)
	t.Logf("items equal on both sides: %d rows, %s after the workload started", len(rows), time.Since(start).Round(time.Millisecond))
	assertAppliedOnceOn(t, e.green, "blue", bw.txns)
	assertPositionText(t, e, e.green, "blue-to-green", p.blue)
	if gw != nil {
		assertAppliedOnceOn(t, e.blue, "green", gw.txns)
		assertPositionText(t, e, e.blue, "green-to-blue", p.green)
	}
	// Heartbeats measure every direction's lag, MariaDB sources too.
	var st map[string]dirStatus
	waitFor(t, 30*time.Second, "three heartbeats in each direction", func() bool {
		s, err := run.status()
		if err != nil || len(s) == 0 {
			return false
		}
		for _, d := range s {
			if d.Heartbeats < 3 {
				return false
			}
		}
		st = s
		return true
	})
	for name, d := range st {
		t.Logf("%s caught up: lag %.1f ms, p99 %.1f ms after %d heartbeats", name, d.Lag*1000, d.LagP99*1000, d.Heartbeats)
		if d.Lag > 1 {
			t.Errorf("%s: lag %.3fs once caught up, want under 1s", name, d.Lag)
		}
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0\n%s", code, tailLines(run.output(), 30))
	}
	out := run.output()
	if strings.Contains(out, "drain failed") {
		t.Errorf("a clean SIGTERM logged a failed drain:\n%s", tailLines(out, 20))
	}
	if both && !strings.Contains(out, `"echo_dropped"`) {
		t.Errorf("run's last lines report no echo_dropped figure:\n%s", tailLines(out, 10))
	}
	if applied := assertProgressLogged(t, out); applied < float64(bulkRows) {
		t.Errorf("the last rows_applied logged is %.0f, want at least the bulk transaction's %d", applied, bulkRows)
	}
}

// assertPositionText checks that target's checkpoint of direction shows
// the source position as the source engine prints it.
func assertPositionText(t *testing.T, e *binlogEnv, target *sideDB, direction, sourceEngine string) {
	t.Helper()
	r, err := target.rows(context.Background(), "SELECT source_position_text FROM "+e.cfg.Name+".checkpoints WHERE direction = '"+direction+"'")
	if err != nil || len(r) != 1 {
		t.Fatalf("checkpoint of %s on %s: %v %v", direction, target.side, r, err)
	}
	want := regexp.MustCompile(`^[0-9A-F]+/[0-9A-F]+$`) // an LSN
	if sourceEngine == engineMy {
		// A GTID: the test servers log one GTID domain each, so setup
		// records GTID positions.
		want = regexp.MustCompile(`^[0-9]+-[0-9]+-[0-9]+$`)
	}
	if !want.MatchString(r[0][0]) {
		t.Errorf("checkpoint of %s on %s shows position %q, want the source's form %s", direction, target.side, r[0][0], want)
	}
}

// TestPairCrash is the crash suite every engine pair runs: bgsync is
// SIGKILLed five times at random moments while the suite's workload (with
// its bulk transaction) runs on blue, and restarted each time; green must
// end equal to blue with every transaction applied exactly once.
func TestPairCrash(t *testing.T) {
	for _, p := range []enginePair{pairPG, pairMy, pairMyPG} {
		t.Run(p.name, func(t *testing.T) { testPairCrash(t, p) })
	}
}

func testPairCrash(t *testing.T, p enginePair) {
	e := newBinlogEnv(t, "pc_"+p.name, p.blue, p.green, "blue-to-green")
	e.setup()
	cur := e.procs.startRun()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	w := newBinlogWorkload(seed, "blue", 1, 0)
	const n = 1500
	done := make(chan error, 1)
	go func() { done <- w.script(context.Background(), e.blue, n, 20_000, true, 5*time.Millisecond) }()
	kr := newRand(seed ^ 0x6b696c6c)
	for kills := 1; kills <= 5; kills++ {
		time.Sleep(700*time.Millisecond + time.Duration(kr.Int64N(int64(1500*time.Millisecond))))
		if err := cur.checkRunning(); err != nil {
			t.Fatal(err)
		}
		applied, _ := e.green.count(context.Background(), "SELECT count(*) FROM txlog")
		cur.kill()
		t.Logf("SIGKILL #%d of %s; green holds %d of blue's transactions", kills, cur.label, applied)
		cur = e.procs.startRun()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, e.blue, e.green, 3*time.Minute, cur.checkRunning)
	assertAppliedOnceOn(t, e.green, "blue", w.txns)
	if code := cur.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}

// TestBinlogDDLPauses alters a synced table on a MariaDB blue mid-stream,
// adding a column and dropping one: rows before the change arrive, the
// direction pauses with a message that names the table and the statement,
// nothing after it is applied (so no row is decoded against the wrong
// columns), and after green is made to match, --accept-schema-change
// brings the rest, each once.
func TestBinlogDDLPauses(t *testing.T) {
	for _, ddl := range []string{"ALTER TABLE items ADD COLUMN extra INT NULL", "ALTER TABLE items DROP COLUMN spare"} {
		t.Run(strings.Fields(ddl)[3], func(t *testing.T) { testBinlogDDLPauses(t, ddl) })
	}
}

func testBinlogDDLPauses(t *testing.T, ddl string) {
	e := newBinlogEnv(t, "bl_ddl", engineMy, engineMy, "blue-to-green")
	// A column the workload does not write, there to be dropped.
	e.blue.mustExec(t, "ALTER TABLE items ADD COLUMN spare INT NULL DEFAULT 7")
	e.green.mustExec(t, "ALTER TABLE items ADD COLUMN spare INT NULL DEFAULT 7")
	e.setup()
	p := e.procs.startRun()
	w := newBinlogWorkload(7, "blue", 1, 0)
	ctx := context.Background()
	if err := w.run(ctx, e.blue, 20, 0); err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, e.blue, e.green, time.Minute, p.checkRunning)
	e.blue.mustExec(t, ddl)
	if err := w.run(ctx, e.blue, 5, 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.output(), "direction paused") {
		if time.Now().After(deadline) {
			t.Fatalf("no pause logged a minute after ALTER TABLE:\n%s", tailLines(p.output(), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := p.output()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "direction paused") {
			t.Logf("logged: %s", line)
		}
	}
	for _, want := range []string{e.blue.schema + ".items", ddl, "--accept-schema-change "} {
		if !strings.Contains(out, want) {
			t.Errorf("the pause message does not name %q:\n%s", want, tailLines(out, 10))
		}
	}
	// The position to accept is the DDL's GTID (setup recorded GTID
	// positions); the message also says where in the binlog it is.
	if !regexp.MustCompile(`--accept-schema-change [0-9]+-[0-9]+-[0-9]+\b`).MatchString(out) ||
		!regexp.MustCompile(`at [0-9]+-[0-9]+-[0-9]+ at mysql-bin\.[0-9]{6}:[0-9]+`).MatchString(out) {
		t.Errorf("the pause message names no GTID to accept with its binlog place:\n%s", tailLines(out, 10))
	}
	got, _ := e.green.count(ctx, "SELECT count(*) FROM txlog")
	if got != 20 {
		t.Errorf("green holds %d transactions, want the 20 before the ALTER TABLE and none after", got)
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	// A plain restart meets the same statement and pauses again.
	p = e.procs.startRun()
	waitFor(t, time.Minute, "the restarted run to pause again", func() bool { return strings.Contains(p.output(), "direction paused") })
	p.stop(30 * time.Second)
	// The operator makes green match and accepts the change at the position
	// the message printed: the rows after it arrive, none twice.
	_, pos, ok := strings.Cut(out, "--accept-schema-change ")
	pos, _, _ = strings.Cut(pos, `"`)
	if !ok || pos == "" {
		t.Fatalf("the pause message names no position to accept:\n%s", tailLines(out, 5))
	}
	e.green.mustExec(t, ddl)
	p = e.procs.startRun("--accept-schema-change", pos)
	waitItemsEqual(t, e.blue, e.green, time.Minute, p.checkRunning)
	assertAppliedOnceOn(t, e.green, "blue", 25)
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}
