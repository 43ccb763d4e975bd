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
//   - An UPDATE or DELETE that finds no row is not an error here; it is
//     counted and reported in Result.Missing (the conflict stage decides
//     what it means) and logged with table, key and position.
//   - An Applier owns one connection and is not safe for concurrent use. Any
//     error leaves the target transaction rolled back; the caller closes the
//     Applier and opens a new one (the pipeline restarts the direction).
//   - With Config.Origin set, the session is tagged with that replication
//     origin (pg_replication_origin_session_setup) and each target
//     transaction records the source commit time and position
//     (pg_replication_origin_xact_setup), so a capture on this database can
//     recognise and drop bgsync's own writes.
package postgres
