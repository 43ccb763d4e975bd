package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/jackc/pgx/v5"
)

// checkConflicts checks what conflict detection and resolution need on the
// sides a direction writes to, and says how to fix each problem. With
// fixIdentity, tables lacking REPLICA IDENTITY FULL are not reported (setup
// sets it). conns holds the PostgreSQL sides; my the MariaDB/MySQL ones
// (nil between two PostgreSQL sides), where only the timestamp column is
// checked: those servers keep no commit times to configure.
func (a *app) checkConflicts(ctx context.Context, conns map[config.Side]*pgx.Conn, my map[config.Side]*sql.DB, fixIdentity bool) []error {
	var errs []error
	both := a.cfg.Directions == config.Both
	errs = append(errs, a.checkTimestampColumns(ctx, conns, my)...)
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		if conns[dst] != nil {
			errs = append(errs, checkPGTarget(ctx, conns[dst], dst, both)...)
		}
		if !both || fixIdentity || conns[src] == nil {
			continue
		}
		for _, entry := range a.cfg.TableList {
			t, err := entry.On(src)
			if err != nil {
				continue // Validate reported it
			}
			var ident string
			err = conns[src].QueryRow(ctx, `SELECT relreplident::text FROM pg_class
WHERE oid = to_regclass(quote_ident($1) || '.' || quote_ident($2))`, t.Schema, t.Name).Scan(&ident)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: read replica identity of %s: %w", src, t, err))
				continue
			}
			if ident != "f" {
				errs = append(errs, fmt.Errorf("%s: table %s has REPLICA IDENTITY %s: conflict detection compares the whole old row, "+
					"which only REPLICA IDENTITY FULL sends: ALTER TABLE %s REPLICA IDENTITY FULL (or run bgsync setup --replica-identity-full)",
					src, t, identityName(ident), pgx.Identifier{t.Schema, t.Name}.Sanitize()))
			}
		}
	}
	return dedupe(errs)
}

// checkPGTarget checks what a PostgreSQL target needs: commit times (when
// both directions run) and the replication-origin functions.
func checkPGTarget(ctx context.Context, conn *pgx.Conn, dst config.Side, both bool) []error {
	var errs []error
	if both {
		var on string
		if err := conn.QueryRow(ctx, `SHOW track_commit_timestamp`).Scan(&on); err != nil {
			errs = append(errs, fmt.Errorf("%s: read track_commit_timestamp: %w", dst, err))
		} else if on != "on" {
			errs = append(errs, fmt.Errorf("%s: track_commit_timestamp is off; conflict resolution needs each row's commit time: "+
				"ALTER SYSTEM SET track_commit_timestamp = on, then restart the server", dst))
		}
	}
	var canOrigin bool
	if err := conn.QueryRow(ctx, `SELECT has_function_privilege('pg_replication_origin_session_setup(text)', 'EXECUTE')`).Scan(&canOrigin); err != nil {
		errs = append(errs, fmt.Errorf("%s: check replication origin privileges: %w", dst, err))
	} else if !canOrigin {
		errs = append(errs, fmt.Errorf("%s: the bgsync user may not use replication origins (loop prevention): "+
			"GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text), pg_replication_origin_xact_setup(pg_lsn, timestamptz), "+
			"pg_replication_origin_create(text) TO <bgsync user>, or make it a superuser", dst))
	}
	return errs
}

// checkTimestampColumns checks that every last-writer-wins timestamp
// column exists on both sides (every direction reads and writes it there)
// and, where a side is MariaDB/MySQL, that it holds times on both: it then
// orders a write against a delete by time (package conflict), and a
// MariaDB/MySQL target has no commit time per row to fall back on.
func (a *app) checkTimestampColumns(ctx context.Context, conns map[config.Side]*pgx.Conn, my map[config.Side]*sql.DB) []error {
	var errs []error
	for i, entry := range a.cfg.TableList {
		col := entry.Conflict.TimestampColumn
		if col == "" {
			continue
		}
		key := fmt.Sprintf("tables[%d].conflict.timestamp_column", i)
		for _, side := range []config.Side{config.Blue, config.Green} {
			t, err := entry.On(side)
			if err != nil {
				continue // Validate reported it
			}
			var typ string
			isTime := false
			if db := my[side]; db != nil {
				err = db.QueryRowContext(ctx, `SELECT DATA_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?`, t.Schema, t.Name, col).Scan(&typ)
				isTime = typ == "datetime" || typ == "timestamp"
			} else {
				err = conns[side].QueryRow(ctx, `SELECT format_type(atttypid, NULL), atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype) FROM pg_attribute
WHERE attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) AND attname = $3 AND attnum > 0 AND NOT attisdropped`,
					t.Schema, t.Name, col).Scan(&typ, &isTime)
			}
			switch {
			case errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows):
				errs = append(errs, a.cfg.Problem(key, "table %s on %s has no column %q", t, side, col))
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: check column %s of %s: %s", side, col, t, scrubAll(err.Error())))
			case !isTime && len(my) > 0:
				errs = append(errs, a.cfg.Problem(key,
					"table %s on %s: column %q is %s; with a MariaDB/MySQL side the timestamp column must hold times (DATETIME or TIMESTAMP there, timestamp or timestamptz on PostgreSQL), since it orders a write against a delete",
					t, side, col, typ))
			}
		}
	}
	return errs
}

func identityName(c string) string {
	switch c {
	case "d":
		return "DEFAULT"
	case "n":
		return "NOTHING"
	case "i":
		return "USING INDEX"
	}
	return c
}

// dedupe drops repeated messages (a side checked as the target of one
// direction and the source of the other).
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	var out []error
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// conflictSetupSQL returns, per side, the statements that prepare conflict
// handling: REPLICA IDENTITY FULL on the sources (when asked) and the
// tombstone trigger on every target table, and the column-write trigger on
// the target tables under column-merge (removed from the others). Sides
// missing from conns (MariaDB/MySQL) get nothing.
func (a *app) conflictSetupSQL(ctx context.Context, conns map[config.Side]*pgx.Conn, fixIdentity bool) (map[config.Side][]string, error) {
	out := map[config.Side][]string{}
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		rules := a.cfg.ConflictRulesOn(dst)
		for _, entry := range a.cfg.TableList {
			s, err1 := entry.On(src)
			t, err2 := entry.On(dst)
			if err1 != nil || err2 != nil {
				continue // Validate reported it
			}
			if fixIdentity && conns[src] != nil {
				out[src] = append(out[src], "ALTER TABLE "+pgx.Identifier{s.Schema, s.Name}.Sanitize()+" REPLICA IDENTITY FULL")
			}
			if conns[dst] == nil {
				continue
			}
			key, err := applypg.TableKey(ctx, conns[dst], t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", dst, err)
			}
			out[dst] = append(out[dst], applypg.TombstoneTriggerSQL(a.cfg.Name, t, key)...)
			merge := rules[t.String()].Policy == conflict.ColumnMerge
			out[dst] = append(out[dst], applypg.ColumnTriggerSQL(a.cfg.Name, t, key, merge)...)
		}
	}
	return out, nil
}
