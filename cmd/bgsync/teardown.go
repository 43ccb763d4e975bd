package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/spf13/cobra"
)

func newTeardownCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "teardown",
		Short: "Remove the slots, publications, origins and schema bgsync created",
		Long: `teardown drops, on both sides, the replication slot, the publication, the
replication origins and bgsync's own schema (checkpoints). It never touches
user tables or their rows. Stop bgsync run first: an active slot is an error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := a.postgresOnly("teardown"); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := a.teardown(ctx); err != nil {
				return withCode(exitUsage, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "teardown complete")
			return nil
		},
	}
}

func (a *app) teardown(ctx context.Context) error {
	var errs []error
	for _, side := range []config.Side{config.Blue, config.Green} {
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
		if err := applypg.DropSchema(ctx, conn, a.cfg.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", side, err))
		}
		conn.Close(ctx)
	}
	return errors.Join(errs...)
}
