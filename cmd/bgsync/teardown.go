package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/spf13/cobra"
)

func newTeardownCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "teardown",
		Short: "Remove the slots, publications, origins, schema and tables bgsync created",
		Long: `teardown drops, on both sides, what setup and run created there. On
PostgreSQL: the replication slot, the publication, the replication origins and
bgsync's own schema (checkpoints, conflicts, tombstones; the triggers on synced
tables go with it). On MariaDB/MySQL: the tombstone and column-write
triggers setup put on synced tables, bgsync's tables in the database named
like the config (capture_start, heartbeats, checkpoints, conflicts,
tombstones, column_writes, dead_letters, verify_runs, apply_marker), and
that database itself only when nothing else is left in it. It never touches user tables or their rows.

On PostgreSQL, when bgsync's schema also holds tables bgsync did not create
(the config's name is a user schema too), only bgsync's tables and functions
are dropped and the schema stays; teardown names what it kept.

Stop bgsync run first: an active slot is an error, and so is a binlog reader
with bgsync run's server_id still registered on a MariaDB/MySQL side (checked
with SHOW SLAVE HOSTS, before anything is dropped; that needs REPLICATION
MASTER ADMIN on MariaDB, REPLICATION SLAVE on MySQL; a user without it is
checked for binlog readers of its own, in information_schema.PROCESSLIST,
which finds bgsync run when it connects as the same user).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := a.teardown(ctx, cmd.OutOrStdout()); err != nil {
				return withCode(exitUsage, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "teardown complete")
			return nil
		},
	}
}

func (a *app) teardown(ctx context.Context, out io.Writer) error {
	if err := a.binlogReaders(ctx); err != nil {
		return err
	}
	var errs []error
	for _, side := range []config.Side{config.Blue, config.Green} {
		if a.binlog(side) {
			done, err := a.teardownMy(ctx, side)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintln(out, done)
			continue
		}
		conn, err := a.connect(ctx, side)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := capturepg.Teardown(ctx, conn, a.captureSetup(side)); err != nil {
			errs = append(errs, err)
		}
		_, err = conn.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE starts_with(roname, $1)`,
			a.originPrefix())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: drop replication origins: %w", side, err))
		}
		kept, err := applypg.DropSchema(ctx, conn, a.cfg.Name)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", side, err))
		case len(kept) > 0:
			fmt.Fprintf(out, "%s: bgsync's tables and functions in schema %s dropped; the schema stays (it also holds %s)\n",
				side, a.cfg.Name, strings.Join(kept, ", "))
		}
		conn.Close(ctx)
	}
	return errors.Join(errs...)
}
