package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ChunkWriter writes copied key ranges into a PostgreSQL target, one
// connection with its own replication origin (the other direction's
// capture drops what it writes).
type ChunkWriter struct {
	conn              *pgx.Conn
	schema, direction string
}

// OpenChunkWriter connects to the target and tags the session with origin.
func OpenChunkWriter(ctx context.Context, dsn, schema, direction, origin string) (*ChunkWriter, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("snapshot: invalid target connection string") // the parse error can quote it
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "bgsync snapshot"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &TargetError{Op: "connect to the target", Err: err}
	}
	if _, err := UseOrigin(ctx, conn, origin); err != nil {
		conn.Close(ctx)
		return nil, &TargetError{Op: "replication origin " + origin, Err: err}
	}
	return &ChunkWriter{conn: conn, schema: schema, direction: direction}, nil
}

// Close ends the writer's session.
func (w *ChunkWriter) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.conn.Close(ctx)
}

// Merge says how a chunk meets rows the target already has: by the
// table's conflict rule, the copied rows coming from side From.
type Merge struct {
	Rule conflict.Rule
	From conflict.Side
	Key  []string // the target's primary key columns
}

// CopyCommitTime is the commit time the target records (through the
// replication origin) for the rows an initial copy writes: older than any
// write, so under last-writer-wins every later change of a copied row
// wins over it, however its source stamps commit times (MariaDB stamps a
// transaction with its first statement's start, which can precede the
// snapshot it commits after).
var CopyCommitTime = time.Unix(0, 0).UTC()

// Write copies one chunk: rows in COPY text of cols from r into target,
// and the chunk marked done with pos, in one transaction (committed with
// CopyCommitTime). With merge set, rows whose key the target already has
// are decided by merge — under last-writer-wins the copied row counts as
// written at (the snapshot's time) — and each differing one is logged in
// the conflicts table. It returns the rows copied.
func (w *ChunkWriter) Write(ctx context.Context, c SnapshotChunk, target change.Table, cols []string, r io.Reader,
	pos change.Position, posText string, at time.Time, merge *Merge) (int64, error) {
	s := quoteIdent(w.schema)
	var n int64
	err := pgx.BeginFunc(ctx, w.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_replication_origin_xact_setup($1::pg_lsn, $2)`, pos.String(), CopyCommitTime); err != nil {
			return &TargetError{Op: "tag the chunk's transaction", Err: err}
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = quoteIdent(c)
		}
		into := quoteTable(target)
		if merge != nil {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS bgsync_snapshot_stage (LIKE `+into+`) ON COMMIT DROP`); err != nil {
				return fmt.Errorf("target table %s: stage the chunk: %w", target, err)
			}
			into = "bgsync_snapshot_stage"
		}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, "COPY "+into+" ("+strings.Join(names, ", ")+") FROM STDIN")
		if err != nil {
			return fmt.Errorf("target table %s: copy chunk %d of %s: %w", target, c.N, c.Table, err)
		}
		n = tag.RowsAffected()
		if merge != nil {
			if err := w.merge(ctx, tx, c, target, cols, posText, at, merge); err != nil {
				return err
			}
		}
		done, err := tx.Exec(ctx, `UPDATE `+s+`.snapshot_chunks SET done = true, rows_copied = $4, source_position = $5,
	source_position_text = $6, copied_at = now()
WHERE direction = $1 AND table_name = $2 AND chunk = $3 AND NOT done`,
			w.direction, c.Table.String(), c.N, n, strconv.FormatUint(uint64(pos), 10), posText)
		if err != nil {
			return fmt.Errorf("mark chunk %d of %s done: %w", c.N, c.Table, err)
		}
		if done.RowsAffected() != 1 {
			return fmt.Errorf("chunk %d of %s is done already or no longer planned (is another bgsync copying %s?)", c.N, c.Table, w.direction)
		}
		return nil
	})
	return n, err
}

// merge moves the staged chunk into target: new keys are inserted; a key
// the target has with a different row is a conflict, logged, and decided
// by m.
func (w *ChunkWriter) merge(ctx context.Context, tx pgx.Tx, c SnapshotChunk, target change.Table, cols []string, posText string, at time.Time, m *Merge) error {
	into := quoteTable(target)
	key := quoteAll(m.Key)
	var sets, diff []string
	for _, col := range cols {
		q := quoteIdent(col)
		sets = append(sets, q+" = EXCLUDED."+q)
		diff = append(diff, "s."+q+" IS DISTINCT FROM t."+q)
	}
	var keyJSON []string
	var join []string
	for i, k := range key {
		keyJSON = append(keyJSON, quoteLiteral(m.Key[i])+", to_jsonb(s."+k+")")
		join = append(join, "t."+k+" = s."+k)
	}
	// incoming: whether the staged row s beats the target's row t.
	// Column-merge has no per-column times for copied rows: it decides the
	// row as last-writer-wins does.
	manual := m.Rule.Policy == conflict.Manual
	incoming := "false"
	switch p := m.Rule.Policy; {
	case manual:
	case p == conflict.BlueWins:
		incoming = strconv.FormatBool(m.From == conflict.Blue)
	case p == conflict.GreenWins:
		incoming = strconv.FormatBool(m.From == conflict.Green)
	case m.Rule.TimestampColumn != "":
		tc := quoteIdent(m.Rule.TimestampColumn)
		incoming = "(t." + tc + " IS NULL OR s." + tc + " > t." + tc + ")"
	default:
		incoming = "coalesce(pg_xact_commit_timestamp(t.xmin) <= $2::timestamptz, true)"
	}
	resolution := `CASE WHEN ` + incoming + ` THEN 'incoming_wins' ELSE 'target_wins' END`
	if manual {
		resolution = `'unresolved'`
	}
	policy := m.Rule.Policy.String()
	if m.Rule.TimestampColumn != "" {
		policy += " (" + m.Rule.TimestampColumn + ")"
	}
	logSQL := `INSERT INTO ` + quoteIdent(w.schema) + `.conflicts (direction, table_name, key, kind, policy, resolution, reason,
	incoming_op, incoming_after, target_row, incoming_commit_time, target_commit_time, source_position, resolved)
SELECT $1, ` + quoteLiteral(target.String()) + `, jsonb_build_object(` + strings.Join(keyJSON, ", ") + `), 'insert_exists', $3, ` + resolution + `,
	'the initial copy met a row the target already had (target_not_empty: merge)', 'insert', to_jsonb(s), to_jsonb(t),
	$2::timestamptz, pg_xact_commit_timestamp(t.xmin), $4, ` + strconv.FormatBool(!manual) + `
FROM bgsync_snapshot_stage s JOIN ` + into + ` t ON ` + strings.Join(join, " AND ") + `
WHERE ` + strings.Join(diff, " OR ")
	if _, err := tx.Exec(ctx, logSQL, w.direction, at, policy, posText); err != nil {
		return fmt.Errorf("target table %s: log the conflicts of chunk %d: %w", target, c.N, err)
	}
	names := strings.Join(quoteAll(cols), ", ")
	upsert := `INSERT INTO ` + into + ` AS t (` + names + `) SELECT ` + names + ` FROM bgsync_snapshot_stage
ON CONFLICT (` + strings.Join(key, ", ") + `) DO `
	if incoming == "false" {
		upsert += "NOTHING"
	} else {
		// EXCLUDED is the staged row: the same test, written over it.
		cond := strings.ReplaceAll(incoming, "s.", "EXCLUDED.")
		upsert += "UPDATE SET " + strings.Join(sets, ", ") + " WHERE " + cond
	}
	args := []any{}
	if strings.Contains(upsert, "$2") {
		upsert = strings.ReplaceAll(upsert, "$2", "$1")
		args = append(args, at)
	}
	if _, err := tx.Exec(ctx, upsert, args...); err != nil {
		return fmt.Errorf("target table %s: merge chunk %d: %w", target, c.N, err)
	}
	return nil // the staging table goes at COMMIT
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteIdent(n)
	}
	return out
}

// isUndefinedTable reports SQLSTATE 42P01 (bgsync's tables not made yet).
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
