package integration

import (
	"context"
	"testing"
	"time"
)

// convergeTimeout bounds the wait for green to match blue.
const convergeTimeout = 3 * time.Minute

// TestSyncMixedWorkload runs the acceptance workload (≥ 200k row changes
// over several tables, every type and edge value, a 100k-row transaction,
// TOAST, primary-key updates, deletes, TRUNCATE) on blue while bgsync
// runs, then requires green to equal blue, every source transaction
// applied exactly once, a clean SIGTERM shutdown and progress logs. It
// runs under both replica identities; FULL with a smaller workload.
func TestSyncMixedWorkload(t *testing.T) {
	for _, tc := range []struct {
		name        string
		replicaFull bool
		scale       float64
	}{
		{"replica_identity_default", false, 1},
		{"replica_identity_full", true, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suffix := "default"
			if tc.replicaFull {
				suffix = "full"
			}
			e := newSyncEnv(t, "sync_"+suffix, tc.replicaFull)
			e.setup()
			p := e.procs.startRun()

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			w := newWorkload(t, fullSize().scaled(tc.scale))
			start := time.Now()
			w.runAll(t, ctx, e.db.BlueDSN)
			if tc.scale >= 1 && w.changes < 200_000 {
				t.Errorf("the full workload made only %d row changes, want ≥ 200000", w.changes)
			}
			if err := p.checkRunning(); err != nil {
				t.Fatal(err)
			}
			assertToasted(t, e.db.BlueDSN, "accounts")
			waitConverged(t, e.db, syncedTables, convergeTimeout, p.checkRunning)
			t.Logf("%d row changes synced %s after the workload started (%.0f changes/s end to end)",
				w.changes, time.Since(start).Round(time.Millisecond), float64(w.changes)/time.Since(start).Seconds())
			assertAppliedOnce(t, e.db, w.txns)

			if code := p.stop(30 * time.Second); code != 0 {
				t.Errorf("bgsync run exited %d after SIGTERM, want 0\n%s", code, tailLines(p.output(), 30))
			}
			if rows := assertProgressLogged(t, p.output()); rows <= 0 {
				t.Errorf("the last rows_applied logged is %v, want > 0", rows)
			} else {
				t.Logf("last rows_applied logged: %.0f", rows)
			}
		})
	}
}
