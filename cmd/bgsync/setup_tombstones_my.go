package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/config"
)

// Conflict triggers on MariaDB/MySQL targets (apply/mysql tombstone.go,
// columns.go): between two sides that both write, each target table gets
// an AFTER DELETE trigger recording the application's deletes, so
// conflict resolution orders a delete against the other side's write of
// the same row; a table under column-merge also gets AFTER INSERT and
// AFTER UPDATE triggers recording when the application wrote each column
// (removed from tables under another policy). One-way targets get none
// (nothing races their writes but manual ones, and the triggers would
// cost the privileges below).

// tombstoneSides are the MariaDB/MySQL sides that get tombstone triggers:
// the targets of a two-way pair.
func (a *app) tombstoneSides() []config.Side {
	if a.cfg.Directions != config.Both {
		return nil
	}
	var out []config.Side
	for _, side := range []config.Side{config.Blue, config.Green} {
		if a.binlog(side) {
			out = append(out, side)
		}
	}
	return out
}

// checkTombstonePrivileges checks that setup may create the triggers on
// every target table of the tombstone sides: TRIGGER on the table (global,
// database or table grant), and, with the binary log on (always, on a
// side bgsync captures), SUPER or log_bin_trust_function_creators = 1,
// without which the server refuses CREATE TRIGGER (error 1419).
func (a *app) checkTombstonePrivileges(ctx context.Context, my map[config.Side]*sql.DB) []error {
	var errs []error
	for _, side := range a.tombstoneSides() {
		db := my[side]
		if db == nil {
			continue
		}
		var missing []string
		for _, t := range a.cfg.TablesOn(side) {
			var n int
			err := db.QueryRowContext(ctx, `SELECT
	(SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = g.grantee AND PRIVILEGE_TYPE = 'TRIGGER') +
	(SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = g.grantee AND PRIVILEGE_TYPE = 'TRIGGER'
		AND ? LIKE TABLE_SCHEMA) +
	(SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = g.grantee AND PRIVILEGE_TYPE = 'TRIGGER'
		AND TABLE_SCHEMA = ? AND TABLE_NAME = ?)
FROM (SELECT CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS grantee) g`,
				t.Schema, t.Schema, t.Name).Scan(&n)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s (target): check the TRIGGER privilege on %s: %s", side, t, scrubAll(err.Error())))
				continue
			}
			if n == 0 {
				missing = append(missing, t.Schema)
			}
		}
		if len(missing) > 0 {
			missing = slices.Compact(slices.Sorted(slices.Values(missing)))
			errs = append(errs, fmt.Errorf("%s (target): the user lacks TRIGGER on %s: two-way sync puts a trigger on each synced table "+
				"to record the application's deletes (tombstones), and under column-merge its column writes: "+
				"GRANT TRIGGER ON `%s`.* TO the user bgsync connects as",
				side, strings.Join(missing, ", "), strings.Join(missing, "`.*, `")))
		}
		var logBin, trust int
		if err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@log_bin_trust_function_creators`).Scan(&logBin, &trust); err != nil {
			errs = append(errs, fmt.Errorf("%s (target): read log_bin_trust_function_creators: %s", side, scrubAll(err.Error())))
			continue
		}
		if logBin == 1 && trust == 0 && len(missingPrivileges(ctx, db, "SUPER")) > 0 {
			errs = append(errs, fmt.Errorf("%s (target): with the binary log on, the server lets only SUPER create the triggers two-way sync "+
				"puts on each synced table to record the application's deletes (tombstones), and under column-merge its column writes: SET GLOBAL log_bin_trust_function_creators = 1 "+
				"(and log_bin_trust_function_creators=1 in my.cnf), or GRANT SUPER ON *.* TO the user bgsync connects as", side))
		}
	}
	return errs
}

// setupTombstonesMy creates (or, dry, prints) the tombstone triggers on
// the tombstone sides' tables, and the column-write triggers on those
// under column-merge (dropping them from the others), after bgsync's
// database (the triggers write its tombstones and column_writes tables).
// A table whose key has no key text gets none, and is named.
func (a *app) setupTombstonesMy(ctx context.Context, out io.Writer, my map[config.Side]*sql.DB, dryRun bool) error {
	for _, side := range a.tombstoneSides() {
		db := my[side]
		rules := a.cfg.ConflictRulesOn(side)
		var stmts []string
		merges := 0
		for _, t := range a.cfg.TablesOn(side) {
			merge := rules[t.String()].Policy == conflict.ColumnMerge
			s, err := applymy.ConflictTriggerSQL(ctx, db, a.cfg.Name, t, merge)
			if err != nil {
				fmt.Fprintf(out, "%s: warning: %s\n", side, scrubAll(err.Error()))
				continue
			}
			stmts = append(stmts, s...)
			if merge {
				merges++
			}
		}
		if dryRun {
			if len(stmts) > 0 {
				fmt.Fprintf(out, "-- %s (conflict handling)\n", side)
			}
			for _, s := range stmts {
				if strings.Contains(s, "\nBEGIN\n") { // a body with ';' inside, for the mysql client
					fmt.Fprintf(out, "DELIMITER //\n%s//\nDELIMITER ;\n", s)
					continue
				}
				fmt.Fprintf(out, "%s;\n", s)
			}
			continue
		}
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%s: %s: %s", side, s, scrubAll(err.Error()))
			}
		}
		what := "tombstone triggers"
		if merges > 0 {
			what += fmt.Sprintf("; column-write triggers on %d column-merge table(s)", merges)
		}
		fmt.Fprintf(out, "%s: conflict handling ready (%s)\n", side, what)
	}
	return nil
}
