package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/jackc/pgx/v5"
)

// minBinlogRetention is the shortest binlog retention setup accepts: a
// direction stopped for longer than the retention finds its position
// purged and has to start over from a snapshot.
const minBinlogRetention = 24 * time.Hour

// checkBinlogSource checks what capturing side's binlog needs and returns
// every problem, each with how to fix it.
func (a *app) checkBinlogSource(ctx context.Context, db *sql.DB, side config.Side) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (source): "+format, append([]any{side}, args...)...))
	}
	var logBin, format, image, version string
	var serverID uint32
	if err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@version`).
		Scan(&logBin, &format, &image, &serverID, &version); err != nil {
		return []error{fmt.Errorf("%s (source): read binlog settings: %w", side, err)}
	}
	if logBin != "1" && !strings.EqualFold(logBin, "ON") {
		bad("the binary log is off: start the server with log_bin (e.g. log_bin=mysql-bin in my.cnf) and restart it")
	}
	if !strings.EqualFold(format, "ROW") {
		bad("binlog_format is %s, bgsync needs ROW: SET GLOBAL binlog_format = 'ROW' and binlog_format=ROW in my.cnf (sessions already open keep the old format until they reconnect)", format)
	}
	if !strings.EqualFold(image, "FULL") {
		bad("binlog_row_image is %s, bgsync needs FULL (whole before and after images): SET GLOBAL binlog_row_image = 'FULL' and binlog_row_image=FULL in my.cnf", image)
	}
	var metadata string
	if err := db.QueryRowContext(ctx, `SELECT @@binlog_row_metadata`).Scan(&metadata); err != nil {
		bad("binlog_row_metadata is not available (%s): bgsync needs MariaDB 10.5+ or MySQL 8.0.1+, whose row events carry column names and the primary key", version)
	} else if !strings.EqualFold(metadata, "FULL") {
		bad("binlog_row_metadata is %s, bgsync needs FULL (column names and the primary key in every row event): SET GLOBAL binlog_row_metadata = 'FULL' and binlog_row_metadata=FULL in my.cnf", metadata)
	}
	if serverID == a.readerID(side) {
		bad("server_id %d is the id bgsync's binlog reader uses for this config: give the server another server_id", serverID)
	}
	if msg := binlogRetention(ctx, db); msg != "" {
		bad("%s", msg)
	}
	if missing := missingPrivileges(ctx, db, "REPLICATION SLAVE", "BINLOG MONITOR|REPLICATION CLIENT"); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i], _, _ = strings.Cut(m, "|")
		}
		bad("the user lacks %s, which reading the binlog needs: GRANT %s ON *.* TO the user bgsync connects as (on MySQL, REPLICATION CLIENT instead of BINLOG MONITOR)",
			strings.Join(names, " and "), strings.Join(names, ", "))
	}
	errs = append(errs, checkMyTables(ctx, db, side, "source", a.cfg.TablesOn(side))...)
	return errs
}

// binlogRetention returns a problem when binlogs expire sooner than
// minBinlogRetention, "" when they are kept long enough (or forever).
func binlogRetention(ctx context.Context, db *sql.DB) string {
	var secs sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT @@binlog_expire_logs_seconds`).Scan(&secs); err != nil {
		var days sql.NullFloat64
		if err := db.QueryRowContext(ctx, `SELECT @@expire_logs_days`).Scan(&days); err != nil || !days.Valid {
			return ""
		}
		secs = sql.NullInt64{Int64: int64(days.Float64 * 86400), Valid: true}
	}
	if !secs.Valid || secs.Int64 == 0 || time.Duration(secs.Int64)*time.Second >= minBinlogRetention {
		return ""
	}
	return fmt.Sprintf("binlogs expire after %s, shorter than %s: a direction stopped that long finds its position purged; SET GLOBAL binlog_expire_logs_seconds = 604800 (and in my.cnf)",
		time.Duration(secs.Int64)*time.Second, minBinlogRetention)
}

// missingPrivileges returns the global privileges of wants the current
// user does not hold; "A|B" is satisfied by either name.
func missingPrivileges(ctx context.Context, db *sql.DB, wants ...string) []string {
	rows, err := db.QueryContext(ctx, `SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`)
	if err != nil {
		return nil // cannot tell; the capture's own error will say
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var p string
		if rows.Scan(&p) == nil {
			have[strings.ToUpper(p)] = true
		}
	}
	var missing []string
	for _, w := range wants {
		ok := false
		for _, alt := range strings.Split(w, "|") {
			ok = ok || have[alt]
		}
		if !ok {
			missing = append(missing, w)
		}
	}
	return missing
}

// checkMyTables checks that every table exists on side and has a primary
// key, the row identity both capture and apply rely on.
func checkMyTables(ctx context.Context, db *sql.DB, side config.Side, role string, tables []config.TableRef) []error {
	var errs []error
	for _, t := range tables {
		var exists, hasPK bool
		err := db.QueryRowContext(ctx, `SELECT
	EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?),
	EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'PRIMARY KEY')`,
			t.Schema, t.Name, t.Schema, t.Name).Scan(&exists, &hasPK)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s (%s): table %s: %w", side, role, t, err))
		case !exists:
			errs = append(errs, fmt.Errorf("%s (%s): table %s does not exist (on MariaDB/MySQL a table is named database.table)", side, role, t))
		case !hasPK:
			errs = append(errs, fmt.Errorf("%s (%s): table %s has no primary key: bgsync identifies rows by it; ALTER TABLE %s ADD PRIMARY KEY (...)", side, role, t, t))
		}
	}
	return errs
}

// checkResumable checks that the binlog still holds where the direction
// from src resumes: the later of setup's recorded start and the target's
// checkpoint. A purged position means changes are lost to bgsync; only a
// fresh start (teardown, setup, a copy of the data) recovers.
func (a *app) checkResumable(ctx context.Context, conns *sideConns, src, dst config.Side) error {
	name := directionName(src, dst)
	start, startText, err := a.captureStart(ctx, conns.my[src], name)
	if err != nil {
		return nil // nothing recorded yet: setup records it now
	}
	resume, resumeText := start, startText
	if ck, text, ok := a.targetCheckpoint(ctx, conns, dst, name); ok && ck > resume {
		resume, resumeText = ck, text
	}
	files, err := binlogFiles(ctx, conns.my[src])
	if err != nil {
		return fmt.Errorf("%s (source): list the binary logs: %w", src, err)
	}
	first := "none"
	if len(files) > 0 {
		first = files[0]
	}
	if capturemy.IsGTID(resume) {
		_, form, err := capturemy.ParsePosition(startText)
		if err != nil || len(files) == 0 {
			return nil // the capture says what is wrong
		}
		// The oldest binary log starts after this GTID of the domain:
		// a resume point before it is purged.
		oldest, err := capturemy.GTIDAt(ctx, conns.my[src], files[0], 4, form.Domain)
		if err != nil {
			return fmt.Errorf("%s (source): read where the oldest binary log %s starts: %w", src, files[0], err)
		}
		if resume >= oldest {
			return nil
		}
		first += " (it starts after GTID " + form.Format(oldest) + ")"
	} else {
		for _, f := range files {
			if p, err := capturemy.PositionOf(f, 0); err == nil && p>>32 == resume>>32 {
				return nil
			}
		}
	}
	return fmt.Errorf("%s (source): %s resumes at binlog position %s, which the server no longer has (oldest binary log: %s): the changes since then are lost to bgsync. Start the direction afresh: bgsync teardown, bgsync setup, then copy the data over again; and keep binlogs longer (binlog_expire_logs_seconds) than a direction may be stopped",
		src, name, resumeText, first)
}

// targetCheckpoint reads the checkpoint of direction on dst, ok false when
// there is none (or it cannot be read: run will say).
func (a *app) targetCheckpoint(ctx context.Context, conns *sideConns, dst config.Side, direction string) (change.Position, string, bool) {
	var pos uint64
	var text string
	if db := conns.my[dst]; db != nil {
		err := db.QueryRowContext(ctx, "SELECT source_position, source_position_text FROM `"+a.cfg.Name+"`.checkpoints WHERE direction = ?", direction).Scan(&pos, &text)
		return change.Position(pos), text, err == nil
	}
	err := conns.pg[dst].QueryRow(ctx, "SELECT source_position::text::numeric::bigint, source_position_text FROM "+
		pgx.Identifier{a.cfg.Name, "checkpoints"}.Sanitize()+" WHERE direction = $1", direction).Scan(&pos, &text)
	return change.Position(pos), text, err == nil
}

// binlogFiles lists the server's binary logs, oldest first.
func binlogFiles(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var name string
		vals[0] = &name
		for i := 1; i < len(cols); i++ {
			vals[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
