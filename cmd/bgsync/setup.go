package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

func newSetupCmd(g *globalFlags) *cobra.Command {
	var dryRun, fixIdentity bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Check prerequisites and create the slot, publication and bgsync's schema",
		Long: `setup first compiles every table's transforms (tables[].transforms, green_name)
against the live columns of both sides: every target column that must be
filled is filled, every expression compiles and returns a type its column
takes, key columns map, every source column has a place. It lists every
problem at once with its config line and exits 2.

It then checks, on every side a configured direction uses, what bgsync needs
(wal_level=logical, free replication slots, the REPLICATION privilege, a primary
key on every synced table, the target tables) and what conflict handling needs
(with directions: both, REPLICA IDENTITY FULL on every synced table and
track_commit_timestamp = on; replication origin privileges; any configured
timestamp_column), and reports every problem with how to fix it. Then it
creates the publication and the logical replication slot on each source,
the heartbeat table (in bgsync's schema, published with the tables; bgsync
run updates it every lag.heartbeat_interval to measure lag end to end),
bgsync's own schema (checkpoints, conflict log, tombstones, column writes,
dead letters) on each target, and
a trigger on each target table that records the application's deletes as
tombstones, so a delete and a write that race are ordered by time, and on
each target table under column-merge a trigger that records when the
application wrote each column (removed from tables under another policy)
(on MariaDB/MySQL, between two sides that both write: an AFTER INSERT and
an AFTER UPDATE trigger; creating them there needs TRIGGER on the tables
and, with the binary log on, SUPER or log_bin_trust_function_creators = 1).
It is idempotent.

--replica-identity-full sets REPLICA IDENTITY FULL on the synced tables of each
source instead of reporting it.
--dry-run prints the SQL it would run and changes nothing.
Exit code 2 when a prerequisite is not met or a database cannot be reached.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			return withCode(exitUsage, a.setup(ctx, cmd.OutOrStdout(), dryRun, fixIdentity))
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the SQL and change nothing")
	cmd.Flags().BoolVar(&fixIdentity, "replica-identity-full", false, "set REPLICA IDENTITY FULL on the synced tables of each source")
	return cmd
}

// connect opens an ordinary connection to side, with an error that names
// the side and never the password.
func (a *app) connect(ctx context.Context, side config.Side) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig(a.dsn[side])
	if err != nil {
		return nil, fmt.Errorf("%s: invalid connection string", side)
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot connect to %s:%d as %s: %s", side, pc.Host, pc.Port, pc.User, scrubAll(err.Error()))
	}
	return conn, nil
}

func (a *app) setup(ctx context.Context, out io.Writer, dryRun, fixIdentity bool) error {
	if a.anyBinlog() {
		return a.setupBinlogPair(ctx, out, dryRun, fixIdentity)
	}
	conns := map[config.Side]*pgx.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	var errs []error
	for _, side := range []config.Side{config.Blue, config.Green} {
		c, err := a.connect(ctx, side)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conns[side] = c
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Check everything first, on every side, and report it all at once.
	// The transforms first: a config problem there (exit 2) says which
	// line to fix, before any other check runs.
	var froms []config.Side
	for _, d := range a.directions() {
		froms = append(froms, d[0])
	}
	if _, err := a.compileTransforms(ctx, conns, froms...); err != nil {
		return err
	}
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		if err := capturepg.Check(ctx, conns[src], a.captureSetup(src)); err != nil {
			errs = append(errs, err)
		}
		if err := applypg.CheckTargets(ctx, conns[dst], a.cfg.TablesOn(dst)); err != nil {
			errs = append(errs, fmt.Errorf("%s (target): %w", dst, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if errs := a.checkConflicts(ctx, conns, nil, fixIdentity); len(errs) > 0 {
		return errors.Join(errs...)
	}
	extra, err := a.conflictSetupSQL(ctx, conns, fixIdentity)
	if err != nil {
		return err
	}
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		sqls, err := capturepg.SetupSQL(ctx, conns[src], a.captureSetup(src))
		if err != nil {
			return err
		}
		if dryRun {
			fmt.Fprintf(out, "-- %s (source of %s)\n", src, directionName(src, dst))
			for _, s := range sqls {
				fmt.Fprintf(out, "%s;\n", s)
			}
			fmt.Fprintf(out, "-- %s (target of %s)\n", dst, directionName(src, dst))
			for _, s := range applypg.SchemaSQL(a.cfg.Name) {
				fmt.Fprintf(out, "%s;\n", s)
			}
			continue
		}
		if err := capturepg.Setup(ctx, conns[src], a.captureSetup(src)); err != nil {
			return err
		}
		for _, s := range applypg.SchemaSQL(a.cfg.Name) {
			if _, err := conns[dst].Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %s: %w", dst, s, err)
			}
		}
		fmt.Fprintf(out, "%s: publication %s and slot %s ready; %s: schema %s ready\n",
			src, a.cfg.PublicationName(), a.cfg.SlotName(src), dst, a.cfg.Name)
	}
	// Tombstone triggers and replica identity: after the schema exists
	// (the trigger calls a function in it).
	return a.applyConflictSetup(ctx, out, conns, extra, fixIdentity, dryRun)
}

// applyConflictSetup runs (or, dry, prints) each PostgreSQL side's
// conflict-handling statements from conflictSetupSQL.
func (a *app) applyConflictSetup(ctx context.Context, out io.Writer, conns map[config.Side]*pgx.Conn, extra map[config.Side][]string, fixIdentity, dryRun bool) error {
	for _, side := range []config.Side{config.Blue, config.Green} {
		if len(extra[side]) == 0 {
			continue
		}
		if dryRun {
			fmt.Fprintf(out, "-- %s (conflict handling)\n", side)
			for _, s := range extra[side] {
				fmt.Fprintf(out, "%s;\n", s)
			}
			continue
		}
		for _, s := range extra[side] {
			if _, err := conns[side].Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %s: %w", side, s, err)
			}
		}
		fmt.Fprintf(out, "%s: conflict handling ready (tombstone triggers%s)\n", side, map[bool]string{true: ", REPLICA IDENTITY FULL", false: ""}[fixIdentity])
	}
	return nil
}

func (a *app) captureSetup(side config.Side) capturepg.SetupOptions {
	return capturepg.SetupOptions{
		Side:        string(side),
		Slot:        a.cfg.SlotName(side),
		Publication: a.cfg.PublicationName(),
		Tables:      a.cfg.TablesOn(side),
		Schema:      a.cfg.Name,
	}
}
