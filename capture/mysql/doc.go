// Package mysql captures committed transactions from a MariaDB (10.5+) or
// MySQL (8.0.1+) binary log with go-mysql's replication.BinlogSyncer,
// registering as a replica with Config.ServerID.
//
// The source needs binlog_format=ROW, binlog_row_image=FULL and
// binlog_row_metadata=FULL. With FULL metadata every table map carries its
// column names, primary key, signedness, collations and ENUM/SET labels, so
// rows are decoded from the event itself, never from today's schema.
//
// Contract:
//   - Run reads the server's binlog base name and position, then streams
//     from the highest position given to Ack (or Config.Start, or the
//     server's position at the first Run) and sends every committed
//     transaction on a captured table, whole and in binlog (commit) order.
//   - A Txn's Position is fileSeq<<32 | offset: the numeric suffix of the
//     binlog file (mysql-bin.000003 → 3) and the end of the transaction's
//     commit event (XID, or the COMMIT query, or the statement of a DDL
//     group). Acknowledging it means the transaction need never be sent
//     again; Run restarts right after it. FormatPosition prints it as
//     mysql-bin.000003:1234. Txn.ID is the GTID sequence number (0 without
//     GTIDs); Txn.CommitTime the commit event's timestamp (whole seconds).
//   - Changes carry every column (names from the table map), Key set on the
//     primary-key columns, full Before and After images for updates, Seq
//     from 0 within the transaction. Transactions with no change on a
//     captured table are not sent (Stats.Empty counts them).
//   - Loop prevention: MariaDB flags every event written by a session with
//     skip_replication=1 (0x8000, LOG_EVENT_SKIP_REPLICATION_F). Such a
//     transaction is bgsync's own write: it is dropped and counted in
//     Stats.EchoTxns/EchoRows. Heartbeat rows are written without the flag
//     and flow like any other change. (MySQL has no such flag; there a
//     marker row must identify bgsync's transactions — not implemented.)
//   - DDL: TRUNCATE of a captured table becomes an OpTruncate change in a
//     transaction of its own. Any other ALTER/DROP/RENAME/CREATE TABLE (or
//     DROP DATABASE) on a captured table ends Run with a *SchemaChangeError
//     (not retryable) once every transaction before it has been sent. DDL
//     on other tables, CREATE/DROP INDEX, temporary tables and DDL written
//     with skip_replication are ignored, as is DDL on the heartbeat table.
//     Config.AcceptSchemaChangeThrough lets a restart pass changes the
//     operator has dealt with.
//   - Errors: rows that cannot be decoded (no column names, no primary key,
//     a partial row image, a zero date, text that is not UTF-8) end Run
//     with a *DecodeError naming table, column and binlog position; it is
//     not retryable. Connection failures end Run with a *SourceError,
//     retryable unless the server refused the position (purged binlog).
//     Nothing panics: a panic while decoding becomes a DecodeError.
//   - Run does not reconnect by itself: the pipeline supervisor restarts it
//     with backoff, and it resumes after the highest Ack. A heartbeat every
//     2 s and a 15 s read timeout make a dead connection fail Run. Run
//     returns ctx.Err() when ctx is cancelled, after closing the syncer.
//     One Run at a time per Capture.
//
// Why file/offset positions, not GTID sets: a file/offset pair is one
// uint64, totally ordered, comparable by the target's checkpoint with <=,
// and identical on MariaDB and MySQL. A GTID set (one sequence per domain
// or server UUID) is what a reader needs to follow a source failover to a
// new primary, whose file names and offsets differ; it does not fit one
// ordered number, and the checkpoint tables, the envelope and the ack path
// would all have to carry sets. Following a failover is not implemented
// yet: after one, restart from a position on the new primary
// (Config.Start).
//
// Values (change.Value kinds):
//
//	TINYINT…BIGINT, YEAR      Int; BIGINT UNSIGNED above MaxInt64: Uint
//	DECIMAL(p,s)              Numeric, with its s decimals ("12.50")
//	FLOAT, DOUBLE             Float (FLOAT widened exactly from float32)
//	DATETIME(n)               Timestamp (µs since 2000-01-01, no zone)
//	TIMESTAMP(n)              TimestampTZ (the binlog holds the UTC instant)
//	DATE                      Date (days since 1970-01-01)
//	TIME(n)                   Time when 0 <= t < 24h, else Interval (µs)
//	BIT(n)                    Enum holding n '0'/'1' digits ("00101"), the
//	                          form capture/postgres gives PostgreSQL bit(n)
//	ENUM                      Enum(label); the invalid-value index 0: Enum("")
//	SET                       Text, labels joined by commas in declared order
//	JSON (MySQL)              JSON text
//	CHAR, VARCHAR, TEXT       Text (must be valid UTF-8; MariaDB JSON is TEXT)
//	BINARY, VARBINARY, BLOB   Bytes (collation 63, binary); BINARY(n) gets
//	                          back the trailing zero bytes the binlog drops
//	GEOMETRY                  Bytes (SRID + WKB)
//	NULL                      Null
//
// Zero dates ('0000-00-00', or a zero month or day) are errors, never NULL.
//
// Usage:
//
//	c, err := mysql.New(mysql.Config{DSN: dsn, ServerID: 4242, Tables: tables})
//	c.Ack(checkpoint) // the target's stored position, if any
//	err = c.Run(ctx, out)
//	// as the target commits: c.Ack(txn.Position)
package mysql
