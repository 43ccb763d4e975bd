package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The snapshot part of the bench: the initial copy of four tables of
// different shapes (o.snapshotRows rows in all, database bench_snapshot on
// both clusters), first by the reference
//
//	pg_dump --data-only -t ... | psql
//
// then by `bgsync snapshot` (workers 4, chunk_rows 100000 unless the
// -snapshot-workers / -snapshot-chunk-rows flags say otherwise), each timed
// wall clock from its start to its exit, after a CHECKPOINT of both
// clusters; green's tables are emptied between the two. The reference is
// checked by row counts, bgsync's copy by row counts and a checksum of
// every row's text on both sides. Then, with -snapshot-my-rows, a
// MariaDB → PostgreSQL copy of two tables (snapshot_my.go).
const (
	snapDB   = "bench_snapshot" // database on both clusters, and the bgsync name (schema, slot bench_snapshot_blue)
	snapName = snapDB
)

// snapTable is one table of the PostgreSQL part: its DDL (primary key
// apart, added on blue after the load), the share of the rows it holds in
// percent, and the SELECT over generate_series g that fills it.
type snapTable struct {
	name, cols, key string
	share           int
	sel             string
}

var snapTables = []snapTable{
	{name: "snap_narrow", share: 40, key: "id",
		cols: `id bigint NOT NULL, a int NOT NULL, b int NOT NULL, c bigint NOT NULL, flag boolean NOT NULL`,
		sel:  `SELECT g, ((g * 7) % 100000)::int, (g % 1000)::int, g * 13, g % 3 = 0`},
	{name: "snap_wide", share: 25, key: "id",
		cols: `id bigint NOT NULL, name text NOT NULL, amount numeric(14,2) NOT NULL, created timestamptz NOT NULL,
	attrs jsonb NOT NULL, note text`,
		// note: NULL every 10th row, and COPY's escapes (tab, newline,
		// backslash) every 97th.
		sel: `SELECT g, 'customer ' || md5(g::text), ((g * 7919) % 100000000) / 100.0,
	timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' + (g % 1000) * interval '1 microsecond',
	jsonb_build_object('tier', g % 5, 'tags', jsonb_build_array('a' || (g % 7), 'b' || (g % 11)), 'score', (g % 1000) / 10.0),
	CASE WHEN g % 10 = 0 THEN NULL WHEN g % 97 = 0 THEN E'two\tlines\nand a \\ backslash ' || g
	     ELSE rpad(md5((g * 3)::text), 120, md5(g::text)) END`},
	{name: "snap_composite", share: 25, key: "region, n",
		cols: `region text NOT NULL, n int NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL, label varchar(40) NOT NULL`,
		sel:  `SELECT 'region-' || lpad((g % 64)::text, 2, '0'), (g / 64)::int, (g % 500)::int, (g % 100000) / 100.0, substr(md5(g::text), 1, 20)`},
	{name: "snap_blob", share: 10, key: "id",
		cols: `id bigint NOT NULL, kind smallint NOT NULL, payload bytea NOT NULL`,
		sel: `SELECT g, (g % 7)::smallint,
	decode(md5(g::text) || md5((g * 3)::text) || md5((g * 5)::text) || md5((g * 7)::text), 'hex') ||
	decode(md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) || md5((g * 19)::text), 'hex')`},
}

// snapRows splits total over the tables by their shares; the last takes
// the rest.
func snapRows(total int) []int {
	out := make([]int, len(snapTables))
	left := total
	for i, t := range snapTables {
		if i == len(snapTables)-1 {
			out[i] = left
			break
		}
		out[i] = total * t.share / 100
		left -= out[i]
	}
	return out
}

// snapCopy is one timed copy: the reference or bgsync snapshot.
type snapCopy struct {
	ran     bool
	took    time.Duration // start of the process(es) → exit
	rows    int64
	procCPU float64 // pg_dump + psql, or bgsync: user + system s
	rssKiB  int64   // peak RSS: pg_dump and psql each, the larger; bgsync's
	cpu     cpuUse  // the clusters and the machine meanwhile
	output  string  // bgsync's last line on stdout
	err     error
}

func (c *snapCopy) rate() float64 {
	if !c.ran || c.err != nil || c.took <= 0 {
		return 0
	}
	return float64(c.rows) / c.took.Seconds()
}

// snapResult is the snapshot part of the report.
type snapResult struct {
	ran      bool
	rows     []int // per table, as snapTables
	load     time.Duration
	ref, bg  snapCopy
	refCheck string // row counts of green after the reference
	checked  string // counts and checksums after bgsync
	// bgsync's own phases, from its log: start → "snapshot: copying"
	// (config, preflight, views, plan), → "snapshot: done" (the copy), →
	// exit (slot advance, exit).
	plan, copy, finish time.Duration
	my                 *snapMyResult
	problems           []string
}

func (r *snapResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

func (r *snapResult) total() int {
	n := 0
	for _, v := range r.rows {
		n += v
	}
	return n
}

func (e *env) snapConfig() string { return filepath.Join(e.o.workDir, "bgsync-snapshot.yaml") }

func (e *env) writeSnapConfig() error {
	var tables strings.Builder
	for _, t := range snapTables {
		fmt.Fprintf(&tables, "  - name: public.%s\n", t.name)
	}
	cfg := fmt.Sprintf(`# written by tools/bench (snapshot)
name: %s
state_dir: %s
blue:
  engine: postgres
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
`, snapName, e.stateDir+"-snapshot", e.blue.dsn(snapDB), e.green.dsn(snapDB), tables.String(), e.o.snapshotWorkers, e.o.snapshotChunkRows)
	return os.WriteFile(e.snapConfig(), []byte(cfg), 0o600)
}

// runSnapshot runs the whole snapshot part.
func (e *env) runSnapshot(ctx context.Context) *snapResult {
	r := &snapResult{}
	if e.o.snapshotRows > 0 {
		r.ran = true
		r.rows = snapRows(e.o.snapshotRows)
		e.snapshotPG(ctx, r)
	}
	if ctx.Err() == nil && e.o.snapshotMyRows > 0 {
		r.my = e.runSnapshotMy(ctx)
	}
	return r
}

func (e *env) snapshotPG(ctx context.Context, r *snapResult) {
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	for _, err := range e.cleanupSnapshotPG(ctx) {
		logf("snapshot: cleanup: %v", err)
	}
	logf("snapshot: fresh database %s on blue and green; loading %d rows on blue into %d tables", snapDB, r.total(), len(snapTables))
	start := time.Now()
	if err := e.snapLoad(ctx, r.rows); err != nil {
		r.problem("snapshot: load: %v", err)
		return
	}
	r.load = time.Since(start)
	logf("snapshot: loaded, keyed and vacuumed in %.1f s", r.load.Seconds())

	blue, err := e.blue.connect(ctx, snapDB)
	if err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	defer func() { blue.Close(context.Background()) }()
	green, err := e.green.connect(ctx, snapDB)
	if err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	defer func() { green.Close(context.Background()) }()
	logf("snapshot: checksums of blue's tables")
	want, err := snapSums(ctx, e.blue)
	if err != nil {
		r.problem("snapshot: blue: %v", err)
		return
	}
	for i, t := range snapTables {
		if want[i].rows != int64(r.rows[i]) {
			r.problem("snapshot: blue's %s holds %d rows, want %d", t.name, want[i].rows, r.rows[i])
			return
		}
	}

	// The reference.
	if err := checkpoint(ctx, blue, green); err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	logf("snapshot: pg_dump --data-only | psql of %d rows", r.total())
	r.ref = e.snapReference(ctx)
	if r.ref.err != nil {
		r.problem("snapshot: pg_dump | psql: %v", r.ref.err)
		return
	}
	r.ref.rows = int64(r.total())
	counts, err := snapCounts(ctx, green)
	if err == nil {
		r.refCheck, err = compareCounts(counts, want)
	}
	if err != nil {
		r.ref.err = err
		r.problem("snapshot: pg_dump | psql: green after the copy: %v", err)
		return
	}
	logf("snapshot: pg_dump | psql: %.2f s (%.0f rows/s); %s", r.ref.took.Seconds(), r.ref.rate(), r.refCheck)
	names := make([]string, len(snapTables))
	for i, t := range snapTables {
		names[i] = t.name
	}
	if _, err := green.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
		r.problem("snapshot: truncate green's tables: %v", err)
		return
	}

	// bgsync.
	if err := os.RemoveAll(e.stateDir + "-snapshot"); err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	if err := e.writeSnapConfig(); err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	if out, err := e.bgsyncCmdWith(ctx, e.snapConfig(), "setup").CombinedOutput(); err != nil {
		r.problem("snapshot: bgsync setup: %v\n%s", err, out)
		return
	}
	if err := checkpoint(ctx, blue, green); err != nil {
		r.problem("snapshot: %v", err)
		return
	}
	logf("snapshot: bgsync snapshot of %d rows (workers %d, chunk_rows %d)", r.total(), e.o.snapshotWorkers, e.o.snapshotChunkRows)
	var marks map[string]time.Time
	r.bg, marks = e.snapBgsync(ctx, "snapshot", e.snapConfig(), e.cpu)
	r.bg.rows = int64(r.total())
	if !marks["start"].IsZero() && !marks["snapshot: copying"].IsZero() && !marks["snapshot: done"].IsZero() {
		r.plan = marks["snapshot: copying"].Sub(marks["start"])
		r.copy = marks["snapshot: done"].Sub(marks["snapshot: copying"])
		r.finish = r.bg.took - r.plan - r.copy
	}
	if r.bg.err != nil {
		r.problem("snapshot: bgsync snapshot: %v", r.bg.err)
		return
	}
	logf("snapshot: bgsync snapshot: %.2f s (%.0f rows/s), peak RSS %d MiB, CPU %.1f s: %s",
		r.bg.took.Seconds(), r.bg.rate(), r.bg.rssKiB>>10, r.bg.procCPU, r.bg.output)
	logf("snapshot: checking green: row counts and checksums of every table")
	got, err := snapSums(ctx, e.green)
	if err == nil {
		r.checked, err = compareSums(got, want)
	}
	if err != nil {
		r.bg.err = fmt.Errorf("wrong result: %w", err)
		r.problem("snapshot: bgsync snapshot: green after the copy: %v", err)
		return
	}
	logf("snapshot: checked: %s", r.checked)
}

// snapLoad creates database snapDB on both clusters with the tables (with
// their primary keys on green, added after the load on blue), and fills
// blue's, one table per connection at once.
func (e *env) snapLoad(ctx context.Context, rows []int) error {
	for _, s := range []struct {
		admin *pgx.Conn
		c     cluster
		keyed bool
	}{{e.adminBlue, e.blue, false}, {e.adminGreen, e.green, true}} {
		var ddl []string
		for _, t := range snapTables {
			cols := t.cols
			if s.keyed {
				cols += ", PRIMARY KEY (" + t.key + ")"
			}
			ddl = append(ddl, "CREATE TABLE "+t.name+" ("+cols+")")
		}
		if err := freshDBWith(ctx, s.admin, s.c, snapDB, strings.Join(ddl, ";\n")); err != nil {
			return err
		}
	}
	var g errgroup.Group
	for i, t := range snapTables {
		g.Go(func() error {
			conn, err := e.blue.connect(ctx, snapDB)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			for _, sql := range []string{
				"INSERT INTO " + t.name + " " + t.sel + " FROM generate_series(1, " + strconv.Itoa(rows[i]) + "::bigint) g",
				"ALTER TABLE " + t.name + " ADD PRIMARY KEY (" + t.key + ")",
			} {
				if _, err := conn.Exec(ctx, sql); err != nil {
					return fmt.Errorf("blue: %s: %s: %w", t.name, strings.SplitN(sql, " (", 2)[0], err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Vacuumed once every load has committed: a vacuum that runs while
	// another table's load is open cannot mark its pages all-visible, and
	// every index-only scan (bgsync's key ranges are cut by one) would
	// fetch each row from the heap, which a settled table does not.
	conn, err := e.blue.connect(ctx, snapDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, t := range snapTables {
		if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+t.name); err != nil {
			return fmt.Errorf("blue: VACUUM %s: %w", t.name, err)
		}
	}
	return nil
}

func checkpoint(ctx context.Context, conns ...*pgx.Conn) error {
	for _, c := range conns {
		if _, err := c.Exec(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("CHECKPOINT: %w", err)
		}
	}
	return nil
}

// snapSum is a table's row count and checksum: the sum of the first 64
// bits of md5(row::text) over its rows (as numeric, no overflow), with
// the session's TimeZone, DateStyle and bytea_output fixed so both sides
// print every value alike. Keys are unique, so equal sums of equal counts
// mean equal rows but for a 2^-64 accident.
type snapSum struct {
	rows int64
	sum  string
}

func snapSums(ctx context.Context, c cluster) ([]snapSum, error) {
	out := make([]snapSum, len(snapTables))
	var g errgroup.Group
	for i, t := range snapTables {
		g.Go(func() error {
			conn, err := c.connect(ctx, snapDB)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET bytea_output = 'hex'; SET extra_float_digits = 3`); err != nil {
				return err
			}
			err = conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0)::text FROM `+t.name+` t`).
				Scan(&out[i].rows, &out[i].sum)
			if err != nil {
				return fmt.Errorf("%s: checksum of %s: %w", c.name, t.name, err)
			}
			return nil
		})
	}
	return out, g.Wait()
}

func snapCounts(ctx context.Context, conn *pgx.Conn) ([]int64, error) {
	out := make([]int64, len(snapTables))
	for i, t := range snapTables {
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+t.name).Scan(&out[i]); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
	}
	return out, nil
}

func compareCounts(got []int64, want []snapSum) (string, error) {
	var parts []string
	for i, t := range snapTables {
		if got[i] != want[i].rows {
			return "", fmt.Errorf("%s: green holds %d rows, blue %d", t.name, got[i], want[i].rows)
		}
		parts = append(parts, fmt.Sprintf("%s %d", t.name, got[i]))
	}
	return "row counts equal to blue's: " + strings.Join(parts, ", "), nil
}

func compareSums(got, want []snapSum) (string, error) {
	var parts []string
	for i, t := range snapTables {
		if got[i].rows != want[i].rows {
			return "", fmt.Errorf("%s: green holds %d rows, blue %d", t.name, got[i].rows, want[i].rows)
		}
		if got[i].sum != want[i].sum {
			return "", fmt.Errorf("%s: %d rows on both sides, but the checksums differ: green %s, blue %s", t.name, got[i].rows, got[i].sum, want[i].sum)
		}
		parts = append(parts, fmt.Sprintf("%s %d", t.name, got[i].rows))
	}
	return "row counts and checksums (sum of md5(row::text)'s first 64 bits) equal to blue's: " + strings.Join(parts, ", "), nil
}

// snapReference runs pg_dump --data-only of the tables on blue into psql
// on green, and times it.
func (e *env) snapReference(ctx context.Context) snapCopy {
	c := snapCopy{ran: true}
	// The password goes through the environment, not the command line.
	kv := func(c cluster) string {
		return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.host, c.port, snapDB)
	}
	args := []string{"--data-only", "--no-password", "--dbname", kv(e.blue)}
	for _, t := range snapTables {
		args = append(args, "--table", "public."+t.name)
	}
	dump := exec.CommandContext(ctx, "pg_dump", args...)
	load := exec.CommandContext(ctx, "psql", "--no-psqlrc", "--quiet", "--no-password", "-v", "ON_ERROR_STOP=1", "--dbname", kv(e.green))
	for _, cmd := range []*exec.Cmd{dump, load} {
		for _, v := range os.Environ() {
			if !strings.HasPrefix(v, "PG") {
				cmd.Env = append(cmd.Env, v)
			}
		}
		cmd.Env = append(cmd.Env, "PGPASSWORD="+e.o.password)
	}
	logPath := filepath.Join(e.logDir, "snapshot-pg_dump-psql.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		c.err = err
		return c
	}
	defer logFile.Close()
	dump.Stderr, load.Stderr, load.Stdout = logFile, logFile, logFile
	pr, pw, err := os.Pipe()
	if err != nil {
		c.err = err
		return c
	}
	dump.Stdout, load.Stdin = pw, pr
	s := e.newRunSampler(e.cpu, 0)
	start := time.Now()
	if err := load.Start(); err != nil {
		pr.Close()
		pw.Close()
		c.err = fmt.Errorf("psql: %w", err)
		return c
	}
	pr.Close()
	if err := dump.Start(); err != nil {
		pw.Close()
		_ = load.Process.Kill()
		_ = load.Wait()
		c.err = fmt.Errorf("pg_dump: %w", err)
		return c
	}
	pw.Close()
	derr := dump.Wait()
	lerr := load.Wait()
	c.took = time.Since(start)
	c.cpu = s.finish()
	for _, p := range []*os.ProcessState{dump.ProcessState, load.ProcessState} {
		if p == nil {
			continue
		}
		c.procCPU += (p.UserTime() + p.SystemTime()).Seconds()
		if ru, ok := p.SysUsage().(*syscall.Rusage); ok {
			c.rssKiB = max(c.rssKiB, ru.Maxrss)
		}
	}
	switch {
	case derr != nil:
		c.err = fmt.Errorf("pg_dump: %v (log %s):\n      %s", derr, logPath, lastLines(logPath, 5))
	case lerr != nil:
		c.err = fmt.Errorf("psql: %v (log %s):\n      %s", lerr, logPath, lastLines(logPath, 5))
	}
	return c
}

// snapBgsync runs `bgsync snapshot` on config, timed from its start to
// its exit; its peak RSS is the larger of VmHWM sampled while it runs and
// the kernel's ru_maxrss at exit. It returns the times of the "start" and
// of the log lines "snapshot: copying" and "snapshot: done".
func (e *env) snapBgsync(ctx context.Context, phase, config string, meter *cpuMeter) (snapCopy, map[string]time.Time) {
	c := snapCopy{ran: true}
	marks := map[string]time.Time{}
	logPath := filepath.Join(e.logDir, "bgsync-"+phase+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		c.err = err
		return c, marks
	}
	defer logFile.Close()
	cmd := e.bgsyncCmdWith(ctx, config, "snapshot", "--progress", "5s")
	var out strings.Builder
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.err = err
		return c, marks
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		c.err = err
		return c, marks
	}
	marks["start"] = start
	_ = os.WriteFile(e.pidPath(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	defer os.Remove(e.pidPath())
	s := e.newRunSampler(meter, cmd.Process.Pid)
	var notable []string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logFile, line)
		var l struct {
			Time  time.Time `json:"time"`
			Msg   string    `json:"msg"`
			Level string    `json:"level"`
		}
		if json.Unmarshal([]byte(line), &l) == nil {
			if l.Msg == "snapshot: copying" || l.Msg == "snapshot: done" {
				marks[l.Msg] = l.Time
			}
			if (l.Level == "WARN" || l.Level == "ERROR") && len(notable) < 5 {
				notable = append(notable, line)
			}
		}
	}
	werr := cmd.Wait()
	c.took = time.Since(start)
	c.cpu = s.finish()
	c.rssKiB = s.hwm
	if p := cmd.ProcessState; p != nil {
		c.procCPU = (p.UserTime() + p.SystemTime()).Seconds()
		if ru, ok := p.SysUsage().(*syscall.Rusage); ok {
			c.rssKiB = max(c.rssKiB, ru.Maxrss)
		}
	}
	fmt.Fprintf(logFile, "--- stdout\n%s", out.String())
	c.output = lastLine(out.String())
	if werr != nil {
		c.err = fmt.Errorf("%v (log %s)%s", werr, logPath, "\n      "+strings.Join(notable, "\n      "))
	} else if len(notable) > 0 {
		logf("snapshot: %d WARN/ERROR line(s) from bgsync snapshot in %s", len(notable), logPath)
	}
	return c, marks
}

// runSampler follows a copy: the CPU of the clusters' processes, sampled
// every 200 ms so that connections which end before the copy does are
// counted up to their last sample, and the VmHWM of pid (0: none).
type runSampler struct {
	meter       *cpuMeter
	pid         int
	first       cpuSnap
	blue, green map[int]uint64 // the last ticks seen of each process
	hwm         int64
	stop, done  chan struct{}
	mu          sync.Mutex
}

func (e *env) newRunSampler(meter *cpuMeter, pid int) *runSampler {
	s := &runSampler{meter: meter, pid: pid, blue: map[int]uint64{}, green: map[int]uint64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	s.first = meter.snap(0)
	go func() {
		defer close(s.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *runSampler) sample() cpuSnap {
	snap := s.meter.snap(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, t := range snap.blue {
		s.blue[pid] = t
	}
	for pid, t := range snap.green {
		s.green[pid] = t
	}
	if s.pid > 0 {
		if v, err := vmHWM(s.pid); err == nil {
			s.hwm = max(s.hwm, v)
		}
	}
	return snap
}

// finish stops the sampling and sums up.
func (s *runSampler) finish() cpuUse {
	close(s.stop)
	<-s.done
	last := s.sample()
	u := s.meter.use(s.first, last)
	if s.meter != nil {
		delta := func(first, seen map[int]uint64) float64 {
			var d uint64
			for pid, t := range seen {
				if t0, ok := first[pid]; ok && t0 <= t {
					d += t - t0
				} else if !ok {
					d += t
				}
			}
			return float64(d) / ticksPerSec
		}
		u.blue, u.green = delta(s.first.blue, s.blue), delta(s.first.green, s.green)
	}
	return u
}

// cleanupSnapshot removes the snapshot part's objects: bgsync teardown,
// then the databases, slots, origins and state, on PostgreSQL and, with
// -snapshot-my-rows, on MariaDB.
func (e *env) cleanupSnapshot(ctx context.Context) []error {
	e.stopLeftoverSnapshot()
	var errs []error
	if e.o.snapshotRows > 0 {
		errs = append(errs, e.cleanupSnapshotPG(ctx)...)
	}
	if e.o.snapshotMyRows > 0 {
		errs = append(errs, e.cleanupSnapshotMy(ctx)...)
	}
	return slicesCompact(errs)
}

func (e *env) cleanupSnapshotPG(ctx context.Context) []error {
	var errs []error
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		return []error{err}
	}
	var exists bool
	_ = e.adminBlue.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, snapDB).Scan(&exists)
	if _, err := os.Stat(e.snapConfig()); err == nil && exists {
		if out, err := e.bgsyncCmdWith(ctx, e.snapConfig(), "teardown").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("bgsync teardown (snapshot): %v: %s", err, strings.TrimSpace(string(out))))
		}
	}
	errs = append(errs, e.dropSideDBs(ctx, snapDB)...)
	return slicesCompact(append(errs, os.RemoveAll(e.stateDir+"-snapshot")))
}

// lastLines is the end of a log, for a problem's excerpt.
func lastLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n      ")
}
