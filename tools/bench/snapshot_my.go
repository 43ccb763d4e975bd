package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// The MariaDB → PostgreSQL part of the snapshot bench: two tables on
// MariaDB blue (database bench_snap_my), a bench-shaped one (bigint key,
// int, varchar, decimal, datetime(6)) with 75% of o.snapshotMyRows rows and
// one with a composite (varchar, int) key and a varbinary column with the
// rest, copied by `bgsync snapshot` (bgsync name bench_snap_mp) into
// schema bench_snap_my of database bench_snap_my on PostgreSQL green. No
// reference tool: the figure is bgsync's rows/s, checked by row counts and
// a checksum computed by each engine over the same text of every row.
const (
	snapMyDB   = "bench_snap_my" // MariaDB blue database; PostgreSQL green database and schema
	snapMyName = "bench_snap_mp" // bgsync name (its database on MariaDB, its schema on PostgreSQL)
)

type snapMyTable struct {
	name, myDDL, pgDDL string
	share              int
	load               string // MariaDB INSERT … SELECT over seq_%d_to_%d
	myText, pgText     string // a row as text, the same on both engines
}

var snapMyTables = []snapMyTable{
	{name: "snap_my_a", share: 75,
		myDDL: `id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(100) NOT NULL, c DECIMAL(12,2) NOT NULL, d DATETIME(6) NOT NULL`,
		pgDDL: `id bigint PRIMARY KEY, a int NOT NULL, b varchar(100) NOT NULL, c numeric(12,2) NOT NULL, d timestamp(6) NOT NULL`,
		load: `SELECT seq, MOD(seq, 1000), RPAD(MD5(seq), 100, MD5(seq * 7)), MOD(seq * 37, 10000000) / 100,
	TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL MOD(seq, 1000000) MICROSECOND FROM seq_%d_to_%d`,
		myText: `CONCAT_WS('|', id, a, b, CAST(c AS CHAR), DATE_FORMAT(d, '%Y-%m-%d %H:%i:%s.%f'))`,
		pgText: `concat_ws('|', id, a, b, c::text, to_char(d, 'YYYY-MM-DD HH24:MI:SS.US'))`},
	{name: "snap_my_b", share: 25,
		myDDL:  `region VARCHAR(20) NOT NULL, n INT NOT NULL, qty INT NOT NULL, payload VARBINARY(64) NOT NULL, PRIMARY KEY (region, n)`,
		pgDDL:  `region varchar(20) NOT NULL, n int NOT NULL, qty int NOT NULL, payload bytea NOT NULL, PRIMARY KEY (region, n)`,
		load:   `SELECT CONCAT('region-', LPAD(MOD(seq, 64), 2, '0')), seq DIV 64, MOD(seq, 500), UNHEX(CONCAT(MD5(seq), MD5(seq * 3))) FROM seq_%d_to_%d`,
		myText: `CONCAT_WS('|', region, n, qty, LOWER(HEX(payload)))`,
		pgText: `concat_ws('|', region, n, qty, encode(payload, 'hex'))`},
}

type snapMyResult struct {
	ran     bool
	rows    []int
	load    time.Duration
	bg      snapCopy
	checked string
	// bgsync's own phases, as snapResult's.
	plan, copy, finish time.Duration
	problems           []string
}

func (r *snapMyResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

func (r *snapMyResult) total() int {
	n := 0
	for _, v := range r.rows {
		n += v
	}
	return n
}

func (e *env) snapMyConfig() string { return e.myConfigPath(snapMyName) }

func (e *env) writeSnapMyConfig() error {
	var tables strings.Builder
	for _, t := range snapMyTables {
		fmt.Fprintf(&tables, "  - name: %s.%s\n", snapMyDB, t.name)
	}
	cfg := fmt.Sprintf(`# written by tools/bench (snapshot, MariaDB → PostgreSQL)
name: %s
state_dir: %s
blue:
  engine: mariadb
  dsn: %q
green:
  engine: postgres
  dsn: %q
directions: blue-to-green
tables:
%ssnapshot:
  workers: %d
  chunk_rows: %d
log:
  level: info
  format: json
http:
  listen: "127.0.0.1:0"
`, snapMyName, e.myStateDir(snapMyName), e.o.myBlueDSN, e.green.dsn(snapMyDB), tables.String(), e.o.snapshotWorkers, e.o.snapshotChunkRows)
	return os.WriteFile(e.snapMyConfig(), []byte(cfg), 0o600)
}

func (e *env) runSnapshotMy(ctx context.Context) *snapMyResult {
	r := &snapMyResult{ran: true}
	left := e.o.snapshotMyRows
	for i, t := range snapMyTables {
		n := e.o.snapshotMyRows * t.share / 100
		if i == len(snapMyTables)-1 {
			n = left
		}
		r.rows = append(r.rows, n)
		left -= n
	}
	blue, _ := e.myServers()
	blue.serverPID(ctx)
	if err := ensure(ctx, e.green, "postgres", &e.adminGreen); err != nil {
		r.problem("snapshot MariaDB: %v", err)
		return r
	}
	for _, err := range e.cleanupSnapshotMy(ctx) {
		logf("snapshot MariaDB: cleanup: %v", err)
	}
	logf("snapshot MariaDB: fresh database %s on MariaDB blue and PostgreSQL green; loading %d rows on blue into %d tables",
		snapMyDB, r.total(), len(snapMyTables))
	myDDL := []string{"CREATE DATABASE " + snapMyDB}
	pgDDL := []string{"CREATE SCHEMA " + snapMyDB}
	for _, t := range snapMyTables {
		myDDL = append(myDDL, "CREATE TABLE "+snapMyDB+"."+t.name+" ("+t.myDDL+")")
		pgDDL = append(pgDDL, "CREATE TABLE "+snapMyDB+"."+t.name+" ("+t.pgDDL+")")
	}
	if err := errors.Join(blue.exec(ctx, myDDL...), freshDBWith(ctx, e.adminGreen, e.green, snapMyDB, strings.Join(pgDDL, ";\n"))); err != nil {
		r.problem("snapshot MariaDB: %v", err)
		return r
	}
	start := time.Now()
	h, err := blue.open(snapMyDB)
	if err != nil {
		r.problem("snapshot MariaDB: %v", err)
		return r
	}
	for i, t := range snapMyTables {
		for lo := 1; lo <= r.rows[i]; lo += 100000 {
			hi := min(lo+100000-1, r.rows[i])
			if _, err := h.ExecContext(ctx, "INSERT INTO "+t.name+" "+fmt.Sprintf(t.load, lo, hi)); err != nil {
				h.Close()
				r.problem("snapshot MariaDB: load %s: %v", t.name, err)
				return r
			}
		}
		if _, err := h.ExecContext(ctx, "ANALYZE TABLE "+t.name); err != nil {
			h.Close()
			r.problem("snapshot MariaDB: analyze %s: %v", t.name, err)
			return r
		}
	}
	h.Close()
	r.load = time.Since(start)
	logf("snapshot MariaDB: loaded in %.1f s", r.load.Seconds())

	if err := e.writeSnapMyConfig(); err != nil {
		r.problem("snapshot MariaDB: %v", err)
		return r
	}
	if out, err := e.bgsyncCmdWith(ctx, e.snapMyConfig(), "setup").CombinedOutput(); err != nil {
		r.problem("snapshot MariaDB: bgsync setup: %v\n%s", err, out)
		return r
	}
	if err := checkpoint(ctx, e.adminGreen); err != nil {
		r.problem("snapshot MariaDB: %v", err)
		return r
	}
	meter := &cpuMeter{bluePM: blue.pid}
	if e.cpu != nil {
		meter.greenPM = e.cpu.greenPM
	}
	if blue.pid == 0 || e.cpu == nil {
		meter = nil
	}
	logf("snapshot MariaDB: bgsync snapshot of %d rows into PostgreSQL green (workers %d, chunk_rows %d)", r.total(), e.o.snapshotWorkers, e.o.snapshotChunkRows)
	var marks map[string]time.Time
	r.bg, marks = e.snapBgsync(ctx, "snapshot-mariadb", e.snapMyConfig(), meter)
	r.bg.rows = int64(r.total())
	if !marks["start"].IsZero() && !marks["snapshot: copying"].IsZero() && !marks["snapshot: done"].IsZero() {
		r.plan = marks["snapshot: copying"].Sub(marks["start"])
		r.copy = marks["snapshot: done"].Sub(marks["snapshot: copying"])
		r.finish = r.bg.took - r.plan - r.copy
	}
	if r.bg.err != nil {
		r.problem("snapshot MariaDB: bgsync snapshot: %v", r.bg.err)
		return r
	}
	logf("snapshot MariaDB: bgsync snapshot: %.2f s (%.0f rows/s), peak RSS %d MiB, CPU %.1f s: %s",
		r.bg.took.Seconds(), r.bg.rate(), r.bg.rssKiB>>10, r.bg.procCPU, r.bg.output)
	if r.checked, err = e.snapMyCheck(ctx, blue, r.rows); err != nil {
		r.bg.err = fmt.Errorf("wrong result: %w", err)
		r.problem("snapshot MariaDB: bgsync snapshot: green after the copy: %v", err)
		return r
	}
	logf("snapshot MariaDB: checked: %s", r.checked)
	return r
}

// snapMyCheck compares each table's row count and the sum of the first 60
// bits of md5 of each row's text, computed by MariaDB on blue and by
// PostgreSQL on green.
func (e *env) snapMyCheck(ctx context.Context, blue myServer, rows []int) (string, error) {
	h, err := blue.open(snapMyDB)
	if err != nil {
		return "", err
	}
	defer h.Close()
	conn, err := e.green.connect(ctx, snapMyDB)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var parts []string
	for i, t := range snapMyTables {
		var myN, pgN int64
		var mySum, pgSum string
		if err := h.QueryRowContext(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5(`+t.myText+`), 15), 16, 10) AS UNSIGNED)), 0) AS CHAR) FROM `+t.name).
			Scan(&myN, &mySum); err != nil {
			return "", fmt.Errorf("MariaDB blue: checksum of %s: %w", t.name, err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(('x' || left(md5(`+t.pgText+`), 15))::bit(60)::bigint), 0)::text FROM `+snapMyDB+`.`+t.name).
			Scan(&pgN, &pgSum); err != nil {
			return "", fmt.Errorf("PostgreSQL green: checksum of %s: %w", t.name, err)
		}
		switch {
		case myN != int64(rows[i]):
			return "", fmt.Errorf("%s: blue holds %d rows, want %d", t.name, myN, rows[i])
		case pgN != myN:
			return "", fmt.Errorf("%s: green holds %d rows, blue %d", t.name, pgN, myN)
		case pgSum != mySum:
			return "", fmt.Errorf("%s: %d rows on both sides, but the checksums differ: green %s, blue %s", t.name, pgN, pgSum, mySum)
		}
		parts = append(parts, fmt.Sprintf("%s %d", t.name, pgN))
	}
	return "row counts and checksums (sum of md5(row as text)'s first 60 bits, by each engine) equal on both sides: " + strings.Join(parts, ", "), nil
}

// cleanupSnapshotMy drops the MariaDB part's databases: bench_snap_my and
// bgsync's bench_snap_mp on MariaDB blue, and on PostgreSQL green database
// bench_snap_my with bench_snap_mp's slots and replication origins (bgsync
// teardown refuses MariaDB sides, so by hand).
func (e *env) cleanupSnapshotMy(ctx context.Context) []error {
	var errs []error
	blue, _ := e.myServers()
	for _, db := range []string{snapMyDB, snapMyName} {
		if err := blue.exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ensure(ctx, e.green, "postgres", &e.adminGreen); err != nil {
		return append(errs, err)
	}
	for _, side := range []string{"_blue", "_green"} {
		errs = append(errs, dropSlot(ctx, e.adminGreen, snapMyName+side)...)
	}
	if _, err := e.adminGreen.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE $1`,
		strings.ReplaceAll(snapMyName, "_", `\_`)+`\_%`); err != nil {
		errs = append(errs, fmt.Errorf("green: drop replication origins: %w", err))
	}
	if _, err := e.adminGreen.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{snapMyDB}.Sanitize()+" WITH (FORCE)"); err != nil {
		errs = append(errs, fmt.Errorf("green: drop database %s: %w", snapMyDB, err))
	}
	return slicesCompact(append(errs, os.RemoveAll(e.myStateDir(snapMyName))))
}

// stopLeftoverSnapshot stops a bgsync snapshot left running by an
// interrupted bench: only the pid this tool recorded, and only if its
// command line is this binary on one of the snapshot part's configs. It
// runs before cleanup, which removes the pid file.
func (e *env) stopLeftoverSnapshot() {
	b, err := os.ReadFile(e.pidPath())
	if err != nil {
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	ours := strings.Contains(string(cmdline), e.snapConfig()) || strings.Contains(string(cmdline), e.snapMyConfig())
	if pid <= 0 || !strings.Contains(string(cmdline), e.o.bin) || !ours {
		return
	}
	logf("stopping bgsync pid %d left by an earlier run", pid)
	proc, _ := os.FindProcess(pid)
	_ = proc.Signal(syscall.SIGTERM)
	for i := 0; i < 300 && proc.Signal(syscall.Signal(0)) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	_ = proc.Signal(syscall.SIGKILL)
	os.Remove(e.pidPath())
}
