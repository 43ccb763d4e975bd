package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5/pgconn"
)

// prepareAll prepares every statement shape not seen before on this
// session, inside the open target transaction (after the rows were read
// and decided). Prepared statements outlive a rollback; staging tables do
// not, which is why a rollback forgets them (see rollback).
func (a *Applier) prepareAll(ctx context.Context, p *plan) error {
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.stageDDL != "" && !a.staged[s.stageDDL] {
			if _, err := a.conn.Exec(ctx, s.stageDDL); err != nil {
				return a.stmtError(s, err)
			}
			a.staged[s.stageDDL] = true
		}
		if _, ok := a.prepared[s.sql]; ok || s.copyData != nil {
			continue
		}
		name := "bgsync_" + strconv.Itoa(len(a.prepared))
		if _, err := a.conn.PgConn().Prepare(ctx, name, s.sql, nil); err != nil {
			return a.stmtError(s, err)
		}
		a.prepared[s.sql] = name
	}
	return nil
}

// begin opens the target transaction. With an origin it records the
// group's last source commit time and position on it, so the rows carry
// the source commit time.
func (a *Applier) begin(ctx context.Context, last *change.Txn) error {
	e := &executor{a: a, p: &plan{}, res: &Result{}, last: last}
	e.control("BEGIN", nil)
	if a.cfg.Origin != "" {
		e.control("SELECT pg_replication_origin_xact_setup($1, $2)",
			[][]byte{[]byte(last.Position.String()), []byte(last.CommitTime.UTC().Format(time.RFC3339Nano))})
	}
	return e.flush(ctx)
}

// execute sends the plan inside the open transaction: statements as
// pipelined batches, runs of inserts as COPY, the conflict log, the
// checkpoint last, then COMMIT. It checks every statement's result.
func (a *Applier) execute(ctx context.Context, p *plan, conflicts []conflictRecord, last *change.Txn, ntxns int, kafkaOffset int64, res *Result) error {
	pc := a.conn.PgConn()
	e := &executor{a: a, p: p, res: res, last: last}
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.copyData != nil {
			if err := e.flush(ctx); err != nil {
				return err
			}
			tag, err := pc.CopyFrom(ctx, bytes.NewReader(s.copyData), s.sql)
			if err != nil {
				if isStatementError(err) {
					return a.stmtError(s, err)
				}
				return &TargetError{Op: "copy into " + s.first.Table.String(), Err: err}
			}
			if s.then != "" {
				rs, err := pc.Exec(ctx, s.then).ReadAll()
				if err == nil && len(rs) > stagedUpdateResult {
					err, tag = rs[stagedUpdateResult].Err, rs[stagedUpdateResult].CommandTag
				}
				if err != nil {
					if isStatementError(err) {
						return a.stmtError(s, err)
					}
					return &TargetError{Op: "update " + s.first.Table.String() + " from staging", Err: err}
				}
			}
			a.count(s, tag.RowsAffected(), res)
			continue
		}
		e.b.ExecPrepared(a.prepared[s.sql], s.params, nil, nil)
		e.idx = append(e.idx, i)
		if len(e.idx) >= a.cfg.PipelineStatements {
			if err := e.flush(ctx); err != nil {
				return err
			}
		}
	}
	if len(conflicts) > 0 {
		sql := insertConflictSQL(a.cfg.Schema)
		for _, c := range conflicts {
			e.control(sql, c.params)
		}
	}
	e.control(a.ckptSQL, [][]byte{
		[]byte(a.cfg.Direction),
		[]byte(strconv.FormatUint(uint64(last.Position), 10)),
		[]byte(a.cfg.positionText(last.Position)),
		[]byte(last.CommitTime.UTC().Format(time.RFC3339Nano)),
		[]byte(strconv.FormatInt(kafkaOffset, 10)),
		[]byte(strconv.Itoa(ntxns)),
	})
	e.control("COMMIT", nil)
	results, err := e.send(ctx)
	if err != nil {
		return err
	}
	if tag := results[len(results)-1].CommandTag.String(); tag != "COMMIT" {
		return &TargetError{Op: "commit", Err: fmt.Errorf("server answered %q", tag)}
	}
	return nil
}

// executor accumulates one pipelined batch.
type executor struct {
	a    *Applier
	p    *plan
	res  *Result
	last *change.Txn
	b    pgconn.Batch
	idx  []int // plan statement index per batch entry, -1 for control statements
}

func (e *executor) control(sql string, params [][]byte) {
	e.b.ExecParams(sql, params, nil, nil, nil)
	e.idx = append(e.idx, -1)
}

func (e *executor) flush(ctx context.Context) error {
	if len(e.idx) == 0 {
		return nil
	}
	_, err := e.send(ctx)
	return err
}

// send runs the batch and checks each result.
func (e *executor) send(ctx context.Context) ([]*pgconn.Result, error) {
	a, idx := e.a, e.idx
	results, err := a.conn.PgConn().ExecBatch(ctx, &e.b).ReadAll()
	e.b, e.idx = pgconn.Batch{}, nil
	for k, r := range results {
		if r.Err != nil {
			err = r.Err
			if k < len(idx) && idx[k] >= 0 {
				return nil, a.stmtError(&e.p.stmts[idx[k]], err)
			}
			break
		}
		if k < len(idx) && idx[k] >= 0 {
			a.count(&e.p.stmts[idx[k]], r.CommandTag.RowsAffected(), e.res)
		}
	}
	op := "apply transaction group ending at " + e.a.cfg.positionText(e.last.Position)
	if err != nil {
		// The failing statement is the first without a result.
		if k := len(results); k < len(idx) && idx[k] >= 0 && isStatementError(err) {
			return nil, a.stmtError(&e.p.stmts[idx[k]], err)
		}
		return nil, &TargetError{Op: op, Err: err}
	}
	if len(results) != len(idx) {
		return nil, &TargetError{Op: op, Err: fmt.Errorf("got %d results for %d statements", len(results), len(idx))}
	}
	return results, nil
}

func (a *Applier) count(s *stmt, affected int64, res *Result) {
	switch s.op {
	case change.OpInsert:
		res.Inserted += int(affected)
	case change.OpUpdate:
		res.Updated += int(affected)
	case change.OpDelete:
		res.Deleted += int(affected)
	case change.OpTruncate:
		res.Truncated++
		return
	}
	if s.op != change.OpInsert && affected < int64(s.rows) {
		missing := s.rows - int(affected)
		res.Missing += missing
		a.cfg.Logger.Warn("row not found on target", "direction", a.cfg.Direction, "op", s.op.String(),
			"table", s.first.Table.String(), "rows", missing, "position", s.pos.String())
	}
}

func (a *Applier) stmtError(s *stmt, err error) error {
	key := "?"
	if tt, ok := a.tables[s.first.Table]; ok {
		key = keyString(tt, s.first)
	}
	return &ApplyError{Table: s.first.Table, Op: s.op, Key: key, Position: s.pos, PositionText: a.cfg.positionText(s.pos), Err: err}
}

// isStatementError tells a server's rejection of a statement from a lost
// connection.
func isStatementError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}
