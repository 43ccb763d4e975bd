package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The two-way part of the bench: bgsync with directions: both on its own
// database (bench_twoway on both clusters). PostgreSQL 15's native logical
// replication has no origin filter (CREATE SUBSCRIPTION ... origin = none
// came in 16), so it cannot run both ways without echoing; the reference
// is bgsync's own one-way run of the same invocation.
const twowayDB = "bench_twoway" // also bgsync's name: schema, slots, origins

const probeSQL = `CREATE TABLE probe_b (id bigint PRIMARY KEY, sent timestamptz NOT NULL);
CREATE TABLE probe_g (id bigint PRIMARY KEY, sent timestamptz NOT NULL)`

// Directions, in the order every [2] array of this file uses.
var twowayDirs = [2]string{"blue-to-green", "green-to-blue"}

type twowayResult struct {
	ran              bool
	inserts, updates twowayDrain
	storm            stormResult
	rssKiB           int64
	problems         []string
}

func (r *twowayResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

// twowayDrain is one backlog phase: both sides loaded while bgsync is
// stopped, then timed until each side holds the other's rows.
type twowayDrain struct {
	ran  bool
	done [2]time.Duration // start → the direction's rows all visible on its target
	err  error
}

// rate is rows per second over the whole drain (both directions' rows).
func (d twowayDrain) rate(perSide int) float64 {
	if !d.ran || d.err != nil {
		return 0
	}
	total := max(d.done[0], d.done[1])
	if total <= 0 {
		return 0
	}
	return float64(2*perSide) / total.Seconds()
}

type stormResult struct {
	ran        bool
	seconds    float64
	txns       [2]int64  // committed by the writers on blue, on green
	applied    [2]uint64 // transactions applied per direction during the storm
	conflicts  [2]int64  // conflicts logged per direction
	probe      [2]liveResult
	own        [2]*progress // bgsync's last progress line per direction
	settle     time.Duration
	differ     int // keys of the storm range different once drained
	stormKeys  int
	workersPer int
}

func (e *env) twowayConfig() string { return filepath.Join(e.o.workDir, "bgsync-twoway.yaml") }

func (e *env) writeTwowayConfig() error {
	cfg := fmt.Sprintf(`# written by tools/bench (two-way)
name: %s
state_dir: %s
blue:
  engine: postgres
  dsn: %q
green:
  engine: postgres
  dsn: %q
directions: both
kafka:
  brokers: embedded
tables:
  - name: public.bench
  - name: public.probe_b
  - name: public.probe_g
apply:
  batch_rows: 5000
log:
  level: info
  format: json
http:
  listen: "127.0.0.1:0"
`, twowayDB, e.stateDir+"-twoway", e.blue.dsn(twowayDB), e.green.dsn(twowayDB))
	return os.WriteFile(e.twowayConfig(), []byte(cfg), 0o600)
}

// runTwoway measures two-way throughput on disjoint keys (blue loads ids
// 1..n, green n+1..2n) and then a conflict storm on overlapping keys.
func (e *env) runTwoway(ctx context.Context) *twowayResult {
	r := &twowayResult{ran: true}
	n := e.o.twowayRows
	logf("two-way: fresh database %s on blue and green, bgsync setup --replica-identity-full", twowayDB)
	for _, s := range []struct {
		admin *pgx.Conn
		c     cluster
	}{{e.adminBlue, e.blue}, {e.adminGreen, e.green}} {
		err := freshDB(ctx, s.admin, s.c, twowayDB)
		if err == nil {
			err = execOn(ctx, s.c, twowayDB, probeSQL)
		}
		if err != nil {
			r.problem("two-way: %v", err)
			return r
		}
	}
	if err := errors.Join(os.RemoveAll(e.stateDir+"-twoway"), e.writeTwowayConfig()); err != nil {
		r.problem("two-way: %v", err)
		return r
	}
	if out, err := e.bgsyncCmdWith(ctx, e.twowayConfig(), "setup", "--replica-identity-full").CombinedOutput(); err != nil {
		r.problem("two-way setup: %v\n%s", err, out)
		return r
	}
	var conns [2]*pgx.Conn // blue, green
	for i, c := range []cluster{e.blue, e.green} {
		conn, err := c.connect(ctx, twowayDB)
		if err != nil {
			r.problem("two-way: %v", err)
			return r
		}
		defer conn.Close(context.Background())
		conns[i] = conn
	}
	for _, ph := range []struct {
		name string
		d    *twowayDrain
	}{{"inserts", &r.inserts}, {"updates", &r.updates}} {
		*ph.d = e.twowayPhase(ctx, conns, ph.name, n, r)
		if ph.d.err != nil {
			return r
		}
	}
	if e.o.storm > 0 {
		r.storm = e.twowayStorm(ctx, conns, r)
	}
	return r
}

func execOn(ctx context.Context, c cluster, db, sql string) error {
	conn, err := c.connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// twowayPhase loads phase on both sides (blue ids 1..n, green n+1..2n),
// starts bgsync and waits until each side holds the other's rows.
func (e *env) twowayPhase(ctx context.Context, conns [2]*pgx.Conn, phase string, n int, r *twowayResult) twowayDrain {
	d := twowayDrain{ran: true}
	sql := insertSQL
	if phase == "updates" {
		sql = updateSQL
	}
	logf("two-way %s: loading %d rows on each side in %d-row transactions (bgsync not running)", phase, n, e.o.txn)
	for i, conn := range conns {
		off := i * n
		for lo := 1; lo <= n; lo += e.o.txn {
			hi := min(lo+e.o.txn-1, n)
			if _, err := conn.Exec(ctx, sql, off+lo, off+hi); err != nil {
				d.err = fmt.Errorf("%s: %s %d..%d: %w", []string{"blue", "green"}[i], phase, off+lo, off+hi, err)
				r.problem("two-way %s: %v", phase, d.err)
				return d
			}
		}
	}
	if d.err = settle(ctx, conns[0], conns[1]); d.err != nil {
		r.problem("two-way %s: %v", phase, d.err)
		return d
	}
	// What each target must show: the source's count and sum(a) of its range.
	var want [2]string
	for i, conn := range conns {
		if d.err = conn.QueryRow(ctx, rangeSig, i*n+1, (i+1)*n).Scan(&want[i]); d.err != nil {
			r.problem("two-way %s: %v", phase, d.err)
			return d
		}
	}
	start := time.Now()
	proc, err := e.startBgsyncWith("twoway-"+phase, e.twowayConfig())
	if err != nil {
		d.err = err
		r.problem("two-way %s: start: %v", phase, err)
		return d
	}
	d.done, d.err = waitBothWays(ctx, conns, want, n, start, e.o.drainTimeout, proc.alive)
	rss, _ := vmHWM(proc.pid)
	r.rssKiB = max(r.rssKiB, rss)
	if d.err == nil {
		logf("two-way %s: blue→green caught up in %.2f s, green→blue in %.2f s: %.0f rows/s both ways",
			phase, d.done[0].Seconds(), d.done[1].Seconds(), d.rate(n))
	} else {
		r.problem("two-way %s: %v\n      %s", phase, d.err, proc.excerpt())
	}
	if _, err := proc.stop(60 * time.Second); err != nil {
		r.problem("two-way %s: stop: %v\n      %s", phase, err, proc.excerpt())
	}
	return d
}

// rangeSig is the count and sum(a) of an id range.
const rangeSig = `SELECT count(*) || '/' || coalesce(sum(a), 0) FROM bench WHERE id BETWEEN $1 AND $2`

// waitBothWays polls, on connections of its own, until green shows blue's
// range and blue shows green's.
func waitBothWays(ctx context.Context, conns [2]*pgx.Conn, want [2]string, n int, start time.Time, timeout time.Duration, alive func() error) ([2]time.Duration, error) {
	var done [2]time.Duration
	for time.Since(start) < timeout {
		for i := range done {
			if done[i] > 0 {
				continue
			}
			target := conns[1-i]
			var got string
			if err := target.QueryRow(ctx, rangeSig, i*n+1, (i+1)*n).Scan(&got); err != nil {
				return done, err
			}
			if got == want[i] {
				done[i] = time.Since(start)
			}
		}
		if done[0] > 0 && done[1] > 0 {
			return done, nil
		}
		if err := alive(); err != nil {
			return done, err
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
	return done, fmt.Errorf("not caught up after %s (blue→green %v, green→blue %v)", timeout, done[0] > 0, done[1] > 0)
}

// twowayStorm writes random upserts, updates and deletes on overlapping
// keys on both sides at once, with a lag probe each way, then waits for
// the sides to agree on the storm's keys.
func (e *env) twowayStorm(ctx context.Context, conns [2]*pgx.Conn, r *twowayResult) stormResult {
	s := stormResult{ran: true, stormKeys: 2000, workersPer: 3}
	const perWorker = 60 // transactions/s
	logf("two-way storm: %d writers per side at %d txn/s each on keys 1..%d for %s, lag probes each way every %s",
		s.workersPer, perWorker, s.stormKeys, e.o.storm, e.o.probeEvery)
	proc, err := e.startBgsyncWith("twoway-storm", e.twowayConfig())
	if err != nil {
		r.problem("two-way storm: start: %v", err)
		return s
	}
	defer func() {
		if _, err := proc.stop(60 * time.Second); err != nil {
			r.problem("two-way storm: stop: %v\n      %s", err, proc.excerpt())
		} else {
			proc.warnings(&engineResult{}, "two-way storm")
		}
	}()
	clusters := [2]cluster{e.blue, e.green}
	// Warm up: one probe each way end to end.
	for i, tbl := range []string{"probe_b", "probe_g"} {
		if _, err := conns[i].Exec(ctx, `INSERT INTO `+tbl+` VALUES (0, clock_timestamp())`); err != nil {
			r.problem("two-way storm: probe: %v", err)
			return s
		}
		if err := waitRow(ctx, conns[1-i], tbl, 90*time.Second); err != nil {
			r.problem("two-way storm: warm-up probe %s: %v\n      %s", twowayDirs[i], err, proc.excerpt())
			return s
		}
	}
	before := [2]uint64{}
	for i, dir := range twowayDirs {
		if p := proc.progressOf(dir); p != nil {
			before[i] = p.TxnsApplied
		}
	}
	sctx, stop := context.WithTimeout(ctx, e.o.storm)
	defer stop()
	var wg sync.WaitGroup
	var txns [2]atomic.Int64
	errc := make(chan error, 2*s.workersPer+2)
	start := time.Now()
	for side := range 2 {
		for w := range s.workersPer {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := stormWriter(sctx, clusters[side], side, w, perWorker, s.stormKeys, &txns[side]); err != nil {
					errc <- err
				}
			}()
		}
	}
	var probes [2]liveResult
	for i, tbl := range []string{"probe_b", "probe_g"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probes[i] = probeLag(sctx, clusters[i], clusters[1-i], tbl, e.o.probeEvery)
		}()
	}
	wg.Wait()
	s.seconds = time.Since(start).Seconds()
	close(errc)
	for err := range errc {
		r.problem("two-way storm: writer: %v", err)
	}
	s.txns = [2]int64{txns[0].Load(), txns[1].Load()}
	s.probe = probes
	settleStart := time.Now()
	s.differ, err = waitAgree(ctx, conns, s.stormKeys, 3*time.Minute)
	s.settle = time.Since(settleStart)
	if err != nil {
		r.problem("two-way storm: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // one more progress line
	for i, dir := range twowayDirs {
		s.own[i] = proc.progressOf(dir)
		if s.own[i] != nil {
			s.applied[i] = s.own[i].TxnsApplied - before[i]
		}
		target := conns[1-i]
		if err := target.QueryRow(ctx, `SELECT count(*) FROM `+twowayDB+`.conflicts WHERE direction = $1`, dir).Scan(&s.conflicts[i]); err != nil {
			r.problem("two-way storm: count conflicts: %v", err)
		}
	}
	rss, _ := vmHWM(proc.pid)
	r.rssKiB = max(r.rssKiB, rss)
	logf("two-way storm: %d + %d transactions in %.0f s; conflicts %d (blue→green) / %d (green→blue); %d keys differ after %.1f s",
		s.txns[0], s.txns[1], s.seconds, s.conflicts[0], s.conflicts[1], s.differ, s.settle.Seconds())
	return s
}

// stormWriter commits transactions of one to three random operations on
// keys 1..keys of bench at perSec per second until ctx ends. Deadlocks and
// unique violations between the application's own writers are rolled back
// and not counted, as an application would retry them.
func stormWriter(ctx context.Context, c cluster, side, w, perSec, keys int, n *atomic.Int64) error {
	conn, err := c.connect(ctx, twowayDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	r := rand.New(rand.NewPCG(uint64(side), uint64(w)))
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		for k := 1 + r.IntN(3); k > 0 && err == nil; k-- {
			id := 1 + r.IntN(keys)
			switch op := r.IntN(10); {
			case op < 4:
				_, err = tx.Exec(ctx, `INSERT INTO bench (id, a, b, c, d) VALUES ($1, $2, $3, 0, now())
ON CONFLICT (id) DO UPDATE SET a = bench.a + 1, b = EXCLUDED.b, d = now()`, id, r.IntN(1000), fmt.Sprintf("%s-%d-%d", c.name, w, i))
			case op < 8:
				_, err = tx.Exec(ctx, `UPDATE bench SET a = a + $2, c = c + 1 WHERE id = $1`, id, 1+r.IntN(9))
			default:
				_, err = tx.Exec(ctx, `DELETE FROM bench WHERE id = $1`, id)
			}
		}
		if err == nil {
			err = tx.Commit(ctx)
		} else {
			_ = tx.Rollback(ctx)
		}
		var pe *pgconn.PgError
		switch {
		case err == nil:
			n.Add(1)
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "23505"):
		default:
			return fmt.Errorf("%s writer %d: %w", c.name, w, err)
		}
	}
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// probeLag inserts a probe row on src every `every` and polls dst every
// 10 ms; a probe's lag is the poll that first sees it minus its sent time
// (both clocks are this host's).
func probeLag(ctx context.Context, src, dst cluster, table string, every time.Duration) liveResult {
	res := liveResult{ran: true}
	in, err := src.connect(ctx, twowayDB)
	if err != nil {
		res.err = err
		return res
	}
	defer in.Close(context.Background())
	out, err := dst.connect(ctx, twowayDB)
	if err != nil {
		res.err = err
		return res
	}
	defer out.Close(context.Background())
	var lags []time.Duration
	var sent, seen int64
	next := time.Now()
	start := time.Now()
	for ctx.Err() == nil {
		if time.Now().After(next) {
			if _, err := in.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, clock_timestamp())`, sent+1); err != nil {
				break
			}
			sent++
			next = next.Add(every)
		}
		polled := time.Now()
		rows, err := out.Query(ctx, `SELECT id, extract(epoch FROM $2::timestamptz - sent) FROM `+table+` WHERE id > $1 ORDER BY id`, seen, polled)
		if err != nil {
			break
		}
		for rows.Next() {
			var id int64
			var secs float64
			if rows.Scan(&id, &secs) == nil {
				seen = id
				lags = append(lags, time.Duration(secs*float64(time.Second)))
			}
		}
		rows.Close()
		time.Sleep(10 * time.Millisecond)
	}
	res.seconds = time.Since(start).Seconds()
	res.probes = len(lags)
	if len(lags) > 0 {
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		res.p50, res.p99, res.max = lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1]
	}
	return res
}

func waitRow(ctx context.Context, conn *pgx.Conn, table string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = 0)`).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no probe after %s", timeout)
}

// waitAgree waits until the rows of keys 1..keys are identical on both
// sides and stay so for three polls, and returns how many differ then.
func waitAgree(ctx context.Context, conns [2]*pgx.Conn, keys int, timeout time.Duration) (int, error) {
	const q = `SELECT id::text, t::text FROM bench t WHERE id <= $1`
	deadline := time.Now().Add(timeout)
	last, stable, differ := "", 0, 0
	for time.Now().Before(deadline) {
		var sides [2]map[string]string
		for i, conn := range conns {
			rows, err := conn.Query(ctx, q, keys)
			if err != nil {
				return 0, err
			}
			m := map[string]string{}
			for rows.Next() {
				var id, row string
				if err := rows.Scan(&id, &row); err != nil {
					rows.Close()
					return 0, err
				}
				m[id] = row
			}
			rows.Close()
			sides[i] = m
		}
		var diff []string
		for k, v := range sides[0] {
			if sides[1][k] != v {
				diff = append(diff, k)
			}
		}
		for k := range sides[1] {
			if _, ok := sides[0][k]; !ok {
				diff = append(diff, k)
			}
		}
		sort.Strings(diff)
		differ = len(diff)
		sig := fmt.Sprintf("%d/%d/%s", len(sides[0]), len(sides[1]), strings.Join(diff, ","))
		if sig == last {
			if stable++; stable >= 3 {
				return differ, nil
			}
		} else {
			last, stable = sig, 0
		}
		time.Sleep(time.Second)
	}
	return differ, fmt.Errorf("the sides did not settle within %s (%d keys differ)", timeout, differ)
}

// cleanupTwoway stops a leftover two-way bgsync, tears it down and drops
// what teardown could not.
func (e *env) cleanupTwoway(ctx context.Context) []error {
	var errs []error
	var exists bool
	_ = e.adminBlue.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, twowayDB).Scan(&exists)
	if _, err := os.Stat(e.twowayConfig()); err == nil && exists {
		if out, err := e.bgsyncCmdWith(ctx, e.twowayConfig(), "teardown").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("bgsync teardown (two-way): %v: %s", err, strings.TrimSpace(string(out))))
		}
	}
	errs = append(errs, e.dropSideDBs(ctx, twowayDB)...)
	return append(errs, os.RemoveAll(e.stateDir+"-twoway"))
}

// dropSideDBs removes database db from both clusters, with the slots
// and replication origins bgsync named after it.
func (e *env) dropSideDBs(ctx context.Context, db string) []error {
	var errs []error
	errs = append(errs, dropSlot(ctx, e.adminBlue, db+"_blue")...)
	errs = append(errs, dropSlot(ctx, e.adminGreen, db+"_green")...)
	for _, c := range []*pgx.Conn{e.adminBlue, e.adminGreen} {
		if _, err := c.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE $1`,
			strings.ReplaceAll(db, "_", `\_`)+`\_%`); err != nil {
			errs = append(errs, fmt.Errorf("drop replication origins: %w", err))
		}
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", db, err))
		}
	}
	return errs
}
