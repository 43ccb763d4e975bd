package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
	"github.com/bgsync/bgsync/verify"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
)

type verifyFlags struct {
	tables        []string
	output        string
	sample        int
	chunkRows     int
	parallel      int
	settleTimeout time.Duration
	noWait        bool
	progressEvery time.Duration
}

func newVerifyCmd(g *globalFlags) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Compare blue and green row by row and report what differs",
		Long: `verify compares every synced table (or --tables) on blue and green: both
sides are read in primary-key chunks (short statements, no long snapshot or
lock), rows are hashed, and only chunks whose hashes differ are compared row
by row. Per table it reports the rows on each side, matched, missing on green,
missing on blue, different (with the columns), and in flight.

Tables are named as on blue (--tables too). Where a table's shape differs
between the versions, blue's rows are mapped through its
transforms.blue_to_green (compiled against both live schemas first; a
problem is a config error) and compared by value with green's rows under
green's names: 12.5 equals 12.50, JSON key order and spacing do not
matter, NULL equals only NULL. Green columns the transform does not fill
are not compared; a row the transform fails on is different, with the
error. Such tables are slower to compare than tables of the same shape.

With a MariaDB or MySQL side: two sides of the same engine whose columns
agree in type and collation are compared as the servers print rows; any other
pair (MariaDB and PostgreSQL either way round, or differing column types) by
canonical value: TINYINT(1) 1 equals boolean true, DATETIME(6) equals the
timestamptz of the same UTC instant (microseconds), DECIMAL and numeric by
value, JSON and jsonb by value, INT UNSIGNED and bigint, BLOB and bytea by
value, text by its UTF-8 bytes (CHAR(n) trailing spaces dropped on both sides),
NULL only equal to NULL. Keys that are integers on both sides are cut into
chunks; other keys on a mixed pair are read as one chunk per table. Tables
with transforms or a green name are compared on every pair: blue's rows,
decoded as blue's capture decodes them (a MariaDB side as from its binlog),
are mapped through transforms.blue_to_green and compared by value with
green's rows, decoded as green's capture decodes them (CHAR(n) trailing
spaces dropped, MariaDB's JSON text compared as JSON).

While bgsync run is syncing, a row can differ only because its change is on
its way. verify notes the source positions when it reads a chunk and, for the
rows that differed, reads them again once the directions have applied those
positions (a PostgreSQL source: its slot has confirmed them; a MariaDB/MySQL
source: the target's checkpoint has reached its binlog position), up to three
times: equal then means "in flight", still different means divergent. With --no-wait (or when the sync does not
catch up within --settle-timeout) the differences are reported as found.

Progress goes to stderr: on a terminal a bar per table (chunks, rows, ETA),
redrawn in place; otherwise a plain line every --progress.

Each run is recorded in the verify_runs table of bgsync's schema (its
database on MariaDB/MySQL) on each side bgsync applies to (time, status,
per-table counts), for the gates.

Exit codes: 0 consistent, 1 divergent, 2 usage or config error, 3 could not
measure (a side unreachable, a table that cannot be compared, or differences
that could not be told from lag).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return a.verify(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.tables, "tables", nil, "compare only these synced tables (schema.table, comma-separated)")
	fl.StringVar(&f.output, "output", "text", "text, json or markdown")
	fl.IntVar(&f.sample, "sample", 10, "keys listed per class and table")
	fl.IntVar(&f.chunkRows, "chunk-rows", 10000, "rows per keyset chunk")
	fl.IntVar(&f.parallel, "parallel", 4, "chunks compared at once")
	fl.DurationVar(&f.settleTimeout, "settle-timeout", time.Minute, "longest wait for the sync before re-reading differing rows")
	fl.BoolVar(&f.noWait, "no-wait", false, "do not wait for the sync: report differences as found")
	fl.DurationVar(&f.progressEvery, "progress", 5*time.Second,
		"interval of progress lines on stderr when it is not a terminal (a terminal gets a bar per table); 0: none")
	return cmd
}

func (a *app) verify(ctx context.Context, out, errOut io.Writer, f *verifyFlags) error {
	if f.output != "text" && f.output != "json" && f.output != "markdown" {
		return withCode(exitUsage, fmt.Errorf("--output %q: use text, json or markdown", f.output))
	}
	if f.chunkRows < 1 || f.parallel < 1 || f.sample < 0 {
		return withCode(exitUsage, errors.New("--chunk-rows and --parallel must be at least 1, --sample at least 0"))
	}
	tables, err := a.verifyTables(f.tables)
	if err != nil {
		return withCode(exitUsage, err)
	}
	opts := verify.Options{BlueDSN: a.dsn[config.Blue], GreenDSN: a.dsn[config.Green], Tables: tables,
		BlueEngine: verify.Engine(a.cfg.EngineOf(config.Blue)), GreenEngine: verify.Engine(a.cfg.EngineOf(config.Green)),
		Schema: a.cfg.Name, ChunkRows: f.chunkRows, Parallel: f.parallel, Sample: f.sample, SettleTimeout: f.settleTimeout}
	if opts.Mappings, err = a.verifyMappings(ctx); err != nil {
		return err
	}
	if f.sample == 0 {
		opts.Sample = -1
	}
	if !f.noWait {
		opts.Slots, opts.Checkpoints = map[string]string{}, map[string]string{}
		opts.BinlogForms = map[string]capturemy.Form{}
		for _, d := range a.directions() {
			if a.binlog(d[0]) {
				opts.Checkpoints[string(d[0])] = directionName(d[0], d[1])
				form, err := a.recordedForm(ctx, d[0], d[1])
				if err != nil {
					return err
				}
				opts.BinlogForms[string(d[0])] = form
			} else {
				opts.Slots[string(d[0])] = a.cfg.SlotName(d[0])
			}
		}
	}
	var bars *progressBars
	switch {
	case f.progressEvery <= 0:
	case isTerminal(errOut):
		bars = newProgressBars(errOut)
		opts.Progress = bars.update
	default:
		opts.Progress = progressLines(errOut, f.progressEvery)
	}
	rep, err := verify.Run(ctx, opts)
	if bars != nil {
		bars.finish()
	}
	if err != nil {
		return withCode(exitNoMeasure, fmt.Errorf("verify: %s", scrubAll(err.Error())))
	}
	switch f.output {
	case "json":
		err = rep.JSON(out)
	case "markdown":
		err = rep.Markdown(out)
	default:
		err = rep.Text(out)
	}
	if err != nil {
		return err
	}
	for _, e := range a.recordVerify(ctx, rep) {
		fmt.Fprintf(errOut, "verify: could not record the run: %v\n", e)
	}
	switch rep.Status() {
	case "consistent":
		return nil
	case "divergent":
		return withCode(exitCheckFailed, errors.New("verify: blue and green differ"))
	default:
		return withCode(exitNoMeasure, errors.New("verify: could not measure every table"))
	}
}

// verifyMappings compiles every table's blue-to-green transform against
// both live schemas, as run does: verify maps blue's rows through them. A
// problem in any is a config error (exit 2). With a MariaDB/MySQL side
// only the tables with a transform or a green name get their mapping:
// the others are compared by canonical value (the implicit conversions
// between engines are what that comparison does).
func (a *app) verifyMappings(ctx context.Context) (map[change.Table]*transform.Mapping, error) {
	conns, err := a.connectSides(ctx)
	if err != nil {
		return nil, withCode(exitNoMeasure, fmt.Errorf("verify: %s", scrubAll(err.Error())))
	}
	defer conns.close()
	ms, err := a.compileTransformsOn(ctx, conns, config.Blue)
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		return nil, err
	case err != nil:
		return nil, withCode(exitNoMeasure, fmt.Errorf("verify: %s", scrubAll(err.Error())))
	}
	if !a.anyBinlog() {
		return ms[config.Blue], nil
	}
	out := map[change.Table]*transform.Mapping{}
	for i := range a.cfg.TableList {
		r := a.cfg.TransformRule(i, config.Blue)
		if m := ms[config.Blue][r.Source]; m != nil && (r.Target != r.Source || len(r.Rename)+len(r.Set)+len(r.Drop) > 0) {
			out[r.Source] = m
		}
	}
	return out, nil
}

// verifyTables resolves --tables against the synced tables.
func (a *app) verifyTables(names []string) ([]change.Table, error) {
	all := a.cfg.Tables()
	if len(names) == 0 {
		return all, nil
	}
	var out []change.Table
	for _, n := range names {
		ref, err := config.ParseTableName(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("--tables %q: %w", n, err)
		}
		found := false
		for _, t := range all {
			if t == ref {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--tables: %s is not a synced table of %s", ref, a.cfg.Name)
		}
		out = append(out, ref)
	}
	return out, nil
}

// recordVerify stores the run on every side bgsync applies to (in its
// schema, or database on MariaDB/MySQL); a side where it does not exist
// (setup not run) is reported, not fatal.
func (a *app) recordVerify(ctx context.Context, rep *verify.Report) []error {
	var buf bytes.Buffer
	if err := rep.JSON(&buf); err != nil {
		return []error{err}
	}
	var errs []error
	for _, d := range a.directions() {
		side := d[1]
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		if a.binlog(side) {
			err = a.recordVerifyMy(ctx, side, rep, buf.String())
		} else {
			var conn *pgx.Conn
			conn, err = a.connect(ctx, side)
			if err == nil {
				_, err = conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{a.cfg.Name}.Sanitize()+`.verify_runs
	(started_at, finished_at, status, report) VALUES ($1, $2, $3, $4)`, rep.Started, rep.Finished, rep.Status(), buf.String())
				conn.Close(context.Background())
			}
		}
		cancel()
		var pe *pgconn.PgError
		var me *mysql.MySQLError
		switch {
		case errors.As(err, &pe) && pe.Code == "42P01", // undefined_table
			errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049): // no such table, database
			errs = append(errs, fmt.Errorf("%s: no table %s.verify_runs (run bgsync setup)", side, a.cfg.Name))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s", side, scrubAll(err.Error())))
		}
	}
	return errs
}

// myTime is a time as a MariaDB/MySQL DATETIME(6) literal, in UTC.
func myTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") }

func (a *app) recordVerifyMy(ctx context.Context, side config.Side, rep *verify.Report, report string) error {
	db, err := a.openMy(ctx, side)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "INSERT INTO `"+strings.ReplaceAll(a.cfg.Name, "`", "``")+"`.verify_runs (started_at, finished_at, status, report) VALUES (?, ?, ?, ?)",
		myTime(rep.Started), myTime(rep.Finished), rep.Status(), report)
	return err
}
