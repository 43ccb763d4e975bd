package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// snapshotRows is how many rows blue holds before a copy starts
// (BGSYNC_IT_SNAPSHOT_ROWS; the acceptance run used 5,000,000).
func snapshotRows(t *testing.T, def int) int {
	if v := os.Getenv("BGSYNC_IT_SNAPSHOT_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BGSYNC_IT_SNAPSHOT_ROWS=%q: want a positive count", v)
		}
		return n
	}
	return def
}

// seedBlue commits rows items on blue (in transactions of 20,000, each
// with its txlog row) before bgsync has set anything up: the years of data
// a real blue holds when the deploy window opens.
func seedBlue(t *testing.T, e *binlogEnv, w *binlogWorkload, rows int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	for done := 0; done < rows; done += 20_000 {
		if err := e.blue.tx(ctx, w.bulk(e.blue.engine, min(20_000, rows-done))...); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("blue seeded with %d items in %s", rows, time.Since(start).Round(time.Millisecond))
}

// TestSnapshotLive starts a direction on a blue that already holds rows,
// with a workload writing to blue the whole time: run (initial_load:
// auto) copies blue into the empty green, then streams from where the
// copy ended. The sides must end equal, and every blue transaction (the
// seeded ones, those committed during the copy and those after it) must
// reach green exactly once: copied, or streamed, never both.
//
// Both ways (pg_pg_both), the copy's writes into green must not come back
// to blue: blue's own transactions are in its applied_log once each, and
// blue logs no conflict.
func TestSnapshotLive(t *testing.T) {
	for _, c := range []struct {
		p    enginePair
		dirs string
	}{{pairPG, "blue-to-green"}, {pairMyPG, "blue-to-green"}, {pairPG, "both"}} {
		name := c.p.name
		if c.dirs == "both" {
			name += "_both"
		}
		t.Run(name, func(t *testing.T) { testSnapshotLive(t, name, c.p, c.dirs) })
	}
}

func testSnapshotLive(t *testing.T, name string, p enginePair, dirs string) {
	rows := snapshotRows(t, 100_000)
	snap := "{initial_load: auto, chunk_rows: 10000, workers: 4}"
	if os.Getenv("BGSYNC_IT_SNAPSHOT_ROWS") == "" {
		// Slow enough that the workload writes during the copy, and
		// that run logs its progress.
		snap = "{initial_load: auto, chunk_rows: 10000, workers: 4, max_rows_per_second: 40000}"
	}
	e := newPairEnv(t, "sl_"+name, p, itemsDDL, itConfig{Snapshot: snap, Directions: dirs}, "items", "txlog")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	w := newBinlogWorkload(seed, "blue", 1, 0)
	seedBlue(t, e, w, rows)
	e.setup()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	wrote := make(chan error, 1)
	var committed atomic.Int64 // w is the writer's alone until it stops
	go func() {                // the application keeps writing to blue
		for {
			select {
			case <-stop:
				wrote <- nil
				return
			default:
			}
			if err := w.run(ctx, e.blue, 1, 5*time.Millisecond); err != nil {
				wrote <- err
				return
			}
			committed.Add(1)
		}
	}()
	start := time.Now()
	run := e.procs.startRun("--progress", "1s")
	var sawStatus, sawMetric bool
	waitFor(t, 30*time.Minute, "the initial copy to finish", func() bool {
		if err := run.checkRunning(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(run.output(), `"snapshot: done"`) {
			return true
		}
		// While it copies: /v1/status shows the copy, /metrics says so.
		if b, err := run.httpGet("/v1/status"); err == nil && strings.Contains(string(b), `"snapshot"`) && strings.Contains(string(b), `"rows_copied"`) {
			sawStatus = true
		}
		if b, err := run.httpGet("/metrics"); err == nil && strings.Contains(string(b), `bgsync_snapshot_running{direction="blue-to-green"} 1`) &&
			strings.Contains(string(b), "bgsync_snapshot_rows_total{") {
			sawMetric = true
		}
		return false
	})
	if !sawStatus || !sawMetric {
		t.Errorf("during the copy: /v1/status showed it %v, /metrics had bgsync_snapshot_running 1 and bgsync_snapshot_rows_total %v; want both", sawStatus, sawMetric)
	}
	copied := time.Since(start)
	duringCopy := committed.Load() // seeded transactions not counted
	time.Sleep(2 * time.Second)    // and some streaming
	close(stop)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if rows <= 200_000 {
		waitItemsEqual(t, e.blue, e.green, 5*time.Minute, run.checkRunning)
		all, _ := itemsText(ctx, e.blue)
		t.Logf("copy of %d seeded rows took %s; %d blue transactions during it, %d in all; items equal: %d rows",
			rows, copied.Round(time.Millisecond), duringCopy, w.txns, len(all))
	} else {
		// Millions of rows: bgsync verify compares them (chunk hashes, by
		// canonical value across engines) once the stream has drained.
		var last result
		waitFor(t, 15*time.Minute, "bgsync verify to find blue and green equal", func() bool {
			if err := run.checkRunning(); err != nil {
				t.Fatal(err)
			}
			last = runBgsync(t, 10*time.Minute, "verify", "--config", e.cfgPath)
			return last.Code == 0
		})
		t.Logf("copy of %d seeded rows took %s; %d blue transactions during it, %d in all; bgsync verify: %s",
			rows, copied.Round(time.Millisecond), duringCopy, w.txns, strings.TrimSpace(tailLines(last.Stdout, 6)))
	}
	assertAppliedOnceOn(t, e.green, "blue", w.txns)
	assertPositionText(t, e, e.green, "blue-to-green", p.blue)
	if dirs == "both" {
		time.Sleep(2 * time.Second) // time for an echo to arrive, if there were one
		assertAppliedOnceOn(t, e.blue, "blue", w.txns)
		if n, err := e.blue.count(ctx, "SELECT count(*) FROM "+e.cfg.Name+".conflicts"); err != nil || n != 0 {
			t.Errorf("blue logged %d conflicts (%v): the copy came back from green", n, err)
		}
	}
	out := run.output()
	if !strings.Contains(out, `"snapshot progress"`) {
		t.Errorf("run logged no snapshot progress line:\n%s", tailLines(out, 20))
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0\n%s", code, tailLines(run.output(), 30))
	}
}

// TestSnapshotKill kills bgsync snapshot (SIGKILL) in the middle of the
// copy while blue takes writes, and runs it again: the ranges done before
// the kill are not copied again (their copied_at is unchanged, the copy's
// starts counter says 2), the rest are, and after run has streamed the
// sides are equal with every blue transaction on green.
func TestSnapshotKill(t *testing.T) {
	for _, p := range []enginePair{pairPG, pairMyPG} {
		t.Run(p.name, func(t *testing.T) { testSnapshotKill(t, p) })
	}
}

func testSnapshotKill(t *testing.T, p enginePair) {
	e := newPairEnv(t, "sk_"+p.name, p, itemsDDL, itConfig{
		Snapshot: "{chunk_rows: 5000, workers: 2, max_rows_per_second: 40000}",
	}, "items", "txlog")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	w := newBinlogWorkload(seed, "blue", 1, 0)
	seedBlue(t, e, w, 100_000)
	e.setup()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	chunks := func() map[string]string {
		r, err := e.green.rows(ctx, "SELECT table_name || '#' || chunk, copied_at::text FROM "+e.cfg.Name+".snapshot_chunks WHERE done")
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, row := range r {
			out[row[0]] = row[1]
		}
		return out
	}
	snap := e.procs.start("snapshot", "--progress", "250ms")
	var before map[string]string
	waitFor(t, 3*time.Minute, "ten ranges copied", func() bool {
		if snap.exited() {
			t.Fatalf("bgsync snapshot ended before it could be killed: %s\n%s", snap.describe(), tailLines(snap.output(), 20))
		}
		before = chunks()
		return len(before) >= 10
	})
	snap.kill()
	before = chunks() // what was committed when it died
	if out := snap.output(); !strings.Contains(out, "rows/s") || !strings.Contains(out, "ranges") {
		t.Errorf("bgsync snapshot printed no progress line (rows, rows/s, ranges) before it was killed:\n%s", tailLines(out, 10))
	}
	if err := w.run(ctx, e.blue, 100, 0); err != nil {
		t.Fatal(err)
	}
	r := runBgsync(t, 5*time.Minute, "snapshot", "--config", e.cfgPath, "--max-rows-per-second", "0")
	if r.Code != 0 {
		t.Fatalf("bgsync snapshot (resumed) exited %d:\n%s", r.Code, r)
	}
	t.Logf("resumed snapshot: %s", strings.TrimSpace(r.Stdout))
	after := chunks()
	for k, at := range before {
		if after[k] != at {
			t.Errorf("range %s was copied again after the restart: copied_at %s, then %s", k, at, after[k])
		}
	}
	starts, err := e.green.rows(ctx, "SELECT starts FROM "+e.cfg.Name+".snapshots")
	if err != nil || len(starts) != 1 || starts[0][0] != "2" {
		t.Errorf("snapshots.starts = %v (%v), want 2", starts, err)
	}
	if !strings.Contains(r.Stdout, fmt.Sprintf("%d ranges were done and not copied again", len(before))) {
		t.Errorf("the resumed snapshot does not report the %d ranges it kept:\n%s", len(before), r.Stdout)
	}
	t.Logf("killed with %d ranges done; %d ranges in all after the restart", len(before), len(after))
	run := e.procs.startRun()
	if err := w.run(ctx, e.blue, 100, 0); err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, e.blue, e.green, 5*time.Minute, run.checkRunning)
	// Between the two snapshots' positions changes are applied
	// idempotently (the source's row wins): a txlog row copied by the
	// second snapshot and streamed too is re-written, not duplicated.
	got, err := e.green.rows(ctx, "SELECT count(DISTINCT txn), sum(CASE WHEN op = 'INSERT' THEN 1 ELSE 0 END) FROM applied_log WHERE side = 'blue'")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("green applied_log: %s distinct blue transactions, %s inserted (of %d)", got[0][0], got[0][1], w.txns)
	if got[0][0] != fmt.Sprint(w.txns) {
		t.Errorf("green holds %s of blue's %d transactions", got[0][0], w.txns)
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM", code)
	}
}

// TestSnapshotTargetNotEmpty: green already holds rows of items. By
// default the copy refuses, naming the table, and copies nothing; with
// truncate green ends equal to blue; with merge (blue-wins) blue's rows
// win where both have a key, green's own rows stay, and each differing
// row is logged as a conflict.
func TestSnapshotTargetNotEmpty(t *testing.T) {
	e := newPairEnv(t, "sn", pairPG, itemsDDL, itConfig{Policy: "blue-wins", Snapshot: "{chunk_rows: 1000}"}, "items", "txlog")
	w := newBinlogWorkload(1, "blue", 1, 0)
	seedBlue(t, e, w, 5_000)
	e.setup()
	ctx := context.Background()
	plant := func() {
		t.Helper()
		e.green.mustExec(t,
			"INSERT INTO items (id, qty, note) VALUES (1, 1, 'green''s own version of 1'), (2, 2, 'green''s own version of 2'), (900000, 9, 'only on green')")
	}
	plant()
	r := runBgsync(t, 2*time.Minute, "snapshot", "--config", e.cfgPath)
	if r.Code != 2 || !strings.Contains(r.Stderr, e.green.table("items")) || !strings.Contains(r.Stderr, "already hold rows") {
		t.Fatalf("snapshot into a non-empty green: exit %d, want 2 naming %s:\n%s", r.Code, e.green.table("items"), r)
	}
	if n, _ := e.green.count(ctx, "SELECT count(*) FROM items"); n != 3 {
		t.Fatalf("the refused copy changed green: %d items, want the 3 planted", n)
	}
	t.Logf("refused: %s", strings.TrimSpace(r.Stderr))

	r = runBgsync(t, 2*time.Minute, "snapshot", "--config", e.cfgPath, "--target-not-empty", "merge")
	if r.Code != 0 {
		t.Fatalf("snapshot --target-not-empty merge: exit %d\n%s", r.Code, r)
	}
	b, _ := e.blue.count(ctx, "SELECT count(*) FROM items")
	g, _ := e.green.count(ctx, "SELECT count(*) FROM items")
	if g != b+1 {
		t.Errorf("after merge green holds %d items, want blue's %d and its own one", g, b)
	}
	for _, id := range []string{"1", "2"} {
		bt, _ := e.blue.rows(ctx, "SELECT note FROM items WHERE id = "+id)
		gt, _ := e.green.rows(ctx, "SELECT note FROM items WHERE id = "+id)
		if fmt.Sprint(bt) != fmt.Sprint(gt) {
			t.Errorf("item %s after merge under blue-wins: green %v, blue %v", id, gt, bt)
		}
	}
	conf, _ := e.green.rows(ctx, "SELECT key::text, kind, resolution FROM "+e.cfg.Name+".conflicts ORDER BY key::text")
	if len(conf) != 2 || conf[0][1] != "insert_exists" || conf[0][2] != "incoming_wins" {
		t.Errorf("merge logged conflicts %v, want items 1 and 2 as insert_exists / incoming_wins", conf)
	}

	// merge under manual: green keeps its rows, each difference waits
	// for a person as an unresolved conflict.
	e = newPairEnv(t, "sn_m", pairPG, itemsDDL, itConfig{Policy: "manual", Snapshot: "{chunk_rows: 1000, target_not_empty: merge}"}, "items", "txlog")
	seedBlue(t, e, newBinlogWorkload(3, "blue", 1, 0), 5_000)
	e.setup()
	plant()
	if r := runBgsync(t, 2*time.Minute, "snapshot", "--config", e.cfgPath); r.Code != 0 {
		t.Fatalf("snapshot (target_not_empty: merge, manual): exit %d\n%s", r.Code, r)
	}
	kept, _ := e.green.rows(ctx, "SELECT note FROM items WHERE id IN (1, 2) ORDER BY id")
	if fmt.Sprint(kept) != "[[green's own version of 1] [green's own version of 2]]" {
		t.Errorf("merge under manual changed green's rows: %v", kept)
	}
	conf, _ = e.green.rows(ctx, "SELECT count(*) FROM "+e.cfg.Name+".conflicts WHERE NOT resolved AND resolution = 'unresolved'")
	if len(conf) != 1 || conf[0][0] != "2" {
		t.Errorf("merge under manual: unresolved conflicts %v, want 2", conf)
	}

	// truncate, on a fresh pair with the same green rows planted.
	e = newPairEnv(t, "sn_t", pairPG, itemsDDL, itConfig{Snapshot: "{chunk_rows: 1000}"}, "items", "txlog")
	seedBlue(t, e, newBinlogWorkload(2, "blue", 1, 0), 5_000)
	e.setup()
	plant()
	r = runBgsync(t, 2*time.Minute, "snapshot", "--config", e.cfgPath, "--target-not-empty", "truncate")
	if r.Code != 0 {
		t.Fatalf("snapshot --target-not-empty truncate: exit %d\n%s", r.Code, r)
	}
	if diff, err := itemsDiff(ctx, e.blue, e.green); err != nil || diff != "" {
		t.Errorf("after truncate the sides differ: %s %v", diff, err)
	}
}
