package integration

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTargetRestart stops the green cluster for a few seconds in the
// middle of the stream and starts it again. bgsync must keep running
// (retrying), resume, and end with green equal to blue, nothing lost and
// nothing applied twice.
//
// It restarts a cluster every test uses: no test in this package runs in
// parallel.
func TestTargetRestart(t *testing.T) {
	requireIntegration(t)
	if os.Geteuid() != 0 {
		t.Skip("restarting the green cluster needs root (pg_ctlcluster)")
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		t.Skip("pg_ctlcluster not installed")
	}
	e := newSyncEnv(t, "target", false)
	e.setup()
	p := e.procs.startRun()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w := newWorkload(t, fullSize().scaled(0.25))
	w.Pace = 30 * time.Millisecond
	done := w.start(t, e.db.BlueDSN, w.steps())

	e.waitGreenTxns(3, time.Minute, p.checkRunning)
	stopped := false
	t.Cleanup(func() {
		if stopped {
			pgCtlGreen(t, "start")
		}
	})
	pgCtlGreen(t, "stop", "-m", "fast")
	stopped = true
	t.Logf("green stopped while the workload runs on blue")
	// The outage: green stays down for 3 s while blue keeps writing.
	outage := time.NewTimer(3 * time.Second)
	var wlErr error
	wlDone := false
	select {
	case <-outage.C:
	case wlErr = <-done:
		wlDone = true // finished first; the outage goes on
		t.Logf("note: the workload finished during the outage")
		<-outage.C
	}
	if err := p.checkRunning(); err != nil {
		t.Fatalf("bgsync gave up while green was down: %v", err)
	}
	pgCtlGreen(t, "start")
	stopped = false
	if err := waitConnectable(ctx, e.db.GreenDSN, time.Minute); err != nil {
		t.Fatal(err)
	}
	if !wlDone {
		wlErr = <-done
	}
	if wlErr != nil {
		t.Fatal(wlErr)
	}
	t.Logf("workload done: %d row changes in %d transactions", w.changes, w.txns)
	waitConverged(t, e.db, syncedTables, convergeTimeout, p.checkRunning)
	assertAppliedOnce(t, e.db, w.txns)
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}
