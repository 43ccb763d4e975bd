package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The MariaDB part of the bench, on the MariaDB servers of scripts/env.sh
// (blue 13306, green 13307) and the green PostgreSQL cluster:
//
//  1. bgsync setup of two configs whose source is MariaDB blue's
//     bench_my.bench: MariaDB → MariaDB (bgsync name bench_my_mm) and
//     MariaDB → PostgreSQL (bench_my_mp; green's table in schema bench_my
//     of database bench_my). Then -my-rows rows are loaded on blue in
//     -txn-row transactions, with the binlog position noted before and
//     after (SHOW MASTER STATUS).
//  2. Capture: capture/mysql, used directly in this process, decodes
//     exactly that range (rows/s), then mariadb-binlog decodes the same
//     range over the replication protocol (-R, as the capture reads it) with
//     --base64-output=decode-rows --verbose: the reference.
//  3. End to end: the two backlogs, each drained by `bgsync run` started
//     after the load and timed until green holds every row; checked with
//     independent SQL on both sides.
//
// Every database of this part is named bench_my*; they are dropped at
// the end (bgsync teardown refuses MariaDB sides, so by hand).
const (
	myDB     = "bench_my"    // the data: MariaDB blue and green, PostgreSQL green (database and schema)
	myMMName = "bench_my_mm" // bgsync name (its database on MariaDB) of MariaDB → MariaDB
	myMPName = "bench_my_mp" // bgsync name of MariaDB → PostgreSQL

	myTableDDL = `CREATE TABLE bench_my.bench (id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(100) NOT NULL,
	c DECIMAL(12,2) NOT NULL, d DATETIME(6) NOT NULL)`
	myPGTableDDL = `CREATE SCHEMA bench_my;
CREATE TABLE bench_my.bench (id bigint PRIMARY KEY, a int NOT NULL, b varchar(100) NOT NULL,
	c numeric(12,2) NOT NULL, d timestamp(6) NOT NULL)`

	// The values of workload.go's insertSQL (~150-byte rows), with
	// microseconds in d; the two %d are the first and last id (a table of the
	// SEQUENCE engine).
	myInsertSQL = `INSERT INTO bench_my.bench (id, a, b, c, d)
SELECT seq, MOD(seq, 1000), RPAD(MD5(seq), 100, MD5(seq * 7)), MOD(seq * 37, 10000000) / 100,
       TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL MOD(seq, 1000000) MICROSECOND
FROM seq_%d_to_%d`

	// What the check compares, as text, on each engine.
	mySampleMy = `SELECT id, a, b, CAST(c AS CHAR), DATE_FORMAT(d, '%Y-%m-%d %H:%i:%s.%f') FROM bench_my.bench WHERE id IN (`
	mySamplePG = `SELECT id, a, b, c::text, to_char(d, 'YYYY-MM-DD HH24:MI:SS.US') FROM bench_my.bench WHERE id IN (`
	myAggMy    = `SELECT count(*), CAST(coalesce(sum(a), 0) AS CHAR), CAST(coalesce(sum(c), 0) AS CHAR), CAST(coalesce(sum(char_length(b)), 0) AS CHAR),
	coalesce(DATE_FORMAT(max(d), '%Y-%m-%d %H:%i:%s.%f'), '') FROM bench_my.bench`
	myAggPG = `SELECT count(*), coalesce(sum(a), 0)::text, coalesce(sum(c), 0)::text, coalesce(sum(char_length(b)), 0)::text,
	coalesce(to_char(max(d), 'YYYY-MM-DD HH24:MI:SS.US'), '') FROM bench_my.bench`
)

// myResult is the MariaDB part of the report.
type myResult struct {
	ran        bool
	rows       int
	load       time.Duration
	start, end string // binlog positions around the load
	binlogMiB  float64

	capture, tool decodeResult // capture/mysql, mariadb-binlog
	mm, mp        phaseResult  // MariaDB → MariaDB, MariaDB → PostgreSQL
	mmCheck       string       // what the check of green found
	mpCheck       string
	problems      []string
}

// decodeResult is one decoding of the loaded binlog range.
type decodeResult struct {
	ran     bool
	took    time.Duration
	rows    int64
	txns    int64
	cpu     float64 // the decoder's own CPU s (this process, or mariadb-binlog)
	server  float64 // MariaDB blue's CPU s meanwhile (its dump thread)
	outMiB  float64 // mariadb-binlog: text written
	command string
	err     error
}

func (d *decodeResult) rate() float64 {
	if !d.ran || d.err != nil || d.took <= 0 {
		return 0
	}
	return float64(d.rows) / d.took.Seconds()
}

func (r *myResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

// myServer is one MariaDB server, reached as root.
type myServer struct {
	name, dsn string // go-sql-driver DSN without a database
	pid       int    // mariadbd, when it runs on this host (CPU figures)
}

func (s myServer) open(db string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(s.dsn)
	if err != nil {
		return nil, fmt.Errorf("MariaDB %s: DSN: %w", s.name, err)
	}
	cfg.DBName = db
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("MariaDB %s: %w", s.name, err)
	}
	h := sql.OpenDB(conn)
	h.SetMaxOpenConns(2)
	return h, nil
}

// exec runs each statement on a fresh handle on the server.
func (s myServer) exec(ctx context.Context, stmts ...string) error {
	h, err := s.open("")
	if err != nil {
		return err
	}
	defer h.Close()
	for _, st := range stmts {
		if _, err := h.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("MariaDB %s: %s: %w", s.name, strings.SplitN(st, "\n", 2)[0], err)
		}
	}
	return nil
}

// serverPID reads mariadbd's pid file (readable when the server runs on
// this host); 0 when it cannot.
func (s *myServer) serverPID(ctx context.Context) {
	h, err := s.open("")
	if err != nil {
		return
	}
	defer h.Close()
	var file string
	if h.QueryRowContext(ctx, `SELECT @@pid_file`).Scan(&file) != nil {
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	s.pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	if _, _, err := procStat(s.pid); err != nil {
		s.pid = 0
	}
}

func (e *env) myServers() (blue, green myServer) {
	return myServer{name: "blue", dsn: e.o.myBlueDSN}, myServer{name: "green", dsn: e.o.myGreenDSN}
}

func (e *env) myConfigPath(name string) string { return filepath.Join(e.o.workDir, name+".yaml") }
func (e *env) myStateDir(name string) string   { return e.stateDir + "-" + name }

// writeMyConfig writes the config of bgsync name, MariaDB blue → green.
func (e *env) writeMyConfig(name, greenEngine, greenDSN string) error {
	cfg := fmt.Sprintf(`# written by tools/bench (MariaDB)
name: %s
state_dir: %s
blue:
  engine: mariadb
  dsn: %q
green:
  engine: %s
  dsn: %q
directions: blue-to-green
kafka:
  brokers: embedded
tables:
  - name: %s.bench
apply:
  batch_rows: 5000
log:
  level: info
  format: json
http:
  listen: "127.0.0.1:0"
`, name, e.myStateDir(name), e.o.myBlueDSN, greenEngine, greenDSN, myDB)
	return os.WriteFile(e.myConfigPath(name), []byte(cfg), 0o600)
}

// runMariaDB runs the whole MariaDB part.
func (e *env) runMariaDB(ctx context.Context) *myResult {
	r := &myResult{ran: true, rows: e.o.myRows}
	blue, green := e.myServers()
	blue.serverPID(ctx)
	green.serverPID(ctx)
	if err := ensure(ctx, e.green, "postgres", &e.adminGreen); err != nil {
		r.problem("MariaDB: %v", err)
		return r
	}
	for _, err := range e.cleanupMariaDB(ctx) {
		logf("MariaDB: cleanup: %v", err)
	}

	logf("MariaDB: fresh database %s on MariaDB blue and green and PostgreSQL green; bgsync setup of %s (MariaDB → MariaDB) and %s (MariaDB → PostgreSQL)",
		myDB, myMMName, myMPName)
	err := errors.Join(blue.exec(ctx, "CREATE DATABASE "+myDB, myTableDDL), green.exec(ctx, "CREATE DATABASE "+myDB, myTableDDL),
		freshDBWith(ctx, e.adminGreen, e.green, myDB, myPGTableDDL))
	if err == nil {
		err = errors.Join(e.writeMyConfig(myMMName, "mariadb", e.o.myGreenDSN), e.writeMyConfig(myMPName, "postgres", e.green.dsn(myDB)))
	}
	if err != nil {
		r.problem("MariaDB: %v", err)
		return r
	}
	for _, name := range []string{myMMName, myMPName} {
		if out, err := e.bgsyncCmdWith(ctx, e.myConfigPath(name), "setup").CombinedOutput(); err != nil {
			r.problem("MariaDB: bgsync setup (%s): %v\n%s", name, err, out)
			return r
		}
	}

	// The backlog, loaded once: the capture, mariadb-binlog and both
	// drains read the same binlog range.
	startPos, base, err := capturemy.CurrentPosition(ctx, blue.dsn)
	if err != nil {
		r.problem("MariaDB: %v", err)
		return r
	}
	logf("MariaDB: loading %d rows on blue in %d-row transactions (bgsync not running) from binlog %s", r.rows, e.o.txn, capturemy.FormatPosition(startPos, base))
	if r.load, err = e.myLoad(ctx, blue, r.rows); err != nil {
		r.problem("MariaDB: load: %v", err)
		return r
	}
	endPos, _, err := capturemy.CurrentPosition(ctx, blue.dsn)
	if err != nil {
		r.problem("MariaDB: %v", err)
		return r
	}
	r.start, r.end = capturemy.FormatPosition(startPos, base), capturemy.FormatPosition(endPos, base)
	r.binlogMiB = float64(binlogBytes(ctx, blue, base, startPos, endPos)) / (1 << 20)
	logf("MariaDB: loaded in %.1f s (%.0f rows/s); binlog %s → %s (%.0f MiB)", r.load.Seconds(), float64(r.rows)/r.load.Seconds(), r.start, r.end, r.binlogMiB)

	meter := &cpuMeter{bluePM: blue.pid, greenPM: green.pid}
	if blue.pid == 0 || green.pid == 0 {
		meter = nil
	}
	r.capture = e.myCapture(ctx, blue, meter, startPos, endPos, r.rows)
	if r.capture.err != nil {
		r.problem("MariaDB capture: %v", r.capture.err)
	}
	if ctx.Err() == nil {
		r.tool = e.myBinlogTool(ctx, blue, meter, base, startPos, endPos)
		if r.tool.err != nil {
			r.problem("mariadb-binlog: %v", r.tool.err)
		} else if r.tool.rows != int64(r.rows) {
			r.problem("mariadb-binlog: %d INSERT rows of %s.bench decoded, want %d", r.tool.rows, myDB, r.rows)
		}
	}

	if ctx.Err() == nil {
		r.mm, r.mmCheck = e.myDrain(ctx, r, "mariadb-to-mariadb", myMMName, meter, green, nil)
	}
	if ctx.Err() == nil {
		pgMeter := &cpuMeter{bluePM: blue.pid}
		if e.cpu != nil {
			pgMeter.greenPM = e.cpu.greenPM
		}
		if blue.pid == 0 || e.cpu == nil {
			pgMeter = nil
		}
		r.mp, r.mpCheck = e.myDrain(ctx, r, "mariadb-to-postgres", myMPName, pgMeter, green, &e.green)
	}
	return r
}

// myLoad inserts ids 1..rows on blue in o.txn-row transactions (one
// autocommit INSERT … SELECT each).
func (e *env) myLoad(ctx context.Context, blue myServer, rows int) (time.Duration, error) {
	h, err := blue.open(myDB)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	start := time.Now()
	for lo := 1; lo <= rows; lo += e.o.txn {
		hi := min(lo+e.o.txn-1, rows)
		if _, err := h.ExecContext(ctx, fmt.Sprintf(myInsertSQL, lo, hi)); err != nil {
			return 0, fmt.Errorf("blue: insert %d..%d: %w", lo, hi, err)
		}
	}
	return time.Since(start), nil
}

// binlogBytes is the size of the binlog between two positions (SHOW
// BINARY LOGS); 0 when unknown.
func binlogBytes(ctx context.Context, blue myServer, base string, from, to change.Position) int64 {
	if uint32(from>>32) == uint32(to>>32) {
		return int64(uint32(to)) - int64(uint32(from))
	}
	h, err := blue.open("")
	if err != nil {
		return 0
	}
	defer h.Close()
	rows, err := h.QueryContext(ctx, `SHOW BINARY LOGS`)
	if err != nil {
		return 0
	}
	defer rows.Close()
	sizes := map[string]int64{}
	cols, _ := rows.Columns()
	for rows.Next() {
		var name string
		var size int64
		dest := []any{&name, &size}
		for len(dest) < len(cols) {
			dest = append(dest, new(sql.RawBytes))
		}
		if rows.Scan(dest...) == nil {
			sizes[name] = size
		}
	}
	n := int64(uint32(to)) - int64(uint32(from))
	for seq := uint32(from >> 32); seq < uint32(to>>32); seq++ {
		n += sizes[fmt.Sprintf("%s.%06d", base, seq)]
	}
	return n
}

// rusageCPU is this process's user+system CPU seconds.
func rusageCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// myCapture times capture/mysql reading from start until it has handed on
// rows rows of bench_my.bench (the last transaction ends at end).
func (e *env) myCapture(ctx context.Context, blue myServer, meter *cpuMeter, start, end change.Position, rows int) decodeResult {
	d := decodeResult{ran: true, command: "capture/mysql in this process, Tables = " + myDB + ".bench"}
	c, err := capturemy.New(capturemy.Config{
		DSN:      blue.dsn,
		ServerID: 1<<31 | uint32(os.Getpid())&0xffffff, // outside bgsync's readers' range (2^30 … 2^31-1)
		Tables:   map[change.Table]bool{{Schema: myDB, Name: "bench"}: true},
		Start:    start,
	})
	if err != nil {
		d.err = err
		return d
	}
	logf("MariaDB capture: capture/mysql decoding the load's binlog range")
	cctx, cancel := context.WithTimeout(ctx, e.o.drainTimeout)
	defer cancel()
	out := make(chan *change.Txn, 64)
	runErr := make(chan error, 1)
	cpu0, s0 := rusageCPU(), meter.snap(0)
	t0 := time.Now()
	go func() { runErr <- c.Run(cctx, out) }()
	for d.rows < int64(rows) {
		select {
		case txn := <-out:
			d.txns++
			d.rows += int64(len(txn.Changes))
			if txn.Position >= end && d.rows < int64(rows) {
				d.err = fmt.Errorf("reached the end position with %d of %d rows", d.rows, rows)
			}
		case err := <-runErr:
			d.err = fmt.Errorf("capture stopped after %d rows: %w", d.rows, err)
		}
		if d.err != nil {
			break
		}
	}
	d.took = time.Since(t0)
	d.cpu = rusageCPU() - cpu0
	d.server = meter.use(s0, meter.snap(0)).blue
	cancel()
	if d.err == nil {
		<-runErr
		logf("MariaDB capture: %d rows in %d transactions in %.2f s: %.0f rows/s; CPU %.1f s here, %.1f s MariaDB blue",
			d.rows, d.txns, d.took.Seconds(), d.rate(), d.cpu, d.server)
	}
	return d
}

// myBinlogTool times mariadb-binlog decoding the same range from blue
// over the replication protocol (-R), its output read and its INSERT rows
// of bench_my.bench counted here.
func (e *env) myBinlogTool(ctx context.Context, blue myServer, meter *cpuMeter, base string, start, end change.Position) decodeResult {
	d := decodeResult{ran: true}
	cfg, err := mysql.ParseDSN(blue.dsn)
	if err != nil {
		d.err = err
		return d
	}
	host, port, _ := strings.Cut(cfg.Addr, ":")
	args := []string{"--no-defaults", "-R", "--protocol=tcp", "--host=" + host, "--port=" + cmp.Or(port, "3306"), "--user=" + cfg.User,
		fmt.Sprintf("--start-position=%d", uint32(start)), fmt.Sprintf("--stop-position=%d", uint32(end)),
		"--base64-output=decode-rows", "--verbose"}
	for seq := uint32(start >> 32); seq <= uint32(end>>32); seq++ {
		args = append(args, fmt.Sprintf("%s.%06d", base, seq))
	}
	d.command = e.o.myBinlogBin + " " + strings.Join(args, " ")
	logf("mariadb-binlog: %s", d.command)
	cctx, cancel := context.WithTimeout(ctx, e.o.drainTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, e.o.myBinlogBin, args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+cfg.Passwd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		d.err = err
		return d
	}
	s0 := meter.snap(0)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		d.err = err
		return d
	}
	prefix := []byte("### INSERT INTO `" + myDB + "`.`bench`")
	br := bufio.NewReaderSize(stdout, 1<<20)
	var outBytes int64
	for {
		line, err := br.ReadSlice('\n')
		outBytes += int64(len(line))
		if bytes.HasPrefix(line, prefix) {
			d.rows++
		}
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull { // a long line: skip the rest of it
				line, err = br.ReadSlice('\n')
				outBytes += int64(len(line))
			}
		}
		if err != nil {
			if err != io.EOF {
				d.err = err
			}
			break
		}
	}
	if err := cmd.Wait(); err != nil && d.err == nil {
		d.err = fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	d.took = time.Since(t0)
	d.server = meter.use(s0, meter.snap(0)).blue
	d.outMiB = float64(outBytes) / (1 << 20)
	if ps := cmd.ProcessState; ps != nil {
		d.cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if d.err == nil {
		logf("mariadb-binlog: %d INSERT rows of %s.bench in %.2f s: %.0f rows/s (%.0f MiB of text); CPU %.1f s, %.1f s MariaDB blue",
			d.rows, myDB, d.took.Seconds(), d.rate(), d.outMiB, d.cpu, d.server)
	}
	return d
}

// myDrain starts `bgsync run` on config name (its backlog loaded), times
// it until green holds every row, stops it with SIGTERM and checks green
// against blue. pg is green's PostgreSQL cluster, nil for MariaDB green.
func (e *env) myDrain(ctx context.Context, r *myResult, phase, name string, meter *cpuMeter, green myServer, pg *cluster) (phaseResult, string) {
	p := phaseResult{ran: true, load: r.load}
	blueSrv, _ := e.myServers()
	var poll func(context.Context) (count, maxID int64, err error)
	if pg == nil {
		h, err := green.open("")
		if err != nil {
			p.err = err
			r.problem("bgsync %s: %v", phase, err)
			return p, ""
		}
		defer h.Close()
		poll = func(ctx context.Context) (int64, int64, error) {
			return myPoll(ctx, h.QueryRowContext)
		}
	} else {
		conn, err := pg.connect(ctx, myDB)
		if err != nil {
			p.err = err
			r.problem("bgsync %s: %v", phase, err)
			return p, ""
		}
		defer conn.Close(context.Background())
		poll = func(ctx context.Context) (int64, int64, error) {
			var n, m int64
			if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM bench_my.bench`).Scan(&m); err != nil || m < int64(r.rows) {
				return 0, m, err
			}
			err := conn.QueryRow(ctx, `SELECT count(*) FROM bench_my.bench`).Scan(&n)
			return n, m, err
		}
	}
	s0 := meter.snap(0)
	start := time.Now()
	proc, err := e.startBgsyncWith(phase, e.myConfigPath(name))
	if err != nil {
		p.err = err
		r.problem("bgsync %s: start: %v", phase, err)
		return p, ""
	}
	logf("bgsync %s: started (pid %d), waiting for green to hold %d rows", phase, proc.pid, r.rows)
	p.drained, p.err = waitRows(ctx, poll, int64(r.rows), start, e.o.drainTimeout, proc.alive)
	p.cpu = meter.use(s0, meter.snap(proc.pid))
	p.rssKiB, _ = vmHWM(proc.pid)
	p.procCPU, _ = cpuSeconds(proc.pid)
	if p.err == nil {
		logf("bgsync %s: green caught up in %.2f s (first change after %.2f s): %.0f rows/s; VmHWM %d MiB, CPU %.1f s",
			phase, p.drained.done.Seconds(), p.drained.first.Seconds(), p.rate(r.rows), p.rssKiB>>10, p.procCPU)
	} else {
		r.problem("bgsync %s: %v\n      %s", phase, p.err, proc.excerpt())
	}
	var stopErr error
	p.stop, stopErr = proc.stop(60 * time.Second)
	if stopErr != nil {
		r.problem("bgsync %s: stop: %v\n      %s", phase, stopErr, proc.excerpt())
	} else {
		logf("bgsync %s: stopped cleanly in %.2f s", phase, p.stop.Seconds())
		myWarnings(proc, r, phase)
	}
	if p.err != nil {
		return p, ""
	}
	checked, err := e.myCheck(ctx, blueSrv, green, pg, r.rows)
	if err != nil {
		p.err = fmt.Errorf("green's rows are wrong: %w", err)
		r.problem("bgsync %s: %v", phase, p.err)
		return p, ""
	}
	logf("bgsync %s: check: %s", phase, checked)
	return p, checked
}

// lwwWarning is the start-up warning apply/mysql logs on every MariaDB or
// MySQL target with last-writer-wins and no timestamp column (README: the
// incoming change wins every conflict there). It is documented and says
// nothing about a one-way drain, so it is not reported as a problem.
const lwwWarning = "last-writer-wins without a timestamp column on a MySQL target"

// myWarnings is bgsyncProc.warnings without lwwWarning.
func myWarnings(p *bgsyncProc, r problemLog, phase string) {
	p.mu.Lock()
	var lines []string
	for _, l := range p.notable {
		if !strings.Contains(l, lwwWarning) {
			lines = append(lines, l)
		}
	}
	p.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	var b strings.Builder
	for _, l := range lines[:min(len(lines), 3)] {
		b.WriteString("\n      " + l)
	}
	r.problem("bgsync %s: %d WARN/ERROR line(s) (besides the documented last-writer-wins warning of a MariaDB target) in %s:%s", phase, len(lines), p.logPath, b.String())
}

func myPoll(ctx context.Context, q func(context.Context, string, ...any) *sql.Row) (int64, int64, error) {
	var n, m int64
	if err := q(ctx, `SELECT coalesce(max(id), 0) FROM bench_my.bench`).Scan(&m); err != nil {
		return 0, 0, err
	}
	if err := q(ctx, `SELECT count(*) FROM bench_my.bench`).Scan(&n); err != nil {
		return 0, m, err
	}
	return n, m, nil
}

// waitRows polls green every 100 ms until it holds want rows (the max id
// first, then count(*)), like waitCaughtUp for the inserts phase.
func waitRows(ctx context.Context, poll func(context.Context) (int64, int64, error), want int64, start time.Time, timeout time.Duration, alive func() error) (drained, error) {
	var d drained
	for {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		if err := alive(); err != nil {
			return d, err
		}
		now := time.Since(start)
		if now > timeout {
			return d, fmt.Errorf("green not caught up after %s (first change seen after %.1f s)", timeout.Round(time.Second), d.first.Seconds())
		}
		n, m, err := poll(ctx)
		if err != nil {
			return d, fmt.Errorf("green: poll: %w", err)
		}
		if m > 0 && d.first == 0 {
			d.first = now
		}
		if m >= want && n == want {
			d.done = now
			return d, nil
		}
		if m >= want && d.odd == "" {
			d.odd = "the last row was on green before the whole backlog was"
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery - time.Since(start.Add(now))):
		}
	}
}

// myCheck compares green with blue by independent SQL: count, sums of a, c
// and the length of b, and max(d) over the whole table, and every column
// of a few rows, as text.
func (e *env) myCheck(ctx context.Context, blue, green myServer, pg *cluster, rows int) (string, error) {
	ids := []int{1, 2, 3, rows / 3, rows / 2, rows - 1, rows}
	var in []string
	for _, id := range ids {
		in = append(in, strconv.Itoa(max(id, 1)))
	}
	sample := strings.Join(in, ",") + ") ORDER BY id"
	read := func(s myServer) ([]string, []string, error) {
		h, err := s.open("")
		if err != nil {
			return nil, nil, err
		}
		defer h.Close()
		agg := make([]string, 5)
		if err := h.QueryRowContext(ctx, myAggMy).Scan(&agg[0], &agg[1], &agg[2], &agg[3], &agg[4]); err != nil {
			return nil, nil, fmt.Errorf("MariaDB %s: %w", s.name, err)
		}
		rs, err := h.QueryContext(ctx, mySampleMy+sample)
		if err != nil {
			return nil, nil, fmt.Errorf("MariaDB %s: %w", s.name, err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			v := make([]string, 5)
			if err := rs.Scan(&v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
				return nil, nil, err
			}
			out = append(out, strings.Join(v, " | "))
		}
		return agg, out, rs.Err()
	}
	bAgg, bRows, err := read(blue)
	if err != nil {
		return "", err
	}
	var gAgg, gRows []string
	if pg == nil {
		gAgg, gRows, err = read(green)
	} else {
		gAgg, gRows, err = readPGSample(ctx, *pg, sample)
	}
	if err != nil {
		return "", err
	}
	if bAgg[0] != strconv.Itoa(rows) {
		return "", fmt.Errorf("blue holds %s rows, want %d", bAgg[0], rows)
	}
	if strings.Join(bAgg, " | ") != strings.Join(gAgg, " | ") {
		return "", fmt.Errorf("count, sum(a), sum(c), sum(char_length(b)), max(d): blue %v, green %v", bAgg, gAgg)
	}
	if len(bRows) != len(gRows) {
		return "", fmt.Errorf("sample ids %s: blue has %d rows, green %d", strings.Join(in, ","), len(bRows), len(gRows))
	}
	for i := range bRows {
		if bRows[i] != gRows[i] {
			return "", fmt.Errorf("row differs: blue %q, green %q", bRows[i], gRows[i])
		}
	}
	return fmt.Sprintf("count %s, sum(a) %s, sum(c) %s, sum(char_length(b)) %s, max(d) %s equal on both sides; ids %s equal column by column (as text)",
		gAgg[0], gAgg[1], gAgg[2], gAgg[3], gAgg[4], strings.Join(in, ",")), nil
}

func readPGSample(ctx context.Context, c cluster, sample string) ([]string, []string, error) {
	conn, err := c.connect(ctx, myDB)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close(context.Background())
	agg := make([]string, 5)
	var n int64
	if err := conn.QueryRow(ctx, myAggPG).Scan(&n, &agg[1], &agg[2], &agg[3], &agg[4]); err != nil {
		return nil, nil, fmt.Errorf("PostgreSQL green: %w", err)
	}
	agg[0] = strconv.FormatInt(n, 10)
	rs, err := conn.Query(ctx, mySamplePG+sample)
	if err != nil {
		return nil, nil, fmt.Errorf("PostgreSQL green: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id int64
		var a int32
		v := make([]string, 5)
		if err := rs.Scan(&id, &a, &v[2], &v[3], &v[4]); err != nil {
			return nil, nil, err
		}
		v[0], v[1] = strconv.FormatInt(id, 10), strconv.Itoa(int(a))
		out = append(out, strings.Join(v, " | "))
	}
	return agg, out, rs.Err()
}

// cleanupMariaDB stops a bgsync of this part left running by an
// interrupted bench (only the pid this tool recorded, and only if its
// command line names one of this part's configs), then drops this part's
// databases: bench_my and bgsync's bench_my_mm / bench_my_mp on both
// MariaDB servers, and on PostgreSQL green database bench_my with the
// slots and replication origins of bench_my_mp. It runs before cleanup,
// which removes the pid file.
func (e *env) cleanupMariaDB(ctx context.Context) []error {
	var errs []error
	if b, err := os.ReadFile(e.pidPath()); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		ours := strings.Contains(string(cmdline), e.myConfigPath(myMMName)) || strings.Contains(string(cmdline), e.myConfigPath(myMPName))
		if pid > 0 && strings.Contains(string(cmdline), e.o.bin) && ours {
			logf("stopping bgsync pid %d left by an earlier run", pid)
			proc, _ := os.FindProcess(pid)
			_ = proc.Signal(syscall.SIGTERM)
			for i := 0; i < 300 && proc.Signal(syscall.Signal(0)) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			_ = proc.Signal(syscall.SIGKILL)
			os.Remove(e.pidPath())
		}
	}
	blue, green := e.myServers()
	for _, s := range []myServer{blue, green} {
		for _, db := range []string{myDB, myMMName, myMPName} {
			if err := s.exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := ensure(ctx, e.green, "postgres", &e.adminGreen); err != nil {
		return append(errs, err)
	}
	for _, side := range []string{"_blue", "_green"} {
		errs = append(errs, dropSlot(ctx, e.adminGreen, myMPName+side)...)
	}
	if _, err := e.adminGreen.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE $1`,
		strings.ReplaceAll(myMPName, "_", `\_`)+`\_%`); err != nil {
		errs = append(errs, fmt.Errorf("green: drop replication origins: %w", err))
	}
	if _, err := e.adminGreen.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{myDB}.Sanitize()+" WITH (FORCE)"); err != nil {
		errs = append(errs, fmt.Errorf("green: drop database %s: %w", myDB, err))
	}
	for _, name := range []string{myMMName, myMPName} {
		errs = append(errs, os.RemoveAll(e.myStateDir(name)))
	}
	return slicesCompact(errs)
}
