package integration

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestTeardown: after setup, a run and a stop, `bgsync teardown` removes
// the slot, the publication, bgsync's schema on green and its replication
// origins, and leaves every user table and row as it was.
func TestTeardown(t *testing.T) {
	e := newSyncEnv(t, "teardown", false)
	greenBefore := schemasOf(t, e.db.GreenDSN)
	blueBefore := schemasOf(t, e.db.BlueDSN)
	originsBefore := origins(t, greenAdminDSN)
	e.setup()
	greenSetup := schemasOf(t, e.db.GreenDSN)
	if len(greenSetup) <= len(greenBefore) {
		t.Errorf("setup created no schema of bgsync's own on green (schemas: %v)", greenSetup)
	}
	if pubs := publications(t, e.db.BlueDSN); len(pubs) == 0 {
		t.Errorf("setup created no publication on blue")
	}

	p := e.procs.startRun()
	w := newWorkload(t, fullSize().scaled(0.02))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w.runAll(t, ctx, e.db.BlueDSN)
	waitConverged(t, e.db, syncedTables, convergeTimeout, p.checkRunning)
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	userTables := append(slices.Clone(syncedTables), tableSpec{Name: "public.applied_log", PK: []string{"seq"}})
	before, err := compareOnce(ctx, e.db.BlueDSN, e.db.GreenDSN, syncedTables)
	if err != nil {
		t.Fatal(err)
	}
	logBefore, err := summarizeOne(ctx, e.db.GreenDSN, userTables[len(userTables)-1])
	if err != nil {
		t.Fatal(err)
	}

	r := runBgsync(t, 2*time.Minute, "teardown", "--config", e.cfgPath)
	if r.Code != 0 {
		t.Fatalf("bgsync teardown failed:\n%s", r)
	}
	if slots := slotsNamed(t, e.cfg.Name); len(slots) > 0 {
		t.Errorf("teardown left replication slots: %v", slots)
	}
	if pubs := publications(t, e.db.BlueDSN); len(pubs) > 0 {
		t.Errorf("teardown left publications on blue: %v", pubs)
	}
	if after := schemasOf(t, e.db.GreenDSN); !slices.Equal(after, greenBefore) {
		t.Errorf("green's schemas after teardown = %v, want those before setup %v", after, greenBefore)
	}
	if after := schemasOf(t, e.db.BlueDSN); !slices.Equal(after, blueBefore) {
		t.Errorf("blue's schemas after teardown = %v, want those before setup %v", after, blueBefore)
	}
	if after := origins(t, greenAdminDSN); !slices.Equal(after, originsBefore) {
		t.Errorf("green's replication origins after teardown = %v, want those before setup %v", after, originsBefore)
	}
	after, err := compareOnce(ctx, e.db.BlueDSN, e.db.GreenDSN, syncedTables)
	if err != nil {
		t.Fatalf("user tables after teardown: %v", err)
	}
	for i := range after {
		if after[i].Blue != before[i].Blue || after[i].Green != before[i].Green {
			t.Errorf("teardown changed user data:\n  before %s\n  after  %s", before[i], after[i])
		}
	}
	if logAfter, err := summarizeOne(ctx, e.db.GreenDSN, userTables[len(userTables)-1]); err != nil || logAfter != logBefore {
		t.Errorf("teardown changed green's applied_log: before %v, after %v (%v)", logBefore, logAfter, err)
	}

	// A second teardown has nothing left to do; it should say so, not fail.
	r = runBgsync(t, time.Minute, "teardown", "--config", e.cfgPath)
	t.Logf("second teardown: exit %d, stderr: %s", r.Code, tailLines(r.Stderr, 5))
}

// summarizeOne fingerprints one table on one side.
func summarizeOne(ctx context.Context, dsn string, s tableSpec) (summary, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return summary{}, err
	}
	defer conn.Close(ctx)
	return summarize(ctx, conn, s)
}
