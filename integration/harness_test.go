// Package integration holds bgsync's end-to-end tests: the real binary
// (built by TestMain from ./cmd/bgsync) against the PostgreSQL clusters
// started by `bash scripts/env.sh up`, with the embedded Kafka broker.
// Nothing here uses bgsync's own packages: workloads and comparisons are
// plain SQL.
//
// Skipped with -short. Unreachable databases skip the tests, or fail them
// when CI is set. No test runs in parallel: TestTargetRestart restarts the
// green cluster. Knobs (environment):
//
//	BGSYNC_TEST_BLUE_DSN, BGSYNC_TEST_GREEN_DSN, BGSYNC_TEST_PLAIN_DSN  the clusters (scripts/env.sh env)
//	BGSYNC_TEST_GREEN_CLUSTER  green's "version/name" for pg_ctlcluster (15/bgsync_green)
//	BGSYNC_IT_SEED             replay a workload (every test logs its seed)
//	BGSYNC_IT_SCALE            multiply every workload's size
//	BGSYNC_IT_LOGDIR           copy every bgsync run log there
//	BGSYNC_IT_KEEP             keep the test databases for inspection
//	BGSYNC_IT_STORM            length of each conflict storm (default 60s)
//	BGSYNC_IT_IDLE             idle time of the two-direction echo test (default 60s)
package integration

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The bgsync binary under test, built once by TestMain from the module the
// test runs in. buildErr is set when the build failed: tests that need the
// binary fail with it, the others still run.
var (
	bgsyncBin string
	buildOut  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test here skips under -short
	}
	dir, err := os.MkdirTemp("", "bgsync-it-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		os.Exit(1)
	}
	bgsyncBin, buildOut, buildErr = buildBgsync(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBgsync builds ./cmd/bgsync of the module containing this package.
func buildBgsync(dir string) (bin, out string, err error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin = filepath.Join(dir, "bgsync")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/bgsync")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", string(b), fmt.Errorf("go build ./cmd/bgsync in %s: %w", root, err)
	}
	return bin, string(b), nil
}

// requireBinary returns the bgsync binary or fails the test with the build
// output.
func requireBinary(t *testing.T) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("bgsync binary not available: %v\n%s", buildErr, buildOut)
	}
	return bgsyncBin
}

// childEnv is the environment bgsync runs with: ours without any BGSYNC_*
// variable, so that no override (BGSYNC_BLUE_DSN, ...) leaks into a test
// that did not ask for it.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BGSYNC_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is the outcome of a one-shot bgsync command.
type result struct {
	Code           int
	Stdout, Stderr string
	Elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout ---\n%s\n--- stderr ---\n%s", r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// runBgsync runs a one-shot bgsync command (setup, teardown, ...) to
// completion, with a deadline, and checks that its output leaks no
// password.
func runBgsync(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	bin := requireBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.Code = ee.ExitCode()
	case ctx.Err() != nil:
		t.Fatalf("bgsync %s did not finish within %s\n%s", strings.Join(args, " "), timeout, r)
	default:
		t.Fatalf("bgsync %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("bgsync %s: exit %d in %s", strings.Join(args, " "), r.Code, r.Elapsed.Round(time.Millisecond))
	assertNoSecrets(t, "bgsync "+args[0]+" stdout", r.Stdout)
	assertNoSecrets(t, "bgsync "+args[0]+" stderr", r.Stderr)
	return r
}

// proc is one running `bgsync run` process. Its stdout and stderr go to a
// file; when the test fails, the tail of every such file is printed.
type proc struct {
	t       *testing.T
	label   string
	cmd     *exec.Cmd
	logPath string
	start   time.Time
	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
	waitErr error
}

// procSet owns the bgsync processes of one test and their log files.
type procSet struct {
	t      *testing.T
	dir    string
	mu     sync.Mutex
	n      int
	all    []*proc
	config string
}

// newProcSet returns the process manager of one test for the config file
// cfg. At cleanup it kills what is still running, checks every log for
// leaked passwords, copies the logs to $BGSYNC_IT_LOGDIR if set and, if
// the test failed, prints the logs' tails.
func newProcSet(t *testing.T, cfg string) *procSet {
	ps := &procSet{t: t, dir: t.TempDir(), config: cfg}
	t.Cleanup(func() {
		for _, p := range ps.procs() {
			if !p.exited() {
				t.Logf("cleanup: killing %s (pid %d)", p.label, p.cmd.Process.Pid)
				p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.done
			}
			data, _ := os.ReadFile(p.logPath)
			assertNoSecrets(t, p.label+" output", string(data))
			if dir := os.Getenv("BGSYNC_IT_LOGDIR"); dir != "" {
				name := strings.NewReplacer("/", "_", "#", "").Replace(t.Name() + "-" + p.label + ".log")
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Logf("BGSYNC_IT_LOGDIR: %v", err)
				}
			}
		}
		if t.Failed() {
			ps.dumpLogs(80)
		}
	})
	return ps
}

func (ps *procSet) procs() []*proc {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]*proc(nil), ps.all...)
}

// startRun starts `bgsync run --config <cfg>`.
func (ps *procSet) startRun(extra ...string) *proc {
	ps.t.Helper()
	return ps.start("run", extra...)
}

// start starts `bgsync <command> --config <cfg>`.
func (ps *procSet) start(command string, extra ...string) *proc {
	ps.t.Helper()
	bin := requireBinary(ps.t)
	ps.mu.Lock()
	ps.n++
	label := fmt.Sprintf("%s#%d", command, ps.n)
	ps.mu.Unlock()
	logPath := filepath.Join(ps.dir, label+".log")
	f, err := os.Create(logPath)
	if err != nil {
		ps.t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{command, "--config", ps.config}, extra...)...)
	cmd.Env = childEnv()
	cmd.Dir = ps.dir
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		ps.t.Fatalf("start bgsync %s: %v", command, err)
	}
	p := &proc{t: ps.t, label: label, cmd: cmd, logPath: logPath, start: time.Now(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		p.state = cmd.ProcessState
		f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	ps.t.Logf("started %s (pid %d)", label, cmd.Process.Pid)
	return p
}

// dumpLogs prints the last n lines of every process's output.
func (ps *procSet) dumpLogs(n int) {
	for _, p := range ps.procs() {
		data, err := os.ReadFile(p.logPath)
		if err != nil {
			ps.t.Logf("%s: %v", p.label, err)
			continue
		}
		ps.t.Logf("--- last %d lines of %s (%s) ---\n%s", n, p.label, p.describe(), tailLines(string(data), n))
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) describe() string {
	if !p.exited() {
		return fmt.Sprintf("pid %d, running for %s", p.cmd.Process.Pid, time.Since(p.start).Round(time.Millisecond))
	}
	return fmt.Sprintf("pid %d, %s", p.cmd.Process.Pid, p.state)
}

// output returns everything the process has written so far.
func (p *proc) output() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		p.t.Fatal(err)
	}
	return string(data)
}

// checkRunning returns an error (with the log tail) if the process has
// exited: bgsync run must only stop when told to.
func (p *proc) checkRunning() error {
	if !p.exited() {
		return nil
	}
	return fmt.Errorf("bgsync %s exited unexpectedly (%s) after %s; last lines:\n%s",
		p.label, p.state, time.Since(p.start).Round(time.Millisecond), tailLines(p.output(), 40))
}

// stop sends SIGTERM and waits up to timeout for the process to exit; it
// returns the exit code, failing the test if the process does not stop.
func (p *proc) stop(timeout time.Duration) int {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s had already exited before SIGTERM: %s", p.label, p.state)
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM %s: %v", p.label, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p.t.Fatalf("%s did not exit within %s of SIGTERM; killed it", p.label, timeout)
	}
	p.t.Logf("%s stopped by SIGTERM in %s: %s", p.label, time.Since(sent).Round(time.Millisecond), p.state)
	return p.state.ExitCode()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s had already exited before SIGKILL: %s\n%s", p.label, p.state, tailLines(p.output(), 40))
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL %s: %v", p.label, err)
	}
	<-p.done
}

// itConfig is what a test puts in bgsync's config file.
type itConfig struct {
	Name       string
	Directions string // default blue-to-green
	StateDir   string
	BlueDSN    string
	GreenDSN   string
	// BlueEngine and GreenEngine default to postgres.
	BlueEngine, GreenEngine string
	Tables                  []string
	BatchRows               int
	Policy                  string // conflict policy of every table; empty: the default
	TimestampColumn         string // last-writer-wins timestamp column of every table
	HTTPListen              string // default 127.0.0.1:0
	Snapshot                string // the snapshot section's flow mapping, e.g. "{initial_load: auto}"
}

// render writes the config as YAML in the documented layout.
func (c itConfig) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", c.Name)
	fmt.Fprintf(&b, "state_dir: %q\n", c.StateDir)
	fmt.Fprintf(&b, "blue: {engine: %s, dsn: %q}\n", cmp.Or(c.BlueEngine, enginePG), c.BlueDSN)
	fmt.Fprintf(&b, "green: {engine: %s, dsn: %q}\n", cmp.Or(c.GreenEngine, enginePG), c.GreenDSN)
	dirs := c.Directions
	if dirs == "" {
		dirs = "blue-to-green"
	}
	fmt.Fprintf(&b, "directions: %s\n", dirs)
	b.WriteString("kafka: {brokers: embedded}\n")
	b.WriteString("tables:\n")
	for _, tbl := range c.Tables {
		fmt.Fprintf(&b, "  - name: %s\n", tbl)
		switch {
		case c.TimestampColumn != "":
			fmt.Fprintf(&b, "    conflict: {policy: %s, timestamp_column: %s}\n", cmp.Or(c.Policy, "last-writer-wins"), c.TimestampColumn)
		case c.Policy != "":
			fmt.Fprintf(&b, "    conflict: {policy: %s}\n", c.Policy)
		}
	}
	rows := c.BatchRows
	if rows == 0 {
		rows = 5000
	}
	fmt.Fprintf(&b, "apply: {batch_rows: %d}\n", rows)
	if c.Snapshot != "" {
		fmt.Fprintf(&b, "snapshot: %s\n", c.Snapshot)
	}
	b.WriteString("log: {level: info, format: json}\n")
	listen := c.HTTPListen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	fmt.Fprintf(&b, "http: {listen: %q}\n", listen)
	return b.String()
}

// writeFile writes content to name in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// assertNoSecrets fails the test if text shows a database password in a
// DSN context (user:password@, password=...) or the wrong-password probe.
func assertNoSecrets(t *testing.T, label, text string) {
	t.Helper()
	for _, s := range secretPatterns() {
		if i := strings.Index(text, s); i >= 0 {
			lo, hi := max(0, i-80), min(len(text), i+len(s)+80)
			t.Errorf("%s leaks a password (%q) here: …%s…", label, s, text[lo:hi])
		}
	}
}
