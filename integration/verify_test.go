package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const verifyDDL = `
CREATE TABLE vt (id int PRIMARY KEY, v text, n numeric, n2 numeric(10,2), ts timestamptz, j jsonb,
	c char(5), t text);
CREATE TABLE vt_comp (a text, b int, payload text, PRIMARY KEY (a, b));
INSERT INTO vt SELECT g, 'v' || g, g / 7.0, g / 3.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1.5 second',
	jsonb_build_object('g', g, 'h', 'x'), 'c' || (g % 100), md5(g::text) FROM generate_series(1, 25000) g;
INSERT INTO vt_comp SELECT 'k-' || (g % 50) || 'é', g, repeat('p', g % 30) FROM generate_series(1, 3000) g;`

// verifyReport is the part of `bgsync verify --output json` the tests read.
type verifyReport struct {
	Status string `json:"status"`
	Tables []struct {
		Table          string `json:"table"`
		Green          string `json:"green_table"`
		BlueRows       int64  `json:"rows_blue"`
		GreenRows      int64  `json:"rows_green"`
		Matched        int64  `json:"matched"`
		MissingOnGreen int64  `json:"missing_on_green"`
		MissingOnBlue  int64  `json:"missing_on_blue"`
		Different      int64  `json:"different"`
		InFlight       int64  `json:"in_flight"`
		Samples        map[string][]struct {
			Key     string   `json:"key"`
			Columns []string `json:"columns"`
		} `json:"samples"`
		Error string `json:"error"`
	} `json:"tables"`
	Unsettled string `json:"unsettled"`
}

// samples renders a table's samples as "class:key[cols]", sorted.
func (r *verifyReport) samples(table string) []string {
	var out []string
	for _, t := range r.Tables {
		if t.Table != table {
			continue
		}
		for class, ss := range t.Samples {
			for _, s := range ss {
				x := class + ":" + s.Key
				if len(s.Columns) > 0 {
					x += "[" + strings.Join(s.Columns, ",") + "]"
				}
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return out
}

// newVerifyDB is a test database with verifyDDL's identical tables on both
// sides and a one-way config that syncs them.
func newVerifyDB(t *testing.T, label string) (db *testDB, blue, green *pgx.Conn, cfg string) {
	t.Helper()
	requireIntegration(t)
	requireBinary(t)
	db = newTestDB(t, label)
	blue, green = mustConnect(t, db.BlueDSN), mustConnect(t, db.GreenDSN)
	for _, c := range []*pgx.Conn{blue, green} {
		if _, err := c.Exec(context.Background(), verifyDDL); err != nil {
			t.Fatal(err)
		}
	}
	cfg = writeFile(t, "bgsync.yaml", itConfig{Name: db.Name, StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN: db.BlueDSN, GreenDSN: db.GreenDSN, Tables: []string{"public.vt", "public.vt_comp"}}.render())
	return db, blue, green, cfg
}

func runVerify(t *testing.T, cfg string, args ...string) (result, *verifyReport) {
	t.Helper()
	r := runBgsync(t, 5*time.Minute, append([]string{"verify", "--config", cfg, "--output", "json"}, args...)...)
	rep := &verifyReport{}
	if err := json.Unmarshal([]byte(r.Stdout), rep); err != nil {
		t.Fatalf("verify output is not the JSON report: %v\n%s", err, r)
	}
	return r, rep
}

// TestVerifyFindsPlantedDivergences: identical data on both sides, then
// one planted difference of each kind; verify must report exactly those,
// with their class, key and column, and nothing else, and call equal what
// the column types make equal.
func TestVerifyFindsPlantedDivergences(t *testing.T) {
	_, blue, green, cfg := newVerifyDB(t, "verify")
	ctx := context.Background()

	r, rep := runVerify(t, cfg, "--no-wait", "--chunk-rows", "1000")
	if r.Code != 0 || rep.Status != "consistent" {
		t.Fatalf("identical data: exit %d, status %s\n%s", r.Code, rep.Status, r)
	}
	for _, tb := range rep.Tables {
		if tb.MissingOnBlue+tb.MissingOnGreen+tb.Different+tb.InFlight != 0 || tb.Matched != tb.BlueRows || tb.BlueRows != tb.GreenRows {
			t.Fatalf("identical data: %+v", tb)
		}
	}

	plant := func(c *pgx.Conn, sqls ...string) {
		t.Helper()
		for _, s := range sqls {
			if _, err := c.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	plant(green,
		`DELETE FROM vt WHERE id = 17`,           // missing on green
		`UPDATE vt SET v = '' WHERE id = 100`,    // NULL on blue vs empty string on green
		`UPDATE vt SET n = 1.00 WHERE id = 200`,  // numeric: 1.0 vs 1.00 differ in scale
		`UPDATE vt SET n2 = 1.00 WHERE id = 201`, // numeric(10,2): 1.0 and 1.00 are the same value
		`UPDATE vt SET ts = ts + interval '1 microsecond' WHERE id = 300`,
		`UPDATE vt SET t = t || ' ' WHERE id = 400`,               // trailing space in text
		`UPDATE vt SET c = 'ab   ' WHERE id = 401`,                // char(5) pads: equal
		`UPDATE vt SET j = '{"h": "x", "g": 500}' WHERE id = 500`, // jsonb: same value, keys reordered
		`INSERT INTO vt (id, v) VALUES (12345678, 'only green')`,  // missing on blue, beyond blue's keys
		`UPDATE vt_comp SET payload = 'changed' WHERE a = 'k-7é' AND b = 7`,
		`DELETE FROM vt_comp WHERE a = 'k-49é' AND b = 49`)
	plant(blue,
		`UPDATE vt SET v = NULL WHERE id = 100`,
		`UPDATE vt SET n = 1.0 WHERE id = 200`,
		`UPDATE vt SET n2 = 1.0 WHERE id = 201`,
		`UPDATE vt SET c = 'ab' WHERE id = 401`,
		`UPDATE vt SET j = '{"g": 500, "h": "x"}' WHERE id = 500`,
		`DELETE FROM vt WHERE id = 9000`) // missing on blue, inside blue's key range

	r, rep = runVerify(t, cfg, "--no-wait", "--chunk-rows", "1000")
	if r.Code != 1 || rep.Status != "divergent" {
		t.Fatalf("planted divergences: exit %d, status %s, want 1 and divergent\n%s", r.Code, rep.Status, r)
	}
	want := map[string][]string{
		"public.vt": {"different:100[v]", "different:200[n]", "different:300[ts]", "different:400[t]",
			"missing_on_blue:12345678", "missing_on_blue:9000", "missing_on_green:17"},
		"public.vt_comp": {"different:k-7é, 7[payload]", "missing_on_green:k-49é, 49"},
	}
	for table, w := range want {
		if got := rep.samples(table); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("%s: verify found %q, want %q", table, got, w)
		}
	}
	for _, tb := range rep.Tables {
		total := tb.MissingOnBlue + tb.MissingOnGreen + tb.Different
		if int(total) != len(want[tb.Table]) || tb.InFlight != 0 {
			t.Errorf("%s: %+v, want exactly %d differences", tb.Table, tb, len(want[tb.Table]))
		}
	}
	t.Logf("verify (planted):\n%s", r.Stderr)

	// Text and Markdown say the same.
	for _, out := range []string{"text", "markdown"} {
		r := runBgsync(t, 5*time.Minute, "verify", "--config", cfg, "--no-wait", "--output", out)
		if r.Code != 1 || !strings.Contains(strings.ToLower(r.Stdout), "divergent") || !strings.Contains(r.Stdout, "12345678") {
			t.Errorf("--output %s: exit %d\n%s", out, r.Code, r)
		}
	}
	// A column only green has (schema v2 added it, nullable) is not
	// compared: the table is still compared and the planted rows found.
	plant(green, `ALTER TABLE vt_comp ADD COLUMN extra int`)
	r = runBgsync(t, 5*time.Minute, "verify", "--config", cfg, "--no-wait", "--tables", "public.vt_comp")
	if r.Code != 1 || !strings.Contains(r.Stdout, "missing on green: (k-49é, 49)") {
		t.Errorf("green-only column: exit %d, want 1 with the planted rows\n%s", r.Code, r)
	}
	// A column only blue has, with no transform saying where it goes: a
	// config problem (exit 2) naming it, before anything is read.
	plant(blue, `ALTER TABLE vt_comp ADD COLUMN blue_only int`)
	r = runBgsync(t, 5*time.Minute, "verify", "--config", cfg, "--no-wait", "--tables", "public.vt_comp")
	if r.Code != 2 || !strings.Contains(r.Stderr, "blue_only") || !strings.Contains(r.Stderr, "has no place") {
		t.Errorf("blue-only column: exit %d, want 2 naming blue_only\n%s", r.Code, r)
	}
	if r := runBgsync(t, time.Minute, "verify", "--config", cfg, "--tables", "public.nope"); r.Code != 2 {
		t.Errorf("--tables with a table not synced: exit %d, want 2\n%s", r.Code, r)
	}
}

// TestVerifyLive: verify while bgsync syncs blue→green and the application
// keeps updating blue. Rows read before their change reached green must
// come out in flight, never divergent; each run is recorded on green.
func TestVerifyLive(t *testing.T) {
	db, _, green, cfg := newVerifyDB(t, "verifylive")
	ctx := context.Background()
	if r := runBgsync(t, time.Minute, "setup", "--config", cfg); r.Code != 0 {
		t.Fatalf("setup:\n%s", r)
	}
	run := newProcSet(t, cfg).startRun()

	// The application: single-row updates of random rows, 1000 a second,
	// until verify is done.
	wctx, stop := context.WithCancel(ctx)
	writes := make(chan int64, 1)
	go func() {
		w, err := connect(wctx, db.BlueDSN)
		if err != nil {
			writes <- -1
			return
		}
		defer w.Close(context.Background())
		r := newRand(uint64(time.Now().UnixNano()))
		var n int64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for wctx.Err() == nil {
			select {
			case <-wctx.Done():
			case <-tick.C:
			}
			if _, err := w.Exec(wctx, `UPDATE vt SET t = md5(random()::text) WHERE id = $1`, 1+r.IntN(25000)); err == nil {
				n++
			}
		}
		writes <- n
	}()
	time.Sleep(2 * time.Second) // the sync under way
	var reps []*verifyReport
	for i := 0; i < 3; i++ {
		r, rep := runVerify(t, cfg, "--chunk-rows", "500", "--parallel", "2")
		if r.Code != 0 || rep.Status != "consistent" {
			stop()
			t.Fatalf("verify %d while syncing: exit %d, status %s, want 0 and consistent (lag is not divergence)\n%s", i+1, r.Code, rep.Status, r)
		}
		reps = append(reps, rep)
	}
	stop()
	n := <-writes
	if n <= 0 {
		t.Fatal("the application wrote nothing: the test shows nothing")
	}
	if err := run.checkRunning(); err != nil {
		t.Fatal(err)
	}
	inFlight := int64(0)
	for _, rep := range reps {
		for _, tb := range rep.Tables {
			inFlight += tb.InFlight
		}
	}
	t.Logf("3 verify runs during %d application updates on blue: %d rows in flight, 0 divergent", n, inFlight)
	var runs int
	if err := green.QueryRow(ctx, `SELECT count(*) FROM `+db.Name+`.verify_runs WHERE status = 'consistent'`).Scan(&runs); err != nil || runs != 3 {
		t.Fatalf("verify_runs on green holds %d consistent runs (%v), want 3", runs, err)
	}
}
