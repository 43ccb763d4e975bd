package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// syncEnv is one test's complete setting: its databases with the test
// schema, a bgsync config for them, and its bgsync processes.
type syncEnv struct {
	t        *testing.T
	db       *testDB
	cfg      itConfig
	cfgPath  string
	stateDir string
	procs    *procSet
}

// newSyncEnv prepares databases it_<name> with the test schema (replica
// identity FULL if asked) and a config syncing every test table.
func newSyncEnv(t *testing.T, name string, replicaFull bool) *syncEnv {
	t.Helper()
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, name)
	createSchema(t, db, replicaFull)
	stateDir := filepath.Join(t.TempDir(), "state")
	cfg := itConfig{
		Name:     db.Name,
		StateDir: stateDir,
		BlueDSN:  db.BlueDSN,
		GreenDSN: db.GreenDSN,
		Tables:   tableNames(syncedTables),
	}
	path := writeFile(t, "bgsync.yaml", cfg.render())
	return &syncEnv{t: t, db: db, cfg: cfg, cfgPath: path, stateDir: stateDir, procs: newProcSet(t, path)}
}

// slotName is the slot bgsync reads on blue.
func (e *syncEnv) slotName() string { return e.cfg.Name + "_blue" }

// setup runs `bgsync setup` and checks that it created the slot.
func (e *syncEnv) setup() {
	e.t.Helper()
	r := runBgsync(e.t, 2*time.Minute, "setup", "--config", e.cfgPath)
	if r.Code != 0 {
		e.t.Fatalf("bgsync setup failed:\n%s", r)
	}
	if slots := slotsNamed(e.t, e.cfg.Name); len(slots) == 0 {
		e.t.Fatalf("bgsync setup exited 0 but created no replication slot named %s* on blue", e.cfg.Name)
	}
}

// kafkaDir is where the embedded broker keeps its data.
func (e *syncEnv) kafkaDir() string { return filepath.Join(e.stateDir, "kafka") }

// greenTxns is the number of workload transactions green has applied.
func (e *syncEnv) greenTxns(ctx context.Context) (int64, error) {
	return queryInt(ctx, e.db.GreenDSN, `SELECT count(*) FROM txlog`)
}

// waitGreenTxns polls until green has applied at least n workload
// transactions; alive ends the wait early with its error.
func (e *syncEnv) waitGreenTxns(n int64, timeout time.Duration, alive func() error) {
	e.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		if err := alive(); err != nil {
			e.t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := e.greenTxns(ctx)
		cancel()
		if err == nil && got >= n {
			e.t.Logf("green has applied %d workload transactions (after %s)", got, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-deadline.C:
			e.t.Fatalf("green applied fewer than %d workload transactions within %s (last count: %d, error: %v)", n, timeout, got, err)
		case <-tick.C:
		}
	}
}

// appliedSoFar describes how far green is behind blue.
func (e *syncEnv) appliedSoFar() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, berr := queryInt(ctx, e.db.BlueDSN, `SELECT count(*) FROM txlog`)
	g, gerr := e.greenTxns(ctx)
	if berr != nil || gerr != nil {
		return fmt.Sprintf("unknown (%v, %v)", berr, gerr)
	}
	return fmt.Sprintf("green has applied %d of blue's %d transactions", g, b)
}

// removeKafkaData deletes the embedded broker's data dir, which must
// exist and hold something (otherwise the test would prove nothing).
func (e *syncEnv) removeKafkaData() {
	e.t.Helper()
	dir := e.kafkaDir()
	var files int
	var bytes int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files++
			bytes += fi.Size()
		}
		return err
	})
	if err != nil || files == 0 {
		e.t.Fatalf("embedded broker data dir %s missing or empty (%d files, err %v): expected <state_dir>/kafka", dir, files, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("deleted the embedded broker's data: %s (%d files, %d bytes)", dir, files, bytes)
}
