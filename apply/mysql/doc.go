// Package mysql applies source transactions to a MariaDB or MySQL target.
//
// Contract:
//   - Apply takes consecutive source transactions, in source commit order,
//     and applies them in ONE target transaction together with the
//     checkpoint row (direction, source position, Kafka offset) in bgsync's
//     database (Config.Schema). When Apply returns nil the rows and the
//     checkpoint are durable (COMMIT returned); only then is the in-memory
//     checkpoint moved and may the source position be acknowledged. Any
//     error leaves the target transaction rolled back: rows and checkpoint
//     together.
//   - Transactions at or below the checkpoint are skipped (Result.Skipped),
//     so a replay after a crash applies nothing twice. Result.Position is
//     the highest position covered, applied or skipped.
//   - Session (one connection: a *sql.Conn of a *sql.DB with MaxOpenConns
//     1): time_zone '+00:00'; sql_mode STRICT_ALL_TABLES with NO_ZERO_DATE,
//     NO_ZERO_IN_DATE, ERROR_FOR_DIVISION_BY_ZERO, NO_AUTO_VALUE_ON_ZERO (a
//     value a column cannot hold is an error naming the column, never a
//     truncated row; an explicit 0 in an AUTO_INCREMENT column stays 0);
//     the DSN is given parseTime=false, interpolateParams=true,
//     clientFoundRows=true, multiStatements=false.
//   - Isolation READ COMMITTED. Every read the applier makes is a locking
//     read (SELECT ... FOR UPDATE), which sees the latest committed row
//     under any level, so REPEATABLE READ would buy nothing but gap locks:
//     on keys the target does not have, it would lock the gaps around them
//     and block, or deadlock with, the application's inserts of nearby
//     keys. Under READ COMMITTED a missing key is not locked; an
//     application insert of it between the read and the write makes the
//     write fail with a duplicate key, and the group is retried (below).
//   - Loop prevention, MariaDB: the session runs SET SESSION
//     skip_replication = 1 (no privilege needed; Open reads it back), so
//     every binlog event the applier writes carries flag 0x8000
//     (LOG_EVENT_SKIP_REPLICATION_F) and the MariaDB capture drops those
//     transactions. Trade-off: a MariaDB replica of the target started
//     with --replicate-events-marked-for-skip=FILTER_ON_SLAVE or
//     FILTER_ON_MASTER skips bgsync's writes too (the default, REPLICATE,
//     applies them).
//   - Loop prevention, MySQL 8 (no skip_replication; recognised by
//     @@version not naming MariaDB), or with Config.MarkerTable on either:
//     every target transaction first upserts its direction's row in
//     <schema>.apply_marker (position, a write counter, so the row always
//     changes and always reaches the binlog). A capture drops transactions
//     with a change to that table: IsMarker, EchoByMarker.
//   - Conflicts: inside the target transaction, before writing, Apply reads
//     the current rows of every key the group touches, one query per table
//     (SELECT cols FROM t WHERE (k1, k2) IN ((?, ?), ...) FOR UPDATE), and
//     decodes them with Decode as the Kinds of the incoming images (see
//     canon.go), so conflict.Detect compares like with like. JSON columns
//     (MySQL's json; MariaDB's JSON, a longtext with a json_valid check,
//     which ReadTable recognises) are compared by the data they hold, not
//     their spelling (SameJSON, as conflict.Input.Same), in detection, in
//     the "converged" check and in column-merge: MariaDB keeps JSON text
//     as it was written, while a PostgreSQL source's images carry jsonb's
//     own text. Object member order, spacing, escapes and exponents do not
//     matter; a number's written scale does (1.0 is not 1), as in jsonb. A
//     text that is not JSON jsonb can hold compares as text. It walks the
//     group in order, keeping the rows as the group leaves them, and asks
//     conflict.Resolve about every change; it writes what the decision says
//     and logs each conflict in <schema>.conflicts (both images as
//     apply.ImageJSON, kind, policy, resolution, reason, direction, source
//     position, table, key) in the same transaction; Result.Conflicts
//     counts them.
//   - What MySQL cannot tell: it records no commit time and no writer per
//     row. So conflict.Input.CurrentTime is zero (but see Deletes), and a
//     row read from the target counts as possibly written by the
//     application (CurrentLocal), except a row this group wrote itself.
//     Consequences:
//     last-writer-wins with Rule.TimestampColumn compares that column of
//     the two rows for two writes (insert_exists, update_differs), and
//     orders a write against a delete by it (Deletes, below).
//     last-writer-wins WITHOUT a timestamp column: the target row's time
//     is always unknown, so the incoming change wins every conflict with
//     a row: its row is written (insert_exists, update_differs) or its
//     delete applied (delete_differs). Each side then ends with the other
//     side's write: two concurrent writes of one row, one per side, swap
//     instead of converging. Open logs a warning for every such rule;
//     give such tables a timestamp column or a side-wins policy.
//     column-merge: the per-column write times come from triggers (Column
//     writes, below); without them (a one-way target, a key without key
//     text) every column the incoming change modified is written.
//   - Deletes (tombstone.go, stamp.go): bgsync setup puts an AFTER DELETE
//     trigger on each target table of a two-way pair
//     (TombstoneTriggerSQL) that upserts a tombstone in
//     <schema>.tombstones (table, key text, UTC_TIMESTAMP(6)) for every
//     row the application deletes. bgsync's own sessions leave none: on
//     MariaDB the trigger tests @@session.skip_replication, on MySQL the
//     user variable @bgsync_applier that every bgsync session sets. Apply
//     reads the tombstones of the group's keys after their rows, one query
//     per table, and passes the time as conflict.Input.Deleted, so a write
//     that meets a key the application deleted is ordered against the
//     delete (update_missing, insert_deleted) instead of resurrecting the
//     row. A tombstone counts at whole seconds: the other side learns of
//     the delete from this side's binlog, whose row events carry the
//     deleting statement's start in whole seconds (change.Change.Time),
//     and the trigger's UTC_TIMESTAMP(6) is that same statement start, so
//     cut to the second both sides compare the same times. Under
//     last-writer-wins with a timestamp column, conflict.Resolve orders a
//     write against a delete by the write's column on every engine (see
//     package conflict): the incoming row's against a tombstone, the
//     target row's against an incoming delete's time. A write stamped
//     later than the delete wins, an earlier one or a NULL stamp loses, a
//     tie goes to blue. Clock assumption: the timestamp column is stamped
//     from clocks that agree with the database hosts' to well within the
//     sync lag; a skew beyond it decides such races wrongly (but alike on
//     both sides). Without a timestamp column the incoming change's time
//     is compared with the tombstone, and an incoming delete wins (unknown
//     target time).
//     When the incoming change wins, the row is written back and the
//     tombstone stays, as in apply/postgres (it orders nothing while the
//     row exists); Open removes tombstones older than TombstoneTTL (7
//     days). The conflict log's target_commit_time holds the tombstone's
//     second; the reason names the timestamp column where it decided.
//     Not recorded: deletes by ON DELETE CASCADE and TRUNCATE (MySQL
//     fires no trigger for them), deletes on one-way targets (no
//     trigger), and keys with a FLOAT, DOUBLE, BIT or JSON column (setup
//     reports the table; it gets no trigger).
//   - Column writes (columns.go), for column-merge: bgsync setup puts an
//     AFTER INSERT and an AFTER UPDATE trigger on each target table under
//     column-merge in a two-way pair (ColumnTriggerSQL; removed from the
//     other tables) that upsert a row of <schema>.column_writes (table,
//     key hash as the tombstones', column name, UTC_TIMESTAMP(6)) for every
//     column the application's statement wrote: all on insert, on update
//     those where NOT (OLD.c <=> NEW.c) (text as bytes). bgsync's sessions
//     record nothing, by the same test as the tombstone trigger. Apply
//     reads the entries of the group's keys after their tombstones, one
//     query per table, and passes them as conflict.Input.ColumnTimes,
//     truncated to whole seconds: the other side knows the application's
//     write by this side's binlog time, the statement's start in whole
//     seconds, which is what UTC_TIMESTAMP(6) in the trigger recorded. So
//     both sides compare the same two seconds and pick the same column
//     (a tie to blue). A column entry older than the key's tombstone
//     belongs to a deleted row and counts as unknown (zero); a column the
//     group itself wrote counts as the stream's (zero), as in
//     apply/postgres. Open removes entries older than TombstoneTTL. Cost:
//     one extra statement per application insert or update of such a
//     table, writing one row per changed column.
//   - Writing: runs of inserts into one table with the same columns become
//     multi-row INSERTs (at most 500 rows or about 4 MiB), runs of deletes
//     one DELETE ... WHERE key IN (...), updates one UPDATE per row by key.
//     An UPDATE never writes a KindUnchanged (or absent) column: the target
//     keeps its value. KindAbsent values of a before image are not
//     compared. A TRUNCATE becomes DELETE FROM each table: TRUNCATE TABLE
//     commits the open transaction implicitly in MySQL, which would split
//     the rows from their checkpoint (and it cannot be rolled back).
//   - Races with the application: a duplicate key (1062: an application
//     insert of a key read as missing), a deadlock (1213) or a lock wait
//     timeout (1205) rolls the target transaction back, and Apply resolves
//     and applies the group again on the same session (Result.Retries), up
//     to five attempts, before returning the error.
//   - Errors: ApplyError names the target table, operation, key, column
//     where one is involved (a value with no MySQL form, or the column the
//     server names, e.g. "Data too long for column 'c' at row 2", with the
//     row of a multi-row INSERT mapped to its key) and the source position;
//     Retryable is false for data and schema errors. TargetError is a
//     failure talking to the target, retryable. No DSN reaches a message.
//   - Dead letters: RecordDeadLetters writes <schema>.dead_letters in its
//     own transaction, idempotently (unique on direction, source position,
//     change seq); PendingDeadLetters counts those with handled_at NULL;
//     Unresolved counts unresolved conflicts of this direction.
//   - Heartbeats (Config.Heartbeats) are timed, never written
//     (Result.Heartbeats).
//   - Known limits of the comparison: a target column that stores less
//     than the incoming value (DATETIME(0) for microseconds, FLOAT for a
//     double, BINARY(n) padding, a CHAR's trailing spaces) reads back
//     different, so the next change of that row shows as update_differs;
//     keys that are equal only under the column's collation (case, PAD
//     SPACE) are not matched to the fetched row, and the insert that
//     follows fails on the duplicate key until the retries run out. MySQL
//     8's JSON type keeps numbers with a fraction or an exponent as
//     doubles and prints them so (2.50 as 2.5, 1e2 as 100.0), which then
//     compare as different. JSON kept in a text column that is not
//     declared JSON is compared as text. Map such columns with a
//     transform to a type that holds the value exactly.
//   - Writes outside a direction (bgsync conflicts resolve): OpenSession
//     gives one connection set up as an Applier's, skip_replication
//     included on MariaDB; Session.Begin writes the marker row "resolve"
//     first where the marker is on (MySQL), so those writes are not
//     captured back either. KeyArgs reads a logged key (PostgreSQL texts)
//     into the arguments that find its row; ReadRow and ReplaceRow read
//     and replace one row by key, through Decode and Encode.
//   - Teardown: DropSchema drops the tombstone and column-write triggers
//     (by name, in every database), bgsync's tables (OwnTables, plus the capture side's) and
//     the database only when nothing else is in it.
//   - An Applier owns one connection and is not safe for concurrent use.
//     After an error the caller closes it and opens a new one (the
//     pipeline restarts the direction).
//
// Values (canon.go, Encode and Decode) go by the value's Kind and the
// target column's DATA_TYPE: NULL → NULL; bool → 1/0; int → int64; uint →
// uint64; numeric → its decimal text (NaN and infinities refused); float →
// float64 (NaN and infinities refused); text, enum, JSON → text; bytes →
// bytes; UUID → 16 bytes in BINARY(16), else 8-4-4-4-12 text; date →
// YYYY-MM-DD; time → HH:MM:SS.ffffff; interval without months or days →
// TIME text (±838:59:59.999999), and interval or time with time zone →
// their PostgreSQL text form in a text column; timestamp →
// YYYY-MM-DD HH:MM:SS.ffffff; timestamptz → the same, as UTC wall time: a
// TIMESTAMP column stores the right instant (the session is in UTC), a
// DATETIME column receives the UTC wall time; array → a JSON array in a
// json or text column, refused elsewhere, naming the column. Dates and
// timestamps outside the years 1 to 9999 are refused.
//
// Usage:
//
//	a, err := mysql.Open(ctx, mysql.Config{DSN: dsn, Schema: "bgsync", Direction: "blue-to-green", From: conflict.Blue})
//	res, err := a.Apply(ctx, txns, offset) // then acknowledge res.Position
//	a.Close()
package mysql
