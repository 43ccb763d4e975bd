package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturemy "github.com/bgsync/bgsync/capture/mysql"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/bgsync/bgsync/internal/snapshot"
	"github.com/bgsync/bgsync/transport"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// defaultMemoryLimit is run's soft memory limit when GOMEMLIMIT is unset.
const defaultMemoryLimit = 200 << 20

func newRunCmd(g *globalFlags) *cobra.Command {
	var progress time.Duration
	var pprofAddr string
	var drainTimeout time.Duration
	var acceptDDL string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Stream changes between blue and green until SIGTERM",
		Long: `run streams every configured direction: it captures committed transactions
from the source's logical replication slot, carries them through Kafka (the
embedded broker unless kafka.brokers names a cluster) and applies them to the
target atomically and in commit order. The source slot is acknowledged only up
to what the target has durably applied, so a crash, a database restart or the
loss of Kafka's data loses nothing.

Before anything moves, run compiles every table's transforms against both live
schemas, as setup does (exit 2 with every problem and its config line). Changes
are mapped into the target's shape after Kafka and before conflicts are
checked, so before-images are compared as the target holds its rows. A row a
transform cannot map (an expression failing on its data) pauses its direction:
state "paused", last_error naming table, key, column, source position and
expression, bgsync_direction_paused 1, the gates FAIL; nothing after it is
applied and the slot keeps it. Fix the transform (or set the table's on_error:
dead-letter) and restart. With on_error: dead-letter the row goes to the
target's <name>.dead_letters table and the <prefix>.dead_letters topic instead,
the stream goes on, and the gates FAIL until each such row has handled_at set.

Each direction is supervised on its own: on an error it restarts with backoff
from the target's checkpoint. Every --progress interval a "progress" log line
reports rows applied, rows/s, lag and the checkpoint. SIGTERM or SIGINT drains:
bgsync stops reading the sources, applies everything already read, moves each
slot to the applied position and exits 0. If that takes longer than
--drain-timeout it stops at once; work in flight is then re-sent on the next
start and nothing is lost.

HTTP: on http.listen (default 127.0.0.1:9187; BGSYNC_HTTP_LISTEN) run serves
/metrics (Prometheus), /livez (the process is up), /readyz and /healthz (200
when every direction is running, else 503 naming those that are not) and
/v1/status (JSON: state, lag, counters, conflicts and unresolved conflicts of
each direction), /v1/gate/cutover and /v1/gate/rollback (JSON verdicts, see
bgsync gate --help) and POST /v1/flagger/cutover|rollback (200 or 412). If
BGSYNC_HTTP_TOKEN is set, every endpoint except /livez and /readyz requires
"Authorization: Bearer <token>". An address that cannot be opened exits 2.

MariaDB/MySQL sources: an ALTER, RENAME or DROP of a synced table pauses its
direction with the statement and its binlog position. Make the other side
match, then restart with --accept-schema-change <position>, as the message
prints it (a GTID such as 11-11-2267, or mysql-bin.000002:126458826 where
setup recorded file positions): schema changes up to it are passed.

Memory: unless GOMEMLIMIT is set, run sets a soft memory limit of 200 MiB
(the garbage collector works harder near it; it is not a cap).

Run "bgsync setup" first.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if os.Getenv("GOMEMLIMIT") == "" {
				// A soft limit, not a cap: the GC works harder near it. It keeps
				// the embedded broker's load of its log at start from leaving
				// a peak of garbage; the live heap is far smaller.
				debug.SetMemoryLimit(defaultMemoryLimit)
			}
			if pprofAddr != "" {
				startPprof(pprofAddr, a.log)
			}
			if acceptDDL != "" {
				if a.acceptDDL, _, err = capturemy.ParsePosition(acceptDDL); err != nil {
					return withCode(exitUsage, fmt.Errorf("--accept-schema-change: %w", err))
				}
			}
			return a.run(ctx, progress, drainTimeout)
		},
	}
	cmd.Flags().DurationVar(&progress, "progress", 5*time.Second, "interval of the progress log line (0 = off)")
	cmd.Flags().DurationVar(&drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long to finish applying what was already read")
	cmd.Flags().StringVar(&acceptDDL, "accept-schema-change", "", "MariaDB/MySQL sources: pass schema changes up to this binlog position (file:offset, or a GTID domain-server-seq where setup recorded GTID positions), after making the other side match")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "", "serve Go profiling endpoints on this address (e.g. 127.0.0.1:6060)")
	_ = cmd.Flags().MarkHidden("pprof")
	return cmd
}

func (a *app) run(ctx context.Context, progress, drainTimeout time.Duration) error {
	starts, maps, err := a.preflightAny(ctx)
	if err != nil {
		return withCode(exitUsage, err)
	}
	brokers := a.cfg.Kafka.Brokers.Addrs()
	if a.cfg.Kafka.Brokers.Embedded() {
		dir := filepath.Join(a.cfg.StateDir, "kafka")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return withCode(exitUsage, fmt.Errorf("state dir: %w", err))
		}
		// The embedded broker is a transit buffer: every start re-reads what
		// is not yet applied from the source slot, so an hour of log is
		// plenty, and it bounds what the broker loads into memory at start.
		b, err := transport.StartEmbedded(transport.EmbeddedOptions{Dir: dir, Port: a.cfg.Kafka.Embedded.Port,
			Retention: time.Hour, Logger: a.log})
		if err != nil {
			return fmt.Errorf("start embedded broker in %s: %w", dir, err)
		}
		defer b.Close()
		brokers = b.Addrs()
		a.log.Info("embedded broker started", "addrs", fmt.Sprint(brokers), "dir", dir)
	}
	started := time.Now()
	if a.cfg.Snapshot.InitialLoad == config.InitialLoadAuto {
		a.snapProgress = snapshot.NewProgress()
	}
	var dirs []*pipeline.Direction
	for _, d := range a.directions() {
		cfg := a.directionConfig(d[0], d[1], brokers, maps[d[0]])
		a.binlogEngines(&cfg, d[0], d[1], starts[d[0]])
		dirs = append(dirs, pipeline.New(cfg))
	}
	stopHTTP, err := a.startHTTP(dirs)
	if err != nil {
		return err
	}
	defer stopHTTP()
	// An initial copy (snapshot.initial_load: auto) comes first: the
	// directions stream from where it ends. A signal stops it; a rerun
	// resumes it.
	if err := a.initialLoad(ctx, progress); err != nil {
		return err
	}
	// The directions run under their own context: a signal first asks them
	// to drain, and only cancels them if the drain takes too long.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = d.Run(runCtx) // returns nil when drained or cancelled; failures are retried inside
		}()
	}
	if progress > 0 {
		go a.reportProgress(runCtx, dirs, progress)
	}
	<-ctx.Done()
	a.log.Info("shutting down: draining", "timeout", drainTimeout.String())
	for _, d := range dirs {
		d.Drain()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(drainTimeout):
		a.log.Warn("drain timed out; stopping now (work in flight is re-sent on the next start)")
		cancel()
		<-finished
	}
	// A last progress line, so even a run shorter than --progress reports
	// its totals in the usual shape.
	(&progressReporter{log: a.log, last: map[string]uint64{}, lastAt: started}).report(dirs, time.Now())
	for _, d := range dirs {
		s := d.Stats()
		a.log.Info("stopped", "direction", s.Direction, "rows_applied", s.Rows(), "txns_captured", s.Captured,
			"txns_applied", s.AppliedTxns, "target_txns", s.TargetTxns, "echo_dropped", s.EchoDropped,
			"checkpoint", s.Checkpoint, "restarts", s.Restarts)
	}
	return nil
}

func (a *app) directionConfig(src, dst config.Side, brokers []string, maps mappings) pipeline.Config {
	name := directionName(src, dst)
	deadLetter := map[change.Table]bool{}
	for i, t := range a.cfg.TableList {
		if ref, err := t.On(src); err == nil && a.cfg.OnErrorOf(i) == config.OnErrorDeadLetter {
			deadLetter[ref] = true
		}
	}
	return pipeline.Config{
		Transforms:      maps,
		DeadLetter:      deadLetter,
		DeadLetterTopic: a.cfg.DeadLetterTopic(),
		Name:            name,
		Capture: capturepg.Config{
			DSN:              a.dsn[src],
			Slot:             a.cfg.SlotName(src),
			Publication:      a.cfg.PublicationName(),
			SkipOriginPrefix: a.originPrefix(),
			WorkMem:          "64MB",
		},
		Apply: applypg.Config{
			DSN:       a.dsn[dst],
			Schema:    a.cfg.Name,
			Direction: name,
			Origin:    a.originName(src),
			From:      conflictSide(src),
			Rules:     a.cfg.ConflictRulesOn(dst), // changes arrive mapped to the target's tables
			Logger:    a.log.With("direction", name),
		},
		Brokers:           brokers,
		Topic:             a.cfg.TopicName(src),
		BatchRows:         a.cfg.Apply.BatchRows,
		Schema:            a.cfg.Name,
		Side:              string(src),
		HeartbeatInterval: a.cfg.Lag.HeartbeatInterval.Std(),
		Logger:            a.log,
	}
}

// preflightAny is preflight or, with a MariaDB/MySQL side,
// preflightBinlog (whose binlog start positions it also returns).
func (a *app) preflightAny(ctx context.Context) (map[config.Side]change.Position, map[config.Side]mappings, error) {
	if a.anyBinlog() {
		return a.preflightBinlog(ctx)
	}
	maps, err := a.preflight(ctx)
	return nil, maps, err
}

// preflight fails fast, with exit code 2, when setup has not been run, a
// side cannot be reached, or a transform does not fit the live schemas. It
// returns the compiled transforms of each direction, by its source side.
func (a *app) preflight(ctx context.Context) (map[config.Side]mappings, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.checkSlots(ctx); err != nil {
		return nil, err
	}
	conns, err := a.connectBoth(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	var froms []config.Side
	for _, d := range a.directions() {
		froms = append(froms, d[0])
	}
	return a.compileTransforms(ctx, conns, froms...)
}

// checkSlots checks that setup made each source's slot and heartbeat
// table, and that each target can be reached.
func (a *app) checkSlots(ctx context.Context) error {
	for _, d := range a.directions() {
		src := d[0]
		conn, err := a.connect(ctx, src)
		if err != nil {
			return err
		}
		err = a.checkSlot(ctx, conn, src)
		conn.Close(ctx)
		if err != nil {
			return err
		}
		tconn, err := a.connect(ctx, d[1])
		if err != nil {
			return err
		}
		tconn.Close(ctx)
	}
	return nil
}

// checkSlot checks that setup made src's slot and heartbeat table.
func (a *app) checkSlot(ctx context.Context, conn *pgx.Conn, src config.Side) error {
	var ok, beats bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1),
	EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $2 AND schemaname = $3 AND tablename = $4)`,
		a.cfg.SlotName(src), a.cfg.PublicationName(), a.cfg.Name, capturepg.HeartbeatTable(a.cfg.Name).Name).Scan(&ok, &beats)
	if err != nil {
		return fmt.Errorf("%s: read replication slots: %w", src, err)
	}
	if !ok {
		return fmt.Errorf("%s: replication slot %s does not exist; run bgsync setup first", src, a.cfg.SlotName(src))
	}
	if !beats {
		return fmt.Errorf("%s: publication %s does not include the heartbeat table %s; run bgsync setup again",
			src, a.cfg.PublicationName(), capturepg.HeartbeatTable(a.cfg.Name))
	}
	return nil
}

func (a *app) reportProgress(ctx context.Context, dirs []*pipeline.Direction, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	p := &progressReporter{log: a.log, last: map[string]uint64{}, lastAt: time.Now()}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.report(dirs, now)
		}
	}
}

// progressReporter logs one "progress" line per direction, with the rate
// since its previous report.
type progressReporter struct {
	log    *slog.Logger
	last   map[string]uint64
	lastAt time.Time
}

func (p *progressReporter) report(dirs []*pipeline.Direction, now time.Time) {
	secs := max(now.Sub(p.lastAt).Seconds(), 1e-3)
	p.lastAt = now
	for _, d := range dirs {
		s := d.Stats()
		rows := s.Rows()
		rate := float64(rows-p.last[s.Direction]) / secs
		p.last[s.Direction] = rows
		p.log.Info("progress", "direction", s.Direction, "state", string(s.State),
			"rows_applied", rows, "rows_per_sec", int64(rate), "txns_applied", s.AppliedTxns, "echo_dropped", s.EchoDropped,
			"lag_ms", s.Lag.Milliseconds(), "lag_p50_ms", s.LagP50.Milliseconds(), "lag_p99_ms", s.LagP99.Milliseconds(),
			"checkpoint", s.Checkpoint, "restarts", s.Restarts, "last_error", s.LastError)
	}
}
