package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/jackc/pgx/v5"
)

// freePort returns a loopback address with a port free right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// gateVerdict runs `bgsync gate <kind> --output json` and returns its exit
// code and verdict.
func gateVerdict(t *testing.T, cfg, kind string, args ...string) (int, map[string]any, result) {
	t.Helper()
	r := runBgsync(t, time.Minute, append([]string{"gate", kind, "--config", cfg, "--output", "json"}, args...)...)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("gate %s: not a JSON verdict: %v\n%s", kind, err, r)
	}
	return r.Code, v, r
}

func reasons(v map[string]any) string {
	b, _ := json.Marshal(v["reasons"])
	return string(b)
}

// hiddenWrite runs sql on a side under a replication origin of bgsync's
// prefix, so no capture sends it to the other side: a planted divergence.
func hiddenWrite(t *testing.T, c *pgx.Conn, name, sql string) {
	t.Helper()
	ctx := context.Background()
	origin := name + "_testplant"
	for _, s := range []string{
		`SELECT pg_replication_origin_create('` + origin + `') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = '` + origin + `')`,
		`SELECT pg_replication_origin_session_setup('` + origin + `')`,
		sql,
		`SELECT pg_replication_origin_session_reset()`,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestGatesFlip: the cutover and rollback gates of a running two-way sync
// move between PENDING, PASS and FAIL as the figures do, naming each unmet
// condition: no verify yet, lag above the threshold, a divergence verify
// found, an unresolved conflict.
func TestGatesFlip(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "gates")
	ctx := context.Background()
	blue, green := mustConnect(t, db.BlueDSN), mustConnect(t, db.GreenDSN)
	for _, c := range []*pgx.Conn{blue, green} {
		if _, err := c.Exec(ctx, `CREATE TABLE g1 (id int PRIMARY KEY, v text)`); err != nil {
			t.Fatal(err)
		}
	}
	listen := freePort(t)
	cfg := writeFile(t, "bgsync.yaml", itConfig{Name: db.Name, Directions: "both", StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN: db.BlueDSN, GreenDSN: db.GreenDSN, Tables: []string{"public.g1"}, Policy: "manual",
		HTTPListen: listen}.render())
	if r := runBgsync(t, time.Minute, "setup", "--config", cfg, "--replica-identity-full"); r.Code != 0 {
		t.Fatalf("setup:\n%s", r)
	}
	run := newProcSet(t, cfg).startRun()
	waitFor(t, 30*time.Second, "both directions running", func() bool {
		r := runBgsync(t, time.Minute, "status", "--config", cfg)
		return r.Code == 0 && strings.Count(r.Stdout, " running ") == 2
	})

	// 1. No verify yet: PENDING, exit 3.
	code, v, r := gateVerdict(t, cfg, "cutover")
	if code != 3 || v["status"] != "PENDING" || !strings.Contains(reasons(v), "no verify run") {
		t.Fatalf("before any verify: exit %d\n%s", code, r)
	}

	// 2. A consistent verify: both gates PASS, exit 0.
	if _, err := blue.Exec(ctx, `INSERT INTO g1 SELECT g, 'b' || g FROM generate_series(1, 100) g`); err != nil {
		t.Fatal(err)
	}
	if r := runBgsync(t, 2*time.Minute, "verify", "--config", cfg); r.Code != 0 {
		t.Fatalf("verify:\n%s", r)
	}
	for _, kind := range []string{"cutover", "rollback"} {
		waitFor(t, 10*time.Second, kind+" to pass after a consistent verify", func() bool {
			code, v, _ := gateVerdict(t, cfg, kind)
			return code == 0 && v["status"] == "PASS" && v["safe"] == true
		})
	}

	// 3. Lag above the threshold while blue is written: FAIL naming lag.
	wctx, stop := context.WithCancel(ctx)
	go func() {
		w, err := connect(wctx, db.BlueDSN)
		if err != nil {
			return
		}
		defer w.Close(context.Background())
		for i := 0; wctx.Err() == nil; i++ {
			w.Exec(wctx, `UPDATE g1 SET v = md5(random()::text) WHERE id = $1`, 1+i%100)
		}
	}()
	waitFor(t, 20*time.Second, "cutover to fail on lag", func() bool {
		code, v, _ := gateVerdict(t, cfg, "cutover", "--max-lag", "1us")
		return code == 1 && v["status"] == "FAIL" && strings.Contains(reasons(v), "blue-to-green lag")
	})
	stop()

	// 4. A divergence verify found: FAIL naming the table.
	hiddenWrite(t, green, db.Name, `INSERT INTO g1 VALUES (1000, 'planted on green only')`)
	if r := runBgsync(t, 2*time.Minute, "verify", "--config", cfg); r.Code != 1 {
		t.Fatalf("verify with a planted row: exit %d, want 1\n%s", r.Code, r)
	}
	waitFor(t, 10*time.Second, "cutover to fail naming the divergent table", func() bool {
		code, v, _ := gateVerdict(t, cfg, "cutover")
		return code == 1 && strings.Contains(reasons(v), "divergent rows in public.g1")
	})
	metrics, err := run.httpGet("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{`bgsync_verify_rows{class="missing_on_blue",table="public.g1"} 1`,
		`bgsync_verify_rows{class="missing_on_green",table="public.g1"} 0`, `bgsync_verify_rows{class="different",table="public.g1"} 0`} {
		if !strings.Contains(string(metrics), m+"\n") {
			t.Errorf("/metrics after the divergent verify has no %q", m)
		}
	}
	hiddenWrite(t, green, db.Name, `DELETE FROM g1 WHERE id = 1000`)

	// 5. An unresolved conflict (manual policy): FAIL naming it, until
	// resolved.
	hiddenWrite(t, green, db.Name, `INSERT INTO g1 VALUES (2000, 'green first')`)
	if _, err := blue.Exec(ctx, `INSERT INTO g1 VALUES (2000, 'blue second')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the gate to name the unresolved conflict", func() bool {
		code, v, _ := gateVerdict(t, cfg, "rollback")
		return code == 1 && strings.Contains(reasons(v), "1 conflicts are unresolved")
	})
	if r := runBgsync(t, time.Minute, "conflicts", "resolve", "--config", cfg, "--all", "--keep", "blue"); r.Code != 0 {
		t.Fatalf("conflicts resolve:\n%s", r)
	}
	if r := runBgsync(t, 2*time.Minute, "verify", "--config", cfg); r.Code != 0 {
		t.Fatalf("verify after resolving:\n%s", r)
	}
	// 6. All good again: PASS (the unresolved count is re-read every 10 s).
	var last string
	waitFor(t, time.Minute, "both gates to pass again (the not-yet lines say why)", func() bool {
		c1, v1, _ := gateVerdict(t, cfg, "cutover")
		c2, v2, _ := gateVerdict(t, cfg, "rollback")
		last = reasons(v1) + " " + reasons(v2)
		if c1 != 0 || c2 != 0 {
			t.Logf("not yet: %s", last)
		}
		return c1 == 0 && c2 == 0
	})
	if err := run.checkRunning(); err != nil {
		t.Fatal(err)
	}
	// 7. The deploy files use only metrics this bgsync exports, gate and
	// verify ones included.
	checkDeployFiles(t, listen)
}

// waitFor polls cond every 500 ms until it holds or timeout ends.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestSetupNamesMissingTimestampColumn: a last-writer-wins timestamp_column
// the table does not have is a config error naming the table, the key and
// its line, on each side, and setup exits 2.
func TestSetupNamesMissingTimestampColumn(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "tscol")
	ctx := context.Background()
	for _, dsn := range []string{db.BlueDSN, db.GreenDSN} {
		if _, err := mustConnect(t, dsn).Exec(ctx, `CREATE TABLE t1 (id int PRIMARY KEY, updated_at timestamptz)`); err != nil {
			t.Fatal(err)
		}
	}
	cfg := itConfig{Name: db.Name, StateDir: filepath.Join(t.TempDir(), "state"), BlueDSN: db.BlueDSN, GreenDSN: db.GreenDSN,
		Tables: []string{"public.t1"}}.render()
	cfg = strings.Replace(cfg, "  - name: public.t1\n", "  - name: public.t1\n    conflict: {policy: last-writer-wins, timestamp_column: modified_at}\n", 1)
	path := writeFile(t, "bgsync.yaml", cfg)
	line := 1 + strings.Count(cfg[:strings.Index(cfg, "timestamp_column")], "\n")
	r := runBgsync(t, time.Minute, "setup", "--config", path)
	for _, want := range []string{fmt.Sprintf(".yaml:%d: tables[0].conflict.timestamp_column", line),
		`table public.t1 on green has no column "modified_at"`} {
		if r.Code != 2 || !strings.Contains(r.Stderr, want) {
			t.Fatalf("setup: want exit 2 and %q\n%s", want, r)
		}
	}
}

// checkDeployFiles: every file in configs/deploy parses (YAML or JSON), and
// every bgsync_ metric it names is on the running bgsync's /metrics.
func checkDeployFiles(t *testing.T, listen string) {
	t.Helper()
	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, resp.Status)
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "configs", "deploy", "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("configs/deploy: %v %v", files, err)
	}
	metricName := regexp.MustCompile(`bgsync_[a-z0-9_]+`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if strings.HasSuffix(f, ".json") {
			err = json.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil || doc == nil {
			t.Errorf("%s does not parse: %v", f, err)
			continue
		}
		if strings.HasSuffix(f, ".json") {
			checkPanelsApart(t, filepath.Base(f), data)
		}
		names := metricName.FindAllString(string(data), -1)
		for _, n := range names {
			if base, ok := strings.CutSuffix(n, "_bucket"); ok && exported[base] {
				continue // a histogram's series
			}
			if !exported[n] {
				t.Errorf("%s names %s, which bgsync does not export", filepath.Base(f), n)
			}
		}
		if len(names) == 0 && !strings.Contains(string(data), "/v1/") {
			t.Errorf("%s uses neither a bgsync metric nor a bgsync endpoint", filepath.Base(f))
		}
	}
}

// checkPanelsApart: no two panels of a Grafana dashboard cover the same
// grid cell (Grafana would push one down, away from where it was placed).
func checkPanelsApart(t *testing.T, name string, data []byte) {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string
			GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil || len(d.Panels) == 0 {
		return // not a dashboard
	}
	for i, a := range d.Panels {
		for _, b := range d.Panels[i+1:] {
			p, q := a.GridPos, b.GridPos
			if p.X < q.X+q.W && q.X < p.X+p.W && p.Y < q.Y+q.H && q.Y < p.Y+p.H {
				t.Errorf("%s: panels %q and %q overlap", name, a.Title, b.Title)
			}
		}
	}
}
