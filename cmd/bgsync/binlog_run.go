package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/pipeline"
)

// preflightBinlog is run's preflight for a pair where a side is
// MariaDB/MySQL: both sides answer, setup recorded where each binlog
// source starts, and every table's transforms compile against the live
// schemas of both engines. It returns those start positions by source side,
// and the compiled mappings of each direction by its source side (between
// two engines, tables without transforms get transform.Implicit's).
func (a *app) preflightBinlog(ctx context.Context) (map[config.Side]change.Position, map[config.Side]mappings, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conns, err := a.connectSides(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conns.close()
	starts := map[config.Side]change.Position{}
	var errs []error
	for _, d := range a.directions() {
		src, dst := d[0], d[1]
		if !a.binlog(src) {
			if err := a.checkSlot(ctx, conns.pg[src], src); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		pos, text, err := a.captureStart(ctx, conns.my[src], directionName(src, dst))
		if errors.Is(err, errNoCaptureStart) {
			errs = append(errs, fmt.Errorf("%s: no binlog start position is recorded for %s; run bgsync setup first", src, directionName(src, dst)))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: read the binlog start position: %w", src, err))
			continue
		}
		if err := a.checkResumable(ctx, conns, src, dst); err != nil {
			errs = append(errs, err)
			continue
		}
		starts[src] = pos
		// Setup chose the form of the direction's positions; its recorded
		// start says which, and the base name or domain for printing them.
		_, form, err := capturemy.ParsePosition(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: the recorded binlog start position %q: %w", src, text, err))
			continue
		}
		a.binlogForm[src] = form
		if a.acceptDDL != 0 && capturemy.IsGTID(a.acceptDDL) != form.GTID {
			errs = append(errs, fmt.Errorf("%s: --accept-schema-change is not in the form of %s's positions (%s): give the position the pause message printed",
				src, directionName(src, dst), positionsNoun(form.GTID)))
			continue
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	var froms []config.Side
	for _, d := range a.directions() {
		froms = append(froms, d[0])
	}
	maps, err := a.compileTransformsOn(ctx, conns, froms...)
	if err != nil {
		return nil, nil, err
	}
	return starts, maps, nil
}

// binlogSource adapts capture/mysql to the pipeline.
type binlogSource struct{ *capturemy.Capture }

func (s binlogSource) Progress() pipeline.SourceProgress {
	st := s.Stats()
	return pipeline.SourceProgress{EchoTxns: st.EchoTxns, CaptureLag: st.CaptureLag}
}

// binlogEngines points cfg's capture at src's binlog and its apply at a
// MariaDB/MySQL dst, where those sides are such.
func (a *app) binlogEngines(cfg *pipeline.Config, src, dst config.Side, start change.Position) {
	name := directionName(src, dst)
	if a.binlog(src) {
		tables := map[change.Table]bool{}
		for _, t := range a.cfg.TablesOn(src) {
			tables[t] = true
		}
		cc := capturemy.Config{
			DSN:      a.dsn[src],
			ServerID: a.readerID(src),
			Flavor:   flavor(a.cfg.EngineOf(src)),
			Tables:   tables,
			Start:    start,
			// GTID positions when setup recorded a GTID start.
			GTID:       a.binlogForm[src].GTID,
			GTIDDomain: a.binlogForm[src].Domain,
			// Schema changes the operator has dealt with and accepted.
			AcceptSchemaChangeThrough: a.acceptDDL,
			// Written by the direction's heartbeat writer (OpenBeater).
			Heartbeats: change.Table{Schema: a.cfg.Name, Name: "heartbeats"},
		}
		if a.cfg.EngineOf(src) == config.EngineMySQL {
			// MySQL has no skip_replication: the other direction's applier
			// marks its transactions with a row in this table.
			cc.Marker = change.Table{Schema: a.cfg.Name, Name: applymy.MarkerTableName}
		}
		cfg.OpenBeater = a.openMyBeater(src)
		cfg.FormatPosition = a.binlogForm[src].Format
		cfg.OpenSource = func(log *slog.Logger) (pipeline.Source, error) {
			c := cc
			c.Logger = log
			capt, err := capturemy.New(c)
			if err != nil {
				return nil, err
			}
			return binlogSource{capt}, nil
		}
	}
	// The target stores positions as the source prints them.
	cfg.Apply.FormatPosition = cfg.FormatPosition
	if a.binlog(dst) {
		ac := applymy.Config{
			DSN:         a.dsn[dst],
			Schema:      a.cfg.Name,
			Direction:   name,
			From:        conflictSide(src),
			Rules:       a.cfg.ConflictRulesOn(dst),
			MarkerTable: a.cfg.EngineOf(dst) == config.EngineMySQL,
			Logger:      a.log, // the applier names the direction itself
			// nil for a PostgreSQL source: the LSN form.
			FormatPosition: cfg.FormatPosition,
		}
		cfg.OpenTarget = func(ctx context.Context, heartbeats change.Table) (pipeline.Target, error) {
			c := ac
			c.Heartbeats = heartbeats
			return applymy.Open(ctx, c)
		}
	}
}

func flavor(e config.Engine) string {
	if e == config.EngineMySQL {
		return "mysql"
	}
	return "mariadb"
}

func positionsNoun(gtid bool) string {
	if gtid {
		return "GTIDs, domain-server-seq"
	}
	return "binlog file offsets, file:offset"
}
