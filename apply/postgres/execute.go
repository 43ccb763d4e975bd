package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5/pgconn"
)

// prepareAll prepares every statement shape not seen before on this
// session. It runs before BEGIN, so a failure leaves nothing half done.
func (a *Applier) prepareAll(ctx context.Context, p *plan) error {
	for i := range p.stmts {
		s := &p.stmts[i]
		if _, ok := a.prepared[s.sql]; ok {
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

// execute sends the plan as pipelined batches inside one transaction, the
// checkpoint last, then COMMIT; it checks every statement's result.
func (a *Applier) execute(ctx context.Context, p *plan, last *change.Txn, ntxns int, kafkaOffset int64, res *Result) error {
	pc := a.conn.PgConn()
	i := 0
	for first := true; ; first = false {
		b := &pgconn.Batch{}
		var idx []int // plan statement index per batch entry, -1 for control statements
		if first {
			b.ExecParams("BEGIN", nil, nil, nil, nil)
			idx = append(idx, -1)
			if a.cfg.Origin != "" {
				b.ExecParams("SELECT pg_replication_origin_xact_setup($1, $2)",
					[][]byte{[]byte(last.Position.String()), []byte(last.CommitTime.UTC().Format(time.RFC3339Nano))}, nil, nil, nil)
				idx = append(idx, -1)
			}
		}
		for n := 0; i < len(p.stmts) && n < a.cfg.PipelineStatements; n++ {
			s := &p.stmts[i]
			b.ExecPrepared(a.prepared[s.sql], s.params, nil, nil)
			idx = append(idx, i)
			i++
		}
		done := i == len(p.stmts)
		if done {
			b.ExecParams(a.ckptSQL, [][]byte{
				[]byte(a.cfg.Direction),
				[]byte(strconv.FormatUint(uint64(last.Position), 10)),
				[]byte(last.Position.String()),
				[]byte(last.CommitTime.UTC().Format(time.RFC3339Nano)),
				[]byte(strconv.FormatInt(kafkaOffset, 10)),
				[]byte(strconv.Itoa(ntxns)),
			}, nil, nil, nil)
			b.ExecParams("COMMIT", nil, nil, nil, nil)
			idx = append(idx, -1, -1)
		}
		results, err := pc.ExecBatch(ctx, b).ReadAll()
		for k, r := range results {
			if r.Err != nil {
				err = r.Err
				if k < len(idx) && idx[k] >= 0 {
					return a.stmtError(&p.stmts[idx[k]], err)
				}
				break
			}
			if k < len(idx) && idx[k] >= 0 {
				a.count(&p.stmts[idx[k]], r.CommandTag.RowsAffected(), res)
			}
		}
		if err != nil {
			// The failing statement is the first without a result.
			if k := len(results); k < len(idx) && idx[k] >= 0 && isStatementError(err) {
				return a.stmtError(&p.stmts[idx[k]], err)
			}
			return &TargetError{Op: "apply transaction group ending at " + last.Position.String(), Err: err}
		}
		if len(results) != len(idx) {
			return &TargetError{Op: "apply transaction group ending at " + last.Position.String(),
				Err: fmt.Errorf("got %d results for %d statements", len(results), len(idx))}
		}
		if done {
			if tag := results[len(results)-1].CommandTag.String(); tag != "COMMIT" {
				return &TargetError{Op: "commit", Err: fmt.Errorf("server answered %q", tag)}
			}
			return nil
		}
	}
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
	return &ApplyError{Table: s.first.Table, Op: s.op, Key: key, Position: s.pos, Err: err}
}

// isStatementError tells a server's rejection of a statement from a lost
// connection.
func isStatementError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}
