package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturemy "github.com/bgsync/bgsync/capture/mysql"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/jackc/pgx/v5"
)

// sideConns holds one open connection per side, of the side's engine.
type sideConns struct {
	pg map[config.Side]*pgx.Conn
	my map[config.Side]*sql.DB
}

func (c *sideConns) close() {
	for _, p := range c.pg {
		p.Close(context.Background())
	}
	for _, m := range c.my {
		m.Close()
	}
}

// connectSides opens both sides, each with its engine's driver, and
// reports every side that cannot be reached.
func (a *app) connectSides(ctx context.Context) (*sideConns, error) {
	c := &sideConns{pg: map[config.Side]*pgx.Conn{}, my: map[config.Side]*sql.DB{}}
	var errs []error
	for _, side := range []config.Side{config.Blue, config.Green} {
		if a.binlog(side) {
			db, err := a.openMy(ctx, side)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.my[side] = db
			continue
		}
		conn, err := a.connect(ctx, side)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.pg[side] = conn
	}
	if len(errs) > 0 {
		c.close()
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// setupBinlogPair is setup for a pair where a side is MariaDB/MySQL: it
// checks every direction's source and target and reports every problem at
// once, then compiles every table's transforms against both live schemas
// (a config error, exit 2, with every problem and its line), then creates
// on each source what capture needs (PostgreSQL: the publication,
// slot and heartbeat table; MariaDB/MySQL: the recorded start position)
// and on each target bgsync's schema; a PostgreSQL side gets the
// same conflict handling (tombstone triggers, REPLICA IDENTITY FULL when
// asked) as between two PostgreSQL sides, and a MariaDB/MySQL side of a
// two-way pair its tombstone triggers (setup_tombstones_my.go).
func (a *app) setupBinlogPair(ctx context.Context, out io.Writer, dryRun, fixIdentity bool) error {
	conns, err := a.connectSides(ctx)
	if err != nil {
		return err
	}
	defer conns.close()
	var errs []error
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		if a.binlog(src) {
			errs = append(errs, a.checkBinlogSource(ctx, conns.my[src], src)...)
			if err := a.checkResumable(ctx, conns, src, dst); err != nil {
				errs = append(errs, err)
			}
		} else if err := capturepg.Check(ctx, conns.pg[src], a.captureSetup(src)); err != nil {
			errs = append(errs, err)
		}
		if a.binlog(dst) {
			errs = append(errs, checkMyTables(ctx, conns.my[dst], dst, "target", a.cfg.TablesOn(dst))...)
		} else if err := applypg.CheckTargets(ctx, conns.pg[dst], a.cfg.TablesOn(dst)); err != nil {
			errs = append(errs, fmt.Errorf("%s (target): %w", dst, err))
		}
	}
	errs = append(errs, a.checkConflicts(ctx, conns.pg, conns.my, fixIdentity)...)
	errs = append(errs, a.checkTombstonePrivileges(ctx, conns.my)...)
	if err := errors.Join(dedupe(errs)...); err != nil {
		return err
	}
	// The transforms once the tables are known to be there, with their
	// keys (a missing primary key is said above, not as a key mapping).
	var froms []config.Side
	for _, d := range a.directions() {
		froms = append(froms, d[0])
	}
	if _, err := a.compileTransformsOn(ctx, conns, froms...); err != nil {
		return err
	}
	extra, err := a.conflictSetupSQL(ctx, conns.pg, fixIdentity)
	if err != nil {
		return err
	}
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		name := directionName(src, dst)
		if err := a.setupSource(ctx, out, conns, src, dst, dryRun); err != nil {
			return err
		}
		sqls := applypg.SchemaSQL(a.cfg.Name)
		if a.binlog(dst) {
			sqls = applymy.SchemaSQL(a.cfg.Name)
		}
		if dryRun {
			fmt.Fprintf(out, "-- %s (target of %s)\n", dst, name)
			for _, s := range sqls {
				fmt.Fprintf(out, "%s;\n", s)
			}
			continue
		}
		for _, s := range sqls {
			if err := conns.exec(ctx, dst, s); err != nil {
				return fmt.Errorf("%s: %s: %w", dst, s, err)
			}
		}
		fmt.Fprintf(out, "%s: schema %s ready\n", dst, a.cfg.Name)
	}
	if err := a.setupTombstonesMy(ctx, out, conns.my, dryRun); err != nil {
		return err
	}
	return a.applyConflictSetup(ctx, out, conns.pg, extra, fixIdentity, dryRun)
}

// exec runs one statement on side.
func (c *sideConns) exec(ctx context.Context, side config.Side, s string) error {
	if db := c.my[side]; db != nil {
		_, err := db.ExecContext(ctx, s)
		return err
	}
	_, err := c.pg[side].Exec(ctx, s)
	return err
}

// setupSource prepares src's capture for the direction to dst.
func (a *app) setupSource(ctx context.Context, out io.Writer, conns *sideConns, src, dst config.Side, dryRun bool) error {
	name := directionName(src, dst)
	if !a.binlog(src) {
		if dryRun {
			sqls, err := capturepg.SetupSQL(ctx, conns.pg[src], a.captureSetup(src))
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "-- %s (source of %s)\n", src, name)
			for _, s := range sqls {
				fmt.Fprintf(out, "%s;\n", s)
			}
			return nil
		}
		if err := capturepg.Setup(ctx, conns.pg[src], a.captureSetup(src)); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: publication %s and slot %s ready\n", src, a.cfg.PublicationName(), a.cfg.SlotName(src))
		return nil
	}
	db := conns.my[src]
	pos, base, err := capturemy.CurrentPosition(ctx, a.dsn[src])
	if err != nil {
		return fmt.Errorf("%s: read the binlog position: %w", src, err)
	}
	// GTID positions where the source allows them (a failover is then
	// followed), file positions otherwise; the recorded start fixes the
	// form for the life of the direction.
	form, why, err := capturemy.ChooseForm(ctx, db, flavor(a.cfg.EngineOf(src)), base)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if form.GTID {
		if pos, err = capturemy.CurrentPositionIn(ctx, db, form); err != nil {
			return fmt.Errorf("%s: read the GTID position: %w", src, err)
		}
	}
	text := form.Format(pos)
	record := "INSERT IGNORE INTO " + a.captureStartTable() + " (direction, position, position_text) VALUES (?, ?, ?)"
	if dryRun {
		fmt.Fprintf(out, "-- %s (source of %s)\n", src, name)
		for _, s := range a.captureStartSQL() {
			fmt.Fprintf(out, "%s;\n", s)
		}
		fmt.Fprintf(out, "%s; -- ('%s', %d, '%s')\n", record, name, uint64(pos), text)
		return nil
	}
	for _, s := range a.captureStartSQL() {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %s: %w", src, s, err)
		}
	}
	// The first setup's position stays: running setup again never skips
	// changes made since.
	if _, err := db.ExecContext(ctx, record, name, uint64(pos), text); err != nil {
		return fmt.Errorf("%s: record the start position: %w", src, err)
	}
	_, startText, err := a.captureStart(ctx, db, name)
	if err != nil {
		return fmt.Errorf("%s: read back the start position: %w", src, err)
	}
	fmt.Fprintf(out, "%s: binlog capture for %s starts at %s (when %s holds no checkpoint)\n", src, name, startText, dst)
	switch _, recorded, err := capturemy.ParsePosition(startText); {
	case err != nil:
		return fmt.Errorf("%s: the recorded start position %q: %w", src, startText, err)
	case recorded.GTID:
		fmt.Fprintf(out, "%s: positions are GTIDs of domain %d: after a failover, point bgsync at the new primary (a replica that logged these GTIDs with log_slave_updates) and it resumes there\n", src, recorded.Domain)
		var strict bool
		if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_strict_mode").Scan(&strict); err == nil && !strict {
			fmt.Fprintf(out, "%s: note: gtid_strict_mode is OFF: turn it on on every server of the topology (SET GLOBAL gtid_strict_mode = ON, and in my.cnf), so that the servers refuse out-of-order GTIDs; bgsync stops on them either way\n", src)
		}
	case form.GTID:
		fmt.Fprintf(out, "%s: positions are binlog file offsets, as recorded by an earlier setup (bgsync teardown, then setup, to record GTIDs)\n", src)
	default:
		fmt.Fprintf(out, "%s: positions are binlog file offsets (%s): a failover of %s is not followed\n", src, why, src)
	}
	return nil
}
