package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/apply"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
	"github.com/bgsync/bgsync/transport"
)

// TransformError is a change a transform could not map, on a table that
// pauses on errors: the direction stops there until bgsync is restarted
// with a mapping (or data) that works. Between two engines the mapping of
// a table without a transform converts values to the target's kinds
// (transform.Implicit); a value it cannot convert is a TransformError too.
type TransformError struct {
	Direction string
	Table     change.Table // source table
	Key       string       // "(id)=(42)"
	Position  change.Position
	// PositionText is Position as the source's engine prints it
	// ("mysql-bin.000003:1234"), "" to print it as an LSN.
	PositionText string
	Err          *transform.RowError
}

func (e *TransformError) Error() string {
	pos := e.PositionText
	if pos == "" {
		pos = e.Position.String()
	}
	if e.Err.Implicit {
		return fmt.Sprintf("type conversion failed: table %s → %s, key %s, column %s, source position %s: %v; "+
			"the direction is paused: fix the row, or make the column types agree (or configure a transform), then restart bgsync "+
			"(or set on_error: dead-letter on the table)",
			e.Table, e.Err.Target, e.Key, e.Err.Column, pos, e.Err.Err)
	}
	expr := ""
	if e.Err.Expr != "" {
		expr = fmt.Sprintf(", expression %q", e.Err.Expr)
	}
	return fmt.Sprintf("transform failed: table %s → %s, key %s, column %s%s, source position %s: %v; "+
		"the direction is paused: fix the transform or the row, then restart bgsync (or set on_error: dead-letter on the table)",
		e.Table, e.Err.Target, e.Key, e.Err.Column, expr, pos, e.Err.Err)
}

func (e *TransformError) Unwrap() error { return e.Err }

// Retryable: the same row fails the same way on every retry.
func (e *TransformError) Retryable() bool { return false }

// mappers holds a Mapper per mapped source table, for the apply goroutine.
type mappers struct {
	by         map[change.Table]*transform.Mapper
	deadLetter map[change.Table]bool
}

func newMappers(cfg *Config) *mappers {
	m := &mappers{by: map[change.Table]*transform.Mapper{}, deadLetter: cfg.DeadLetter}
	for t, mp := range cfg.Transforms {
		if mp != nil && !mp.Identity() {
			m.by[t] = mp.NewMapper()
		}
	}
	return m
}

func (m *mappers) empty() bool { return len(m.by) == 0 }

// mapTxns rewrites the changes of mapped tables into the target's shape,
// in place. A change that fails on a dead-letter table is taken out and
// returned; on any other table the failure is a *TransformError.
func (m *mappers) mapTxns(direction string, position func(change.Position) string, txns []*change.Txn) ([]apply.DeadLetter, error) {
	var dead []apply.DeadLetter
	for _, t := range txns {
		kept := t.Changes[:0]
		for i := range t.Changes {
			c := t.Changes[i]
			if c.Op == change.OpTruncate {
				for j, tt := range c.Truncate {
					if mp, ok := m.by[tt]; ok {
						c.Truncate[j] = mp.Target()
					}
				}
				if len(c.Truncate) > 0 {
					c.Table = c.Truncate[0] // Table is the first of them
				}
				kept = append(kept, c)
				continue
			}
			mp, ok := m.by[c.Table]
			if !ok {
				kept = append(kept, c)
				continue
			}
			out, err := mp.Map(&c)
			if err == nil {
				kept = append(kept, out)
				continue
			}
			var re *transform.RowError
			if !errors.As(err, &re) {
				return nil, fmt.Errorf("transform %s: %w", c.Table, err)
			}
			if !m.deadLetter[c.Table] {
				return nil, &TransformError{Direction: direction, Table: c.Table, Key: keyText(&c), Position: t.Position,
					PositionText: position(t.Position), Err: re}
			}
			src := c // the source's shape, for the record
			dead = append(dead, apply.DeadLetter{Txn: t, Change: &src, Target: re.Target, Column: re.Column, Expr: re.Expr, Err: re.Err.Error()})
		}
		t.Changes = kept
	}
	return dead, nil
}

// keyText renders a change's key as "(a, b)=(1, x)".
func keyText(c *change.Change) string {
	img := c.After
	if img == nil {
		img = c.Before
	}
	var names, vals []string
	for i, col := range c.Columns {
		if !col.Key || i >= len(img) {
			continue
		}
		names = append(names, col.Name)
		txt, err := pgtext.Encode(nil, img[i])
		if err != nil {
			vals = append(vals, "NULL")
			continue
		}
		vals = append(vals, string(txt))
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vals, ", ") + ")"
}

// transformStage is the apply goroutine's transform step: mappers, and
// where dead letters go.
type transformStage struct {
	maps *mappers
	out  *transport.DeadLetterWriter // nil: no table dead-letters
}

// transform maps a group in place and records its dead letters (table
// first, then topic) before the group is applied: once the checkpoint
// passes a change, it is either applied or recorded. Transactions the
// target already holds (a replay after a restart) are left alone: Apply
// skips them, and their dead letters were recorded the first time.
func (d *Direction) transform(ctx context.Context, app Target, tf *transformStage, group []*change.Txn) error {
	if tf.maps.empty() {
		return nil
	}
	held := app.Checkpoint()
	todo := make([]*change.Txn, 0, len(group))
	for _, t := range group {
		if t.Position > held {
			todo = append(todo, t)
		}
	}
	dead, err := tf.maps.mapTxns(d.cfg.Name, d.cfg.position, todo)
	if err != nil || len(dead) == 0 {
		return err
	}
	if err := app.RecordDeadLetters(ctx, dead); err != nil {
		return err
	}
	if tf.out != nil {
		keys, docs := make([][]byte, len(dead)), make([][]byte, len(dead))
		for i := range dead {
			keys[i], docs[i] = deadLetterDoc(d.cfg.Name, d.cfg.position(dead[i].Txn.Position), &dead[i])
		}
		if err := tf.out.Write(ctx, keys, docs); err != nil {
			return err
		}
	}
	for i := range dead {
		dl := &dead[i]
		d.log.Error("row set aside in the dead-letter table", "table", dl.Change.Table.String(), "target", dl.Target.String(),
			"key", keyText(dl.Change), "column", dl.Column, "expression", dl.Expr, "error", dl.Err,
			"source_position", d.cfg.position(dl.Txn.Position))
	}
	d.stats.update(func(s *Stats) {
		s.DeadLettered += uint64(len(dead))
		s.DeadLetters += int64(len(dead)) // recounted from the table every unresolvedEvery
	})
	return nil
}

// deadLetterDoc is a dead letter's Kafka key and JSON value; position is
// its source position as the source's engine prints it.
func deadLetterDoc(direction, position string, dl *apply.DeadLetter) (key, doc []byte) {
	c := dl.Change
	v := map[string]any{
		"direction": direction, "source_table": c.Table.String(), "target_table": dl.Target.String(),
		"key": json.RawMessage(dl.Key()), "op": c.Op.String(), "column": dl.Column, "expression": dl.Expr,
		"error": dl.Err, "source_position": position, "change_seq": c.Seq,
	}
	if !dl.Txn.CommitTime.IsZero() {
		v["commit_time"] = dl.Txn.CommitTime.UTC()
	}
	doc, _ = json.Marshal(v) // only strings, numbers, a time and valid JSON
	return []byte(c.Table.String() + " " + string(dl.Key())), doc
}

// pause parks a direction that failed in a way retrying cannot mend (a
// row its transform cannot map, a schema change on the source): it stays
// paused, failing the gates, until bgsync is stopped. transformErr counts
// it in Stats.TransformErrors.
func (d *Direction) pause(ctx context.Context, err error, transformErr bool) {
	d.log.Error("direction paused", "error", err.Error())
	d.stats.update(func(s *Stats) {
		s.State, s.LastError, s.LastErrorAt = StatePaused, err.Error(), time.Now()
		if transformErr {
			s.TransformErrors++
		}
	})
	select {
	case <-ctx.Done():
	case <-d.drain:
	}
	d.stats.update(func(s *Stats) { s.State = StateStopped })
}
