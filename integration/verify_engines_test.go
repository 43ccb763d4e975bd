package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// hiddenGreen runs stmts on green without either capture sending them on:
// on MariaDB under skip_replication (bgsync's own loop prevention), on
// PostgreSQL under a replication origin of bgsync's prefix. A planted
// divergence.
func (e *binlogEnv) hiddenGreen(t *testing.T, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	if e.green.engine == enginePG {
		for _, s := range stmts {
			hiddenWrite(t, e.green.pg, e.cfg.Name, s)
		}
		return
	}
	conn, err := e.green.my.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range append(append([]string{"SET SESSION skip_replication = 1"}, stmts...), "SET SESSION skip_replication = 0") {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("green: %s: %v", s, err)
		}
	}
}

// plantSQL are the statements that change one column of a row on green,
// by column, for green's engine.
var plantSQL = map[string]map[string]string{
	engineMy: {
		"qty":      "UPDATE items SET qty = qty + 1 WHERE id = %d",
		"price":    "UPDATE items SET price = COALESCE(price, 0) + 0.01 WHERE id = %d",
		"flag":     "UPDATE items SET flag = IF(flag = 1, 0, 1) WHERE id = %d",
		"happened": "UPDATE items SET happened = happened + INTERVAL 1 MICROSECOND WHERE id = %d",
		"doc":      "UPDATE items SET doc = JSON_SET(doc, '$.n', -1) WHERE id = %d",
		"note":     "UPDATE items SET note = CONCAT(note, 'x') WHERE id = %d",
		"payload":  "UPDATE items SET payload = CONCAT(payload, X'00') WHERE id = %d",
	},
	enginePG: {
		"qty":      "UPDATE items SET qty = qty + 1 WHERE id = %d",
		"price":    "UPDATE items SET price = COALESCE(price, 0) + 0.01 WHERE id = %d",
		"flag":     "UPDATE items SET flag = NOT COALESCE(flag, false) WHERE id = %d",
		"happened": "UPDATE items SET happened = happened + interval '1 microsecond' WHERE id = %d",
		"doc":      "UPDATE items SET doc = jsonb_set(doc, '{n}', '-1') WHERE id = %d",
		"note":     "UPDATE items SET note = note || 'x' WHERE id = %d",
		"payload":  "UPDATE items SET payload = payload || '\\x00'::bytea WHERE id = %d",
	},
}

// TestVerifyEnginesPlanted runs a two-way sync of each pair with a
// MariaDB side, a workload on blue, then bgsync verify: consistent, with
// every row counted and matched (the column types differ across engines:
// TINYINT(1)/boolean, DATETIME(6)/timestamptz, JSON/jsonb, DECIMAL/numeric,
// INT UNSIGNED/bigint, BLOB/bytea). The cutover gate reads that run and
// passes. Then one divergence of each kind is planted on green, hidden
// from the sync: verify must exit 1 naming exactly those keys and
// columns, and the gate must fail on it, read from the target.
func TestVerifyEnginesPlanted(t *testing.T) {
	for _, tc := range []struct{ name, blue, green string }{
		{"my_my", engineMy, engineMy},
		{"my_pg", engineMy, enginePG},
		{"pg_my", enginePG, engineMy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newBinlogEnv(t, "vfy_"+tc.name, tc.blue, tc.green, "both")
			e.setup()
			p := e.procs.startRun()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			if err := newBinlogWorkload(seed, "blue", 1, 0).run(ctx, e.blue, 200, 0); err != nil {
				t.Fatal(err)
			}
			waitItemsEqual(t, e.blue, e.green, 2*time.Minute, p.checkRunning)
			want := map[string]int64{}
			for _, tb := range []string{"items", "txlog"} {
				n, err := e.blue.count(ctx, "SELECT count(*) FROM "+tb)
				if err != nil {
					t.Fatal(err)
				}
				want[e.blue.table(tb)] = n
			}

			r, rep := runVerify(t, e.cfgPath, "--chunk-rows", "50", "--parallel", "2")
			if r.Code != 0 || rep.Status != "consistent" {
				t.Fatalf("verify after the sync: exit %d, status %s; want 0, consistent\n%s", r.Code, rep.Status, r)
			}
			for _, tb := range rep.Tables {
				n := want[tb.Table]
				if tb.Error != "" || tb.BlueRows != n || tb.GreenRows != n || tb.Matched != n {
					t.Errorf("%s: blue %d, green %d, matched %d rows (error %q); want %d each", tb.Table, tb.BlueRows, tb.GreenRows, tb.Matched, tb.Error, n)
				}
			}
			t.Logf("consistent in %s: %v", r.Elapsed.Round(time.Millisecond), want)
			code, v, gr := gateVerdict(t, e.cfgPath, "cutover", "--wait", "--timeout", "90s")
			if code != 0 {
				t.Fatalf("cutover after a consistent verify: exit %d, reasons %s\n%s", code, reasons(v), gr)
			}

			// Plant: a row missing on green, a row only on green, and one
			// different value in each column, each on its own row.
			rows, err := e.blue.rows(ctx, "SELECT id FROM items ORDER BY id")
			if err != nil || len(rows) < 9 {
				t.Fatalf("items on blue: %d rows, %v", len(rows), err)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r[0])
			}
			cols := []string{"doc", "flag", "happened", "note", "payload", "price", "qty"}
			stmts := []string{"DELETE FROM items WHERE id = " + ids[0],
				"INSERT INTO items (id, qty, price, flag, happened, doc, note, payload) VALUES " +
					item{id: 9_999_999, qty: 1, flag: -1, happened: time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC), doc: `{}`, note: "extra", payload: []byte{0}}.values(e.green.engine)}
			wantSamples := []string{"missing_on_green:" + ids[0], "missing_on_blue:9999999"}
			for i, c := range cols {
				var id int64
				fmt.Sscan(ids[i+1], &id)
				stmts = append(stmts, fmt.Sprintf(plantSQL[e.green.engine][c], id))
				wantSamples = append(wantSamples, fmt.Sprintf("different:%d[%s]", id, c))
			}
			e.hiddenGreen(t, stmts...)

			r, rep = runVerify(t, e.cfgPath, "--chunk-rows", "50", "--parallel", "2", "--settle-timeout", "30s")
			if r.Code != 1 || rep.Status != "divergent" {
				t.Fatalf("verify after planting: exit %d, status %s; want 1, divergent\n%s", r.Code, rep.Status, r)
			}
			items := e.blue.table("items")
			slices.Sort(wantSamples)
			if got := rep.samples(items); !slices.Equal(got, wantSamples) {
				t.Errorf("%s samples:\n got %v\nwant %v", items, got, wantSamples)
			}
			for _, tb := range rep.Tables {
				switch {
				case tb.Table == items && (tb.MissingOnGreen != 1 || tb.MissingOnBlue != 1 || tb.Different != int64(len(cols)) || tb.InFlight != 0):
					t.Errorf("%s: missing on green %d, on blue %d, different %d, in flight %d; want 1, 1, %d, 0", items, tb.MissingOnGreen, tb.MissingOnBlue, tb.Different, tb.InFlight, len(cols))
				case tb.Table != items && (tb.MissingOnGreen+tb.MissingOnBlue+tb.Different != 0):
					t.Errorf("%s: differences where none were planted: %+v", tb.Table, tb)
				}
			}
			t.Logf("divergences found in %s: %v", r.Elapsed.Round(time.Millisecond), rep.samples(items))
			// bgsync run reads the verify runs through a two-second cache:
			// the divergent run shows within a few seconds.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(500 * time.Millisecond) {
				code, v, gr = gateVerdict(t, e.cfgPath, "cutover")
				if code == 1 || time.Now().After(deadline) {
					break
				}
			}
			if code != 1 || !strings.Contains(reasons(v), "divergent rows in "+items) {
				t.Fatalf("cutover after a divergent verify: exit %d, reasons %s; want 1 naming %s\n%s", code, reasons(v), items, gr)
			}
			if err := p.checkRunning(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVerifyEnginesLive: verify while a workload updates a MariaDB blue
// syncing to a MariaDB green reports the rows on their way as in flight,
// never as divergent: it waits for green's checkpoint to pass the binlog
// position it noted.
func TestVerifyEnginesLive(t *testing.T) {
	e := newBinlogEnv(t, "vfy_live", engineMy, engineMy, "blue-to-green")
	e.setup()
	p := e.procs.startRun()
	ctx := context.Background()
	if err := newBinlogWorkload(uint64(time.Now().UnixNano()), "blue", 1, 0).run(ctx, e.blue, 1000, 0); err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, e.blue, e.green, 2*time.Minute, p.checkRunning)
	rows, err := e.blue.rows(ctx, "SELECT id FROM items")
	if err != nil {
		t.Fatal(err)
	}
	// The application: transactions of five single-row updates of random
	// rows, a few hundred rows a second, until verify is done.
	wctx, stop := context.WithCancel(ctx)
	writes := make(chan int64, 1)
	go func() {
		r := newRand(uint64(time.Now().UnixNano()))
		var n int64
		for wctx.Err() == nil {
			var stmts []string
			for range 5 {
				stmts = append(stmts, fmt.Sprintf("UPDATE items SET note = 'live %d', qty = qty + 1 WHERE id = %s", n, rows[r.IntN(len(rows))][0]))
			}
			if err := e.blue.tx(wctx, stmts...); err == nil {
				n++
			}
			time.Sleep(5 * time.Millisecond)
		}
		writes <- n
	}()
	time.Sleep(time.Second)
	var inFlight int64
	for i := 0; i < 3; i++ {
		r, rep := runVerify(t, e.cfgPath, "--chunk-rows", "20", "--parallel", "2")
		if r.Code != 0 || rep.Status != "consistent" {
			stop()
			t.Fatalf("verify %d while syncing: exit %d, status %s; want 0, consistent (lag is not divergence)\n%s", i+1, r.Code, rep.Status, r)
		}
		for _, tb := range rep.Tables {
			inFlight += tb.InFlight
		}
	}
	stop()
	n := <-writes
	if n <= 0 || inFlight == 0 {
		t.Fatalf("%d transactions on blue, %d rows in flight: the test shows nothing", n, inFlight)
	}
	if err := p.checkRunning(); err != nil {
		t.Fatal(err)
	}
	t.Logf("3 verify runs during %d update transactions on a MariaDB blue: %d rows in flight, 0 divergent", n, inFlight)
	runs, err := e.green.count(ctx, "SELECT count(*) FROM "+e.cfg.Name+".verify_runs WHERE status = 'consistent'")
	if err != nil || runs != 3 {
		t.Fatalf("verify_runs on the MariaDB green holds %d consistent runs (%v), want 3", runs, err)
	}
}
