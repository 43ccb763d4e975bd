// Package postgres applies source transactions to a PostgreSQL target.
//
// Contract:
//   - Apply takes consecutive source transactions, in source commit order,
//     and applies them in ONE target transaction together with the
//     checkpoint row (direction, source position, Kafka offset) in bgsync's
//     schema. When Apply returns nil the rows and the checkpoint are durable
//     (COMMIT returned); only then may the source position be acknowledged.
//   - Transactions at or below the checkpoint are skipped, so a replay after
//     a crash applies nothing twice. Apply reports the highest position it
//     covered, applied or skipped, so the caller can acknowledge it.
//   - Rows are batched: runs of inserts into one table become multi-row
//     INSERTs, runs of deletes become one DELETE ... WHERE key IN (...),
//     updates are pipelined one statement per row; statements are prepared
//     once per shape and sent with text-format parameters whose types the
//     server infers from the target columns, so every PostgreSQL type
//     round-trips exactly.
//   - An UPDATE never writes a column whose value the source did not send
//     (unchanged TOAST): the target keeps its value.
//   - Conflicts: inside the target transaction, before writing, Apply reads
//     the current row of every key the group touches in one query per table
//     (SELECT ... FOR UPDATE, so the application cannot change them until
//     COMMIT), with each row version's commit time and origin, and the
//     tombstones of keys the application deleted. It then walks the group
//     in order, keeping the rows as the group leaves them, and asks the
//     conflict package about every change: a change without conflict is
//     applied as it is; a conflict is decided by the table's rule (the row
//     written, kept, inserted or deleted) and written to the conflicts
//     table in the same transaction, and counted in Result.Conflicts. The
//     commit time and origin are those of the version the lock was taken
//     on, also when the lock had to wait for an application transaction.
//   - Races with the application: a unique violation (an application
//     insert of a key read as missing), a deadlock or a serialization
//     failure rolls the target transaction back, and Apply resolves and
//     applies the group again on the same session (Result.Retries), up to
//     five attempts, before returning the error.
//   - The tombstones table is filled by a trigger setup puts on each target
//     table (TombstoneTriggerSQL); sessions with a replication origin, such
//     as bgsync's own, leave no tombstone.
//   - An Applier owns one connection and is not safe for concurrent use. Any
//     error Apply returns leaves the target transaction rolled back; the
//     caller closes the Applier and opens a new one (the pipeline restarts
//     the direction).
//   - Initial copy (snapshot.go): the plan and the state of each key range
//     live in <schema>.snapshots and <schema>.snapshot_chunks; ChunkWriter
//     writes a range (COPY, or COPY into a staging table and a merge under
//     the table's policy with each differing row logged) and marks it done
//     in one transaction, tagged with its own origin and committed with
//     CopyCommitTime. FinishSnapshot sets the checkpoint to the lowest range
//     position. Transactions at or below the highest range position
//     (CatchUpThrough, read at Open) are applied idempotently: the source's
//     side wins every conflict and nothing is logged, except a change that
//     cannot be applied whole (recorded as unresolved).
//   - With Config.Origin set, the session is tagged with that replication
//     origin (pg_replication_origin_session_setup) and each target
//     transaction records the source commit time and position
//     (pg_replication_origin_xact_setup), so a capture on this database can
//     recognise and drop bgsync's own writes.
package postgres
