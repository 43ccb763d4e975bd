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
//   - Positions come in two forms. File positions (the default, and the
//     only form on MySQL): fileSeq<<32 | offset, the numeric suffix of the
//     binlog file (mysql-bin.000003 → 3) and the end of the transaction's
//     commit event (XID, or the COMMIT query, or the statement of a DDL
//     group); printed mysql-bin.000003:1234. GTID positions
//     (Config.GTID, MariaDB): the transaction's GTID in Config.GTIDDomain,
//     packed by GTIDPosition into bit 62, the sequence number and the
//     server_id; printed 0-1-100; Run resumes with MariaDB's GTID
//     protocol, after that GTID. Either way a Txn's Position is where it
//     ends, acknowledging it means it need never be sent again, and Run
//     restarts right after it. Txn.ID is the GTID sequence number (0
//     without GTIDs); Txn.CommitTime the commit event's timestamp (whole
//     seconds). A change's Time is its row event's timestamp, the start of
//     the statement that made it (whole seconds; zero where that equals
//     CommitTime): what a trigger reads as UTC_TIMESTAMP() during that
//     statement, so the target-side tombstones and column times of
//     apply/mysql, cut to the second, match what the other side is told.
//   - Changes carry every column (names from the table map), Key set on the
//     primary-key columns, full Before and After images for updates, Seq
//     from 0 within the transaction. Transactions with no change on a
//     captured table are not sent (Stats.Empty counts them).
//   - Loop prevention: MariaDB flags every event written by a session with
//     skip_replication=1 (0x8000, LOG_EVENT_SKIP_REPLICATION_F). Such a
//     transaction is bgsync's own write: it is dropped and counted in
//     Stats.EchoTxns/EchoRows. Heartbeat rows are written without the flag
//     and flow like any other change. MySQL has no such flag: there
//     apply/mysql writes a row of its marker table (<schema>.apply_marker)
//     in every transaction it applies, and a transaction with a row change
//     on Config.Marker is dropped and counted the same way, wherever the
//     marker row falls in it. Without a MySQL 8 server here, this is tested
//     on MySQL 8.0.28 binlog events recorded from a server
//     (testdata/mysql8), the marker table's own events built by the test.
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
// Why GTID positions, and why packed: a file/offset pair names a place in
// one server's binary logs; after a failover the new primary's files and
// offsets are its own, so a file position cannot follow it. A MariaDB GTID
// names a transaction on every server that logged it (a replica with
// log_slave_updates logs its primary's transactions under their GTIDs),
// and within one domain its sequence number grows with every transaction
// whichever server writes it (gtid_strict_mode=ON enforces that). So a
// GTID position, ordered by sequence number, is comparable by the target's
// checkpoint with <= like a file position, and resumes on the new primary.
// The domain is not packed: a capture follows one, and a GTID of another
// domain ends Run with a DecodeError (as does a sequence number that goes
// backwards, which strict mode forbids) instead of mis-ordering. A source
// whose binary logs hold several domains keeps file positions (ChooseForm
// says so). MySQL GTID sets (an interval set per server UUID) fit no
// ordered number; MySQL sources use file positions and are not followed
// across a failover: restart from a position on the new primary.
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
