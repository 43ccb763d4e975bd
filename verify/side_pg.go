package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSide reads a PostgreSQL side: every read is one COPY ... TO STDOUT of
// text, which the rowSet takes line by line as it arrives.
type pgSide struct {
	conn *pgx.Conn
}

var _ side = (*pgSide)(nil)

// openPg connects with the session settings that make the text of every
// value the same for equal values on both PostgreSQL sides.
func openPg(ctx context.Context, dsn string, timeout time.Duration) (*pgSide, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("invalid connection string")
	}
	for k, v := range map[string]string{
		"TimeZone": "UTC", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres", "extra_float_digits": "3",
		"bytea_output": "hex", "standard_conforming_strings": "on", "application_name": "bgsync verify",
		"statement_timeout": strconv.FormatInt(timeout.Milliseconds(), 10),
		// A chunk read must not wait long for a lock (DDL on the table).
		"lock_timeout": "10000",
	} {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return &pgSide{conn: conn}, nil
}

func (p *pgSide) close() { p.conn.Close(context.Background()) }

func (p *pgSide) chunkBounds(ctx context.Context, s *shape, n int) ([]string, error) {
	var out []string
	last := ""
	for {
		q := "SELECT " + s.keyList() + " FROM " + quoteTable(s) + " t"
		if last != "" {
			q += " WHERE (" + s.keyList() + ") > " + s.keyTuple(last)
		}
		q += " ORDER BY " + s.keyList() + " OFFSET " + strconv.Itoa(n-1) + " LIMIT 1"
		var buf bytes.Buffer
		if _, err := p.conn.PgConn().CopyTo(ctx, &buf, "COPY ("+q+") TO STDOUT"); err != nil {
			return nil, err
		}
		key := strings.TrimSuffix(buf.String(), "\n")
		if key == "" {
			return out, nil
		}
		out = append(out, key)
		last = key
	}
}

func (p *pgSide) chunk(ctx context.Context, s *shape, c chunk, r *rowSet) error {
	_, err := p.conn.PgConn().CopyTo(ctx, r, chunkSQL(s, c))
	return err
}

func (p *pgSide) keyed(ctx context.Context, s *shape, keys []string, r *rowSet) error {
	_, err := p.conn.PgConn().CopyTo(ctx, r, keysSQL(s, keys))
	return err
}

func quoteTable(s *shape) string { return pgx.Identifier{s.table.Schema, s.table.Name}.Sanitize() }

// chunkSQL is the COPY of a chunk's rows, every column as text. s is the
// shape of the side read (for a mapped table, green's names and types).
func chunkSQL(s *shape, c chunk) string {
	q := "SELECT " + identList(s.cols) + " FROM " + quoteTable(s)
	var where []string
	if c.lo != "" {
		where = append(where, "("+s.keyList()+") > "+s.keyTuple(c.lo))
	}
	if c.hi != "" {
		where = append(where, "("+s.keyList()+") <= "+s.keyTuple(c.hi))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return "COPY (" + q + ") TO STDOUT"
}

// keysSQL is the COPY of the rows with the given keys.
func keysSQL(s *shape, keys []string) string {
	tuples := make([]string, len(keys))
	for i, k := range keys {
		tuples[i] = s.keyTuple(k)
	}
	return "COPY (SELECT " + identList(s.cols) + " FROM " + quoteTable(s) + " WHERE (" + s.keyList() + ") IN (" +
		strings.Join(tuples, ", ") + ")) TO STDOUT"
}

// position is the current WAL position.
func (p *pgSide) position(ctx context.Context) (uint64, error) {
	var lsn uint64
	if err := p.conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::numeric::text::bigint`).Scan(&lsn); err != nil {
		return 0, fmt.Errorf("read WAL position: %w", err)
	}
	return lsn, nil
}

// slotConfirmed is how far slot has confirmed (confirmed_flush_lsn); ok
// is false while it has confirmed nothing.
func (p *pgSide) slotConfirmed(ctx context.Context, slot string) (uint64, bool, error) {
	var lsn *int64
	err := p.conn.QueryRow(ctx, `SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::numeric::text::bigint
FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&lsn)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, fmt.Errorf("slot %s does not exist (run bgsync setup, or verify with --no-wait)", slot)
	case err != nil:
		return 0, false, fmt.Errorf("read slot %s: %w", slot, err)
	case lsn == nil:
		return 0, false, nil
	}
	return uint64(*lsn), true, nil
}

// checkpoint reads <schema>.checkpoints, where source_position is a
// numeric(20,0).
func (p *pgSide) checkpoint(ctx context.Context, schema, direction string) (uint64, bool, error) {
	var text string
	err := p.conn.QueryRow(ctx, `SELECT source_position::text FROM `+pgx.Identifier{schema, "checkpoints"}.Sanitize()+
		` WHERE direction = $1`, direction).Scan(&text)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("read checkpoint of %s: %w", direction, err)
	}
	pos, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("checkpoint of %s: position %q: %w", direction, text, err)
	}
	return pos, true, nil
}
