package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestHeartbeatLag: with the application idle, heartbeats keep the lag of
// both directions measured and small; while the target holds up one
// direction's commits, that direction's lag grows past the gate's limit
// (the gate fails naming it) and the other's does not; once released, it
// falls back. The slot's WAL retention is reported.
func TestHeartbeatLag(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "lag")
	ctx := context.Background()
	blue, green := mustConnect(t, db.BlueDSN), mustConnect(t, db.GreenDSN)
	for _, c := range []*pgx.Conn{blue, green} {
		if _, err := c.Exec(ctx, `CREATE TABLE l1 (id int PRIMARY KEY, v text)`); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFile(t, "bgsync.yaml", itConfig{Name: db.Name, Directions: "both", StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN: db.BlueDSN, GreenDSN: db.GreenDSN, Tables: []string{"public.l1"}, HTTPListen: freePort(t)}.render())
	if r := runBgsync(t, time.Minute, "setup", "--config", cfg, "--replica-identity-full"); r.Code != 0 {
		t.Fatalf("setup:\n%s", r)
	}
	run := newProcSet(t, cfg).startRun()
	status := func() map[string]dirStatus {
		t.Helper()
		s, err := run.status()
		if err != nil {
			t.Fatalf("status: %v\n%s", err, run.output())
		}
		return s
	}

	// Idle: beats arrive every second in both directions, lag stays small.
	waitFor(t, 30*time.Second, "five heartbeats in each direction", func() bool {
		s, err := run.status() // errors until the server is up
		return err == nil && s["blue-to-green"].Heartbeats >= 5 && s["green-to-blue"].Heartbeats >= 5
	})
	idle := status()
	for name, d := range idle {
		t.Logf("%s idle: lag %.1fms p99 %.1fms after %d heartbeats", name, d.Lag*1000, d.LagP99*1000, d.Heartbeats)
		if d.Lag > 0.5 || d.LagP99 > 0.5 {
			t.Errorf("%s idle: lag %.3fs p99 %.3fs, want both under 0.5s", name, d.Lag, d.LagP99)
		}
		if d.LastHeartbeat == nil || time.Since(*d.LastHeartbeat) > 3*time.Second {
			t.Errorf("%s idle: last heartbeat %v, want within 3s", name, d.LastHeartbeat)
		}
		if d.Applied.Transactions != 0 {
			t.Errorf("%s idle: %d transactions counted as applied; heartbeats must not be", name, d.Applied.Transactions)
		}
	}
	waitFor(t, 30*time.Second, "slot retention read", func() bool {
		s := status()
		return s["blue-to-green"].WALStatus != "" && s["green-to-blue"].WALStatus != ""
	})
	for name, d := range status() {
		t.Logf("%s: slot retains %d bytes (%s)", name, d.Retained, d.WALStatus)
		if d.Retained <= 0 || d.WALStatus != "reserved" {
			t.Errorf("%s: retained %d bytes, wal_status %q; want > 0 and reserved", name, d.Retained, d.WALStatus)
		}
	}
	metrics, err := run.httpGet("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{`bgsync_replication_lag_seconds{direction="blue-to-green"}`, `bgsync_source_retained_bytes{direction="green-to-blue"}`,
		`bgsync_capture_lag_seconds{direction="blue-to-green"}`, `bgsync_heartbeats_total{direction="green-to-blue"}`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics has no %s", m)
		}
	}

	// Hold blue-to-green's checkpoint row on green: its target
	// transactions cannot commit, so its beats stay in flight.
	hold, err := green.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{db.Name, "checkpoints"}.Sanitize()+
		` WHERE direction = 'blue-to-green' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "blue-to-green lag above 3s", func() bool { return status()["blue-to-green"].Lag > 3 })
	first := status()["blue-to-green"].Lag
	time.Sleep(2 * time.Second)
	s := status()
	t.Logf("held: blue-to-green lag %.2fs then %.2fs; green-to-blue %.3fs", first, s["blue-to-green"].Lag, s["green-to-blue"].Lag)
	if s["blue-to-green"].Lag < first+1.5 {
		t.Errorf("stalled lag went from %.2fs to %.2fs in 2s; want it to keep growing", first, s["blue-to-green"].Lag)
	}
	if s["green-to-blue"].Lag > 0.5 {
		t.Errorf("green-to-blue lag %.2fs while only blue-to-green is held", s["green-to-blue"].Lag)
	}
	code, v, r := gateVerdict(t, cfg, "cutover", "--max-lag", "2s")
	if code != 1 || v["status"] != "FAIL" || !strings.Contains(reasons(v), "blue-to-green lag") {
		t.Errorf("cutover gate while blue-to-green is held: exit %d\n%s", code, r)
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "blue-to-green lag back under 0.5s", func() bool { return status()["blue-to-green"].Lag < 0.5 })
	after := status()["blue-to-green"]
	t.Logf("released: blue-to-green lag %.1fms, p99 %.2fs", after.Lag*1000, after.LagP99)
	if p99 := after.LagP99; p99 < 3 {
		t.Errorf("p99 after the stall %.2fs; want it to include the held beats (> 3s)", p99)
	}
}
