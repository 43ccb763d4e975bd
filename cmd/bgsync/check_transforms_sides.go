package main

import (
	"context"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
)

// sampleTable is one side's table as check-transforms reads it.
type sampleTable struct {
	// cols are the live columns the mappings were compiled against, in the
	// order of the rows read gives.
	cols []transform.Column
	// ccols is the column list of a change carrying those rows, as the
	// side's capture describes it.
	ccols []change.Column
	// read calls each with up to limit rows (0: every row) in primary-key
	// order, each decoded into the values the side's capture gives the
	// same row. each may keep nothing: rows may be reused once it returns.
	read func(ctx context.Context, limit int, each func(change.Row)) error
	// close releases what the table holds open; it may be called once.
	close func()
}

// openSample prepares table t of side for sampling, with the side's
// engine: on PostgreSQL the connection in conns (a plain SELECT, see
// sampleRows); on MariaDB a consistent-snapshot view of its own
// (openSampleMy). Errors name the side's table.
func (a *app) openSample(ctx context.Context, conns *sideConns, side config.Side, t change.Table) (*sampleTable, error) {
	if db := conns.my[side]; db != nil {
		return a.openSampleMy(ctx, db, side, t)
	}
	conn := conns.pg[side]
	cols, err := transform.ReadColumns(ctx, conn, t)
	if err != nil {
		return nil, err
	}
	return &sampleTable{
		cols:  cols,
		ccols: transform.ChangeColumns(cols),
		read: func(ctx context.Context, limit int, each func(change.Row)) error {
			return sampleRows(ctx, conn, t, cols, limit, each)
		},
		close: func() {},
	}, nil
}

// addAsCaptured gives check-transforms a mapping for every table and
// direction compileTransformsOn leaves without one: between two
// MariaDB/MySQL sides, a table with neither transform nor rename, whose
// rows run applies as captured. For a round trip that is a copy by name
// with every value as it is: transform.Implicit's mapping, which converts
// nothing between columns of the same type. A table missing on a side is a
// config error, as compileTransformsOn reports it.
func (a *app) addAsCaptured(ctx context.Context, conns *sideConns, ms map[config.Side]mappings) error {
	var live []liveTable
	for _, from := range []config.Side{config.Blue, config.Green} {
		for i := range a.cfg.TableList {
			rule := a.cfg.TransformRule(i, from)
			if ms[from][rule.Source] != nil {
				continue
			}
			if live == nil {
				var probs []config.Problem
				var err error
				live, probs, err = a.readLiveOn(ctx, conns)
				if err != nil {
					return err
				}
				if len(probs) > 0 {
					return &config.Error{Source: a.cfg.Source(), Problems: probs}
				}
			}
			src, dst := live[i].cols[from], live[i].cols[from.Other()]
			if src == nil || dst == nil {
				return fmt.Errorf("table %s: no live columns on %s or %s", rule.Source, from, from.Other())
			}
			if ms[from] == nil {
				ms[from] = mappings{}
			}
			ms[from][rule.Source] = transform.Implicit(rule.Source, rule.Target, src, dst)
		}
	}
	return nil
}
