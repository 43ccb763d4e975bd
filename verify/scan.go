package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// pair is one connection to each side.
type pair struct {
	blue, green *pgx.Conn
}

// openPair connects to both sides with the session settings that make
// the text of every value the same for equal values on both.
func openPair(ctx context.Context, o *Options) (*pair, error) {
	p := &pair{}
	for i, dsn := range []string{o.BlueDSN, o.GreenDSN} {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%s: invalid connection string", sideName[i])
		}
		for k, v := range map[string]string{
			"TimeZone": "UTC", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres", "extra_float_digits": "3",
			"bytea_output": "hex", "standard_conforming_strings": "on", "application_name": "bgsync verify",
			"statement_timeout": strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10),
			// A chunk read must not wait long for a lock (DDL on the table).
			"lock_timeout": "10000",
		} {
			cfg.RuntimeParams[k] = v
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%s: cannot connect to %s:%d: %w", sideName[i], cfg.Host, cfg.Port, err)
		}
		if i == 0 {
			p.blue = conn
		} else {
			p.green = conn
		}
	}
	return p, nil
}

func (p *pair) close() {
	for _, c := range []*pgx.Conn{p.blue, p.green} {
		if c != nil {
			c.Close(context.Background())
		}
	}
}

func (p *pair) side(i int) *pgx.Conn {
	if i == 0 {
		return p.blue
	}
	return p.green
}

// chunk is a key range (lo, hi]; "" is unbounded. Bounds are key texts.
type chunk struct{ lo, hi string }

// chunkBounds walks blue's primary key and returns the key ending each
// chunk of n rows but the last.
func (p *pair) chunkBounds(ctx context.Context, s *shape, n int) ([]string, error) {
	var out []string
	last := ""
	for {
		q := "SELECT " + s.keyList() + " FROM " + quoteTable(s) + " t"
		if last != "" {
			q += " WHERE (" + s.keyList() + ") > " + s.keyTuple(last)
		}
		q += " ORDER BY " + s.keyList() + " OFFSET " + strconv.Itoa(n-1) + " LIMIT 1"
		var buf bytes.Buffer
		if _, err := p.blue.PgConn().CopyTo(ctx, &buf, "COPY ("+q+") TO STDOUT"); err != nil {
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

// rowSet is one side's rows of a chunk: count, order-independent hash sum,
// and each row's hash by key text.
type rowSet struct {
	n    int
	sum  uint64
	rows map[string]uint64
	keep bool              // keep lines (rechecks: to name differing columns)
	line map[string]string // key → the row's COPY line, when keep
	nkey int
	part []byte // an incomplete line carried between writes
	// conv, for a mapped table, turns each line into its canonical line
	// before it is hashed; nil on the fast path.
	conv *converter
}

// Write takes COPY text output: one row per line, fields split by tabs.
func (r *rowSet) Write(b []byte) (int, error) {
	n := len(b)
	if len(r.part) > 0 {
		b = append(r.part, b...)
		r.part = nil
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			r.part = append(r.part[:0], b...)
			return n, nil
		}
		r.add(b[:i])
		b = b[i+1:]
	}
}

func (r *rowSet) add(line []byte) {
	if r.conv != nil {
		line = r.conv.line(line)
	}
	h := xxhash.Sum64(line)
	r.n++
	r.sum += h
	if r.rows == nil {
		return // counting only
	}
	end := 0
	for k := 0; k < r.nkey; k++ {
		j := bytes.IndexByte(line[end:], '\t')
		if j < 0 {
			end = len(line)
			break
		}
		end += j
		if k < r.nkey-1 {
			end++
		}
	}
	key := string(line[:end])
	r.rows[key] = h
	if r.keep {
		r.line[key] = string(line)
	}
}

// detail: what a rowSet keeps besides the count and hash sum.
type detail uint8

const (
	sumOnly  detail = iota
	rowHash         // each row's hash by key
	rowLines        // and each row's line
)

// newRowSet returns a rowSet for the lines of side i (0 blue, 1 green).
func newRowSet(s *shape, i int, d detail) *rowSet {
	r := &rowSet{nkey: len(s.key)}
	if s.mapped != nil {
		r.conv = s.mapped.converter(i)
	}
	if d >= rowHash {
		r.rows = map[string]uint64{}
	}
	if d == rowLines {
		r.keep, r.line = true, map[string]string{}
	}
	return r
}

// read runs each side's statement (sql[0] on blue, sql[1] on green) on
// both sides at once.
func (p *pair) read(ctx context.Context, s *shape, sql [2]string, d detail) ([2]*rowSet, error) {
	var sets [2]*rowSet
	g, gctx := errgroup.WithContext(ctx)
	for i := range sets {
		sets[i] = newRowSet(s, i, d)
		g.Go(func() error {
			if _, err := p.side(i).PgConn().CopyTo(gctx, sets[i], sql[i]); err != nil {
				return fmt.Errorf("%s: %w", sideName[i], err)
			}
			return nil
		})
	}
	return sets, g.Wait()
}

// chunkResult is one chunk's first-pass outcome.
type chunkResult struct {
	blueRows, greenRows, matched int
	diffs                        map[string]diff
	seen                         positions
}

// compareChunk reads a chunk on both sides and compares the row counts
// and hash sums; only when they differ is the chunk read again with each
// row's key and hash, and compared row by row.
func (p *pair) compareChunk(ctx context.Context, s *shape, c chunk, o *Options) (chunkResult, error) {
	sql := [2]string{chunkSQL(s, c), chunkSQL(s.on(1), c)}
	sets, err := p.read(ctx, s, sql, sumOnly)
	if err != nil {
		return chunkResult{}, err
	}
	b, g := sets[0], sets[1]
	out := chunkResult{blueRows: b.n, greenRows: g.n}
	if b.n == g.n && b.sum == g.sum {
		out.matched = b.n
		return out, nil
	}
	if sets, err = p.read(ctx, s, sql, rowHash); err != nil {
		return chunkResult{}, err
	}
	b, g = sets[0], sets[1]
	out = chunkResult{blueRows: b.n, greenRows: g.n, diffs: map[string]diff{}}
	for k, hb := range b.rows {
		hg, ok := g.rows[k]
		switch {
		case !ok:
			out.diffs[k] = diff{class: MissingOnGreen, blue: hb, blueOK: true}
		case hb != hg:
			out.diffs[k] = diff{class: Different, blue: hb, blueOK: true}
		default:
			out.matched++
		}
	}
	for k := range g.rows {
		if _, ok := b.rows[k]; !ok {
			out.diffs[k] = diff{class: MissingOnBlue}
		}
	}
	if len(o.Slots) > 0 {
		if out.seen, err = p.positions(ctx, o.Slots); err != nil {
			return out, err
		}
	}
	return out, nil
}

// positions are the current WAL positions of the sources of the running
// directions, by side.
type positions map[string]uint64

func (a positions) max(b positions) positions {
	if a == nil {
		a = positions{}
	}
	for k, v := range b {
		a[k] = max(a[k], v)
	}
	return a
}

func (p *pair) positions(ctx context.Context, slots map[string]string) (positions, error) {
	out := positions{}
	for side := range slots {
		conn := p.blue
		if side == "green" {
			conn = p.green
		}
		var lsn uint64
		if err := conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::numeric::text::bigint`).Scan(&lsn); err != nil {
			return nil, fmt.Errorf("%s: read WAL position: %w", side, err)
		}
		out[side] = lsn
	}
	return out, nil
}

// waitSlots waits until every slot has confirmed past the positions.
func (p *pair) waitSlots(ctx context.Context, slots map[string]string, want positions, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		behind := ""
		for side, slot := range slots {
			conn := p.blue
			if side == "green" {
				conn = p.green
			}
			var lsn *int64
			err := conn.QueryRow(ctx, `SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::numeric::text::bigint
FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&lsn)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("slot %s does not exist on %s (run bgsync setup, or verify with --no-wait)", slot, side)
			case err != nil:
				return fmt.Errorf("%s: read slot %s: %w", side, slot, err)
			}
			if lsn == nil || uint64(*lsn) < want[side] {
				behind = fmt.Sprintf("slot %s on %s has not confirmed the position verify saw", slot, side)
			}
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s within %s (is bgsync run running?)", behind, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
