// Command bench compares bgsync with PostgreSQL's native logical replication
// on the same data and the same two clusters (blue → green), and prints one
// table: backlog drain rates for inserts and updates, bgsync's peak RSS and
// CPU, and end-to-end lag under a steady live workload. It then runs bgsync
// both ways (twoway.go): backlog drains with each side writing its own keys,
// and a storm of writes on overlapping keys on both sides, for the conflict
// rate and each direction's lag. Before that, bgsync's one-way drain with
// and without schema-version transforms, and the transform step's own
// ns/row from its Go benchmark (transforms.go). Last, bgsync verify of two
// tables against a raw COPY of the same tables from both sides (verify.go).
// Before verify, the MariaDB phases (mariadb.go): capture/mysql's decode
// rate next to mariadb-binlog's on the same binlog, and bgsync's
// MariaDB → MariaDB and MariaDB → PostgreSQL backlog drains, and after
// them the snapshot phase (snapshot.go): bgsync snapshot's initial copy of
// four tables against pg_dump --data-only | psql, and a MariaDB →
// PostgreSQL copy (-only snapshot runs only this phase).
//
// Each engine gets its own fresh database (bench_native, bench_bgsync) on
// both clusters. A phase is loaded on blue while the engine is stopped, then
// the engine is started and timed until green has caught up. Leftovers of an
// earlier run are removed first, and everything is dropped at the end.
//
// Run through `make bench` or `bash scripts/bench.sh -rows 100000`.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	nativeDB = "bench_native"
	bgsyncDB = "bench_bgsync"
)

type options struct {
	rows, txn     int
	bin           string
	workDir       string
	host          string
	password      string
	bluePort      int
	greenPort     int
	live          time.Duration
	liveRate      int // rows/s of the live workload
	liveTxnRows   int
	probeEvery    time.Duration
	drainTimeout  time.Duration
	twowayRows    int           // rows per side in the two-way backlog phases
	storm         time.Duration // two-way conflict storm (0 = skip)
	verifyRows    int           // rows per table of the verify phase (0 = skip)
	transformRows int           // rows of each transforms drain (0 = skip; -1 on the command line = rows)
	mapBench      bool          // run BenchmarkMap of ./transform
	skipNative    bool
	nativeLive    bool
	keep          bool
	myRows        int    // rows of the MariaDB phases (0 = skip; mariadb.go)
	myBlueDSN     string // MariaDB blue and green, as root
	myGreenDSN    string
	myBinlogBin   string // mariadb-binlog
	only          string // "mariadb" or "snapshot": those phases only
	// The snapshot phase (snapshot.go): rows over its four tables, rows of
	// its MariaDB → PostgreSQL copy (0 = skip either), and bgsync
	// snapshot's workers and chunk_rows.
	snapshotRows, snapshotMyRows       int
	snapshotWorkers, snapshotChunkRows int
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseFlags() options {
	var o options
	flag.IntVar(&o.rows, "rows", 1000000, "rows in the bench table")
	flag.IntVar(&o.txn, "txn", 1000, "rows per source transaction in the backlog phases")
	flag.StringVar(&o.bin, "bin", "bin/bgsync", "the bgsync binary")
	flag.StringVar(&o.workDir, "workdir", "/tmp/bgsync-bench", "config, state (removed at the end) and logs (kept)")
	flag.StringVar(&o.host, "host", "127.0.0.1", "host of both clusters")
	flag.StringVar(&o.password, "password", envStr("BGSYNC_PG_PASSWORD", "bgsync"), "password of user postgres")
	flag.IntVar(&o.bluePort, "blue-port", envInt("BGSYNC_PG_BLUE_PORT", 15433), "blue cluster port")
	flag.IntVar(&o.greenPort, "green-port", envInt("BGSYNC_PG_GREEN_PORT", 15434), "green cluster port")
	flag.DurationVar(&o.live, "live", 20*time.Second, "duration of the live lag phase (0 = skip)")
	flag.IntVar(&o.liveRate, "live-rate", 2000, "rows/s of the live workload")
	flag.IntVar(&o.liveTxnRows, "live-txn", 100, "rows per transaction of the live workload")
	flag.DurationVar(&o.probeEvery, "probe-every", 100*time.Millisecond, "interval of lag probes in the live phase")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 150*time.Second, "give up a drain after this long")
	flag.IntVar(&o.twowayRows, "twoway-rows", 200000, "rows per side in the two-way backlog phases (0 = skip two-way)")
	flag.DurationVar(&o.storm, "storm", 30*time.Second, "duration of the two-way conflict storm (0 = skip)")
	flag.IntVar(&o.verifyRows, "verify-rows", 5000000, "rows in each of the two tables of the verify phase (0 = skip)")
	flag.IntVar(&o.transformRows, "transform-rows", -1, "rows of each one-way drain with and without transforms (-1 = as -rows, 0 = skip)")
	flag.BoolVar(&o.mapBench, "map-bench", true, "with the transforms drains, run go test -bench BenchmarkMap ./transform (from the repository root)")
	flag.BoolVar(&o.skipNative, "skip-native", false, "measure bgsync only")
	flag.BoolVar(&o.nativeLive, "native-live", true, "also measure native replication's lag in the live phase")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases, slots and subscription at the end")
	flag.IntVar(&o.myRows, "my-rows", 1000000, "rows of the MariaDB phases: capture vs mariadb-binlog, MariaDB→MariaDB and MariaDB→PostgreSQL drains (0 = skip)")
	flag.StringVar(&o.myBlueDSN, "my-blue", "root:"+envStr("BGSYNC_MY_PASSWORD", "bgsync")+"@tcp("+envStr("BGSYNC_MY_HOST", "127.0.0.1")+":"+strconv.Itoa(envInt("BGSYNC_MY_BLUE_PORT", 13306))+")/", "MariaDB blue, go-sql-driver DSN of a user with all privileges")
	flag.StringVar(&o.myGreenDSN, "my-green", "root:"+envStr("BGSYNC_MY_PASSWORD", "bgsync")+"@tcp("+envStr("BGSYNC_MY_HOST", "127.0.0.1")+":"+strconv.Itoa(envInt("BGSYNC_MY_GREEN_PORT", 13307))+")/", "MariaDB green")
	flag.StringVar(&o.myBinlogBin, "mariadb-binlog", "mariadb-binlog", "the mariadb-binlog binary (the capture's reference)")
	flag.StringVar(&o.only, "only", "", `"mariadb": run the MariaDB phases only; "snapshot": the snapshot phase only`)
	flag.IntVar(&o.snapshotRows, "snapshot-rows", 5000000, "rows over the four tables of the snapshot phase: bgsync snapshot vs pg_dump --data-only | psql (0 = skip)")
	flag.IntVar(&o.snapshotMyRows, "snapshot-my-rows", 1000000, "rows over the two tables of the snapshot phase's MariaDB → PostgreSQL copy (0 = skip)")
	flag.IntVar(&o.snapshotWorkers, "snapshot-workers", 4, "snapshot.workers of the snapshot phase")
	flag.IntVar(&o.snapshotChunkRows, "snapshot-chunk-rows", 100000, "snapshot.chunk_rows of the snapshot phase")
	flag.Parse()
	if o.transformRows == -1 {
		o.transformRows = o.rows
	}
	switch o.only {
	case "", "mariadb", "snapshot":
	default:
		fmt.Fprintln(os.Stderr, `bench: -only takes "mariadb" or "snapshot"`)
		os.Exit(2)
	}
	if o.only == "mariadb" {
		o.snapshotRows, o.snapshotMyRows = 0, 0
	}
	if o.only == "snapshot" {
		o.myRows = 0
	}
	if o.snapshotRows < 0 || o.snapshotMyRows < 0 || o.snapshotWorkers < 1 || o.snapshotChunkRows < 100 {
		fmt.Fprintln(os.Stderr, "bench: -snapshot-rows and -snapshot-my-rows must not be negative, -snapshot-workers at least 1, -snapshot-chunk-rows at least 100")
		os.Exit(2)
	}
	if o.twowayRows < 0 || o.myRows < 0 || o.verifyRows < 0 || o.transformRows < 0 || o.rows < 1 || o.txn < 1 || o.liveTxnRows < 1 || o.liveRate < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rows, -txn, -live-txn and -live-rate must be positive, -twoway-rows, -verify-rows, -transform-rows and -my-rows not negative")
		os.Exit(2)
	}
	return o
}

// cluster is one PostgreSQL cluster, reached as superuser postgres.
type cluster struct {
	name, host, password string
	port                 int
}

func (c cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@%s:%d/%s?sslmode=disable",
		url.QueryEscape(c.password), c.host, c.port, db)
}

// kv is the keyword/value connection string for CREATE SUBSCRIPTION.
func (c cluster) kv(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres password=%s dbname=%s sslmode=disable",
		c.host, c.port, c.password, db)
}

func (c cluster) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, c.dsn(db))
	if err != nil {
		return nil, fmt.Errorf("%s: connect to %s:%d/%s: %w", c.name, c.host, c.port, db, err)
	}
	return conn, nil
}

// env is what every phase needs.
type env struct {
	o           options
	blue, green cluster
	adminBlue   *pgx.Conn // database postgres
	adminGreen  *pgx.Conn
	cpu         *cpuMeter
	logDir      string
	stateDir    string
	lastEnable  time.Time // native: last ALTER SUBSCRIPTION ENABLE
}

// ensure replaces a connection that no longer answers (the cluster was
// restarted by someone else) with a new one.
func ensure(ctx context.Context, c cluster, db string, conn **pgx.Conn) error {
	if *conn != nil && (*conn).Ping(ctx) == nil {
		return nil
	}
	if *conn != nil {
		(*conn).Close(context.Background())
	}
	logf("%s: connection to %s lost; reconnecting", c.name, db)
	nc, err := connectRetry(ctx, c, db, 90*time.Second)
	if err != nil {
		return err
	}
	*conn = nc
	return nil
}

// startTimes is pg_postmaster_start_time() of blue and green.
func (e *env) startTimes(ctx context.Context) [2]time.Time {
	var t [2]time.Time
	for i, s := range []struct {
		c    cluster
		conn **pgx.Conn
	}{{e.blue, &e.adminBlue}, {e.green, &e.adminGreen}} {
		if ensure(ctx, s.c, "postgres", s.conn) == nil {
			_ = (*s.conn).QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&t[i])
		}
	}
	return t
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s  %s\n", time.Now().Format("15:04:05.0"), fmt.Sprintf(format, args...))
}

func main() {
	o := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o))
}

func run(ctx context.Context, o options) int {
	began := time.Now()
	bin, err := filepath.Abs(o.bin)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: bgsync binary: %v (run make build)\n", err)
		return 2
	}
	o.bin = bin
	e := &env{
		o:        o,
		blue:     cluster{name: "blue", host: o.host, port: o.bluePort, password: o.password},
		green:    cluster{name: "green", host: o.host, port: o.greenPort, password: o.password},
		logDir:   filepath.Join(o.workDir, "logs"),
		stateDir: filepath.Join(o.workDir, "state"),
	}
	if e.adminBlue, err = connectRetry(ctx, e.blue, "postgres", time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	defer func() { e.adminBlue.Close(context.Background()) }()
	if e.adminGreen, err = connectRetry(ctx, e.green, "postgres", time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	defer func() { e.adminGreen.Close(context.Background()) }()
	if e.cpu, err = newCPUMeter(ctx, e.adminBlue, e.adminGreen); err != nil {
		logf("CPU breakdown per cluster unavailable: %v", err)
	}

	logf("cleaning up leftovers of earlier runs")
	for _, err := range e.cleanupSnapshot(ctx) {
		logf("cleanup: %v", err)
	}
	if o.myRows > 0 {
		for _, err := range e.cleanupMariaDB(ctx) {
			logf("cleanup: %v", err)
		}
	}
	for _, err := range e.cleanup(ctx, true) {
		logf("cleanup: %v", err)
	}
	if err := os.MkdirAll(e.logDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}

	rep := &report{o: o, loadBefore: loadAvg()}
	started := e.startTimes(ctx)
	pg := o.only == ""
	if pg && !o.skipNative {
		rep.native = e.runNative(ctx)
	}
	if ctx.Err() == nil && pg {
		rep.bgsync = e.runBgsync(ctx)
	}
	if ctx.Err() == nil && pg && o.transformRows > 0 {
		rep.transforms = e.runTransforms(ctx)
	}
	if ctx.Err() == nil && pg && o.twowayRows > 0 {
		rep.twoway = e.runTwoway(ctx)
	}
	if ctx.Err() == nil && o.myRows > 0 {
		rep.mariadb = e.runMariaDB(ctx)
	}
	if ctx.Err() == nil && (o.snapshotRows > 0 || o.snapshotMyRows > 0) {
		rep.snapshot = e.runSnapshot(ctx)
	}
	if ctx.Err() == nil && pg && o.verifyRows > 0 {
		rep.verifyRes = e.runVerify(ctx)
		if rep.verifyRes.err != nil {
			rep.problems = append(rep.problems, "verify: "+rep.verifyRes.err.Error())
		}
	}
	rep.loadAfter = loadAvg()
	actx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, t := range e.startTimes(actx) {
		if !t.Equal(started[i]) {
			rep.problems = append(rep.problems, fmt.Sprintf("the %s cluster was restarted during the bench (postmaster start %s; not by the bench — another user of the shared cluster): figures of the phase running then are disturbed",
				[]string{"blue", "green"}[i], t.Local().Format("15:04:05")))
		}
	}

	if o.keep {
		logf("-keep: leaving databases %s and %s, slots and subscription in place", nativeDB, bgsyncDB)
	} else {
		logf("dropping the bench databases, slots, publications and subscription")
		for _, err := range e.cleanupSnapshot(actx) {
			rep.problems = append(rep.problems, "cleanup: "+err.Error())
		}
		if o.myRows > 0 {
			for _, err := range e.cleanupMariaDB(actx) {
				rep.problems = append(rep.problems, "cleanup: "+err.Error())
			}
		}
		for _, err := range e.cleanup(actx, false) {
			rep.problems = append(rep.problems, "cleanup: "+err.Error())
		}
	}
	rep.total = time.Since(began)
	rep.print(os.Stdout)
	if ctx.Err() != nil {
		return 1
	}
	return 0
}
