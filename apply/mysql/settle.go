package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pgx/v5/pgtype"
)

// Session is one connection to a MariaDB/MySQL side set up as an
// Applier's is (see doc.go: UTC, strict sql_mode, READ COMMITTED, values
// read as text, skip_replication on MariaDB), for writes bgsync makes
// outside a direction, such as bgsync conflicts resolve settling a row.
// They must not be captured and sent back: on MariaDB the session's
// skip_replication flags them; on MySQL (or with marker set) every
// transaction Begin opens first writes a marker row, as an Applier's do.
// A Session is not safe for concurrent use.
type Session struct {
	db      *sql.DB
	conn    *sql.Conn
	schema  string
	mariadb bool
	marker  bool
}

// OpenSession connects to dsn with one connection and sets it up. schema
// is bgsync's database there (where the marker table is).
func OpenSession(ctx context.Context, dsn, schema string, marker bool) (*Session, error) {
	db, conn, err := openConn(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s := &Session{db: db, conn: conn, schema: schema}
	if s.mariadb, err = setupSession(ctx, conn); err != nil {
		s.Close()
		return nil, err
	}
	s.marker = marker || !s.mariadb
	return s, nil
}

// MariaDB reports whether the server is MariaDB (skip_replication is on).
func (s *Session) MariaDB() bool { return s.mariadb }

// Marker reports whether Begin writes the marker row.
func (s *Session) Marker() bool { return s.marker }

// Conn is the session's connection, for reads and statements outside a
// transaction.
func (s *Session) Conn() *sql.Conn { return s.conn }

// Close ends the session; an open transaction is rolled back.
func (s *Session) Close() {
	s.conn.Close()
	s.db.Close()
}

// Begin opens a transaction. With the marker on, it first upserts the
// row named label in <schema>.apply_marker (a label of its own, not a
// direction's, so it never waits on an Applier's row), so a capture of
// this database drops the whole transaction (EchoByMarker).
func (s *Session) Begin(ctx context.Context, label string) (*sql.Tx, error) {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, &TargetError{Op: "begin", Err: err}
	}
	if !s.marker {
		return tx, nil
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO "+quoteIdent(s.schema)+"."+MarkerTableName+
		" (direction, source_position, writes, applied_at) VALUES (?, 0, 1, UTC_TIMESTAMP(6))"+
		" ON DUPLICATE KEY UPDATE writes = writes + 1, applied_at = VALUES(applied_at)", label)
	if err != nil {
		_ = tx.Rollback()
		return nil, &TargetError{Op: "write the apply marker", Err: err}
	}
	return tx, nil
}

// ReadTable reads t's columns and primary key over the session.
func (s *Session) ReadTable(ctx context.Context, t change.Table) (*TargetTable, error) {
	return ReadTable(ctx, s.conn, t)
}

// ReadRow reads the columns cols of tt's row whose key is key (KeyArgs),
// each value as Decode reads it with nothing to follow (the column's own
// kind: DATETIME a timestamp, TIMESTAMP a timestamptz, JSON json text,
// TINYINT(1) an integer), as capture/mysql sends such values. It returns
// nil when there is no such row.
func (s *Session) ReadRow(ctx context.Context, tt *TargetTable, cols []string, key []any) (change.Row, error) {
	types := make([]ColumnType, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		ct, ok := tt.Column(c)
		if !ok {
			return nil, fmt.Errorf("table %s has no column %s", tt.Name, c)
		}
		types[i], names[i] = ct, quoteIdent(c)
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quoteTable(tt.Name)+
		" WHERE "+keyWhere(tt)+" LOCK IN SHARE MODE", key...)
	if err != nil {
		return nil, fmt.Errorf("read row of %s: %w", tt.Name, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read row of %s: %w", tt.Name, err)
	}
	row := make(change.Row, len(cols))
	for i := range raw {
		var b []byte
		if raw[i] != nil {
			b = append([]byte{}, raw[i]...)
		}
		if row[i], err = Decode(types[i], b, change.Value{}); err != nil {
			return nil, err
		}
	}
	return row, rows.Err()
}

// ReplaceRow makes tt's row with key (KeyArgs) what row says, in tx:
// deleted, then inserted again with the values of cols when row is not
// nil (each Encoded for its column).
func ReplaceRow(ctx context.Context, tx *sql.Tx, tt *TargetTable, key []any, cols []string, row change.Row) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteTable(tt.Name)+" WHERE "+keyWhere(tt), key...); err != nil {
		return fmt.Errorf("delete row: %w", err)
	}
	if row == nil {
		return nil
	}
	ccols := make([]change.Column, len(cols))
	args := make([]any, len(cols))
	for i, c := range cols {
		ct, ok := tt.Column(c)
		if !ok {
			return fmt.Errorf("table %s has no column %s", tt.Name, c)
		}
		arg, err := Encode(ct, row[i])
		if err != nil {
			return err
		}
		ccols[i], args[i] = change.Column{Name: c}, arg
	}
	if _, err := tx.ExecContext(ctx, insertSQL(tt.Name, ccols, 1), args...); err != nil {
		return fmt.Errorf("write row: %w", err)
	}
	return nil
}

// keyWhere is "k1 = ? AND k2 = ?" over tt's key, in key order.
func keyWhere(tt *TargetTable) string {
	conds := make([]string, len(tt.Key))
	for i, k := range tt.Key {
		conds[i] = quoteIdent(k) + " = ?"
	}
	return strings.Join(conds, " AND ")
}

// KeyArgs turns a logged key (a conflicts row's key: column → the
// PostgreSQL text of the value, as apply.ImageJSON writes it) into the
// driver arguments that find its row in tt, in tt.Key order. Each text is
// read as the column's own type prints it (Decode); where PostgreSQL's
// text differs from that (bytea's \x form or a uuid in a BINARY column,
// a boolean in an integer column, an offset on a timestamp) it is read
// with pgtext as that PostgreSQL type, then Encoded for the column.
func KeyArgs(tt *TargetTable, key map[string]*string) ([]any, error) {
	args := make([]any, len(tt.Key))
	for i, k := range tt.Key {
		text, ok := key[k]
		if !ok {
			return nil, fmt.Errorf("the logged key has no column %s (the key of %s)", k, tt.Name)
		}
		if text == nil {
			return nil, fmt.Errorf("key column %s is NULL", k)
		}
		col, _ := tt.Column(k)
		v, err := keyValue(col, *text)
		if err != nil {
			return nil, fmt.Errorf("key column %s: %w", k, err)
		}
		if args[i], err = Encode(col, v); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// keyValue reads one key text for col (see KeyArgs).
func keyValue(col ColumnType, s string) (change.Value, error) {
	var pgTypes []uint32 // PostgreSQL types whose text may differ from col's own
	switch col.class() {
	case classBinary:
		if col.Length == 16 {
			if v, err := pgtext.Decode(pgtype.UUIDOID, []byte(s)); err == nil {
				return v, nil
			}
		}
		if strings.HasPrefix(s, `\x`) {
			return pgtext.Decode(pgtype.ByteaOID, []byte(s))
		}
		return change.Bytes([]byte(s)), nil
	case classInt:
		pgTypes = []uint32{pgtype.BoolOID}
	case classDatetime, classTimestamp:
		pgTypes = []uint32{pgtype.TimestamptzOID}
	}
	v, err := Decode(col, []byte(s), change.Value{})
	if err == nil && (v.Kind != change.KindText || col.textual() || col.class() == classOther) {
		return v, nil
	}
	for _, oid := range pgTypes {
		if pv, perr := pgtext.Decode(oid, []byte(s)); perr == nil {
			return pv, nil
		}
	}
	if err != nil {
		return change.Value{}, err
	}
	return v, nil
}
