package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
)

// HeartbeatTable is the table in bgsync's schema on a source that the
// heartbeat writer updates. It is part of the publication, so each beat
// travels the whole pipeline like an application change.
func HeartbeatTable(schema string) change.Table {
	return change.Table{Schema: schema, Name: "heartbeats"}
}

// HeartbeatSQL creates bgsync's schema and the heartbeat table on a source.
// One row per side: seq identifies the beat (unique per writer process, see
// pipeline), sent_at is the source's clock, for people reading the table.
func HeartbeatSQL(schema string) []string {
	s := pgx.Identifier{schema}.Sanitize()
	return []string{
		`CREATE SCHEMA IF NOT EXISTS ` + s,
		`CREATE TABLE IF NOT EXISTS ` + s + `.heartbeats (
	side text PRIMARY KEY,
	seq bigint NOT NULL,
	sent_at timestamptz NOT NULL DEFAULT now())`,
	}
}

// Monitor is an ordinary (not replication) session on a source: it writes
// heartbeats and reads how much WAL the slot holds back.
type Monitor struct {
	conn             *pgx.Conn
	beatSQL, slotSQL string
	side, slot       string
}

// OpenMonitor connects to the source. side names the row the heartbeats
// update ("blue" or "green").
func OpenMonitor(ctx context.Context, dsn, schema, side, slot string) (*Monitor, error) {
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("monitor: invalid source connection string")
	}
	// Short statements only; a stuck one must not hold up the next beat.
	pc.RuntimeParams["statement_timeout"] = "5000"
	pc.RuntimeParams["application_name"] = "bgsync heartbeat"
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, &SourceError{Op: fmt.Sprintf("connect to source %s:%d for heartbeats", pc.Host, pc.Port), Err: err}
	}
	return &Monitor{
		conn: conn,
		side: side,
		slot: slot,
		beatSQL: `INSERT INTO ` + pgx.Identifier{schema, "heartbeats"}.Sanitize() + ` AS h (side, seq, sent_at)
VALUES ($1, $2, now()) ON CONFLICT (side) DO UPDATE SET seq = EXCLUDED.seq, sent_at = EXCLUDED.sent_at`,
		slotSQL: `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, coalesce(wal_status, '')
FROM pg_replication_slots WHERE slot_name = $1`,
	}, nil
}

// Beat commits one heartbeat with sequence number seq.
func (m *Monitor) Beat(ctx context.Context, seq int64) error {
	if _, err := m.conn.Exec(ctx, m.beatSQL, m.side, seq); err != nil {
		return &SourceError{Op: "write heartbeat", Err: err}
	}
	return nil
}

// SlotState is what the source says of the slot.
type SlotState struct {
	// RetainedBytes is the WAL the slot keeps on the source's disk: from
	// its restart position to the current WAL end.
	RetainedBytes int64
	// WALStatus is pg_replication_slots.wal_status: reserved, extended,
	// unreserved or lost ("lost" means the slot can no longer be read).
	WALStatus string
}

// Slot reads the slot's retention. A missing slot is an error.
func (m *Monitor) Slot(ctx context.Context) (SlotState, error) {
	var s SlotState
	var retained *int64
	err := m.conn.QueryRow(ctx, m.slotSQL, m.slot).Scan(&retained, &s.WALStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("replication slot %s does not exist", m.slot)
	}
	if err != nil {
		return s, &SourceError{Op: "read slot " + m.slot, Err: err}
	}
	if retained != nil {
		s.RetainedBytes = *retained
	}
	return s, nil
}

// Close ends the session.
func (m *Monitor) Close(ctx context.Context) error { return m.conn.Close(ctx) }
