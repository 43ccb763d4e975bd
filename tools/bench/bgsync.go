package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const bgsyncName = "bench_bgsync" // slot bench_bgsync_blue, origins bench_bgsync_*

// progress is bgsync's "progress" log line.
type progress struct {
	Msg         string `json:"msg"`
	Direction   string `json:"direction"`
	State       string `json:"state"`
	RowsApplied uint64 `json:"rows_applied"`
	RowsPerSec  int64  `json:"rows_per_sec"`
	TxnsApplied uint64 `json:"txns_applied"`
	LagMs       int64  `json:"lag_ms"`
	LagP50Ms    int64  `json:"lag_p50_ms"`
	LagP99Ms    int64  `json:"lag_p99_ms"`
	Checkpoint  string `json:"checkpoint"`
	Restarts    int    `json:"restarts"`
	LastError   string `json:"last_error"`
	raw         string
}

// bgsyncProc is one `bgsync run` process; its stderr goes to a log file and
// is parsed for progress lines and warnings.
type bgsyncProc struct {
	cmd     *exec.Cmd
	pid     int
	logPath string
	pidFile string
	done    chan struct{}
	waitErr error

	mu      sync.Mutex
	last    *progress
	byDir   map[string]*progress // the last progress line of each direction
	notable []string             // WARN and ERROR lines, the first 20
	tail    []string             // the last 20 lines
}

func (e *env) configPath() string { return filepath.Join(e.o.workDir, "bgsync.yaml") }
func (e *env) pidPath() string    { return filepath.Join(e.o.workDir, "bgsync.pid") }

func (e *env) writeConfig() error {
	cfg := fmt.Sprintf(`# written by tools/bench
name: %s
state_dir: %s
blue:
  engine: postgres
  dsn: %q
green:
  engine: postgres
  dsn: %q
directions: blue-to-green
kafka:
  brokers: embedded
tables:
  - name: public.bench
  - name: public.lagprobe
apply:
  batch_rows: 5000
log:
  level: info
  format: json
http:
  listen: "127.0.0.1:0"
`, bgsyncName, e.stateDir, e.blue.dsn(bgsyncDB), e.green.dsn(bgsyncDB))
	return os.WriteFile(e.configPath(), []byte(cfg), 0o600)
}

// bgsyncCmd builds a bgsync command on the bench config, without the
// BGSYNC_* environment overrides a user may have set.
func (e *env) bgsyncCmd(ctx context.Context, args ...string) *exec.Cmd {
	return e.bgsyncCmdWith(ctx, e.configPath(), args...)
}

func (e *env) bgsyncCmdWith(ctx context.Context, config string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.o.bin, append(args, "--config", config)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BGSYNC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "BGSYNC_BENCH=1")
	return cmd
}

func (e *env) startBgsync(phase string) (*bgsyncProc, error) {
	return e.startBgsyncWith(phase, e.configPath())
}

func (e *env) startBgsyncWith(phase, config string) (*bgsyncProc, error) {
	p := &bgsyncProc{byDir: map[string]*progress{}, logPath: filepath.Join(e.logDir, "bgsync-run-"+phase+".log"), pidFile: e.pidPath(), done: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = e.bgsyncCmdWith(context.Background(), config, "run", "--progress", "1s")
	p.cmd.Stdout = logFile
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p.pid = p.cmd.Process.Pid
	_ = os.WriteFile(p.pidFile, []byte(strconv.Itoa(p.pid)), 0o644)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			p.observe(line)
		}
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		os.Remove(p.pidFile)
		close(p.done)
	}()
	return p, nil
}

func (p *bgsyncProc) observe(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tail = append(p.tail, line); len(p.tail) > 20 {
		p.tail = p.tail[1:]
	}
	if strings.Contains(line, `"msg":"progress"`) {
		var pr progress
		if json.Unmarshal([]byte(line), &pr) == nil {
			pr.raw = line
			p.last = &pr
			p.byDir[pr.Direction] = &pr
		}
		return
	}
	if (strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) || !strings.HasPrefix(line, "{")) && len(p.notable) < 20 {
		p.notable = append(p.notable, line)
	}
}

// warnings reports WARN and ERROR lines of a process that otherwise did
// its job, so they are not lost in its log.
func (p *bgsyncProc) warnings(r problemLog, phase string) {
	p.mu.Lock()
	lines := append([]string(nil), p.notable...)
	p.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	var b strings.Builder
	for _, l := range lines[:min(len(lines), 3)] {
		b.WriteString("\n      " + l)
	}
	r.problem("bgsync %s: %d WARN/ERROR line(s) in %s:%s", phase, len(lines), p.logPath, b.String())
}

func (p *bgsyncProc) progressOf(direction string) *progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byDir[direction]
}

func (p *bgsyncProc) lastProgress() *progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// alive is nil while the process runs.
func (p *bgsyncProc) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("bgsync run exited early: %v", p.waitErr)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits; after timeout it kills the process.
func (p *bgsyncProc) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	select {
	case <-p.done:
		return 0, fmt.Errorf("had already exited: %v", p.waitErr)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.waitErr != nil {
			return time.Since(start), fmt.Errorf("exit after SIGTERM: %v", p.waitErr)
		}
		return time.Since(start), nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(start), fmt.Errorf("still running %s after SIGTERM; killed", timeout)
	}
}

// excerpt is what to show when bgsync misbehaved.
func (p *bgsyncProc) excerpt() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "log %s", p.logPath)
	if p.last != nil {
		fmt.Fprintf(&b, "\n      last progress: %s", p.last.raw)
	}
	lines := p.notable
	if len(lines) == 0 {
		lines = p.tail[max(0, len(p.tail)-8):]
	}
	for _, l := range lines[:min(len(lines), 8)] {
		fmt.Fprintf(&b, "\n      %s", l)
	}
	return b.String()
}

// runBgsync measures the real bgsync process with the embedded broker: setup
// creates the slot before any data, each phase is loaded while bgsync is
// not running, then `bgsync run` is started and timed until green has
// caught up, and stopped with SIGTERM. The live phase uses a fresh process
// so its lag percentiles cover the live workload only.
func (e *env) runBgsync(ctx context.Context) *engineResult {
	r := &engineResult{}
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		r.problem("bgsync: %v", err)
		return r
	}
	logf("bgsync: fresh database %s on blue and green, bgsync setup", bgsyncDB)
	for _, s := range []struct {
		admin *pgx.Conn
		c     cluster
	}{{e.adminBlue, e.blue}, {e.adminGreen, e.green}} {
		if err := freshDB(ctx, s.admin, s.c, bgsyncDB); err != nil {
			r.problem("bgsync: %v", err)
			return r
		}
	}
	if err := os.RemoveAll(e.stateDir); err != nil {
		r.problem("bgsync: %v", err)
		return r
	}
	if err := e.writeConfig(); err != nil {
		r.problem("bgsync: %v", err)
		return r
	}
	if out, err := e.bgsyncCmd(ctx, "setup").CombinedOutput(); err != nil {
		r.problem("bgsync setup: %v\n%s", err, out)
		return r
	}
	blue, err := e.blue.connect(ctx, bgsyncDB)
	if err != nil {
		r.problem("bgsync: %v", err)
		return r
	}
	defer func() { blue.Close(context.Background()) }()
	green, err := e.green.connect(ctx, bgsyncDB)
	if err != nil {
		r.problem("bgsync: %v", err)
		return r
	}
	defer func() { green.Close(context.Background()) }()

	for _, ph := range []struct {
		name string
		p    *phaseResult
	}{{"inserts", &r.inserts}, {"updates", &r.updates}} {
		*ph.p = e.bgsyncPhase(ctx, &blue, &green, ph.name, r)
		if ph.p.err != nil {
			return r
		}
	}
	if e.o.live > 0 {
		e.bgsyncLive(ctx, r)
	}
	return r
}

func (e *env) bgsyncPhase(ctx context.Context, blue, green **pgx.Conn, phase string, r *engineResult) phaseResult {
	return e.bgsyncDrain(ctx, blue, green, drainSpec{phase: phase, db: bgsyncDB, config: e.configPath(), rows: e.o.rows}, r)
}

// problemLog records a problem of a part of the bench, for the report.
type problemLog interface {
	problem(format string, args ...any)
}

// drainSpec is one one-way backlog drain of bgsync (blue → green): the
// rows loaded on blue while bgsync is stopped, the database and config it
// runs on, and the table green shows them in.
type drainSpec struct {
	phase      string // inserts or updates: what the load does and the poll checks
	name       string // in logs and the log file's name; "" is phase
	db, config string
	rows       int
	load       string // one source transaction over ids $1..$2; "" is phase's on bench
	blueTable  string // vacuumed before the drain; "" is bench
	greenTable string // polled; "" is bench
}

// bgsyncDrain loads s.rows rows on blue in o.txn-row transactions while
// bgsync is not running, vacuums and checkpoints both sides, starts
// `bgsync run` on s.config and times it until green holds the rows, then
// stops it with SIGTERM.
func (e *env) bgsyncDrain(ctx context.Context, blue, green **pgx.Conn, s drainSpec, r problemLog) phaseResult {
	p := phaseResult{ran: true}
	name := cmp.Or(s.name, s.phase)
	if p.err = errors.Join(ensure(ctx, e.blue, s.db, blue), ensure(ctx, e.green, s.db, green)); p.err != nil {
		r.problem("bgsync %s: %v", name, p.err)
		return p
	}
	logf("bgsync %s: loading %d rows on blue in %d-row transactions (bgsync not running)", name, s.rows, e.o.txn)
	if s.load == "" {
		p.load, p.err = loadPhase(ctx, *blue, s.phase, s.rows, e.o.txn)
	} else {
		p.load, p.err = loadRange(ctx, *blue, name, s.load, s.rows, e.o.txn)
	}
	if p.err != nil {
		r.problem("bgsync %s: %v", name, p.err)
		return p
	}
	logf("bgsync %s: loaded in %.1f s (%.0f rows/s); vacuum + checkpoint both sides", name, p.load.Seconds(), float64(s.rows)/p.load.Seconds())
	if p.err = settleTables(ctx, *blue, *green, cmp.Or(s.blueTable, "bench"), cmp.Or(s.greenTable, "bench")); p.err != nil {
		r.problem("bgsync %s: %v", name, p.err)
		return p
	}
	x, err := expect(ctx, *blue, s.phase, s.rows)
	if err != nil {
		p.err = err
		r.problem("bgsync %s: %v", name, p.err)
		return p
	}
	x.table = s.greenTable
	s0 := e.cpu.snap(0)
	start := time.Now()
	proc, err := e.startBgsyncWith(name, s.config)
	if err != nil {
		p.err = err
		r.problem("bgsync %s: start: %v", name, err)
		return p
	}
	p.drained, p.err = waitCaughtUp(ctx, e.green, s.db, x, start, e.o.drainTimeout, proc.alive)
	p.cpu = e.cpu.use(s0, e.cpu.snap(proc.pid))
	p.rssKiB, _ = vmHWM(proc.pid)
	p.procCPU, _ = cpuSeconds(proc.pid)
	if p.err == nil {
		logf("bgsync %s: green caught up in %.2f s (first change after %.2f s): %.0f rows/s; VmHWM %d MiB, CPU %.1f s",
			name, p.drained.done.Seconds(), p.drained.first.Seconds(), p.rate(s.rows), p.rssKiB>>10, p.procCPU)
	} else {
		r.problem("bgsync %s: %v\n      %s", name, p.err, proc.excerpt())
	}
	var stopErr error
	p.stop, stopErr = proc.stop(60 * time.Second)
	if stopErr != nil {
		r.problem("bgsync %s: stop: %v\n      %s", name, stopErr, proc.excerpt())
	} else {
		logf("bgsync %s: stopped cleanly in %.2f s", name, p.stop.Seconds())
		proc.warnings(r, name)
	}
	return p
}

func (e *env) bgsyncLive(ctx context.Context, r *engineResult) {
	logf("bgsync: live phase, %d rows/s of %d-row updates for %s, probes every %s",
		e.o.liveRate, e.o.liveTxnRows, e.o.live, e.o.probeEvery)
	proc, err := e.startBgsync("live")
	if err != nil {
		r.problem("bgsync live: start: %v", err)
		return
	}
	r.live = runLive(ctx, e, bgsyncDB)
	if r.live.err != nil {
		r.problem("bgsync live: %v\n      %s", r.live.err, proc.excerpt())
	}
	// Let one more progress line (1 s interval) cover the end of the workload.
	time.Sleep(1500 * time.Millisecond)
	r.progress = proc.lastProgress()
	r.liveRSSKiB, _ = vmHWM(proc.pid)
	if r.progress == nil {
		r.problem("bgsync live: no progress line in %s", proc.logPath)
	} else {
		logf("bgsync: live lag probe p50 %s p99 %s over %d probes; bgsync's own p50 %d ms p99 %d ms",
			r.live.p50.Round(time.Millisecond), r.live.p99.Round(time.Millisecond), r.live.probes, r.progress.LagP50Ms, r.progress.LagP99Ms)
	}
	stopped, err := proc.stop(60 * time.Second)
	if err != nil {
		r.problem("bgsync live: stop: %v\n      %s", err, proc.excerpt())
	} else {
		r.liveStop = stopped
		logf("bgsync live: stopped cleanly in %.2f s", stopped.Seconds())
		proc.warnings(r, "live")
	}
}

// cleanupBgsync stops a bgsync left running by an interrupted bench (only
// the pid this tool recorded, and only if it still is bgsync run), then
// runs bgsync teardown and removes by hand what teardown could not.
func (e *env) cleanupBgsync(ctx context.Context, start bool) []error {
	var errs []error
	if b, err := os.ReadFile(e.pidPath()); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		ours := false
		for _, c := range []string{e.configPath(), e.twowayConfig(), e.transformConfig(false), e.transformConfig(true)} {
			ours = ours || strings.Contains(string(cmdline), c)
		}
		if pid > 0 && strings.Contains(string(cmdline), e.o.bin) && ours {
			logf("stopping bgsync pid %d left by an earlier run", pid)
			proc, _ := os.FindProcess(pid)
			_ = proc.Signal(syscall.SIGTERM)
			for i := 0; i < 300 && proc.Signal(syscall.Signal(0)) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			_ = proc.Signal(syscall.SIGKILL)
		}
		os.Remove(e.pidPath())
	}
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		return append(errs, err)
	}
	var exists bool
	_ = e.adminBlue.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, bgsyncDB).Scan(&exists)
	if _, err := os.Stat(e.configPath()); err == nil && exists {
		if out, err := e.bgsyncCmd(ctx, "teardown").CombinedOutput(); err != nil && !start {
			errs = append(errs, fmt.Errorf("bgsync teardown: %v: %s", err, strings.TrimSpace(string(out))))
		}
	}
	errs = append(errs, dropSlot(ctx, e.adminBlue, bgsyncName+"_blue")...)
	errs = append(errs, dropSlot(ctx, e.adminGreen, bgsyncName+"_green")...)
	for _, c := range []*pgx.Conn{e.adminBlue, e.adminGreen} {
		if _, err := c.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE $1`,
			strings.ReplaceAll(bgsyncName, "_", `\_`)+`\_%`); err != nil {
			errs = append(errs, fmt.Errorf("drop replication origins: %w", err))
		}
	}
	if err := os.RemoveAll(e.stateDir); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// cleanup removes both engines' objects and the bench databases. At the
// start it also clears the logs of the previous run.
func (e *env) cleanup(ctx context.Context, start bool) []error {
	errs := e.cleanupBgsync(ctx, start)
	errs = append(errs, e.cleanupTwoway(ctx)...)
	errs = append(errs, e.cleanupTransforms(ctx)...)
	errs = append(errs, e.cleanupVerify(ctx)...)
	errs = append(errs, e.cleanupNative(ctx)...)
	for _, s := range []struct {
		admin *pgx.Conn
		name  string
	}{{e.adminBlue, "blue"}, {e.adminGreen, "green"}} {
		for _, db := range []string{nativeDB, bgsyncDB} {
			if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("%s: drop database %s: %w", s.name, db, err))
			}
		}
	}
	if start {
		errs = append(errs, os.RemoveAll(e.logDir))
	}
	return slicesCompact(errs)
}

func slicesCompact(errs []error) []error {
	var out []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			out = append(out, err)
		}
	}
	return out
}
