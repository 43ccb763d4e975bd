package integration

import (
	"context"
	"testing"
	"time"
)

// TestBrokerDataLoss deletes the embedded broker's data dir while bgsync
// is stopped — once after a SIGKILL in the middle of applying a large
// transaction, once after a clean SIGTERM — with more workload committed
// on blue while bgsync is down. Nothing may be lost or applied twice: the
// slot still holds everything green has not applied.
func TestBrokerDataLoss(t *testing.T) {
	e := newSyncEnv(t, "broker", false)
	e.setup()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w := newWorkload(t, fullSize().scaled(0.1))
	steps := w.steps()
	conn := mustConnect(t, e.db.BlueDSN)
	run := func(from, to int) {
		t.Helper()
		if err := w.run(ctx, conn, steps[from:to]); err != nil {
			t.Fatal(err)
		}
	}

	// Round 1: kill while the big transaction is in flight.
	p1 := e.procs.startRun()
	run(0, 2)
	e.waitGreenTxns(1, time.Minute, p1.checkRunning)
	run(2, 3) // the big transaction
	p1.kill()
	t.Logf("killed %s right after the big transaction committed; %s", p1.label, e.appliedSoFar())
	e.removeKafkaData()
	run(3, 6)
	p2 := e.procs.startRun()
	waitConverged(t, e.db, syncedTables, convergeTimeout, p2.checkRunning)
	assertAppliedOnce(t, e.db, w.txns)

	// Round 2: clean stop, lose the broker's data, write, restart.
	if code := p2.stop(30 * time.Second); code != 0 {
		t.Fatalf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	e.removeKafkaData()
	run(6, len(steps))
	p3 := e.procs.startRun()
	waitConverged(t, e.db, syncedTables, convergeTimeout, p3.checkRunning)
	assertAppliedOnce(t, e.db, w.txns)
	if code := p3.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}
