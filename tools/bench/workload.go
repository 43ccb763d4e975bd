package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The same deterministic data for every engine: ~150-byte rows.
const (
	schemaSQL = `CREATE TABLE bench (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL,
	c numeric(12,2) NOT NULL, d timestamptz NOT NULL);
CREATE TABLE lagprobe (id bigint PRIMARY KEY, sent timestamptz NOT NULL)`

	insertSQL = `INSERT INTO bench (id, a, b, c, d)
SELECT g, (g % 1000)::int, rpad(md5(g::text), 100, md5((g * 7)::text)),
       ((g * 37) % 10000000) / 100.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series($1::bigint, $2::bigint) g`

	updateSQL = `UPDATE bench SET a = a + 1, b = rpad(md5((id + a)::text), 100, 'u') WHERE id BETWEEN $1 AND $2`

	pollEvery = 100 * time.Millisecond
)

// freshDB drops and creates db on one cluster and creates the bench tables.
func freshDB(ctx context.Context, admin *pgx.Conn, c cluster, db string) error {
	return freshDBWith(ctx, admin, c, db, schemaSQL)
}

// freshDBWith drops and creates db on one cluster and runs ddl in it.
func freshDBWith(ctx context.Context, admin *pgx.Conn, c cluster, db, ddl string) error {
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", db)); err != nil {
		return fmt.Errorf("%s: drop database %s: %w", c.name, db, err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return fmt.Errorf("%s: create database %s: %w", c.name, db, err)
	}
	conn, err := c.connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("%s: create tables: %w", c.name, err)
	}
	return nil
}

// loadPhase runs phase "inserts" or "updates" on blue in txn-row
// transactions (one autocommit statement each) and returns its duration.
func loadPhase(ctx context.Context, blue *pgx.Conn, phase string, rows, txn int) (time.Duration, error) {
	sql := insertSQL
	if phase == "updates" {
		sql = updateSQL
	}
	return loadRange(ctx, blue, phase, sql, rows, txn)
}

// loadRange runs sql, whose $1 and $2 are the first and last id of a
// transaction, over ids 1..rows in txn-row transactions (one autocommit
// statement each) on blue and returns its duration.
func loadRange(ctx context.Context, blue *pgx.Conn, phase, sql string, rows, txn int) (time.Duration, error) {
	start := time.Now()
	for lo := 1; lo <= rows; lo += txn {
		hi := min(lo+txn-1, rows)
		if _, err := blue.Exec(ctx, sql, lo, hi); err != nil {
			return 0, fmt.Errorf("blue: %s %d..%d: %w", phase, lo, hi, err)
		}
	}
	return time.Since(start), nil
}

// settle makes the phases comparable between engines: vacuum and
// checkpoint both sides, so no engine pays for the previous phase's dirt.
func settle(ctx context.Context, blue, green *pgx.Conn) error {
	return settleTables(ctx, blue, green, "bench", "bench")
}

// settleTables is settle for a table of another name on each side.
func settleTables(ctx context.Context, blue, green *pgx.Conn, blueTable, greenTable string) error {
	for _, s := range []struct {
		c     *pgx.Conn
		table string
	}{{blue, blueTable}, {green, greenTable}} {
		for _, sql := range []string{"VACUUM (ANALYZE) " + pgx.Identifier{s.table}.Sanitize(), "CHECKPOINT"} {
			if _, err := s.c.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
	}
	return nil
}

// expected is what green must show once a phase has been applied.
type expected struct {
	phase        string
	table        string // on green; "" is bench
	rows         int64
	firstA, endA int32 // updates: a at id 1 and id rows on blue
	sumA         int64 // updates: sum(a) on blue
}

// greenTable is the quoted name of the table polled on green.
func (x expected) greenTable() string {
	if x.table == "" {
		return "bench"
	}
	return pgx.Identifier{x.table}.Sanitize()
}

func expect(ctx context.Context, blue *pgx.Conn, phase string, rows int) (expected, error) {
	x := expected{phase: phase, rows: int64(rows)}
	if phase == "inserts" {
		return x, nil
	}
	err := blue.QueryRow(ctx, `SELECT (SELECT a FROM bench WHERE id = 1), (SELECT a FROM bench WHERE id = $1), (SELECT sum(a) FROM bench)`,
		rows).Scan(&x.firstA, &x.endA, &x.sumA)
	return x, err
}

// drained is the result of waiting for green.
type drained struct {
	first time.Duration // start → first change of the phase visible on green
	done  time.Duration // start → the whole phase visible on green
	odd   string        // e.g. the last row arrived before earlier ones
}

// waitCaughtUp polls green every 100 ms on its own connection. The cheap
// test (an index probe on the last row of the phase, which both engines
// apply last since they apply in commit order) is confirmed by the full
// test (count(*) = N for inserts, sum(a) equal to blue's for updates); if
// the full test fails the poll goes on with it. alive reports an engine
// that died. If green goes away (restarted by someone else), the poll
// reconnects and the result says so.
func waitCaughtUp(ctx context.Context, green cluster, db string, x expected, start time.Time, timeout time.Duration, alive func() error) (drained, error) {
	var d drained
	conn, err := green.connect(ctx, db)
	if err != nil {
		return d, err
	}
	defer func() { conn.Close(context.Background()) }()
	lastDone := false
	for {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		if alive != nil {
			if err := alive(); err != nil {
				return d, err
			}
		}
		now := time.Since(start)
		if now > timeout {
			return d, fmt.Errorf("green not caught up after %s (first change seen after %.1f s)", timeout.Round(time.Second), d.first.Seconds())
		}
		firstSeen, lastSeen, err := pollOnce(ctx, conn, x)
		if err == nil && (lastSeen || lastDone) {
			var ok bool
			if ok, err = fullCheck(ctx, conn, x); err == nil {
				if ok {
					if lastDone && d.odd == "" {
						d.odd = "the last row was on green before the whole phase was"
					}
					d.done = now
					return d, nil
				}
				lastDone = true
			}
		}
		if err != nil {
			if !lostConnection(conn, err) {
				return d, fmt.Errorf("green: poll: %w", err)
			}
			d.odd = fmt.Sprintf("green went away %.1f s into the drain (%v); the figure includes the engine's recovery", now.Seconds(), err)
			logf("green connection lost (%v); reconnecting", err)
			conn.Close(context.Background())
			if conn, err = connectRetry(ctx, green, db, 90*time.Second); err != nil {
				return d, err
			}
			continue
		}
		if firstSeen && d.first == 0 {
			d.first = now
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery - time.Since(start.Add(now))):
		}
	}
}

func pollOnce(ctx context.Context, conn *pgx.Conn, x expected) (firstSeen, lastSeen bool, err error) {
	if x.phase == "inserts" {
		var maxID int64
		err = conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM `+x.greenTable()).Scan(&maxID)
		return maxID > 0, maxID >= x.rows, err
	}
	var a1, an *int32
	err = conn.QueryRow(ctx, `SELECT (SELECT a FROM `+x.greenTable()+` WHERE id = 1), (SELECT a FROM `+x.greenTable()+` WHERE id = $1)`, x.rows).Scan(&a1, &an)
	return a1 != nil && *a1 == x.firstA, an != nil && *an == x.endA, err
}

// lostConnection tells a server gone away (shutdown, restart, terminated
// backend: SQLSTATE class 57) from an error in the query.
func lostConnection(conn *pgx.Conn, err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57")
	}
	return conn.IsClosed() || pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// connectRetry connects, retrying while the cluster restarts.
func connectRetry(ctx context.Context, c cluster, db string, timeout time.Duration) (*pgx.Conn, error) {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := c.connect(ctx, db)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return conn, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func fullCheck(ctx context.Context, green *pgx.Conn, x expected) (bool, error) {
	var got int64
	sql := `SELECT count(*) FROM ` + x.greenTable()
	want := x.rows
	if x.phase == "updates" {
		sql, want = `SELECT coalesce(sum(a), 0) FROM `+x.greenTable(), x.sumA
	}
	if err := green.QueryRow(ctx, sql).Scan(&got); err != nil {
		return false, fmt.Errorf("green: %s: %w", sql, err)
	}
	return got == want, nil
}

// liveResult is the outcome of the live phase.
type liveResult struct {
	ran        bool
	seconds    float64
	rowsPerSec float64 // achieved update rate on blue
	probes     int
	p50, p99   time.Duration // independent probe lag
	max        time.Duration
	err        error
}

// runLive keeps a steady update workload on blue (o.liveRate rows/s in
// o.liveTxnRows-row transactions) and, on its own connection, inserts a
// lagprobe row with sent = clock_timestamp() every o.probeEvery. A third
// connection polls green every 10 ms; a probe's lag is the start of the
// poll that first saw it minus sent (same host, same clock; resolution
// 10 ms, read as an upper bound). After the workload stops it waits for the
// last probe, which commits after every update.
func runLive(ctx context.Context, e *env, db string) liveResult {
	r := liveResult{ran: true}
	var conns [3]*pgx.Conn
	for i, c := range []cluster{e.blue, e.blue, e.green} {
		conn, err := c.connect(ctx, db)
		if err != nil {
			r.err = err
			return r
		}
		defer conn.Close(context.Background())
		conns[i] = conn
	}
	upd, prb, grn := conns[0], conns[1], conns[2]

	// Warm up: one probe end to end, so the engine is known to be flowing.
	if _, err := prb.Exec(ctx, `INSERT INTO lagprobe VALUES (0, clock_timestamp())`); err != nil {
		r.err = fmt.Errorf("blue: probe: %w", err)
		return r
	}
	if err := waitProbe(ctx, grn, 0, 90*time.Second); err != nil {
		r.err = fmt.Errorf("warm-up probe: %w", err)
		return r
	}

	wctx, cancel := context.WithTimeout(ctx, e.o.live)
	defer cancel()
	var wg sync.WaitGroup
	var updErr, prbErr error
	var rowsUpdated int64
	sent := 0
	start := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		every := time.Duration(float64(time.Second) * float64(e.o.liveTxnRows) / float64(e.o.liveRate))
		t := time.NewTicker(every)
		defer t.Stop()
		lo := 1
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			hi := min(lo+e.o.liveTxnRows-1, e.o.rows)
			tag, err := upd.Exec(ctx, updateSQL, lo, hi)
			if err != nil {
				updErr = err
				return
			}
			rowsUpdated += tag.RowsAffected()
			if lo = hi + 1; lo > e.o.rows {
				lo = 1
			}
		}
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(e.o.probeEvery)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			if _, err := prb.Exec(ctx, `INSERT INTO lagprobe VALUES ($1, clock_timestamp())`, sent+1); err != nil {
				prbErr = err
				return
			}
			sent++
		}
	}()

	lags := make([]time.Duration, 0, int(e.o.live/e.o.probeEvery)+10)
	var seen int64
	var pollErr error
	writersDone := false
	for pollErr == nil {
		polled := time.Now()
		rows, err := grn.Query(ctx, `SELECT id, extract(epoch FROM $2::timestamptz - sent) FROM lagprobe WHERE id > $1 ORDER BY id`, seen, polled)
		if err != nil {
			pollErr = err
			break
		}
		for rows.Next() {
			var id int64
			var secs float64
			if err := rows.Scan(&id, &secs); err != nil {
				pollErr = err
				break
			}
			seen = id
			lags = append(lags, time.Duration(secs*float64(time.Second)))
		}
		rows.Close()
		if pollErr == nil {
			pollErr = rows.Err()
		}
		if wctx.Err() != nil {
			if !writersDone {
				wg.Wait() // sent is final from here on
				writersDone = true
			}
			if seen >= int64(sent) {
				break
			}
			if time.Since(start) > e.o.live+90*time.Second {
				pollErr = fmt.Errorf("%d of %d probes arrived within 90 s after the workload", seen, sent)
			}
		}
		if ctx.Err() != nil {
			pollErr = ctx.Err()
		}
		time.Sleep(10*time.Millisecond - time.Since(polled))
	}
	cancel()
	if !writersDone {
		wg.Wait()
	}
	r.seconds = e.o.live.Seconds()
	r.rowsPerSec = float64(rowsUpdated) / r.seconds
	r.probes = len(lags)
	r.err = errors.Join(updErr, prbErr, pollErr)
	if n := len(lags); n > 0 {
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		r.p50, r.p99, r.max = lags[n*50/100], lags[min(n-1, n*99/100)], lags[n-1]
	}
	return r
}

func waitProbe(ctx context.Context, green *pgx.Conn, id int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var ok bool
		if err := green.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lagprobe WHERE id = $1)`, id).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("probe %d not on green after %s", id, timeout)
}
