package integration

import (
	"context"
	"testing"
	"time"
)

// TestCrashRecovery SIGKILLs the real `bgsync run` process at random
// moments (at least five, seeded from the workload's seed) while the
// acceptance workload runs and while bgsync catches up, restarting it
// each time. Green must end equal to blue with every source transaction
// applied exactly once.
func TestCrashRecovery(t *testing.T) {
	const minKills, maxKills = 5, 10
	e := newSyncEnv(t, "crash", false)
	e.setup()
	cur := e.procs.startRun()

	w := newWorkload(t, fullSize())
	w.Pace = 20 * time.Millisecond // spread the workload so the kills land inside it
	start := time.Now()
	done := w.start(t, e.db.BlueDSN, w.steps())

	kr := newRand(w.seed ^ 0x6b696c6c)
	kills, workloadDone := 0, false
	workloadFinished := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
		workloadDone = true
		t.Logf("workload done after %s: %d row changes in %d transactions", time.Since(start).Round(time.Millisecond), w.changes, w.txns)
	}
	for !workloadDone || kills < minKills {
		if kills >= maxKills { // enough: let the workload finish
			workloadFinished(<-done)
			break
		}
		// Odd-numbered kills come at a random moment after the restart
		// (start-up, catching up); even-numbered ones at a random moment
		// after the new process has applied something (live streaming).
		if kills%2 == 1 {
			if err, finished := waitProgress(e, cur, done, 30*time.Second); finished {
				workloadFinished(err)
			}
		}
		delay := 500*time.Millisecond + time.Duration(kr.Int64N(int64(3500*time.Millisecond)))
		timer := time.NewTimer(delay)
		select {
		case err := <-done:
			timer.Stop()
			workloadFinished(err)
			continue
		case <-timer.C:
		}
		if err := cur.checkRunning(); err != nil {
			t.Fatal(err)
		}
		life := time.Since(cur.start)
		cur.kill()
		kills++
		t.Logf("SIGKILL #%d of %s at +%s (%s after its start; workload running: %v); %s",
			kills, cur.label, time.Since(start).Round(time.Millisecond), life.Round(time.Millisecond), !workloadDone, e.appliedSoFar())
		cur = e.procs.startRun()
	}
	if w.changes < 200_000 && fullSize().scaled(1) == fullSize() {
		t.Errorf("the workload made only %d row changes, want ≥ 200000", w.changes)
	}
	waitConverged(t, e.db, syncedTables, convergeTimeout, cur.checkRunning)
	assertAppliedOnce(t, e.db, w.txns)
	if code := cur.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	t.Logf("%d SIGKILLs; converged %s after the workload started", kills, time.Since(start).Round(time.Millisecond))
}

// waitProgress waits until green has applied a workload transaction more
// than when it was called, or has applied everything blue has, or timeout
// passed. If the workload finishes meanwhile it returns its result and
// finished = true.
func waitProgress(e *syncEnv, p *proc, done <-chan error, timeout time.Duration) (err error, finished bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	base, _ := e.greenTxns(ctx)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err, true
		case <-ctx.Done():
			return nil, false
		case <-tick.C:
		}
		if err := p.checkRunning(); err != nil {
			e.t.Fatal(err)
		}
		g, gerr := e.greenTxns(ctx)
		b, berr := queryInt(ctx, e.db.BlueDSN, `SELECT count(*) FROM txlog`)
		if gerr == nil && berr == nil && (g > base || g == b) {
			return nil, false
		}
	}
}
