package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	driver "github.com/go-sql-driver/mysql"
)

// SnapshotSource opens consistent views of a MariaDB source for the
// initial copy. It implements snapshot.Source through a small adapter
// (this package does not import snapshot; Split, Read and the cuts use
// plain []string).
//
// Every view is one connection of its own, running
//
//	SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ
//	START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY
//	SHOW STATUS LIKE 'binlog_snapshot_%'
//
// MariaDB commits transactions in the same order in InnoDB and in the
// binlog, and takes the snapshot between two commits; the status
// variables binlog_snapshot_file and binlog_snapshot_position (a MariaDB
// extension) are the binlog position of that point. So the view's
// Position, in this package's encoding (PositionOf: fileSeq<<32 | offset;
// with UseGTID, the GTID position BINLOG_GTID_POS gives for that point),
// is exact: a transaction whose captured Txn.Position is at or below it is
// visible in the view, none above it (TestSnapshotPositionUnderWrites
// checks it under concurrent commits). Changes to non-transactional tables
// (MyISAM, Aria) have no read view and are not covered. No lock and no
// privilege beyond SELECT is needed.
//
// The n views of one Open are n separate snapshots taken one after the
// other, so their Positions differ whenever the source commits meanwhile.
// The copier handles that (see package snapshot): each chunk is written
// with the Position of the view it was read under, streaming starts after
// the lowest of them, and changes up to the highest are applied
// idempotently, because some chunks already hold them.
//
// MySQL has no binlog_snapshot_* status: Open fails on MySQL with an
// error saying so. A MySQL 8 implementation would hold LOCK INSTANCE FOR
// BACKUP (or FLUSH TABLES WITH READ LOCK) across START TRANSACTION WITH
// CONSISTENT SNAPSHOT and SHOW BINARY LOG STATUS, or read
// performance_schema.log_status; neither is implemented or tested.
//
// Sessions read with time_zone '+00:00' (TIMESTAMP text is UTC), an empty
// sql_mode (no PAD_CHAR_TO_FULL_LENGTH) and character_set_results NULL
// (text comes in the column's own character set: the bytes the binlog
// holds). Read decodes every row exactly as Capture decodes the same row
// from the binlog, the same change.Value kinds and contents, with
// capture's own conversions (column.value). FLOAT and DOUBLE are selected
// as CAST(.. AS DOUBLE), which the server prints with the shortest digits
// that round-trip, so they come back bit for bit; UUID and INET6 as
// CAST(.. AS BINARY(16)), the bytes capture gets. Sessions also raise
// net_write_timeout to an hour: Read streams, and the server waits on a
// slow emit with a result set open.
//
// Errors name the table, and the column and key where one row is at
// fault (*SnapshotError). The DSN's password never appears in them.
type SnapshotSource struct {
	cfg  *driver.Config
	gtid *uint32 // GTID positions of this domain (UseGTID)
}

// UseGTID makes views' Positions GTID positions of domain (the form of a
// capture with Config.GTID): the view's binlog file and offset converted
// with BINLOG_GTID_POS, the last GTID of the domain before the snapshot.
func (s *SnapshotSource) UseGTID(domain uint32) { s.gtid = &domain }

// NewSnapshotSource returns a source reading the server of dsn (a
// go-sql-driver DSN, as Config.DSN). It does not connect.
func NewSnapshotSource(dsn string) (*SnapshotSource, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Clone()
	cfg.ParseTime = false // temporal values as text, parsed as capture parses them
	cfg.InterpolateParams = false
	cfg.Loc = time.UTC
	return &SnapshotSource{cfg: cfg}, nil
}

// Open opens n views (n >= 1), each its own connection, transaction and
// consistent snapshot with its own Position. The caller closes every view.
// On error no view is left open.
func (s *SnapshotSource) Open(ctx context.Context, n int) ([]*SnapshotView, error) {
	if n < 1 {
		n = 1
	}
	views := make([]*SnapshotView, 0, n)
	for range n {
		v, err := s.openView(ctx)
		if err != nil {
			for _, v := range views {
				_ = v.Close()
			}
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// SnapshotView is one connection reading under one consistent snapshot.
// It is used by one goroutine at a time; views are independent of each
// other.
type SnapshotView struct {
	db     *sql.DB
	conn   *sql.Conn
	pos    change.Position
	base   string // binlog base name ("mysql-bin")
	tables map[change.Table]*snapTable
	closed bool
}

// sessionSetup makes the session print values the way Read parses them.
var sessionSetup = []string{
	"SET NAMES utf8mb4",
	"SET SESSION character_set_results = NULL, time_zone = '+00:00', sql_mode = ''",
	// Read streams: the server waits while emit runs with a result set
	// open, which may take longer than the default 60 s on a slow target.
	"SET SESSION net_write_timeout = 3600",
	"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
}

func (s *SnapshotSource) openView(ctx context.Context) (*SnapshotView, error) {
	addr := s.cfg.Addr
	connector, err := driver.NewConnector(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, &SourceError{Op: "connect to " + addr + " for the snapshot", Err: err}
	}
	v := &SnapshotView{db: db, conn: conn, tables: map[change.Table]*snapTable{}}
	fail := func(err error) (*SnapshotView, error) {
		_ = v.Close()
		return nil, err
	}
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return fail(&SourceError{Op: "read the server version of " + addr, Err: err})
	}
	if !strings.Contains(version, "MariaDB") {
		return fail(&SourceError{Op: "snapshot of " + addr, Fatal: true, Err: fmt.Errorf(
			"server version %s is MySQL: snapshots are implemented for MariaDB only, whose "+
				"binlog_snapshot_file/binlog_snapshot_position give the binlog position of a consistent snapshot; "+
				"MySQL 8 snapshots (LOCK INSTANCE FOR BACKUP or FLUSH TABLES WITH READ LOCK around the snapshot, "+
				"or performance_schema.log_status) are not supported yet", version)})
	}
	for _, q := range sessionSetup {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fail(&SourceError{Op: "snapshot session on " + addr + ": " + q, Err: err})
		}
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return fail(&SourceError{Op: "start the snapshot transaction on " + addr, Err: err})
	}
	file, off, err := snapshotStatus(ctx, conn)
	if err != nil {
		return fail(&SourceError{Op: "read the snapshot's binlog position on " + addr, Err: err})
	}
	if file == "" {
		return fail(&SourceError{Op: "snapshot of " + addr, Fatal: true,
			Err: errors.New("binary logging is off: start the server with log_bin, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL")})
	}
	v.pos, err = PositionOf(file, off)
	if err != nil {
		return fail(err)
	}
	if s.gtid != nil {
		if v.pos, err = GTIDAt(ctx, conn, file, off, *s.gtid); err != nil {
			return fail(&SourceError{Op: "read the snapshot's GTID position on " + addr, Err: err})
		}
	}
	v.base, _, _ = splitFile(file) // PositionOf parsed it already
	return v, nil
}

// snapshotStatus reads binlog_snapshot_file and binlog_snapshot_position:
// the binlog position of the session's consistent snapshot.
func snapshotStatus(ctx context.Context, conn *sql.Conn) (file string, offset uint32, err error) {
	rows, err := conn.QueryContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	var pos string
	seen := 0
	for rows.Next() {
		var name, value sql.RawBytes
		if err := rows.Scan(&name, &value); err != nil {
			return "", 0, err
		}
		switch strings.ToLower(string(name)) {
		case "binlog_snapshot_file":
			file, seen = string(value), seen+1
		case "binlog_snapshot_position":
			pos, seen = string(value), seen+1
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	if seen != 2 {
		return "", 0, errors.New("the server has no binlog_snapshot_file/binlog_snapshot_position status (MariaDB only)")
	}
	n, err := strconv.ParseUint(pos, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("binlog_snapshot_position %q: %w", pos, err)
	}
	return file, uint32(n), nil
}

// Position is the binlog position of the view's snapshot: every
// transaction whose captured Txn.Position is at or below it is visible,
// none above it.
func (v *SnapshotView) Position() change.Position { return v.pos }

// BinlogBase is the base name of the server's binlog files ("mysql-bin"),
// for FormatPosition.
func (v *SnapshotView) BinlogBase() string { return v.base }

// Close ends the view's transaction and closes its connection. It may be
// called more than once.
func (v *SnapshotView) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = v.conn.ExecContext(ctx, "ROLLBACK") // read only: nothing to lose
	err := v.conn.Close()
	if cerr := v.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Estimate is information_schema.TABLES.TABLE_ROWS (InnoDB's estimate);
// 0 when the server has none.
func (v *SnapshotView) Estimate(ctx context.Context, t change.Table) (int64, error) {
	var n sql.NullInt64
	err := v.conn.QueryRowContext(ctx,
		"SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		t.Schema, t.Name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("snapshot: table %s does not exist on the source", t)
	}
	if err != nil {
		return 0, &SourceError{Op: "estimate the rows of " + t.String(), Err: err}
	}
	return max(n.Int64, 0), nil
}

// SnapshotError is a row a view cannot turn into values (a zero date,
// text that is not UTF-8), or a table it cannot read (no primary key, a
// column type capture does not decode). It is not retryable: the same
// row fails the same way until the operator acts.
type SnapshotError struct {
	Table  change.Table
	Column string // empty when not about one column
	Key    string // the row's primary key, e.g. (id=5); empty when not about one row
	Err    error
}

func (e *SnapshotError) Error() string {
	s := "snapshot of table " + e.Table.String()
	if e.Key != "" {
		s += ", key " + e.Key
	}
	if e.Column != "" {
		s += ", column " + e.Column
	}
	return s + ": " + e.Err.Error()
}
func (e *SnapshotError) Unwrap() error   { return e.Err }
func (e *SnapshotError) Retryable() bool { return false }
