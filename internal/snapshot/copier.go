package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
)

// Modes for a target table that already holds rows when a copy starts.
const (
	ModeFail     = "fail"
	ModeTruncate = "truncate"
	ModeMerge    = "merge"
)

// Table is one synced table to copy.
type Table struct {
	Source, Target change.Table
	// Mapping maps the source's rows into the target's shape; nil, or an
	// identity, copies them as they are.
	Mapping *transform.Mapping
	// Merge decides rows the target already has, under target_not_empty:
	// merge (its Key is filled in by Run).
	Merge applypg.Merge
}

// Config configures one direction's copy into a PostgreSQL target.
type Config struct {
	Direction string // e.g. "blue-to-green"
	From      string // the source side
	// Open opens n consistent views of the source (Source.Open).
	Open func(ctx context.Context, n int) ([]View, error)
	// TargetDSN and Schema: the target and bgsync's schema on it.
	TargetDSN, Schema string
	// OriginPrefix names each writer's replication origin (prefix + n); it
	// must start with the prefix the captures skip.
	OriginPrefix string
	Tables       []Table
	// Workers copy chunks in parallel, each with one source view and one
	// target connection (default 4). ChunkRows sizes the key ranges
	// (default 100000). RowsPerSecond caps the copy (0: no cap).
	Workers, ChunkRows, RowsPerSecond int
	// TargetNotEmpty is ModeFail (default), ModeTruncate or ModeMerge.
	TargetNotEmpty string
	// FormatPosition prints a source position (default: LSN form).
	FormatPosition func(change.Position) string
	Progress       *Progress
	Logger         *slog.Logger

	started time.Time // when Run began, before the views were opened
}

// Result sums up a copy.
type Result struct {
	Rows           int64           // copied by this run
	Chunks         int             // in the plan
	Copied         int             // copied by this run
	AlreadyDone    int             // done by an earlier run, not copied again
	Resumed        bool            // an unfinished copy was continued
	Low            change.Position // lowest range position: where streaming starts
	LowText        string
	Duration       time.Duration
	AlreadyStarted time.Time
}

// ErrStreaming: the direction has a checkpoint and no unfinished copy;
// there is nothing to copy into a target that is already being streamed.
var ErrStreaming = errors.New("the direction is already streaming (its target holds a checkpoint)")

// ErrFinished: the direction's copy finished earlier.
var ErrFinished = errors.New("the direction's initial copy is finished")

// NotEmptyError lists target tables that hold rows under ModeFail.
type NotEmptyError struct {
	Direction string
	Tables    []change.Table
}

func (e *NotEmptyError) Error() string {
	names := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		names[i] = t.String()
	}
	return fmt.Sprintf("%s: target tables already hold rows: %s; the copy would mix with them. Empty them, or set snapshot.target_not_empty "+
		"(--target-not-empty) to truncate (empty them first) or merge (keep them; rows the copy also has are decided by the table's conflict policy)",
		e.Direction, strings.Join(names, ", "))
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.ChunkRows <= 0 {
		c.ChunkRows = 100000
	}
	if c.TargetNotEmpty == "" {
		c.TargetNotEmpty = ModeFail
	}
	if c.FormatPosition == nil {
		c.FormatPosition = change.Position.String
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = NewProgress()
	}
}

// Run copies every table of cfg into the target, or continues a copy a
// crash interrupted, and sets the direction's checkpoint when all chunks
// are done. It returns ErrStreaming or ErrFinished when there is nothing
// to copy, a *NotEmptyError under ModeFail.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	started := time.Now()
	cfg.started = started
	var res Result
	conn, err := connectTarget(ctx, cfg.TargetDSN)
	if err != nil {
		return res, err
	}
	defer conn.Close(context.Background())
	plan, err := applypg.LoadSnapshot(ctx, conn, cfg.Schema, cfg.Direction)
	if err != nil {
		return res, err
	}
	if plan != nil && !plan.Finished.IsZero() {
		return res, ErrFinished
	}
	if plan == nil {
		streaming, err := applypg.HasCheckpoint(ctx, conn, cfg.Schema, cfg.Direction)
		if err != nil {
			return res, fmt.Errorf("%s: read the checkpoint: %w", cfg.Direction, err)
		}
		if streaming {
			return res, ErrStreaming
		}
	}
	for i := range cfg.Tables {
		t := &cfg.Tables[i]
		key, err := applypg.TableKey(ctx, conn, t.Target)
		if err != nil {
			return res, fmt.Errorf("%s: target table %s: %w", cfg.Direction, t.Target, err)
		}
		t.Merge.Key = key
	}
	views, err := cfg.Open(ctx, cfg.Workers)
	if err != nil {
		return res, fmt.Errorf("%s: open the source snapshot: %w", cfg.Direction, err)
	}
	defer func() {
		for _, v := range views {
			v.Close()
		}
	}()
	if plan == nil {
		if plan, err = start(ctx, conn, &cfg, views[0]); err != nil {
			return res, err
		}
	} else {
		res.Resumed = true
		if err := checkPlanTables(&cfg, plan); err != nil {
			return res, err
		}
		if err := applypg.RestartSnapshot(ctx, conn, cfg.Schema, cfg.Direction); err != nil {
			return res, err
		}
		cfg.TargetNotEmpty = plan.TargetNotEmpty
	}
	res.AlreadyStarted = plan.Started
	res.Chunks = len(plan.Chunks)
	var todo []applypg.SnapshotChunk
	for _, c := range plan.Chunks {
		cfg.Progress.plan(c)
		if c.Done {
			res.AlreadyDone++
			continue
		}
		todo = append(todo, c)
	}
	for _, t := range cfg.Tables {
		if n, err := views[0].Estimate(ctx, t.Source); err == nil {
			cfg.Progress.estimate(t.Source, n)
		}
	}
	cfg.Logger.Info("snapshot: copying", "direction", cfg.Direction, "tables", len(cfg.Tables), "chunks", len(plan.Chunks),
		"already_done", res.AlreadyDone, "resumed", res.Resumed, "workers", len(views),
		"snapshot_position", cfg.FormatPosition(views[0].Position()))
	cfg.Progress.setRunning(true)
	defer cfg.Progress.setRunning(false)
	rows, copied, err := copyChunks(ctx, &cfg, views, interleave(todo))
	res.Rows, res.Copied = rows, copied
	if err != nil {
		return res, err
	}
	final, err := applypg.LoadSnapshot(ctx, conn, cfg.Schema, cfg.Direction)
	if err != nil {
		return res, err
	}
	res.Low = lowest(final.Chunks)
	res.LowText = cfg.FormatPosition(res.Low)
	if err := applypg.FinishSnapshot(ctx, conn, cfg.Schema, cfg.Direction, res.Low, res.LowText); err != nil {
		return res, err
	}
	res.Duration = time.Since(started)
	return res, nil
}

func connectTarget(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("snapshot: invalid target connection string") // the parse error can quote it
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("snapshot: connect to the target %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// start plans a new copy: target tables are checked against the mode,
// each source table is cut into ranges under the first view, and the plan
// (with the truncation it asks for) is recorded in one transaction.
func start(ctx context.Context, conn *pgx.Conn, cfg *Config, v View) (*applypg.SnapshotPlan, error) {
	targets := make([]change.Table, len(cfg.Tables))
	for i, t := range cfg.Tables {
		targets[i] = t.Target
	}
	full, err := applypg.NonEmpty(ctx, conn, targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Direction, err)
	}
	var truncate []change.Table
	if len(full) > 0 {
		switch cfg.TargetNotEmpty {
		case ModeTruncate:
			truncate = full
		case ModeMerge:
		default:
			return nil, &NotEmptyError{Direction: cfg.Direction, Tables: full}
		}
	}
	plan := &applypg.SnapshotPlan{From: cfg.From, TargetNotEmpty: cfg.TargetNotEmpty}
	for _, t := range cfg.Tables {
		if _, err := v.Columns(ctx, t.Source); err != nil {
			return nil, err
		}
		cuts, err := v.Split(ctx, t.Source, cfg.ChunkRows)
		if err != nil {
			return nil, err
		}
		var lower []string
		for i := 0; i <= len(cuts); i++ {
			var upper []string
			if i < len(cuts) {
				upper = cuts[i]
			}
			plan.Chunks = append(plan.Chunks, applypg.SnapshotChunk{Table: t.Source, N: i, Lower: lower, Upper: upper})
			lower = upper
		}
	}
	if err := applypg.StartSnapshot(ctx, conn, cfg.Schema, cfg.Direction, plan, truncate, cfg.OriginPrefix+"plan"); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Direction, err)
	}
	if len(truncate) > 0 {
		cfg.Logger.Info("snapshot: emptied the target tables first (target_not_empty: truncate)", "direction", cfg.Direction, "tables", fmt.Sprint(truncate))
	}
	plan.Started = time.Now()
	return plan, nil
}

// checkPlanTables refuses to continue a copy planned for other tables.
func checkPlanTables(cfg *Config, plan *applypg.SnapshotPlan) error {
	planned := map[change.Table]bool{}
	for _, c := range plan.Chunks {
		planned[c.Table] = true
	}
	configured := map[change.Table]bool{}
	var added []string
	for _, t := range cfg.Tables {
		configured[t.Source] = true
		if !planned[t.Source] {
			added = append(added, t.Source.String())
		}
	}
	var dropped []string
	for t := range planned {
		if !configured[t] {
			dropped = append(dropped, t.String())
		}
	}
	if len(added)+len(dropped) == 0 {
		return nil
	}
	slices.Sort(dropped)
	return fmt.Errorf("%s: the unfinished copy was planned for other tables (now configured but not planned: [%s]; planned but no longer configured: [%s]); "+
		"restore the config's tables to finish it, or start over: bgsync teardown, then bgsync setup",
		cfg.Direction, strings.Join(added, ", "), strings.Join(dropped, ", "))
}

// lowest is the lowest position a chunk was read at.
func lowest(chunks []applypg.SnapshotChunk) change.Position {
	var lo change.Position
	for i, c := range chunks {
		if i == 0 || c.Position < lo {
			lo = c.Position
		}
	}
	return lo
}
