package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBothDirectionsNoEcho runs blue→green and green→blue at once with
// writes on both sides to disjoint keys. Each side must end with every row,
// and each direction must apply exactly the transactions written on its
// source: a change bgsync applied is never captured and sent back (an echo
// would be applied again and show in the counts, or fail on its key).
func TestBothDirectionsNoEcho(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "both")
	const ddl = `CREATE TABLE pairs (id int PRIMARY KEY, side text NOT NULL, n int NOT NULL DEFAULT 0)`
	blue, green := mustConnect(t, db.BlueDSN), mustConnect(t, db.GreenDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := blue.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	if _, err := green.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	cfg := itConfig{Name: db.Name, Directions: "both", StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN: db.BlueDSN, GreenDSN: db.GreenDSN, Tables: []string{"public.pairs"}}
	path := writeFile(t, "bgsync.yaml", cfg.render())
	if r := runBgsync(t, 2*time.Minute, "setup", "--config", path); r.Code != 2 || !strings.Contains(r.Stderr, "REPLICA IDENTITY FULL") {
		t.Fatalf("setup without REPLICA IDENTITY FULL: want exit 2 naming it, got:\n%s", r)
	}
	if r := runBgsync(t, 2*time.Minute, "setup", "--config", path, "--replica-identity-full"); r.Code != 0 {
		t.Fatalf("setup:\n%s", r)
	}
	procs := newProcSet(t, path)
	p := procs.startRun()

	const perSide = 100
	for i := 1; i <= perSide; i++ {
		if _, err := blue.Exec(ctx, `INSERT INTO pairs (id, side) VALUES ($1, 'blue')`, i); err != nil {
			t.Fatal(err)
		}
		if _, err := green.Exec(ctx, `INSERT INTO pairs (id, side) VALUES ($1, 'green')`, 100000+i); err != nil {
			t.Fatal(err)
		}
	}
	// One more transaction per side, touching only its own rows.
	if _, err := blue.Exec(ctx, `UPDATE pairs SET n = n + 1 WHERE side = 'blue'`); err != nil {
		t.Fatal(err)
	}
	if _, err := green.Exec(ctx, `UPDATE pairs SET n = n + 1 WHERE side = 'green'`); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY id)) FROM pairs t`
	want := fmt.Sprintf("%d:", 2*perSide)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var b, g string
		if err := blue.QueryRow(ctx, q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if err := green.QueryRow(ctx, q).Scan(&g); err != nil {
			t.Fatal(err)
		}
		if b == g && len(b) > len(want) && b[:len(want)] == want {
			break
		}
		if err := p.checkRunning(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sides did not converge: blue %s, green %s", b, g)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Stay idle with both directions on (BGSYNC_IT_IDLE, default 60s): an
	// echo loop would apply transactions now and break the exact counts
	// below. Then stop and read the totals.
	idle := 60 * time.Second
	if v := os.Getenv("BGSYNC_IT_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BGSYNC_IT_IDLE=%q: %v", v, err)
		}
		idle = d
	}
	time.Sleep(idle)
	t.Logf("idle %s with both directions on", idle)
	if code := p.stop(30 * time.Second); code != 0 {
		t.Fatalf("bgsync run exited %d after SIGTERM, want 0", code)
	}
	recs, _ := parseLogs(p.output())
	// The final counts of each direction, from its "stopped" line.
	counts := map[string]map[string]float64{}
	for _, r := range recs {
		switch r.msg() {
		case "stopped":
			c := map[string]float64{}
			for _, k := range []string{"txns_captured", "txns_applied", "target_txns", "echo_dropped"} {
				c[k], _ = r.number(k)
			}
			counts[fmt.Sprint(r["direction"])] = c
		case "direction failed; restarting":
			t.Errorf("a direction failed: %v", r["error"])
		}
	}
	other := map[string]string{"blue-to-green": "green-to-blue", "green-to-blue": "blue-to-green"}
	for dir, o := range other {
		c := counts[dir]
		if c["txns_captured"] != perSide+1 || c["txns_applied"] != perSide+1 {
			t.Errorf("%s captured %v and applied %v source transactions, want exactly %d each (no echo)",
				dir, c["txns_captured"], c["txns_applied"], perSide+1)
		}
		// Every target transaction of the other direction came back
		// through this direction's capture and was dropped there.
		if c["echo_dropped"] != counts[o]["target_txns"] || c["echo_dropped"] < 1 {
			t.Errorf("%s dropped %v echoes, want exactly the %v target transactions %s committed on its source",
				dir, c["echo_dropped"], counts[o]["target_txns"], o)
		}
		t.Logf("%s: captured %v, applied %v in %v target transactions; dropped %v echoes of %s's %v",
			dir, c["txns_captured"], c["txns_applied"], c["target_txns"], c["echo_dropped"], o, counts[o]["target_txns"])
	}
}
