package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	driver "github.com/go-sql-driver/mysql"
)

// A change.Position of this package is fileSeq<<32 | offset: fileSeq is the
// numeric suffix of the binlog file name (mysql-bin.000003 → 3) and offset
// the end of the transaction's commit event in that file (where the next
// event starts). Positions of one server are totally ordered.

// PositionOf returns the position of offset pos in binlog file file
// ("mysql-bin.000003", with or without a directory).
func PositionOf(file string, pos uint32) (change.Position, error) {
	_, seq, err := splitFile(file)
	if err != nil {
		return 0, err
	}
	return change.Position(uint64(seq)<<32 | uint64(pos)), nil
}

// parseFilePosition parses the "file:offset" form FormatPosition prints
// ("mysql-bin.000003:1234"), returning the position and the file's base
// name ("mysql-bin").
func parseFilePosition(s string) (change.Position, string, error) {
	file, off, ok := strings.Cut(s, ":")
	if !ok {
		return 0, "", fmt.Errorf("binlog position %q: want file:offset, e.g. mysql-bin.000002:1234, or a GTID, e.g. 0-1-100", s)
	}
	n, err := strconv.ParseUint(off, 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("binlog position %q: offset is not a number", s)
	}
	base, seq, err := splitFile(file)
	if err != nil {
		return 0, "", err
	}
	return change.Position(uint64(seq)<<32 | n), base, nil
}

// FormatPosition prints p as "base.NNNNNN:offset" ("mysql-bin.000003:1234");
// with an empty base, as "NNNNNN:offset".
func FormatPosition(p change.Position, base string) string {
	if base == "" {
		return fmt.Sprintf("%06d:%d", uint32(p>>32), uint32(p))
	}
	return fmt.Sprintf("%s:%d", fileName(base, uint32(p>>32)), uint32(p))
}

// fileName is the binlog file of sequence number seq.
func fileName(base string, seq uint32) string {
	return fmt.Sprintf("%s.%06d", base, seq)
}

// splitFile splits "mysql-bin.000003" into "mysql-bin" and 3.
func splitFile(file string) (base string, seq uint32, err error) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 || i == len(file)-1 {
		return "", 0, fmt.Errorf("binlog file name %q: want base.NNNNNN", file)
	}
	digits := file[i+1:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", 0, fmt.Errorf("binlog file name %q: suffix is not a number", file)
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("binlog file name %q: suffix out of range", file)
	}
	return file[:i], uint32(n), nil
}

// CurrentPosition returns the server's current binlog position (SHOW MASTER
// STATUS, or SHOW BINARY LOG STATUS on MySQL 8.4+) and the base name of its
// binlog files ("mysql-bin").
func CurrentPosition(ctx context.Context, dsn string) (change.Position, string, error) {
	return currentPosition(ctx, dsn, nil)
}

// currentPosition is CurrentPosition; with gtid set, the position is the
// last GTID the server logged in domain *gtid instead.
func currentPosition(ctx context.Context, dsn string, gtid *uint32) (change.Position, string, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return 0, "", err
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return 0, "", fmt.Errorf("capture: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	file, pos, err := BinlogStatus(ctx, db)
	if err != nil {
		return 0, "", &SourceError{Op: fmt.Sprintf("read binlog position of %s", cfg.Addr), Err: err}
	}
	if file == "" {
		return 0, "", &SourceError{Op: "read binlog position of " + cfg.Addr,
			Err: errors.New("binary logging is off: start the server with log_bin, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL"), Fatal: true}
	}
	base, _, err := splitFile(file)
	if err != nil {
		return 0, "", err
	}
	if gtid != nil {
		p, err := CurrentPositionIn(ctx, db, Form{GTID: true, Domain: *gtid})
		if err != nil {
			return 0, "", &SourceError{Op: "read gtid_binlog_pos of " + cfg.Addr, Err: err}
		}
		return p, base, nil
	}
	p, err := PositionOf(file, pos)
	return p, base, err
}

// Querier is what BinlogStatus reads through: a *sql.DB or a *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// BinlogStatus reads the server's current binlog file and offset (SHOW
// MASTER STATUS, or SHOW BINARY LOG STATUS where MySQL 8.4 renamed it);
// the file is "" when binary logging is off.
func BinlogStatus(ctx context.Context, q Querier) (file string, offset uint32, err error) {
	file, offset, err = binlogStatus(ctx, q, "SHOW MASTER STATUS")
	var me *driver.MySQLError
	if errors.As(err, &me) && me.Number == 1064 { // syntax: MySQL 8.4 dropped it
		file, offset, err = binlogStatus(ctx, q, "SHOW BINARY LOG STATUS")
	}
	return file, offset, err
}

func binlogStatus(ctx context.Context, db Querier, query string) (string, uint32, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", 0, err
	}
	if !rows.Next() {
		return "", 0, rows.Err()
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, err
	}
	if len(vals) < 2 {
		return "", 0, fmt.Errorf("%s returned %d columns", query, len(vals))
	}
	pos, err := strconv.ParseUint(string(vals[1]), 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("%s: position %q: %w", query, vals[1], err)
	}
	return string(vals[0]), uint32(pos), rows.Err()
}
