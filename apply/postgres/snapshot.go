package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
)

// snapshotSQL creates the tables that keep a direction's initial copy:
// one row per copy (snapshots) and its plan, one row per key range of a
// source table (snapshot_chunks), marked done in the transaction that
// wrote the range's rows.
func snapshotSQL(s string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + s + `.snapshots (
	direction        text PRIMARY KEY,
	source_side      text NOT NULL,
	target_not_empty text NOT NULL,
	started_at       timestamptz NOT NULL DEFAULT now(),
	finished_at      timestamptz,
	starts           integer NOT NULL DEFAULT 1
)`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.snapshot_chunks (
	direction            text NOT NULL,
	table_name           text NOT NULL,
	chunk                integer NOT NULL,
	lower_key            jsonb,
	upper_key            jsonb,
	done                 boolean NOT NULL DEFAULT false,
	rows_copied          bigint,
	source_position      numeric(20,0),
	source_position_text text,
	copied_at            timestamptz,
	PRIMARY KEY (direction, table_name, chunk)
)`,
	}
}

// SnapshotChunk is one key range of a source table in a copy's plan:
// rows with Lower <= key < Upper (nil: open), in the source's cut form.
type SnapshotChunk struct {
	Table        change.Table // source table
	N            int
	Lower, Upper []string
	Done         bool
	Rows         int64
	Position     change.Position // of the view it was read under, once done
	CopiedAt     time.Time
}

// SnapshotPlan is a direction's copy as the target records it.
type SnapshotPlan struct {
	From           string // the source side
	TargetNotEmpty string
	Started        time.Time
	Finished       time.Time // zero until every chunk is done
	Starts         int       // how many times the copy was started
	Chunks         []SnapshotChunk
}

// LoadSnapshot reads direction's copy plan; nil when none was started.
func LoadSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string) (*SnapshotPlan, error) {
	s := quoteIdent(schema)
	p := &SnapshotPlan{}
	var fin *time.Time
	err := conn.QueryRow(ctx, `SELECT source_side, target_not_empty, started_at, finished_at, starts FROM `+s+
		`.snapshots WHERE direction = $1`, direction).Scan(&p.From, &p.TargetNotEmpty, &p.Started, &fin, &p.Starts)
	if errors.Is(err, pgx.ErrNoRows) || isUndefinedTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the snapshot of %s: %w", direction, err)
	}
	if fin != nil {
		p.Finished = *fin
	}
	rows, err := conn.Query(ctx, `SELECT table_name, chunk, lower_key, upper_key, done, coalesce(rows_copied, 0),
	coalesce(source_position, 0)::text, copied_at FROM `+s+`.snapshot_chunks WHERE direction = $1 ORDER BY table_name, chunk`, direction)
	if err != nil {
		return nil, fmt.Errorf("read the snapshot chunks of %s: %w", direction, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c SnapshotChunk
		var name, pos string
		var lower, upper []byte
		var at *time.Time
		if err := rows.Scan(&name, &c.N, &lower, &upper, &c.Done, &c.Rows, &pos, &at); err != nil {
			return nil, fmt.Errorf("read the snapshot chunks of %s: %w", direction, err)
		}
		if c.Table, err = parseTableName(name); err != nil {
			return nil, err
		}
		if lower != nil {
			if err := json.Unmarshal(lower, &c.Lower); err != nil {
				return nil, fmt.Errorf("snapshot chunk %s #%d: lower_key: %w", name, c.N, err)
			}
		}
		if upper != nil {
			if err := json.Unmarshal(upper, &c.Upper); err != nil {
				return nil, fmt.Errorf("snapshot chunk %s #%d: upper_key: %w", name, c.N, err)
			}
		}
		v, err := strconv.ParseUint(pos, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshot chunk %s #%d: position %q: %w", name, c.N, pos, err)
		}
		c.Position = change.Position(v)
		if at != nil {
			c.CopiedAt = *at
		}
		p.Chunks = append(p.Chunks, c)
	}
	return p, rows.Err()
}

// parseTableName reads back a table name as change.Table.String printed
// it, with each part quoted where pgx.Identifier quotes it.
func parseTableName(s string) (change.Table, error) {
	schema, name, ok := strings.Cut(s, ".")
	if !ok {
		return change.Table{}, fmt.Errorf("snapshot chunk: table name %q is not schema.table", s)
	}
	return change.Table{Schema: schema, Name: name}, nil
}

// HasCheckpoint reports whether direction has applied anything on this
// target (its checkpoint row exists).
func HasCheckpoint(ctx context.Context, conn *pgx.Conn, schema, direction string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(schema)+`.checkpoints WHERE direction = $1)`, direction).Scan(&ok)
	if isUndefinedTable(err) {
		return false, nil
	}
	return ok, err
}

// NonEmpty lists the tables that hold at least one row.
func NonEmpty(ctx context.Context, conn *pgx.Conn, tables []change.Table) ([]change.Table, error) {
	var out []change.Table
	for _, t := range tables {
		var any bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteTable(t)+`)`).Scan(&any); err != nil {
			return nil, fmt.Errorf("target table %s: %w", t, err)
		}
		if any {
			out = append(out, t)
		}
	}
	return out, nil
}

// StartSnapshot records a new copy's plan and, first, empties the truncate
// tables, in one transaction tagged with origin (so the other direction's
// capture drops the TRUNCATE instead of sending it back).
func StartSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string, plan *SnapshotPlan, truncate []change.Table, origin string) error {
	s := quoteIdent(schema)
	for _, q := range SchemaSQL(schema) {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create bgsync schema objects: %w", err)
		}
	}
	if _, err := UseOrigin(ctx, conn, origin); err != nil {
		return fmt.Errorf("replication origin %s: %w", origin, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_replication_origin_session_reset()`)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if len(truncate) > 0 {
			names := make([]string, len(truncate))
			for i, t := range truncate {
				names[i] = quoteTable(t)
			}
			if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
				return fmt.Errorf("truncate %s: %w", strings.Join(names, ", "), err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+s+`.snapshot_chunks WHERE direction = $1`, direction); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s+`.snapshots (direction, source_side, target_not_empty) VALUES ($1, $2, $3)
ON CONFLICT (direction) DO UPDATE SET source_side = EXCLUDED.source_side, target_not_empty = EXCLUDED.target_not_empty,
	started_at = now(), finished_at = NULL, starts = 1`, direction, plan.From, plan.TargetNotEmpty); err != nil {
			return fmt.Errorf("record the snapshot: %w", err)
		}
		rows := make([][]any, len(plan.Chunks))
		for i, c := range plan.Chunks {
			rows[i] = []any{direction, c.Table.String(), c.N, jsonKey(c.Lower), jsonKey(c.Upper)}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "snapshot_chunks"},
			[]string{"direction", "table_name", "chunk", "lower_key", "upper_key"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("record the snapshot plan: %w", err)
		}
		return nil
	})
}

func jsonKey(k []string) any {
	if k == nil {
		return nil
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// RestartSnapshot counts one more start of an unfinished copy.
func RestartSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string) error {
	_, err := conn.Exec(ctx, `UPDATE `+quoteIdent(schema)+`.snapshots SET starts = starts + 1 WHERE direction = $1`, direction)
	return err
}

// FinishSnapshot ends a copy whose chunks are all done: the direction's
// checkpoint is set to pos (the lowest position a chunk was read at:
// streaming skips everything at or below it) in the same transaction that
// marks the copy finished.
func FinishSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string, pos change.Position, posText string) error {
	s := quoteIdent(schema)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var pending int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+s+`.snapshot_chunks WHERE direction = $1 AND NOT done`, direction).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return fmt.Errorf("snapshot of %s: %d chunks are not copied yet", direction, pending)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s+`.checkpoints (direction, source_position, source_position_text)
VALUES ($1, $2, $3) ON CONFLICT (direction) DO NOTHING`, direction, strconv.FormatUint(uint64(pos), 10), posText); err != nil {
			return fmt.Errorf("set the checkpoint of %s: %w", direction, err)
		}
		_, err := tx.Exec(ctx, `UPDATE `+s+`.snapshots SET finished_at = now() WHERE direction = $1`, direction)
		return err
	})
}

// CatchUpThrough is the highest position a chunk of direction's copy was
// read at (0 without a copy): changes up to it may already be in some
// chunks, so the applier applies them idempotently.
func CatchUpThrough(ctx context.Context, conn *pgx.Conn, schema, direction string) (change.Position, error) {
	var pos string
	err := conn.QueryRow(ctx, `SELECT coalesce(max(source_position), 0)::text FROM `+quoteIdent(schema)+
		`.snapshot_chunks WHERE direction = $1 AND done`, direction).Scan(&pos)
	if isUndefinedTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(pos, 10, 64)
	return change.Position(v), err
}
