package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/snapshot"
	"github.com/spf13/cobra"
)

// snapshotFlags override the config's snapshot section.
type snapshotFlags struct {
	targetNotEmpty string
	workers        int
	chunkRows      int
	maxRate        int
	progressEvery  time.Duration
}

func newSnapshotCmd(g *globalFlags) *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Copy the rows of snapshot.from into the other side, consistently with where streaming starts",
		Long: `snapshot copies every synced table of snapshot.from (default blue) into the
other side, through the tables' transforms, while the source keeps taking
writes, then exits; bgsync run streams from exactly where the copy ends, so
nothing is lost and nothing is applied twice. Run bgsync setup first.

PostgreSQL source: a temporary slot exports a snapshot; every worker reads
under it (REPEATABLE READ, SET TRANSACTION SNAPSHOT) and the copy's position
is the slot's consistent point. MariaDB source: each worker opens its own
START TRANSACTION WITH CONSISTENT SNAPSHOT, whose binlog position MariaDB
reports (binlog_snapshot_file/position); MySQL 8 is not supported yet.
The target must be PostgreSQL (a MariaDB/MySQL target is not supported yet).

Tables are cut into primary-key ranges of snapshot.chunk_rows rows, copied by
snapshot.workers workers in parallel (COPY out and in; rows a transform or a
type conversion maps are decoded, mapped and re-encoded). The plan and each
range's progress are kept in the target's <name>.snapshot_chunks table, a
range's rows and its "done" mark in one transaction: after a crash, run
bgsync snapshot again and only the ranges not done are copied, under a new
snapshot; changes between the first and the last snapshot are then applied
idempotently by run (the source's row wins; nothing is logged as a conflict).
When every range is done the direction's checkpoint is set to the lowest
snapshot position and, on PostgreSQL, the direction's slot is advanced there.

Target tables that already hold rows: --target-not-empty fail (default:
nothing is copied, the tables are named), truncate (emptied first, in the
transaction that records the plan, tagged so the other direction does not
send the TRUNCATE back) or merge (rows the target has and the copy has too
are decided by the table's conflict policy, each logged in the conflicts
table; last-writer-wins counts the copied row as written when the snapshot
was taken).

Progress: bars per table with rows/s and ETA on a terminal, a plain line every
--progress otherwise. Exit codes: 0 copied (or already copied), 1 the copy
failed (run it again to resume), 2 usage, config or setup error, a target
that holds rows under fail, or a direction that is already streaming.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := f.apply(cmd, &a.cfg.Snapshot); err != nil {
				return withCode(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return a.snapshot(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), f.progressEvery, snapshot.NewProgress())
		},
	}
	cmd.Flags().StringVar(&f.targetNotEmpty, "target-not-empty", "", "fail, truncate or merge (default: snapshot.target_not_empty)")
	cmd.Flags().IntVar(&f.workers, "workers", 0, "key ranges copied in parallel (default: snapshot.workers)")
	cmd.Flags().IntVar(&f.chunkRows, "chunk-rows", 0, "rows per key range (default: snapshot.chunk_rows)")
	cmd.Flags().IntVar(&f.maxRate, "max-rows-per-second", -1, "cap on rows copied per second, 0 = none (default: snapshot.max_rows_per_second)")
	cmd.Flags().DurationVar(&f.progressEvery, "progress", 5*time.Second, "interval of the progress line when stderr is not a terminal (0 = off)")
	return cmd
}

// apply lays the flags that were given over the config's section and
// checks the result as the config's own values are checked.
func (f *snapshotFlags) apply(cmd *cobra.Command, s *config.Snapshot) error {
	if cmd.Flags().Changed("target-not-empty") {
		s.TargetNotEmpty = f.targetNotEmpty
	}
	if cmd.Flags().Changed("workers") {
		s.Workers = f.workers
	}
	if cmd.Flags().Changed("chunk-rows") {
		s.ChunkRows = f.chunkRows
	}
	if cmd.Flags().Changed("max-rows-per-second") {
		s.MaxRowsPerSecond = f.maxRate
	}
	switch {
	case s.TargetNotEmpty != snapshot.ModeFail && s.TargetNotEmpty != snapshot.ModeTruncate && s.TargetNotEmpty != snapshot.ModeMerge:
		return fmt.Errorf("--target-not-empty %q: want fail, truncate or merge", s.TargetNotEmpty)
	case s.Workers < 1 || s.Workers > 64:
		return fmt.Errorf("--workers %d: want 1-64", s.Workers)
	case s.ChunkRows < 100:
		return fmt.Errorf("--chunk-rows %d: want at least 100", s.ChunkRows)
	case s.MaxRowsPerSecond < 0:
		return fmt.Errorf("--max-rows-per-second %d: want 0 (no cap) or more", s.MaxRowsPerSecond)
	}
	return nil
}

// snapshot runs the copy of the direction from snapshot.from, printing
// its progress to errOut and its outcome to out.
func (a *app) snapshot(ctx context.Context, out, errOut io.Writer, every time.Duration, progress *snapshot.Progress) error {
	src := a.cfg.Snapshot.From
	dst := src.Other()
	stopBars := showSnapshotProgress(errOut, every, progress)
	res, err := a.copyInitial(ctx, progress)
	stopBars()
	switch {
	case errors.Is(err, snapshot.ErrFinished):
		fmt.Fprintf(out, "%s: the initial copy is already finished; start bgsync run\n", directionName(src, dst))
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "%s: copied %d rows in %d of %d key ranges in %s (%.0f rows/s)%s; streaming starts after %s\n",
		directionName(src, dst), res.Rows, res.Copied, res.Chunks, res.Duration.Round(time.Millisecond),
		float64(res.Rows)/max(res.Duration.Seconds(), 1e-3), resumedNote(res), res.LowText)
	return nil
}

func resumedNote(res snapshot.Result) string {
	if !res.Resumed {
		return ""
	}
	return fmt.Sprintf(", resuming a copy started %s (%d ranges were done and not copied again)",
		res.AlreadyStarted.Format(time.RFC3339), res.AlreadyDone)
}

// copyInitial copies snapshot.from into the other side and, on a
// PostgreSQL source, moves the direction's slot to where streaming starts.
// Errors carry their exit codes.
func (a *app) copyInitial(ctx context.Context, progress *snapshot.Progress) (snapshot.Result, error) {
	src := a.cfg.Snapshot.From
	dst := src.Other()
	name := directionName(src, dst)
	if !a.cfg.Directions.From(src) {
		return snapshot.Result{}, withCode(exitUsage, fmt.Errorf("snapshot.from is %s, but directions (%s) does not stream from %s: the copy would have nothing to continue it",
			src, a.cfg.Directions, src))
	}
	if a.binlog(dst) {
		return snapshot.Result{}, withCode(exitUsage, fmt.Errorf("%s: copying into a %s target is not supported yet; the target of an initial copy must be PostgreSQL",
			name, a.cfg.EngineOf(dst)))
	}
	cfg, err := a.snapshotConfig(ctx, src, dst, progress)
	if err != nil {
		return snapshot.Result{}, withCode(exitUsage, err)
	}
	res, err := snapshot.Run(ctx, cfg)
	var ne *snapshot.NotEmptyError
	switch {
	case errors.Is(err, snapshot.ErrStreaming):
		return res, withCode(exitUsage, fmt.Errorf("%s: %w; an initial copy is for a direction that has not streamed yet (to start over: bgsync teardown, bgsync setup)", name, err))
	case errors.As(err, &ne):
		return res, withCode(exitUsage, err)
	case err != nil:
		return res, withCode(exitCheckFailed, fmt.Errorf("%w (run bgsync snapshot again to resume: ranges already done are kept)", err))
	}
	a.log.Info("snapshot: done", "direction", name, "rows", res.Rows, "ranges_copied", res.Copied, "ranges", res.Chunks,
		"ranges_done_before", res.AlreadyDone, "seconds", res.Duration.Seconds(), "streaming_after", res.LowText)
	if !a.binlog(src) {
		if err := capturepg.Advance(ctx, a.dsn[src], a.cfg.SlotName(src), res.Low); err != nil {
			a.log.Warn("snapshot: could not move the slot to the copy's position; run will skip the changes up to it instead", "error", err)
		}
	}
	return res, nil
}

// snapshotConfig builds the copier's config for src → dst: the compiled
// mappings, the source's views and each table's conflict rule for merge.
func (a *app) snapshotConfig(ctx context.Context, src, dst config.Side, progress *snapshot.Progress) (snapshot.Config, error) {
	_, maps, err := a.preflightAny(ctx)
	if err != nil {
		return snapshot.Config{}, err
	}
	s := a.cfg.Snapshot
	cfg := snapshot.Config{
		Direction: directionName(src, dst), From: string(src),
		TargetDSN: a.dsn[dst], Schema: a.cfg.Name,
		OriginPrefix: a.originPrefix() + "snapshot_" + string(src) + "_",
		Workers:      s.Workers, ChunkRows: s.ChunkRows, RowsPerSecond: s.MaxRowsPerSecond,
		TargetNotEmpty: s.TargetNotEmpty, Progress: progress, Logger: a.log,
	}
	if a.binlog(src) {
		open, format, err := a.binlogSnapshotSource(src)
		if err != nil {
			return cfg, err
		}
		cfg.Open, cfg.FormatPosition = open, format
	} else {
		ps := &capturepg.SnapshotSource{DSN: a.dsn[src], SlotPrefix: a.originPrefix()}
		cfg.Open = func(ctx context.Context, n int) ([]snapshot.View, error) {
			vs, err := ps.Open(ctx, n)
			out := make([]snapshot.View, len(vs))
			for i, v := range vs {
				out[i] = v
			}
			return out, err
		}
	}
	rules := a.cfg.ConflictRulesOn(dst)
	for _, t := range a.cfg.TableList {
		from, err1 := t.On(src)
		to, err2 := t.On(dst)
		if err1 != nil || err2 != nil {
			continue // Validate reported it
		}
		m := maps[src][from]
		if m != nil {
			to = m.Target()
		}
		rule := rules[to.String()]
		cfg.Tables = append(cfg.Tables, snapshot.Table{Source: from, Target: to, Mapping: m, Merge: applypg.Merge{Rule: rule, From: conflictSide(src)}})
	}
	return cfg, nil
}

// initialLoad is run's part of the initial copy. With initial_load: auto
// the direction from snapshot.from is copied first when it has no
// checkpoint yet (or its copy is unfinished). Otherwise a direction whose
// copy is unfinished is refused: streaming into half-copied tables would
// mix two states.
func (a *app) initialLoad(ctx context.Context, every time.Duration) error {
	auto := a.cfg.Snapshot.InitialLoad == config.InitialLoadAuto
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		if a.binlog(dst) {
			continue // copies into MariaDB/MySQL are not supported yet
		}
		if auto && src == a.cfg.Snapshot.From {
			stop := logSnapshotProgress(a.log, every, a.snapProgress)
			_, err := a.copyInitial(ctx, a.snapProgress)
			stop()
			if err != nil && !errors.Is(err, snapshot.ErrStreaming) && !errors.Is(err, snapshot.ErrFinished) {
				return err
			}
			continue
		}
		done, total, err := a.unfinishedCopy(ctx, src, dst)
		if err != nil {
			return withCode(exitUsage, err)
		}
		if total > 0 {
			return withCode(exitUsage, fmt.Errorf("%s: its initial copy is unfinished (%d of %d key ranges done); finish it with bgsync snapshot (or set snapshot.initial_load: auto) before streaming",
				directionName(src, dst), done, total))
		}
	}
	return nil
}

// unfinishedCopy reads an unfinished copy's ranges done and planned on the
// PostgreSQL target dst; 0, 0 when there is none.
func (a *app) unfinishedCopy(ctx context.Context, src, dst config.Side) (done, total int, err error) {
	conn, err := a.connect(ctx, dst)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	plan, err := applypg.LoadSnapshot(ctx, conn, a.cfg.Name, directionName(src, dst))
	if err != nil || plan == nil || !plan.Finished.IsZero() {
		return 0, 0, err
	}
	for _, c := range plan.Chunks {
		if c.Done {
			done++
		}
	}
	return done, len(plan.Chunks), nil
}

// logSnapshotProgress logs a "snapshot progress" line every `every` until
// stop is called.
func logSnapshotProgress(log *slog.Logger, every time.Duration, p *snapshot.Progress) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		var lastRows int64
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				s := p.Status()
				ranges, total := 0, 0
				for _, tp := range s.Tables {
					ranges += tp.ChunksDone
					total += tp.Chunks
				}
				log.Info("snapshot progress", "rows_copied", s.Rows,
					"rows_per_second", float64(s.Rows-lastRows)/max(now.Sub(last).Seconds(), 1e-3),
					"ranges_done", ranges, "ranges", total)
				lastRows, last = s.Rows, now
			}
		}
	}()
	return func() { close(done) }
}
