package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
)

// mappings holds, for the direction from one side, each table's compiled
// transform by its source table. Identity mappings are kept: verify and
// check-transforms use them; the pipeline skips them.
type mappings map[change.Table]*transform.Mapping

// liveTable is one table's live columns on both sides.
type liveTable struct {
	ref  map[config.Side]change.Table
	cols map[config.Side][]transform.Column
}

// readLive reads the columns of every configured table on both sides. A
// table missing on a side is a config problem at its name.
func (a *app) readLive(ctx context.Context, conns map[config.Side]*pgx.Conn) ([]liveTable, []config.Problem, error) {
	return a.readLiveOn(ctx, &sideConns{pg: conns})
}

// readLiveOn is readLive over connections of either engine: a
// MariaDB/MySQL side's columns come from information_schema
// (transform.ReadMySQLColumns).
func (a *app) readLiveOn(ctx context.Context, conns *sideConns) ([]liveTable, []config.Problem, error) {
	out := make([]liveTable, len(a.cfg.TableList))
	var probs []config.Problem
	for i, t := range a.cfg.TableList {
		lt := liveTable{ref: map[config.Side]change.Table{}, cols: map[config.Side][]transform.Column{}}
		for _, side := range []config.Side{config.Blue, config.Green} {
			ref, err := t.On(side)
			if err != nil {
				return nil, nil, a.cfg.Problem(fmt.Sprintf("tables[%d]", i), "%v", err)
			}
			lt.ref[side] = ref
			var cols []transform.Column
			if db := conns.my[side]; db != nil {
				cols, err = transform.ReadMySQLColumns(ctx, db, ref)
			} else {
				cols, err = transform.ReadColumns(ctx, conns.pg[side], ref)
			}
			if errors.Is(err, transform.ErrNoTable) {
				key := fmt.Sprintf("tables[%d].name", i)
				if side == config.Green && t.GreenName != "" {
					key = fmt.Sprintf("tables[%d].green_name", i)
				}
				hint := ""
				if a.binlog(side) {
					hint = " (on MariaDB/MySQL a table is named database.table)"
				}
				probs = append(probs, a.cfg.Problem(key, "table %s does not exist on %s%s", ref, side, hint).Problems...)
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", side, err)
			}
			lt.cols[side] = cols
		}
		out[i] = lt
	}
	return out, probs, nil
}

// compileTransforms compiles every table's transform for the directions
// from each side in froms against the live schemas. Every problem of every
// table and direction is reported at once, as one config error (exit 2).
func (a *app) compileTransforms(ctx context.Context, conns map[config.Side]*pgx.Conn, froms ...config.Side) (map[config.Side]mappings, error) {
	return a.compileTransformsOn(ctx, &sideConns{pg: conns}, froms...)
}

// compileTransformsOn is compileTransforms over connections of either
// engine. Between two engines, a table with no transform configured for a
// direction gets transform.Implicit's mapping: names kept, values
// converted to the kinds the target's engine gives them. Between two
// MariaDB/MySQL sides such a table (same name on both) gets none.
func (a *app) compileTransformsOn(ctx context.Context, conns *sideConns, froms ...config.Side) (map[config.Side]mappings, error) {
	live, probs, err := a.readLiveOn(ctx, conns)
	if err != nil {
		return nil, err
	}
	out := map[config.Side]mappings{}
	for _, from := range froms {
		out[from] = mappings{}
		mixed := a.binlog(from) != a.binlog(from.Other())
		for i, lt := range live {
			src, dst := lt.cols[from], lt.cols[from.Other()]
			if src == nil || dst == nil {
				continue // reported by readLive
			}
			rule := a.cfg.TransformRule(i, from)
			plain := a.cfg.TableList[i].Transforms.From(from) == nil
			switch {
			case plain && mixed:
				out[from][lt.ref[from]] = transform.Implicit(rule.Source, rule.Target, src, dst)
				continue
			case plain && rule.Source == rule.Target && a.binlog(from):
				// Between two MariaDB/MySQL sides a table without a
				// transform or rename is applied as captured: its rows are
				// decoded from the binlog's own table map, and a schema
				// change on the source pauses its direction with the
				// position to accept once the other side matches; today's
				// columns must not refuse the restart that reports it.
				continue
			}
			m, tp := transform.Compile(rule, src, dst)
			if e := a.cfg.TransformProblems(i, from, tp); e != nil {
				probs = append(probs, e.Problems...)
				continue
			}
			out[from][lt.ref[from]] = m
		}
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			li, lj := probs[i].Line, probs[j].Line
			return li != 0 && (lj == 0 || li < lj)
		})
		return nil, &config.Error{Source: a.cfg.Source(), Problems: probs}
	}
	return out, nil
}

// connectBoth opens a connection to each side; the caller closes them.
func (a *app) connectBoth(ctx context.Context) (map[config.Side]*pgx.Conn, error) {
	conns := map[config.Side]*pgx.Conn{}
	for _, side := range []config.Side{config.Blue, config.Green} {
		c, err := a.connect(ctx, side)
		if err != nil {
			for _, c := range conns {
				c.Close(context.Background())
			}
			return nil, err
		}
		conns[side] = c
	}
	return conns, nil
}
